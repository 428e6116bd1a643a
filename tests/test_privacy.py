"""Personal data: leaving a workshop, the retention period and `flask --app app purge`.

While a workshop runs, leaving removes the person's cards and withdraws their dots. Once it is
closed, the person is anonymised: no name anywhere (database, frozen versions, every export
format, cached downloads), no PIN to come back with; the outcome keeps its content.
"""
import io
import json
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Action, Card, Dot, Outcome, Participant, Workshop, utcnow
from aeh_workshop.outcomes import exports
from conftest import post_card, pushes

NADIA, JULIEN, FREE_OWNER = "Nadia Haddad", "Julien Moreau", "Hélène Perrin"


class Room:
    """A live workshop with its facilitator, Nadia (association) and Julien (company)."""

    def __init__(self, app, code, workshop_id, fac, nadia, julien):
        self.app, self.code, self.id, self.fac, self.nadia, self.julien = app, code, workshop_id, fac, nadia, julien

    def card(self, client, text):
        assert post_card(client, self.code, text=text).status_code == 200
        with self.app.app_context():
            return db.session.scalar(db.select(Card.id).filter_by(workshop_id=self.id, text=text))

    def open_vote(self):
        resp = self.fac.post(f"/w/{self.code}/vote", htmx=True, data={
            "title": "", "budget": 5, "cap": 3, "scope": "all", "results": "live", "screen": "tally"})
        vote_id = int(re.search(r"/votes/(\d+)/status", resp.get_data(as_text=True)).group(1))
        assert self.fac.post(f"/w/{self.code}/votes/{vote_id}/status", data={"status": "open"},
                             htmx=True).status_code == 200
        return vote_id

    def dots(self, client, vote_id, card_id, n):
        resp = client.post(f"/w/{self.code}/votes/{vote_id}/cards/{card_id}", data={"dots": n}, htmx=True)
        assert resp.status_code == 200, resp.get_data(as_text=True)

    def close(self):
        assert self.fac.post(f"/workshops/{self.id}/status", data={"status": "closed"},
                             htmx=True).status_code == 200

    def leave(self, client):
        return client.post(f"/w/{self.code}/leave")

    def people(self):
        with self.app.app_context():
            return sorted((p.display_name, bool(p.pin_hash)) for p in db.session.scalars(
                db.select(Participant).filter_by(workshop_id=self.id)))

    def texts(self):
        with self.app.app_context():
            return sorted(db.session.scalars(db.select(Card.text).filter_by(workshop_id=self.id)))

    def dot_rows(self):
        with self.app.app_context():
            return sorted(db.session.execute(
                db.select(Participant.display_name, Card.text, Dot.dots)
                .join(Participant, Participant.id == Dot.participant_id)
                .join(Card, Card.id == Dot.card_id).join(Workshop, Workshop.id == Card.workshop_id)
                .where(Workshop.id == self.id)).all())

    def snapshots(self):
        with self.app.app_context():
            return [o.snapshot for o in db.session.scalars(db.select(Outcome).filter_by(workshop_id=self.id))]

    def every_export(self):
        """Every format of the latest version, rendered from the stored snapshot, as text."""
        from aeh_workshop.outcomes import service
        with self.app.test_request_context():
            snap = service.snapshot_of(db.session.get(Workshop, self.id), None)
            return {fmt: _as_text(exports.render(snap, fmt, lang="fr").data) for fmt in exports.FORMATS}


def _as_text(data: bytes) -> str:
    """What a reader of the file would see: the text of a PDF, the XML of XLSX/DOCX/zip members."""
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())
    return data.decode("utf-8-sig")


@pytest.fixture
def room(app, make_facilitator, make_workshop, login, join_as, workshop_of):
    fac = make_facilitator()
    code = make_workshop(owner_id=fac)
    nadia = join_as(code, name=NADIA, organisation="Tremplin Emploi Ain", kind="association")
    julien = join_as(code, name=JULIEN, organisation="Boulangeries Moreau", kind="company")
    return Room(app, code, workshop_of(code).id, login(app.test_client(), fac), nadia, julien)


# ------------------------------------------------------------------ leaving a running workshop

