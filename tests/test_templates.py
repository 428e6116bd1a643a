"""Workshop templates preconfigure the phases and the card kinds offered; changing a
workshop's template later loses nothing. A workshop may name the structure whose
partnership map it feeds."""
import re

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Card, Structure, Workshop
from conftest import post_card

ALL_PHASES = ["welcome", "collect", "qualify", "vote", "build", "closing"]
# What each template offers, as the issue describes it (practice_exchange, the default
# template of every older workshop, keeps every kind: its collect hint asks for all of them).
EXPECTED = {
    "practice_exchange": (ALL_PHASES, ["practice", "link", "wish", "idea", "action"]),
    "partnership_map": (ALL_PHASES, ["link", "wish", "idea", "action"]),
    "joint_offer": (["welcome", "collect", "vote", "build", "closing"], ["wish", "idea", "practice"]),
    "company_diagnostic": (["welcome", "collect", "build", "closing"], ["wish", "idea"]),
    "meetup": (["welcome", "collect", "vote", "build", "closing"], ["wish", "idea", "link", "action"]),
}


@pytest.fixture
def fac(app, make_facilitator, login):
    user_id = make_facilitator("anim-modeles@example.org")
    return login(app.test_client(), user_id)


def create(fac, template, title="Atelier Est lyonnais", **extra):
    """Create a workshop through the form and open it; returns (id, code)."""
    resp = fac.post("/workshops/new", data={"title": title, "purpose": "", "template": template, **extra})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    workshop_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert fac.post(f"/workshops/{workshop_id}/status", data={"status": "live"}, htmx=True).status_code == 200
    return workshop_id, workshop(fac.application, workshop_id).join_code


def workshop(app, workshop_id):
    with app.app_context():
        w = db.session.get(Workshop, workshop_id)
        db.session.expunge(w)
        return w


def phase_buttons(html):
    return re.findall(r'<button class="phase[^"]*"\s+data-phase="(\w+)"', html)


def kind_options(html):
    select = re.search(r'<select[^>]*name="kind"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="(\w+)"', select)


def cards(app, code):
    with app.app_context():
        w = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        return [(c.kind, c.text) for c in db.session.scalars(db.select(Card).filter_by(workshop_id=w.id))]


@pytest.mark.parametrize("template", list(EXPECTED))
def test_each_template_offers_its_phases_and_card_kinds(app, fac, join_as, template):
    phases, kinds = EXPECTED[template]
    workshop_id, code = create(fac, template)
    control_room = fac.get(f"/workshops/{workshop_id}").get_data(as_text=True)
    assert phase_buttons(control_room) == phases
    assert kind_options(control_room) == kinds                   # the facilitators' composer too
    participant = join_as(code, "Claire Martin", "Boulangerie Lyonnaise", "company")
    assert kind_options(participant.get(f"/w/{code}").get_data(as_text=True)) == kinds
    assert kind_options(participant.get(f"/w/{code}/composer", htmx=True).get_data(as_text=True)) == kinds
    # Every kind offered is accepted.
    for kind in kinds:
        assert post_card(participant, code, f"Une carte {kind}", kind=kind).status_code == 200
    assert sorted(k for k, _text in cards(app, code)) == sorted(kinds)


@pytest.mark.parametrize("template,kind", [("partnership_map", "practice"), ("company_diagnostic", "link"),
                                           ("company_diagnostic", "practice"), ("joint_offer", "action")])
def test_a_kind_outside_the_template_is_refused_and_nothing_is_written(app, fac, join_as, template, kind):
    workshop_id, code = create(fac, template)
    participant = join_as(code)
    resp = post_card(participant, code, "Une carte hors modèle", kind=kind)
    assert resp.status_code == 422
    assert "ne sont pas proposées dans cet atelier" in resp.get_data(as_text=True)
    # Facilitators are held to the template too.
    assert post_card(fac, code, "Une carte de l'animation hors modèle", kind=kind).status_code == 422
    assert cards(app, code) == []


def test_a_phase_outside_the_template_is_refused(app, fac):
    workshop_id, code = create(fac, "company_diagnostic")
    resp = fac.post(f"/workshops/{workshop_id}/phase", data={"phase": "vote"}, htmx=True)
    assert resp.status_code == 422
    assert "ne fait pas partie du modèle" in resp.get_data(as_text=True)
    assert workshop(app, workshop_id).phase == "welcome"
    assert fac.post(f"/workshops/{workshop_id}/phase", data={"phase": "collect"}, htmx=True).status_code == 200
    assert workshop(app, workshop_id).phase == "collect"


