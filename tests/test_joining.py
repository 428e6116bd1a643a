"""Joining by code without an account, the PIN, coming back as oneself."""
import math
import re

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Participant, Workshop
from aeh_workshop.workshops.service import CODE_ALPHABET, CODE_LENGTH


def _participants(app, code):
    with app.app_context():
        w = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        return [(p.display_name, p.organisation.name, p.kind) for p in w.participants]


def test_join_code_shape(app, make_workshop):
    codes = {make_workshop() for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert len(code) >= 6 and set(code) <= set(CODE_ALPHABET)
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert CODE_LENGTH * math.log2(len(CODE_ALPHABET)) >= 30


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {spaced} ", "{dashed}"])
def test_code_form_is_forgiving(client, make_workshop, typed):
    code = make_workshop()
    value = typed.format(code=code, lower=code.lower(), spaced=code[:3] + " " + code[3:],
                         dashed=code[:3] + "-" + code[3:])
    resp = client.post("/join", data={"code": value})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{code}")


def test_lowercase_link_redirects_to_the_canonical_one(client, make_workshop):
    code = make_workshop()
    resp = client.get(f"/w/{code.lower()}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{code}")


def test_unknown_code_says_so(client, make_workshop):
    make_workshop()
    resp = client.post("/join", data={"code": "ZZZZ999"})
    assert resp.status_code == 404
    assert "Aucun atelier ne correspond à ce code" in resp.get_data(as_text=True)


def test_newcomer_sees_the_join_form(client, make_workshop):
    code = make_workshop(title="Cartographie Ain")
    html = client.get(f"/w/{code}").get_data(as_text=True)
    assert "Cartographie Ain" in html and 'name="display_name"' in html and 'name="organisation"' in html
    assert 'value="association"' in html and 'value="public"' in html


def test_join_stores_the_participant_and_shows_the_pin_once(app, client, make_workshop):
    code = make_workshop()
    resp = client.post(f"/w/{code}/join", data={"display_name": "  Nadia   Haddad ", "organisation": "Tremplin Emploi",
                                                 "kind": "association"})
    assert resp.status_code == 302
    page = client.get(f"/w/{code}").get_data(as_text=True)
    pin = re.search(r'class="pin">(\d{6})<', page).group(1)
    assert "Nadia Haddad" in page and "Nouvelle carte" in page
    assert _participants(app, code) == [("Nadia Haddad", "Tremplin Emploi", "association")]
    again = client.get(f"/w/{code}").get_data(as_text=True)
    assert pin not in again and "Nadia Haddad" in again   # same browser: still themselves
    with app.app_context():
        stored = db.session.scalar(db.select(Participant.pin_hash))
        assert pin not in stored


def test_rejoin_from_another_device_with_the_pin(app, client, make_workshop):
    code = make_workshop()
    client.post(f"/w/{code}/join", data={"display_name": "Karim Benali", "organisation": "Groupe Ainvest",
                                         "kind": "company"})
    pin = re.search(r'class="pin">(\d{6})<', client.get(f"/w/{code}").get_data(as_text=True)).group(1)
    phone = app.test_client()
    resp = phone.post(f"/w/{code}/rejoin", data={"display_name": "karim benali", "pin": pin})
    assert resp.status_code == 302
    page = phone.get(f"/w/{code}").get_data(as_text=True)
    assert "Karim Benali · Groupe Ainvest" in page
    assert len(_participants(app, code)) == 1
    # The first device is still signed in too.
    assert "Karim Benali · Groupe Ainvest" in client.get(f"/w/{code}").get_data(as_text=True)


def test_wrong_pin_is_refused(app, client, make_workshop):
    code = make_workshop()
    client.post(f"/w/{code}/join", data={"display_name": "Karim", "organisation": "Ainvest", "kind": "company"})
    phone = app.test_client()
    resp = phone.post(f"/w/{code}/rejoin", data={"display_name": "Karim", "pin": "000000"})
    assert resp.status_code == 422
    assert "Nom ou code personnel incorrect" in resp.get_data(as_text=True)
    assert 'name="display_name"' in phone.get(f"/w/{code}").get_data(as_text=True)


@pytest.mark.parametrize("data,message", [
    ({"display_name": "", "organisation": "Asso", "kind": "association"}, "Ce champ est requis."),
    ({"display_name": "x" * 81, "organisation": "Asso", "kind": "association"}, "80"),
    ({"display_name": "Léa", "organisation": "Asso", "kind": "alien"}, "N&#39;est pas un choix valide."),
])
def test_bad_join_input_is_refused_and_nothing_is_stored(app, client, make_workshop, data, message):
    code = make_workshop()
    resp = client.post(f"/w/{code}/join", data=data)
    assert resp.status_code == 422
    errors = re.findall(r'class="error"[^>]*>([^<]*)<', resp.get_data(as_text=True))
    assert len(errors) == 1 and message in errors[0]
    assert _participants(app, code) == []


def test_closed_workshop_cannot_be_joined(app, client, make_workshop):
    code = make_workshop(status="closed")
    assert "Cet atelier est clos" in client.get(f"/w/{code}").get_data(as_text=True)
    resp = client.post(f"/w/{code}/join", data={"display_name": "Léa", "organisation": "Asso", "kind": "association"})
    assert resp.status_code == 409
    assert _participants(app, code) == []


def test_same_organisation_is_shared(app, make_workshop, join_as):
    code = make_workshop()
    join_as(code, name="A", organisation="Tremplin  Emploi")
    join_as(code, name="B", organisation="tremplin emploi")
    with app.app_context():
        from aeh_workshop.models import Organisation
        assert db.session.scalar(db.select(db.func.count(Organisation.id))) == 1


def test_joining_updates_the_count_live(app, make_facilitator, make_workshop, login, socket_for, join_as):
    fac = make_facilitator()
    code = make_workshop(owner_id=fac)
    screen = socket_for(login(app.test_client(), fac), code)
    screen.get_received()
    join_as(code)
    join_as(code, name="Deuxième")
    html = "".join(m["args"][0]["html"] for m in screen.get_received() if m["name"] == "push")
    assert "2 participant·es" in html and "Deuxième" in html


def test_a_new_organisation_belongs_to_its_join_transaction(app):
    """Creating the organisation commits nothing by itself: a failed join leaves no orphan."""
    from aeh_workshop.models import Organisation
    from aeh_workshop.participants.service import organisation
    with app.app_context():
        assert organisation("Toute Nouvelle Structure").name == "Toute Nouvelle Structure"
        assert organisation("toute  nouvelle structure").id == organisation("Toute Nouvelle Structure").id
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count(Organisation.id))) == 0