def test_leaving_a_running_workshop_removes_ones_cards_and_withdraws_ones_dots(room, socket_for):
    hers = room.card(room.nadia, "Nos salarié·es en insertion en immersion")
    his = room.card(room.julien, "Des invendus pour l'épicerie solidaire")
    vote = room.open_vote()
    room.dots(room.nadia, vote, his, 2)
    room.dots(room.nadia, vote, hers, 1)
    room.dots(room.julien, vote, hers, 3)
    room.dots(room.julien, vote, his, 1)
    watcher = socket_for(room.fac, room.code)
    watcher.get_received()

    resp = room.leave(room.nadia)

    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{room.code}")
    assert room.people() == [(JULIEN, True)]
    assert room.texts() == ["Des invendus pour l'épicerie solidaire"]
    # Her dots are withdrawn (his on her deleted card went with it); his own dot stays.
    assert room.dot_rows() == [(JULIEN, "Des invendus pour l'épicerie solidaire", 1)]
    pushed = " ".join(p["html"] if isinstance(p, dict) and "html" in p else json.dumps(p) for p in pushes(watcher))
    assert "Nos salarié·es en insertion" not in pushed and NADIA not in pushed and pushed, \
        "the control room is told, and what it gets no longer shows her"
    # Her browser is a stranger again, told what happened.
    page = room.nadia.get(f"/w/{room.code}").get_data(as_text=True)
    assert "Rejoindre l'atelier" in page and "vos cartes et vos gommettes ont été supprimées" in page
    # The room's screens no longer name her.
    board = room.julien.get(f"/w/{room.code}").get_data(as_text=True)
    assert NADIA not in board and "Nos salarié·es en insertion" not in board


def test_leaving_twice_or_as_someone_else_changes_nothing(room, app):
    room.card(room.nadia, "Une carte de Nadia")
    assert room.leave(room.nadia).status_code == 302
    before = (room.people(), room.texts())
    assert room.leave(room.nadia).status_code == 302          # a second click: nothing left to do
    stranger = app.test_client()
    assert room.leave(stranger).status_code == 302            # never joined: nobody leaves
    assert room.leave(room.fac).status_code == 302            # a facilitator is not a participant
    assert (room.people(), room.texts()) == before == ([(JULIEN, True)], [])


def test_the_participant_page_says_what_leaving_does(room):
    page = room.nadia.get(f"/w/{room.code}").get_data(as_text=True)
    assert f'action="/w/{room.code}/leave"' in page and "data-confirm=" in page
    assert "Vos cartes sont supprimées et vos gommettes retirées des votes." in page
    room.close()
    page = room.nadia.get(f"/w/{room.code}").get_data(as_text=True)
    assert "vos contributions restent dans ses résultats, mais sans votre nom" in page


# ------------------------------------------------------------------ leaving a closed workshop

def _action(room, title, owner=None, owner_name="", due=None):
    with room.app.app_context():
        owner_id = db.session.scalar(db.select(Participant.id).filter_by(workshop_id=room.id, display_name=owner)) \
            if owner else None
        db.session.add(Action(workshop_id=room.id, title=title, owner_id=owner_id, owner_name=owner_name,
                              owner_org="Mairie de Bourg" if owner_name else "", due_on=due, validated=True))
        db.session.commit()


