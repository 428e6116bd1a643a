"""Joint offers: created and written section by section by several people at once.

A save based on a stale version is refused with the current text, and the
editor keeps the refused text; nothing is ever silently overwritten.
"""
import re

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import JointOffer, OfferSection, Organisation, Workshop
from aeh_workshop.outcomes import service as outcomes
from conftest import post_card, pushes


@pytest.fixture
def room(make_workshop, make_facilitator, login, join_as, app):
    """A live workshop with a facilitator and two association participants."""
    class Room:
        pass
    r = Room()
    fac_id = make_facilitator("anim-offres@example.org")
    r.code = make_workshop(owner_id=fac_id)
    r.fac = app.test_client()
    login(r.fac, fac_id)
    r.nadia = join_as(r.code, "Nadia Haddad", "Tremplin Emploi Ain", "association")
    r.mathieu = join_as(r.code, "Mathieu Perrin", "Les Jardins de Cocagne de la Dombes", "association")
    with app.app_context():
        r.workshop_id = db.session.scalar(db.select(Workshop.id).filter_by(join_code=r.code))
    return r


def create_offer(client, code, title="Parcours d'insertion « Cœur de Dombes »"):
    return client.post(f"/w/{code}/offers", data={"title": title}, htmx=True)


def offer_id(app, code):
    with app.app_context():
        return db.session.scalar(db.select(JointOffer.id).join(Workshop).filter(Workshop.join_code == code))


def version_of(editor_html):
    return int(re.search(r'name="version"[^>]*value="(\d+)"', editor_html).group(1))


def sections(app, oid):
    with app.app_context():
        return {s.key: (s.text, s.version) for s in db.session.scalars(db.select(OfferSection).filter_by(offer_id=oid))}


def save(client, code, oid, key, text, version):
    return client.post(f"/w/{code}/offers/{oid}/sections/{key}", data={"text": text, "version": version}, htmx=True)


def test_a_participant_creates_an_offer_everyone_sees(room, app):
    resp = create_offer(room.nadia, room.code)
    assert resp.status_code == 200
    assert "Offre créée" in resp.get_data(as_text=True)
    page = room.mathieu.get(f"/w/{room.code}").get_data(as_text=True)
    assert "Parcours d&#39;insertion « Cœur de Dombes »" in page
    control_room = room.fac.get(f"/workshops/{room.workshop_id}").get_data(as_text=True)
    assert "Cœur de Dombes" in control_room
    screen = room.fac.get(f"/w/{room.code}/screen").get_data(as_text=True)
    assert "Cœur de Dombes" in screen


def test_an_offer_needs_a_title(room, app):
    resp = create_offer(room.nadia, room.code, title="   ")
    assert resp.status_code == 422
    assert "Donnez un titre" in resp.get_data(as_text=True)
    assert offer_id(app, room.code) is None


