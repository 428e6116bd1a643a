"""Workshops: create, edit, list, status, phases, co-facilitators."""
import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Workshop


@pytest.fixture
def fac(app, make_facilitator, login):
    user_id = make_facilitator()
    return {"id": user_id, "client": login(app.test_client(), user_id)}


def _workshops(app):
    with app.app_context():
        return [(w.title, w.purpose, w.template, w.status, w.phase)
                for w in db.session.scalars(db.select(Workshop).order_by(Workshop.id))]


def test_create_edit_and_list(app, fac):
    client = fac["client"]
    assert "Aucun atelier" in client.get("/workshops/").get_data(as_text=True)
    form = client.get("/workshops/new").get_data(as_text=True)
    assert "Échange de pratiques" in form and "Cartographie des partenariats" in form
    resp = client.post("/workshops/new", data={"title": "Comité de pilotage Est lyonnais",
                                               "purpose": "Faire le point", "template": "partnership_map"})
    assert resp.status_code == 302
    assert _workshops(app) == [("Comité de pilotage Est lyonnais", "Faire le point", "partnership_map", "draft", "welcome")]
    workshop_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Comité de pilotage Est lyonnais" in page and "Code pour rejoindre" in page
    resp = client.post(f"/workshops/{workshop_id}/edit", data={"title": "Comité de pilotage", "purpose": "",
                                                              "template": "practice_exchange"})
    assert resp.status_code == 302
    assert _workshops(app)[0][:3] == ("Comité de pilotage", "", "practice_exchange")
    listing = client.get("/workshops/").get_data(as_text=True)
    assert "Comité de pilotage" in listing and "Brouillon" in listing


@pytest.mark.parametrize("data", [{"title": "", "template": "practice_exchange"},
                                  {"title": "x" * 161, "template": "practice_exchange"},
                                  {"title": "Atelier", "template": "karaoke"}])
def test_invalid_workshop_is_refused(app, fac, data):
    resp = fac["client"].post("/workshops/new", data=data)
    assert resp.status_code == 422 and 'class="error"' in resp.get_data(as_text=True)
    assert _workshops(app) == []


def test_status_goes_draft_live_closed(app, fac, make_workshop, workshop_of):
    code = make_workshop(status="draft", owner_id=fac["id"])
    wid = workshop_of(code).id
    client = fac["client"]
    resp = client.post(f"/workshops/{wid}/status", data={"status": "closed"}, htmx=True)
    assert resp.status_code == 409 and "pas possible" in resp.get_data(as_text=True)
    assert workshop_of(code).status == "draft"
    assert client.post(f"/workshops/{wid}/status", data={"status": "live"}, htmx=True).status_code == 200
    assert workshop_of(code).status == "live"
    resp = client.post(f"/workshops/{wid}/status", data={"status": "closed"}, htmx=True)
    assert "Rouvrir" in resp.get_data(as_text=True)
    closed = workshop_of(code)
    assert closed.status == "closed" and closed.closed_at is not None
    assert client.post(f"/workshops/{wid}/status", data={"status": "bogus"}, htmx=True).status_code == 422


def test_phases_move_in_any_order(app, fac, make_workshop, workshop_of):
    code = make_workshop(owner_id=fac["id"])
    wid = workshop_of(code).id
    for phase in ["collect", "qualify", "vote", "build", "closing", "collect"]:
        resp = fac["client"].post(f"/workshops/{wid}/phase", data={"phase": phase}, htmx=True)
        assert resp.status_code == 200
        assert workshop_of(code).phase == phase
    resp = fac["client"].post(f"/workshops/{wid}/phase", data={"phase": "party"}, htmx=True)
    assert resp.status_code == 422 and "Phase inconnue" in resp.get_data(as_text=True)
    assert workshop_of(code).phase == "collect"