def test_leaving_a_closed_workshop_anonymises_and_keeps_the_outcome(room, app):
    room.card(room.nadia, "Nos salarié·es en insertion en immersion")
    room.card(room.julien, "Des invendus pour l'épicerie solidaire")
    _action(room, "Organiser une visite de l'atelier", owner=NADIA, due=date(2027, 3, 4))
    room.close()
    # A download is cached with her name in it.
    cached = room.fac.get(f"/workshops/{room.id}/outcome/v1/download/md")
    assert cached.status_code == 200 and NADIA in cached.get_data(as_text=True)
    folder = Path(app.config["EXPORT_CACHE_DIR"]) / room.code
    assert any(folder.iterdir())

    resp = room.leave(room.nadia)

    assert resp.status_code == 302
    assert room.people() == [("", False), (JULIEN, True)]
    assert "votre nom a été retiré de ses résultats" in room.nadia.get(f"/w/{room.code}").get_data(as_text=True)
    assert room.texts() == ["Des invendus pour l'épicerie solidaire", "Nos salarié·es en insertion en immersion"]
    assert not folder.exists(), "cached downloads still held her name"
    (snap,) = room.snapshots()
    assert NADIA not in json.dumps(snap, ensure_ascii=False)
    assert JULIEN in json.dumps(snap, ensure_ascii=False)
    assert [p["organisation"] for p in snap["participants"]] == ["Tremplin Emploi Ain", "Boulangeries Moreau"]
    for fmt, text in room.every_export().items():
        assert NADIA not in text, f"{fmt} still names her"
    text = room.every_export()["md"]
    assert "Nos salarié·es en insertion" in text.replace("\\", "") and "Organiser une visite" in text
    # The fresh download (not the cache) has no name either, and nobody can come back as her.
    assert NADIA not in room.fac.get(f"/workshops/{room.id}/outcome/v1/download/md").get_data(as_text=True)
    back = app.test_client().post(f"/w/{room.code}/rejoin", data={"display_name": NADIA, "pin": "000000"})
    assert back.status_code in (409, 422)
    pages = [room.fac.get(f"/workshops/{room.id}").get_data(as_text=True),
             room.julien.get(f"/w/{room.code}").get_data(as_text=True)]
    assert all(NADIA not in page for page in pages)
    assert "Participant·e anonyme" in pages[0]


# ------------------------------------------------------------------ retention and purge

def _closed_days_ago(room, days):
    with room.app.app_context():
        db.session.get(Workshop, room.id).closed_at = utcnow() - timedelta(days=days)
        db.session.commit()


@pytest.fixture
def three_rooms(app, make_facilitator, make_workshop, login, join_as, workshop_of):
    """An old closed workshop, a recently closed one and a running one, each with two people."""
    fac = make_facilitator()
    rooms = {}
    for label in ("old", "recent", "running"):
        code = make_workshop(owner_id=fac, title=f"Atelier {label}")
        nadia = join_as(code, name=f"{NADIA} {label}", organisation="Tremplin Emploi Ain")
        julien = join_as(code, name=f"{JULIEN} {label}", organisation="Boulangeries Moreau", kind="company")
        room = Room(app, code, workshop_of(code).id, login(app.test_client(), fac), nadia, julien)
        room.card(nadia, f"Carte de Nadia ({label})")
        _action(room, f"Action ({label})", owner=f"{NADIA} {label}")
        _action(room, f"Suivi ({label})", owner_name=f"{FREE_OWNER} {label}")
        rooms[label] = room
    for label, days in (("old", 400), ("recent", 10)):
        rooms[label].close()
        rooms[label].fac.get(f"/workshops/{rooms[label].id}/outcome/v1/download/csv")   # cached
        _closed_days_ago(rooms[label], days)
    return rooms


def _names_in(room):
    return [name for name in (f"{NADIA} ", f"{JULIEN} ", f"{FREE_OWNER} ")
            if any(name in text for text in [json.dumps(room.snapshots(), ensure_ascii=False), *room.every_export().values()])
            or any(p.startswith(name) for p, _pin in room.people())]


def test_purge_anonymises_only_workshops_closed_longer_than_the_retention(app, three_rooms):
    old, recent, running = three_rooms["old"], three_rooms["recent"], three_rooms["running"]
    runner = app.test_cli_runner()
    cache = Path(app.config["EXPORT_CACHE_DIR"])
    assert (cache / old.code).exists() and (cache / recent.code).exists()

    dry = runner.invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 ;" in dry.output and "would be anonymised: 2" in dry.output
    assert len(_names_in(old)) == 3 and (cache / old.code).exists(), "a dry run wrote something"

    result = runner.invoke(args=["purge"])          # RETENTION_DAYS: 365 by default
    assert result.exit_code == 0, result.output
    assert "anonymised: 2" in result.output and "scrubbed: 1" in result.output
    assert _names_in(old) == [] and old.people() == [("", False), ("", False)]
    assert not (cache / old.code).exists()
    with app.app_context():
        assert [a.owner_name for a in db.session.scalars(db.select(Action).filter_by(workshop_id=old.id))] == ["", ""]
    # The outcome itself stays: its cards and actions, downloadable.
    assert "Carte de Nadia (old)" in old.every_export()["json"]
    assert old.fac.get(f"/workshops/{old.id}/outcome/v1/download/pdf").status_code == 200
    # The recent and running workshops keep everything.
    assert len(_names_in(recent)) == 3 and (cache / recent.code).exists()
    assert running.people() == sorted([(f"{NADIA} running", True), (f"{JULIEN} running", True)])

    again = runner.invoke(args=["purge"])
    assert again.exit_code == 0 and "anonymised: 0" in again.output
    shorter = runner.invoke(args=["purge", "--days", "5"])
    assert shorter.exit_code == 0 and "anonymised: 2" in shorter.output and _names_in(recent) == []
    assert running.people() == sorted([(f"{NADIA} running", True), (f"{JULIEN} running", True)])