def test_sections_save_on_their_own_and_count_versions(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    form = room.nadia.get(f"/w/{room.code}/offers/{oid}/sections/need", htmx=True).get_data(as_text=True)
    assert "Besoin auquel l" in form and version_of(form) == 0
    resp = save(room.nadia, room.code, oid, "need", "Des PME peinent à recruter.", 0)
    assert resp.status_code == 200 and "Section enregistrée" in resp.get_data(as_text=True)
    # The writer gets the saved offer at once (the others by the push).
    assert "Des PME peinent à recruter." in resp.get_data(as_text=True)
    resp = save(room.mathieu, room.code, oid, "ask:economic", "Achats, parcours d'insertion", 0)
    assert resp.status_code == 200
    resp = save(room.nadia, room.code, oid, "need", "Des PME du bassin peinent à recruter.", 1)
    assert resp.status_code == 200
    assert sections(app, oid) == {
        "title": ("Parcours d'insertion « Cœur de Dombes »", 1),
        "need": ("Des PME du bassin peinent à recruter.", 2),
        "ask:economic": ("Achats, parcours d'insertion", 1),
    }
    page = room.fac.get(f"/workshops/{room.workshop_id}").get_data(as_text=True)
    assert "Des PME du bassin peinent à recruter." in page and "Achats, parcours d&#39;insertion" in page


def test_two_editors_one_stale_the_stale_save_is_refused_and_nothing_is_lost(room, app):
    """Nadia and Mathieu open the same section; Nadia saves first; Mathieu's save,
    based on the version he loaded, is refused with Nadia's text, and his own text
    stays in his form. Saving again from there is a deliberate choice."""
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    v_nadia = version_of(room.nadia.get(f"/w/{room.code}/offers/{oid}/sections/need", htmx=True).get_data(as_text=True))
    v_mathieu = version_of(room.mathieu.get(f"/w/{room.code}/offers/{oid}/sections/need", htmx=True).get_data(as_text=True))
    assert v_nadia == v_mathieu == 0

    assert save(room.nadia, room.code, oid, "need", "Texte de Nadia : l'emploi des jeunes.", v_nadia).status_code == 200
    stale = save(room.mathieu, room.code, oid, "need", "Texte de Mathieu : l'alimentation locale.", v_mathieu)
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Nadia Haddad a modifié cette section pendant que vous écriviez" in html
    assert "Texte de Nadia : l&#39;emploi des jeunes." in html          # the current text, shown
    assert "Texte de Mathieu : l&#39;alimentation locale." in html      # his, kept in the textarea
    assert sections(app, oid)["need"] == ("Texte de Nadia : l'emploi des jeunes.", 1)

    # His form now carries the current version: saving again replaces, knowingly.
    assert version_of(html) == 1
    merged = "Texte de Nadia : l'emploi des jeunes. Et celui de Mathieu : l'alimentation locale."
    assert save(room.mathieu, room.code, oid, "need", merged, version_of(html)).status_code == 200
    assert sections(app, oid)["need"] == (merged, 2)


def test_two_first_writes_of_a_new_section_one_wins(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    assert save(room.nadia, room.code, oid, "territory", "Dombes", 0).status_code == 200
    resp = save(room.mathieu, room.code, oid, "territory", "Bresse", 0)
    assert resp.status_code == 409 and "Dombes" in resp.get_data(as_text=True)
    assert sections(app, oid)["territory"] == ("Dombes", 1)


def test_saving_the_text_already_there_is_not_a_conflict(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    save(room.nadia, room.code, oid, "contact", "contact@tremplin.fr", 0)
    resp = save(room.mathieu, room.code, oid, "contact", "contact@tremplin.fr", 0)
    assert resp.status_code == 200 and "Aucun changement" in resp.get_data(as_text=True)
    assert sections(app, oid)["contact"] == ("contact@tremplin.fr", 1)


def test_each_association_says_what_it_brings(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    form = room.mathieu.get(f"/w/{room.code}/offers/{oid}/sections/brings:mine", htmx=True).get_data(as_text=True)
    assert "Ce qu&#39;apporte Les Jardins de Cocagne de la Dombes" in form
    action = re.search(r'hx-post="([^"]+)"', form).group(1)
    resp = room.mathieu.post(action, data={"text": "Chantiers de maraîchage", "version": 0}, htmx=True)
    assert resp.status_code == 200
    with app.app_context():
        org = db.session.scalar(db.select(Organisation).filter_by(name="Les Jardins de Cocagne de la Dombes"))
        assert sections(app, oid)[f"brings:{org.id}"] == ("Chantiers de maraîchage", 1)
    page = room.nadia.get(f"/w/{room.code}").get_data(as_text=True)
    assert "Les Jardins de Cocagne de la Dombes" in page and "Chantiers de maraîchage" in page


@pytest.mark.parametrize("key", ["nonsense", "ask:nonsense", "brings:999999", "brings:abc", "brings:²",
                                 "brings:99999999999999999999999", "brings:0"])
def test_unknown_sections_are_not_found(room, app, key):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    assert save(room.nadia, room.code, oid, key, "x", 0).status_code == 404
    assert set(sections(app, oid)) == {"title"}


def test_too_long_text_is_refused_with_a_message_and_kept(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    resp = save(room.nadia, room.code, oid, "need", "é" * 4001, 0)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "trop long" in html and "é" * 4001 in html
    assert "need" not in sections(app, oid)


def test_an_empty_title_is_refused(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    assert save(room.nadia, room.code, oid, "title", "  ", 1).status_code == 422
    assert sections(app, oid)["title"][0].startswith("Parcours")


def test_strangers_cannot_read_or_write_offers(room, app, new_client):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    stranger = new_client()
    assert stranger.get(f"/w/{room.code}/offers/{oid}/sections/need").status_code == 403
    assert save(stranger, room.code, oid, "need", "pirate", 0).status_code == 403
    assert "need" not in sections(app, oid)


def test_an_offer_of_another_workshop_is_not_found(room, app, make_workshop, join_as):
    other = make_workshop()
    other_client = join_as(other)
    create_offer(other_client, other)
    oid = offer_id(app, other)
    assert save(room.nadia, room.code, oid, "need", "x", 0).status_code == 404


def test_linking_cards_and_only_this_workshops_cards(room, app, make_workshop, join_as):
    post_card(room.nadia, room.code, "Groupe Ainvest accueille des salariés en immersion", kind="link")
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    form = room.mathieu.get(f"/w/{room.code}/offers/{oid}/cards", htmx=True).get_data(as_text=True)
    card_id = int(re.search(r'<option[^>]*value="(\d+)"', form).group(1))
    assert "Groupe Ainvest accueille" in form
    resp = room.mathieu.post(f"/w/{room.code}/offers/{oid}/cards", data={"card": card_id}, htmx=True)
    assert resp.status_code == 200 and "Carte liée" in resp.get_data(as_text=True)
    with app.app_context():
        assert [c.id for c in db.session.get(JointOffer, oid).cards] == [card_id]

    other = make_workshop()
    post_card(join_as(other), other, "Carte d'un autre atelier")
    with app.app_context():
        from aeh_workshop.models import Card
        foreign = db.session.scalar(db.select(Card.id).filter_by(text="Carte d'un autre atelier"))
    resp = room.mathieu.post(f"/w/{room.code}/offers/{oid}/cards", data={"card": foreign}, htmx=True)
    assert resp.status_code == 422 and "n&#39;existe pas dans cet atelier" in resp.get_data(as_text=True)

    assert room.nadia.post(f"/w/{room.code}/offers/{oid}/cards/{card_id}/unlink", htmx=True).status_code == 200
    with app.app_context():
        assert db.session.get(JointOffer, oid).cards == []


def test_only_facilitators_delete_offers(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    assert room.nadia.post(f"/w/{room.code}/offers/{oid}/delete", htmx=True).status_code == 403
    assert offer_id(app, room.code) == oid
    resp = room.fac.post(f"/w/{room.code}/offers/{oid}/delete", htmx=True)
    assert resp.status_code == 200 and "Offre supprimée" in resp.get_data(as_text=True)
    assert offer_id(app, room.code) is None


def test_a_save_pushes_the_offer_to_everyone(room, app, socket_for):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    watcher = socket_for(room.mathieu, room.code)
    pushes(watcher)
    save(room.nadia, room.code, oid, "territory", "Dombes et Bresse (Ain)", 0)
    html = "".join(p["html"] for p in pushes(watcher))
    assert f'hx-target="#offer-{oid}"' in html and "Dombes et Bresse (Ain)" in html
    assert f'<article class="offer panel" id="offer-{oid}">' in html   # markup, not escaped text
    # No form in a push: nobody's typing is ever replaced.
    assert "<textarea" not in html and "offer-editor" in html   # (the buttons target it)


def test_a_closed_workshop_refuses_participants_but_a_facilitator_edit_is_a_new_version(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    save(room.nadia, room.code, oid, "need", "Version d'avant la clôture", 0)
    assert room.fac.post(f"/workshops/{room.workshop_id}/status", data={"status": "closed"}, htmx=True).status_code == 200
    resp = save(room.nadia, room.code, oid, "need", "Trop tard", 1)
    assert resp.status_code == 422 and "L&#39;atelier est clos" in resp.get_data(as_text=True)
    assert save(room.fac, room.code, oid, "need", "Corrigé après la clôture", 1).status_code == 200
    with app.app_context():
        workshop = db.session.get(Workshop, room.workshop_id)
        versions = outcomes.versions(workshop)
        assert [v.version for v in versions] == [2, 1]
        assert versions[1].snapshot["offers"][0]["need"] == "Version d'avant la clôture"
        assert versions[0].snapshot["offers"][0]["need"] == "Corrigé après la clôture"


def test_without_javascript_the_editor_is_a_page_and_saving_redirects(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    page = room.nadia.get(f"/w/{room.code}/offers/{oid}/sections/need")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    resp = room.nadia.post(f"/w/{room.code}/offers/{oid}/sections/need", data={"text": "Sans JS", "version": 0})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{room.code}")
    assert sections(app, oid)["need"] == ("Sans JS", 1)


def test_a_participant_writes_only_for_their_own_organisation(room, app, make_workshop, join_as):
    """Nobody writes what another organisation brings, nor learns other workshops' organisations."""
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    other = make_workshop()
    join_as(other, "Paul Secret", "Société Confidentielle SAS", "company")
    with app.app_context():
        names = dict(db.session.execute(db.select(Organisation.name, Organisation.id)).all())
    for org in ("Société Confidentielle SAS", "Les Jardins de Cocagne de la Dombes"):
        key = f"brings:{names[org]}"
        assert room.nadia.get(f"/w/{room.code}/offers/{oid}/sections/{key}", htmx=True).status_code == 404
        assert save(room.nadia, room.code, oid, key, "Au nom d'une autre", 0).status_code == 404
    assert set(sections(app, oid)) == {"title"}
    # A facilitator may correct a contribution that exists, not invent one.
    mine = f"brings:{names['Les Jardins de Cocagne de la Dombes']}"
    assert save(room.fac, room.code, oid, mine, "Inventé", 0).status_code == 404
    assert save(room.mathieu, room.code, oid, mine, "Maraîchage", 0).status_code == 200
    assert save(room.fac, room.code, oid, mine, "Maraîchage bio", 1).status_code == 200
    assert sections(app, oid)[mine] == ("Maraîchage bio", 2)


def test_a_huge_card_number_is_refused_with_a_message(room, app):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    for bad in ("99999999999999999999", "-1", "²"):
        resp = room.nadia.post(f"/w/{room.code}/offers/{oid}/cards", data={"card": bad}, htmx=True)
        assert resp.status_code == 422 and "Choisissez une carte" in resp.get_data(as_text=True)


def test_linking_a_card_twice_at_once_links_it_once(room, app):
    """The second of two identical links finds the first one (no duplicate, no error)."""
    from aeh_workshop.board.service import Actor
    from aeh_workshop.offers import service
    post_card(room.nadia, room.code, "Une carte à lier deux fois")
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    with app.app_context():
        from aeh_workshop.models import Card
        card_id = db.session.scalar(db.select(Card.id).filter_by(text="Une carte à lier deux fois"))
        workshop = db.session.get(Workshop, room.workshop_id)
        stale_offer = db.session.get(JointOffer, oid)
        assert stale_offer.cards == []          # this session saw the offer without the card...
        room.mathieu.post(f"/w/{room.code}/offers/{oid}/cards", data={"card": card_id}, htmx=True)
        service.link_card(workshop, Actor(None, True), stale_offer, card_id, linked=True)   # ...then links it too
        assert [c.id for c in db.session.get(JointOffer, oid).cards] == [card_id]


def test_an_offer_edit_after_closing_updates_the_restitution_panel(room, app, socket_for):
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    room.fac.post(f"/workshops/{room.workshop_id}/status", data={"status": "closed"}, htmx=True)
    watcher = socket_for(room.fac, room.code)
    pushes(watcher)
    assert save(room.fac, room.code, oid, "need", "Ajouté après la clôture", 0).status_code == 200
    html = "".join(p["html"] for p in pushes(watcher))
    assert 'hx-target="#outcomectl"' in html and "Version 2" in html


def test_hiding_a_linked_card_takes_it_off_the_offer_on_every_screen(room, app, socket_for):
    post_card(room.nadia, room.code, "Une carte bientôt masquée", kind="link")
    create_offer(room.nadia, room.code)
    oid = offer_id(app, room.code)
    with app.app_context():
        from aeh_workshop.models import Card
        card_id = db.session.scalar(db.select(Card.id).filter_by(text="Une carte bientôt masquée"))
    room.nadia.post(f"/w/{room.code}/offers/{oid}/cards", data={"card": card_id}, htmx=True)
    watcher = socket_for(room.mathieu, room.code)
    pushes(watcher)
    assert room.fac.post(f"/w/{room.code}/cards/{card_id}/hide", htmx=True).status_code == 200
    offer_push = [p["html"] for p in pushes(watcher) if f'hx-target="#offer-{oid}"' in p["html"]]
    assert offer_push and "Une carte bientôt masquée" not in offer_push[0].split(f'#offer-{oid}"', 1)[1]