def test_co_facilitator_gets_the_control_room(app, fac, make_facilitator, make_workshop, workshop_of, login):
    code = make_workshop(owner_id=fac["id"], title="Atelier partagé")
    wid = workshop_of(code).id
    colleague = make_facilitator("colleague@example.org", name="Hélène")
    colleague_client = login(app.test_client(), colleague)
    assert colleague_client.get(f"/workshops/{wid}").status_code == 403
    resp = fac["client"].post(f"/workshops/{wid}/facilitators", data={"email": "COLLEAGUE@example.org"}, htmx=True)
    assert resp.status_code == 200 and "Hélène co-anime maintenant cet atelier" in resp.get_data(as_text=True)
    assert colleague_client.get(f"/workshops/{wid}").status_code == 200
    assert "Atelier partagé" in colleague_client.get("/workshops/").get_data(as_text=True)
    again = fac["client"].post(f"/workshops/{wid}/facilitators", data={"email": "colleague@example.org"}, htmx=True)
    assert again.status_code == 422 and "anime déjà" in again.get_data(as_text=True)
    unknown = fac["client"].post(f"/workshops/{wid}/facilitators", data={"email": "nobody@example.org"}, htmx=True)
    assert unknown.status_code == 422 and "Aucun compte" in unknown.get_data(as_text=True)


def test_projector_by_secret_link(app, fac, make_workshop, workshop_of, join_as):
    code = make_workshop(owner_id=fac["id"])
    token = workshop_of(code).screen_token
    projector = app.test_client()
    assert projector.get(f"/w/{code}/screen").status_code == 302    # anonymous: log in first
    assert projector.get(f"/w/{code}/screen?key=wrong").status_code == 403
    resp = projector.get(f"/w/{code}/screen?key={token}")
    assert resp.status_code == 302 and "key=" not in resp.headers["Location"]
    html = projector.get(f"/w/{code}/screen").get_data(as_text=True)
    assert code in html and "<svg" in html and "Rejoignez l'atelier" in html
    # The projector link does not make anyone a participant or a facilitator.
    assert projector.post(f"/w/{code}/cards", data={"kind": "idea", "text": "x"}, htmx=True).status_code == 403
    participant = join_as(code)
    assert participant.get(f"/w/{code}/screen").status_code == 403


def test_projector_qr_code_holds_the_join_url(app, fac, make_workshop):
    code = make_workshop(owner_id=fac["id"])
    app.config["PUBLIC_URL"] = "https://atelier.example.org"
    html = fac["client"].get(f"/w/{code}/screen").get_data(as_text=True)
    assert f"atelier.example.org/w/{code}" in html
    import segno
    from aeh_workshop.screen.routes import qr_svg
    expected = segno.make(f"https://atelier.example.org/w/{code}", error="m")
    with app.test_request_context():
        assert str(qr_svg(f"https://atelier.example.org/w/{code}")) == expected.svg_inline(
            scale=8, border=2, dark="#111", light="#fff", omitsize=True)


def test_loopback_host_is_replaced_by_the_lan_address(app, monkeypatch):
    from aeh_workshop import network
    monkeypatch.setattr(network, "lan_address", lambda: "192.168.1.20")
    with app.test_request_context("/", base_url="http://127.0.0.1:5000"):
        assert network.public_url("/w/ABC") == "http://192.168.1.20:5000/w/ABC"
    with app.test_request_context("/", base_url="http://atelier.local:8000"):
        assert network.public_url("/w/ABC") == "http://atelier.local:8000/w/ABC"
    # Listening on loopback only, the LAN address would lead nowhere.
    app.config["LISTEN_HOST"] = "127.0.0.1"
    with app.test_request_context("/", base_url="http://127.0.0.1:5000"):
        assert network.public_url("/w/ABC") == "http://127.0.0.1:5000/w/ABC"


def test_control_room_shows_the_same_join_url_as_the_projector(app, fac, make_workshop, workshop_of):
    code = make_workshop(owner_id=fac["id"])
    app.config["PUBLIC_URL"] = "https://atelier.example.org"
    html = fac["client"].get(f"/workshops/{workshop_of(code).id}").get_data(as_text=True)
    assert f'href="https://atelier.example.org/w/{code}"' in html