def test_purge_refuses_a_retention_below_one_day(app):
    result = app.test_cli_runner().invoke(args=["purge", "--days", "0"])
    assert result.exit_code != 0 and "0" in result.output


def test_the_privacy_page_gives_the_retention_and_how_to_leave(client, app):
    app.config["RETENTION_DAYS"] = 180
    page = client.get("/privacy").get_data(as_text=True)
    assert "180 jours après la clôture" in page, page[page.find("Combien"):][:600]
    assert "« Quitter l'atelier »" in page


# ------------------------------------------------------------------ found in review

def test_leaving_after_a_reopen_scrubs_the_earlier_frozen_versions(room):
    room.card(room.nadia, "Carte d'avant la réouverture")
    room.close()
    assert room.fac.post(f"/workshops/{room.id}/status", data={"status": "live"}, htmx=True).status_code == 200
    assert room.leave(room.nadia).status_code == 302
    (v1,) = room.snapshots()
    assert NADIA not in json.dumps(v1, ensure_ascii=False) and JULIEN in json.dumps(v1, ensure_ascii=False)


def test_a_browser_still_holding_someone_who_left_is_a_stranger_even_if_the_id_comes_back(room, app, join_as):
    """SQLite gives the highest deleted id to the next person joining: Julien (the last to join)
    leaves, Zoé joins with his id; his phone, still holding his session, must not become Zoé."""
    phone = app.test_client()
    with room.julien.session_transaction() as his, phone.session_transaction() as copy:
        copy.update(his)
    with app.app_context():
        julien_id = db.session.scalar(db.select(Participant.id).filter_by(display_name=JULIEN))
    assert room.leave(room.julien).status_code == 302
    join_as(room.code, name="Zoé Martin", organisation="Mairie de Gex", kind="public")
    with app.app_context():
        zoe_id = db.session.scalar(db.select(Participant.id).filter_by(display_name="Zoé Martin"))
    page = phone.get(f"/w/{room.code}").get_data(as_text=True)
    assert "Zoé Martin" not in page and "Rejoindre l'atelier" in page, (julien_id, zoe_id)
    assert post_card(phone, room.code, text="Au nom de qui ?").status_code == 403


def test_the_name_goes_from_the_copies_made_of_it(room):
    """Map entries' holders, diagnostics' respondents and offer sections' last editors hold a copy
    of the participant's name."""
    from aeh_workshop.models import Diagnostic, JointOffer, MapEntry, OfferSection, Organisation, Structure
    with room.app.app_context():
        org = db.session.scalar(db.select(Organisation).filter_by(name="Tremplin Emploi Ain"))
        structure = Structure(name="Tremplin Emploi Ain", key="tremplin emploi ain")
        offer = JointOffer(workshop_id=room.id)
        db.session.add_all([structure, offer])
        db.session.flush()
        db.session.add_all([
            MapEntry(structure_id=structure.id, partner_id=org.id, holder=NADIA, source="workshop",
                     source_workshop_id=room.id),
            Diagnostic(organisation_id=org.id, year=2026, workshop_id=room.id, respondent=NADIA),
            OfferSection(offer_id=offer.id, key="need", updated_by=NADIA)])
        db.session.commit()
    room.close()
    room.leave(room.nadia)
    with room.app.app_context():
        assert db.session.scalar(db.select(MapEntry.holder)) == ""
        assert db.session.scalar(db.select(Diagnostic.respondent)) == ""
        assert db.session.scalar(db.select(OfferSection.updated_by)) == ""
