from conftest import post_card, pushes


def test_card_reaches_screen(client, make_facilitator, login, make_workshop, join_as, socket_for):
    fac = make_facilitator()
    code = make_workshop(owner_id=fac)
    login(client, fac)
    screen = socket_for(client, code)
    assert screen.is_connected()
    screen.get_received()
    p = join_as(code)
    resp = post_card(p, code, text="Mécénat de compétences <script>x</script>")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    msgs = pushes(screen)
    assert any("Mécénat de compétences &lt;script&gt;" in m["html"] for m in msgs)
