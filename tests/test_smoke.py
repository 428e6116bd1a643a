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


def test_the_privacy_page_says_what_is_kept_in_french_and_english(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "Données personnelles" in page and "RGPD" in page and "Pas de compte" in page
    page = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "Personal data" in page and "GDPR" in page