def test_the_template_sets_the_phase_hints(app, fac, join_as):
    workshop_id, code = create(fac, "company_diagnostic")
    fac.post(f"/workshops/{workshop_id}/phase", data={"phase": "collect"}, htmx=True)
    page = join_as(code, "Claire Martin", "Boulangerie Lyonnaise", "company").get(f"/w/{code}").get_data(as_text=True)
    assert "Entreprises : remplissez votre diagnostic" in page


def test_changing_the_template_later_loses_nothing(app, fac, join_as):
    """A practice exchange in its qualification phase becomes a company diagnostic:
    its phase stays (shown, and left), its practice card stays and stays editable."""
    workshop_id, code = create(fac, "practice_exchange")
    participant = join_as(code)
    post_card(participant, code, "Nous accueillons des stagiaires", kind="practice")
    fac.post(f"/workshops/{workshop_id}/phase", data={"phase": "qualify"}, htmx=True)
    resp = fac.post(f"/workshops/{workshop_id}/edit", data={"title": "Atelier Est lyonnais", "purpose": "",
                                                            "template": "company_diagnostic"})
    assert resp.status_code == 302
    assert workshop(app, workshop_id).phase == "qualify"
    control_room = fac.get(f"/workshops/{workshop_id}").get_data(as_text=True)
    assert phase_buttons(control_room) == ["welcome", "collect", "qualify", "build", "closing"]
    assert re.search(r'class="phase current off-template"\s+data-phase="qualify"\s+aria-current="step"', control_room)
    assert "Nous accueillons des stagiaires" in participant.get(f"/w/{code}/r/board").get_data(as_text=True)

    with app.app_context():
        card_id = db.session.scalar(db.select(Card.id).filter_by(text="Nous accueillons des stagiaires"))
    form = participant.get(f"/w/{code}/cards/{card_id}/edit", htmx=True).get_data(as_text=True)
    assert kind_options(form) == ["wish", "idea", "practice"]          # its own kind kept
    resp = post_card(participant, code, "Nous accueillons des stagiaires de 3e", kind="practice")
    assert resp.status_code == 422                                      # but no new practice card
    resp = participant.post(f"/w/{code}/cards/{card_id}", htmx=True, data={
        "kind": "practice", "text": "Nous accueillons des stagiaires de 3e", "partner": "", "category": "",
        "subtype": "", "direction": "", "link_status": ""})
    assert resp.status_code == 200
    assert cards(app, code) == [("practice", "Nous accueillons des stagiaires de 3e")]

    # The phase outside the template is left, and not offered again.
    assert fac.post(f"/workshops/{workshop_id}/phase", data={"phase": "build"}, htmx=True).status_code == 200
    control_room = fac.get(f"/workshops/{workshop_id}").get_data(as_text=True)
    assert phase_buttons(control_room) == EXPECTED["company_diagnostic"][0]
    assert fac.post(f"/workshops/{workshop_id}/phase", data={"phase": "qualify"}, htmx=True).status_code == 422
    assert workshop(app, workshop_id).phase == "build"


def test_the_structure_select_saves_and_shows(app, fac):
    with app.app_context():
        db.session.add_all([Structure(name="Tremplin Emploi Ain", key="tremplin emploi ain"),
                            Structure(name="Ainsertion", key="ainsertion")])
        db.session.commit()
        ids = dict(db.session.execute(db.select(Structure.name, Structure.id)).all())
    form = fac.get("/workshops/new").get_data(as_text=True)
    assert "Structure accompagnée (cartographie)" in form and "— Aucune —" in form
    assert form.index("Ainsertion") < form.index("Tremplin Emploi Ain")       # by name

    workshop_id, _code = create(fac, "partnership_map", structure=str(ids["Tremplin Emploi Ain"]))
    assert workshop(app, workshop_id).structure_id == ids["Tremplin Emploi Ain"]
    assert "Tremplin Emploi Ain" in fac.get("/workshops/").get_data(as_text=True)
    assert "Tremplin Emploi Ain" in fac.get(f"/workshops/{workshop_id}").get_data(as_text=True)
    edit = fac.get(f"/workshops/{workshop_id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{ids["Tremplin Emploi Ain"]}">|'
                     rf'<option value="{ids["Tremplin Emploi Ain"]}" selected>', edit)

    data = {"title": "Atelier Est lyonnais", "purpose": "", "template": "partnership_map"}
    resp = fac.post(f"/workshops/{workshop_id}/edit", data={**data, "structure": "999999"})
    assert resp.status_code == 422 and 'class="error"' in resp.get_data(as_text=True)
    assert workshop(app, workshop_id).structure_id == ids["Tremplin Emploi Ain"]
    assert fac.post(f"/workshops/{workshop_id}/edit", data={**data, "structure": ""}).status_code == 302
    assert workshop(app, workshop_id).structure_id is None
