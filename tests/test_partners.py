"""The partnership map: import with a preview (all or nothing), the shell commands,
duplicate merges and their undo, promotion from a workshop, votes and actions,
the table's filters, the partner page, who may see it."""
import html
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func

from aeh_workshop.extensions import db
from aeh_workshop.models import (Action, Card, MapEntry, Organisation, PartnerMerge, Priority, Structure, Workshop)
from aeh_workshop.partners import merges, service

# A copy of ../shared/data/partner-links-sample.csv: the tests must not depend on a sibling folder.
SAMPLE = Path(__file__).resolve().parent / "data" / "partner-links-sample.csv"


@pytest.fixture
def fac(client, make_facilitator, login):
    fid = make_facilitator()
    login(client, fid)
    return fid


@pytest.fixture
def structure_id(app):
    with app.app_context():
        return service.create_structure("Tremplin Emploi Ain").id


def _upload(client, sid, data: bytes, name: str):
    return client.post(f"/structures/{sid}/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _entries(app, sid):
    with app.app_context():
        return db.session.scalar(db.select(func.count(MapEntry.id)).filter_by(structure_id=sid))


def _import_sample(app, sid):
    from aeh_workshop.partners import importer
    with app.app_context(), app.test_request_context():
        sheet = importer.read(SAMPLE.read_bytes(), SAMPLE.name)
        rows = importer.parse(sheet, importer.guess(sheet.headers))
        service.import_rows(db.session.get(Structure, sid), rows, SAMPLE.name)


# ---------------------------------------------------------------- import (web)

def test_the_preview_guesses_the_columns_and_writes_nothing_until_confirmed(app, client, fac, structure_id):
    resp = _upload(client, structure_id, SAMPLE.read_bytes(), "partner-links-sample.csv")
    assert resp.status_code == 302
    preview_url = resp.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "31 lignes lues" in page and "aucune erreur" in page
    # The French headers were recognised: "partenaire" becomes the partner, "reporte_par" who holds the link.
    assert re.search(r'name="col-1">.*?<option value="partner" selected>', page, re.S)
    assert re.search(r'name="col-0">.*?<option value="holder" selected>', page, re.S)
    assert "Clinique du Val de Saône" in page
    assert _entries(app, structure_id) == 0

    resp = client.post(preview_url, data={f"col-{i}": f for i, f in enumerate(
        ["holder", "partner", "partner_kind", "description", "category", "subtype", "status", "last_contact",
         "involvement"])})
    assert resp.status_code == 302
    assert _entries(app, structure_id) == 31
    with app.app_context():
        first = db.session.scalars(db.select(MapEntry).order_by(MapEntry.id)).first()
        assert (first.partner.name, first.category, first.status, first.holder, str(first.last_contact),
                first.involvement, first.source) == ("Clinique du Val de Saône", "economic", "past",
                                                     "Sophie Lefèvre", "2026-08-03", "yes", "import")
        assert first.source_label == "partner-links-sample.csv, ligne 2"
        assert first.partner.kind == "company"
    # The pending file is gone: confirming twice cannot import twice.
    assert client.post(preview_url, data={}).status_code == 404
    assert _entries(app, structure_id) == 31


def test_a_file_with_a_bad_row_imports_nothing_and_says_which_line(app, client, fac, structure_id):
    bad = SAMPLE.read_text(encoding="utf-8").splitlines()
    bad[4] = bad[4].replace("coopération économique", "sponsoring")     # line 5 of the file
    bad[10] = bad[10].replace("2024-09-01", "31/02/2024")                # line 11
    resp = _upload(client, structure_id, "\n".join(bad).encode(), "liens.csv")
    preview_url = resp.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "2 lignes en erreur" in page
    assert re.search(r'<th scope="row">5</th>.*?sponsoring', page, re.S)
    assert re.search(r'<th scope="row">11</th>.*?31/02/2024', page, re.S)
    assert "disabled" in page.split("Corrigez d'abord")[0].rsplit("<button", 1)[1]
    # Forcing the confirmation anyway writes nothing.
    resp = client.post(preview_url, data={})
    assert resp.status_code == 422
    assert "rien n'a été importé" in html.unescape(resp.get_data(as_text=True))
    assert _entries(app, structure_id) == 0
    with app.app_context():
        assert db.session.scalar(db.select(Organisation).filter_by(name="Élec Revermont")) is None


def test_the_mapping_can_be_changed_and_the_partner_column_is_required(app, client, fac, structure_id):
    preview_url = _upload(client, structure_id, SAMPLE.read_bytes(), "x.csv").headers["Location"]
    page = client.get(preview_url + "?col-0=holder").get_data(as_text=True)   # "partenaire" no longer mapped
    assert "Partenaire" in page and "flash-error" in page
    assert client.post(preview_url, data={"col-0": "holder"}).status_code == 422
    assert _entries(app, structure_id) == 0


def test_unreadable_files_are_refused_with_a_message(app, client, fac, structure_id):
    resp = _upload(client, structure_id, b"\x89PNG\r\n\x1a\n" + bytes(100), "photo.png")
    assert resp.status_code == 422
    assert 'class="error"' in resp.get_data(as_text=True)
    resp = _upload(client, structure_id, b"", "vide.csv")
    assert resp.status_code == 422
    assert client.get(f"/structures/{structure_id}/import/{'A' * 22}").status_code == 404
    assert client.get(f"/structures/{structure_id}/import/..%2F..%2Fetc").status_code == 404


def test_a_pending_import_belongs_to_its_structure(app, client, fac, structure_id):
    preview_url = _upload(client, structure_id, SAMPLE.read_bytes(), "x.csv").headers["Location"]
    with app.app_context():
        other = service.create_structure("Autre structure").id
    assert client.get(preview_url.replace(f"/structures/{structure_id}/", f"/structures/{other}/")).status_code == 404


# ----------------------------------------------------------------- the shell

def test_shell_import_dry_run_writes_nothing_then_imports_and_prints_duplicates(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["partners", "import", str(SAMPLE), "--structure", "Tremplin Emploi Ain", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "31 liens seraient importés" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(func.count(Structure.id))) == 0
        assert db.session.scalar(db.select(func.count(MapEntry.id))) == 0

    result = runner.invoke(args=["partners", "import", str(SAMPLE), "--structure", "Tremplin Emploi Ain"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        structure = service.structure_by_name("tremplin emploi ain")
        assert structure is not None
        assert db.session.scalar(db.select(func.count(MapEntry.id))) == 31

    result = runner.invoke(args=["partners", "duplicates", "--structure", "Tremplin Emploi Ain", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    groups = sorted(sorted(p["name"] for p in g["partners"]) for g in report["groups"])
    assert groups == sorted([
        ["Clinique Val de Saone", "Clinique du Val de Saône"],
        ["Bourg Graphic", "Imprimerie Bourg Graphic"],
        ["EV Dombes", "Espaces Verts Dombes"],
        ["Plasturgie Ain", "Plasturgie de l'Ain"],
        ["Boulangerie Martin", "Boulangerie Martin & Fils"],
        ["SM Bressan", "Supermarche Bressan"],
    ])
    # "GROUPE AINVEST" and "Groupe Ainvest" were one partner from the start (same name but for case).
    assert report["partners"] == 20
    assert all(g["reasons"] and 0 < g["score"] <= 1 for g in report["groups"])
    links = {p["name"]: p["links"] for g in report["groups"] for p in g["partners"]}
    assert links["Espaces Verts Dombes"] == 3 and links["EV Dombes"] == 2


def test_shell_import_of_a_bad_file_names_the_lines_and_writes_nothing(app, tmp_path):
    bad = tmp_path / "liens.csv"
    bad.write_text("partenaire;statut\nCabinet Faure;actif\n;passé\nBoulangerie Martin;peut-être\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["partners", "import", str(bad), "--structure", "Essai"])
    assert result.exit_code != 0
    assert "ligne / line 3" in result.output and "ligne / line 4" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(func.count(MapEntry.id))) == 0


def test_shell_duplicates_of_an_unknown_structure_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["partners", "duplicates", "--structure", "Inconnue", "--json"])
    assert result.exit_code != 0 and "Inconnue" in result.output


# ------------------------------------------------------------ merge and undo

def _ids(app, *names):
    with app.app_context():
        return [db.session.scalar(db.select(Organisation.id).filter_by(name=n)) for n in names]


def _partners_of_entries(app, sid):
    with app.app_context():
        return dict(db.session.execute(db.select(MapEntry.id, MapEntry.partner_id).filter_by(structure_id=sid)).all())


def test_a_merge_keeps_every_link_and_undo_gives_each_its_partner_back(app, client, fac, structure_id):
    _import_sample(app, structure_id)
    before = _partners_of_entries(app, structure_id)
    keep, other = _ids(app, "Espaces Verts Dombes", "EV Dombes")
    page = client.get(f"/structures/{structure_id}/duplicates").get_data(as_text=True)
    assert "abréviation : « EV » = « Espaces Verts »" in page

    resp = client.post(f"/structures/{structure_id}/duplicates/merge", data={"partners": [keep, other], "keep": keep})
    assert resp.status_code == 302
    after = _partners_of_entries(app, structure_id)
    assert after.keys() == before.keys()                              # every link is still there
    moved = {e for e, p in before.items() if p == other}
    assert len(moved) == 2 and all(after[e] == keep for e in moved)
    assert all(after[e] == p for e, p in before.items() if e not in moved)
    page = client.get(f"/structures/{structure_id}/partners/{keep}").get_data(as_text=True)
    assert "5 liens" in page and "Aussi saisi comme" in page and "EV Dombes" in page
    with app.app_context():
        record = db.session.scalar(db.select(PartnerMerge))
        assert record.score is not None and "abbreviation" in record.reasons
        assert db.session.get(Organisation, other) is not None          # nothing deleted
    # The group is no longer suggested.
    assert "EV Dombes" not in client.get(f"/structures/{structure_id}/duplicates").get_data(as_text=True).split(
        "Fusions faites")[0]

    resp = client.post(f"/structures/{structure_id}/merges/{record.id}/undo")
    assert resp.status_code == 302
    assert _partners_of_entries(app, structure_id) == before
    assert client.post(f"/structures/{structure_id}/merges/{record.id}/undo").status_code == 409


def test_undo_waits_for_a_later_merge_of_the_same_partners(app, structure_id):
    _import_sample(app, structure_id)
    a, b, c = _ids(app, "Plasturgie de l'Ain", "Plasturgie Ain", "LOGISTIQUE AIN-SUD")
    with app.app_context():
        structure = db.session.get(Structure, structure_id)
        first = merges.merge(structure, [a, b], a).id
        second = merges.merge(structure, [c, a], c).id       # a human decided it; the earlier one now waits
        with pytest.raises(service.MapError, match="plus récente"):
            merges.undo(structure, first)
        merges.undo(structure, second)
        merges.undo(structure, first)
    assert b in _partners_of_entries(app, structure_id).values()


def test_a_merge_refuses_partners_not_in_the_map_and_a_missing_survivor(app, client, fac, structure_id):
    _import_sample(app, structure_id)
    a, b = _ids(app, "Cabinet Faure", "SM Bressan")
    with app.app_context():
        stranger = Organisation(name="Ailleurs", key="ailleurs", kind="company")
        db.session.add(stranger)
        db.session.commit()
        stranger_id = stranger.id
    before = _partners_of_entries(app, structure_id)
    assert client.post(f"/structures/{structure_id}/duplicates/merge",
                       data={"partners": [a, stranger_id], "keep": a}).status_code == 409
    assert client.post(f"/structures/{structure_id}/duplicates/merge",
                       data={"partners": [a, b], "keep": 999}).status_code == 409
    assert client.post(f"/structures/{structure_id}/duplicates/merge",
                       data={"partners": ["x"], "keep": "y"}).status_code == 422
    assert _partners_of_entries(app, structure_id) == before


def test_partners_kept_apart_are_not_suggested_again(app, client, fac, structure_id):
    _import_sample(app, structure_id)
    a, b = _ids(app, "SM Bressan", "Supermarche Bressan")
    resp = client.post(f"/structures/{structure_id}/duplicates/apart", data={"partners": [a, b]})
    assert resp.status_code == 302
    with app.app_context():
        groups = merges.suggestions(db.session.get(Structure, structure_id))
    assert not any({a, b} <= set(g.ids) for g in groups)
    assert len(groups) == 5


# ------------------------------------------------------------ from workshops

@pytest.fixture
def map_workshop(app, make_workshop, structure_id):
    """A live workshop run for the structure, its owner's id."""
    code = make_workshop()
    with app.app_context():
        workshop = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        workshop.structure_id = structure_id
        db.session.commit()
        return code, workshop.id, workshop.owner_id


def _post_card(client, code, **fields):
    data = {"kind": "link", "text": "Lien", "partner": "", "category": "", "subtype": "", "direction": "",
            "link_status": "", **fields}
    resp = client.post(f"/w/{code}/cards", data=data)
    assert resp.status_code in (200, 201, 302), resp.get_data(as_text=True)


def test_link_cards_are_promoted_into_the_map_once_keeping_their_origin(app, client, login, join_as,
                                                                        map_workshop, structure_id):
    code, wid, owner = map_workshop
    nadia = join_as(code)
    _post_card(nadia, code, text="Mécénat de compétences pour nos ateliers", partner="Boulangerie Martin",
               category="mecenat", link_status="active", direction="company_to_association")
    _post_card(nadia, code, text="Stages d'immersion", partner="Plasturgie de l'Ain", category="economic")
    _post_card(nadia, code, text="Sans partenaire nommé")
    _post_card(nadia, code, kind="practice", text="Une pratique", partner="Cabinet Faure")
    login(client, owner)
    page = client.get(f"/workshops/{wid}").get_data(as_text=True)
    assert "2 cartes « Lien existant » à verser dans la cartographie." in page

    with app.app_context():
        first_card = db.session.scalar(db.select(Card.id).filter_by(text="Stages d'immersion"))
    assert client.post(f"/workshops/{wid}/map", data={"cards": [first_card]}).status_code == 302
    assert _entries(app, structure_id) == 1
    assert client.post(f"/workshops/{wid}/map", data={"all": "1"}).status_code == 302
    assert client.post(f"/workshops/{wid}/map", data={"all": "1"}).status_code == 302    # nothing new
    with app.app_context():
        entries = db.session.scalars(db.select(MapEntry).order_by(MapEntry.id)).all()
        assert [(e.partner.name, e.source, e.source_workshop_id, e.holder) for e in entries] == [
            ("Plasturgie de l'Ain", "workshop", wid, "Nadia Haddad"),
            ("Boulangerie Martin", "workshop", wid, "Nadia Haddad")]
        assert (entries[1].category, entries[1].status, entries[1].direction) == (
            "mecenat", "active", "company_to_association")
        martin = entries[1].partner_id
    page = client.get(f"/structures/{structure_id}/partners/{martin}").get_data(as_text=True)
    assert "Échange de pratiques entreprises–associations" in page       # the workshop where it came up


def test_a_workshop_without_structure_cannot_promote(app, client, login, make_workshop, workshop_of):
    code = make_workshop()
    w = workshop_of(code)
    login(client, w.owner_id)
    client.post(f"/workshops/{w.id}/map", data={"all": "1"})
    assert "Rattachez d'abord" in html.unescape(client.get(f"/workshops/{w.id}").get_data(as_text=True))


def test_map_entries_go_to_a_dot_vote_and_the_result_sets_their_priority(app, client, login, join_as,
                                                                         map_workshop, structure_id):
    code, wid, owner = map_workshop
    _import_sample(app, structure_id)
    with app.app_context():
        picked = db.session.scalars(db.select(MapEntry.id).order_by(MapEntry.id).limit(3)).all()
    login(client, owner)
    resp = client.post(f"/structures/{structure_id}/vote", data={"entries": picked, "workshop": wid})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/workshops/{wid}")
    with app.app_context():
        cards = db.session.scalars(db.select(Card).filter_by(workshop_id=wid).order_by(Card.id)).all()
        assert sorted(c.map_entry_id for c in cards) == picked
        cards.sort(key=lambda c: c.map_entry_id)
        assert cards[0].text.startswith("Clinique du Val de Saône — ")
        vote_id = db.session.execute(db.text("SELECT id FROM vote WHERE workshop_id = :w"), {"w": wid}).scalar()
    # Putting them again reuses the same cards.
    client.post(f"/structures/{structure_id}/vote", data={"entries": picked, "workshop": wid})
    with app.app_context():
        assert db.session.scalar(db.select(func.count(Card.id)).filter_by(workshop_id=wid)) == 3

    assert client.post(f"/w/{code}/votes/{vote_id}/status", data={"status": "open"}).status_code == 200
    voter = join_as(code)
    assert voter.post(f"/w/{code}/votes/{vote_id}/cards/{cards[0].id}", data={"dots": 3}, htmx=True).status_code == 200
    assert voter.post(f"/w/{code}/votes/{vote_id}/cards/{cards[1].id}", data={"dots": 1}, htmx=True).status_code == 200
    assert client.post(f"/w/{code}/votes/{vote_id}/status", data={"status": "closed"}).status_code == 200
    assert client.post(f"/w/{code}/votes/{vote_id}/priorities", data={"top": 1}).status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(func.count(Priority.id))) == 1

    assert client.post(f"/structures/{structure_id}/vote/apply", data={"workshop": wid}).status_code == 302
    with app.app_context():
        got = {e.id: (e.priority, e.dots) for e in db.session.scalars(db.select(MapEntry).where(MapEntry.id.in_(picked)))}
    assert got == {picked[0]: ("high", 3), picked[1]: ("medium", 1), picked[2]: ("low", 0)}
    page = client.get(f"/structures/{structure_id}?priority=high").get_data(as_text=True)
    assert "1 lien correspond aux filtres" in page


def test_a_next_action_becomes_an_action_of_the_plan_and_shows_on_the_partner_page(app, client, login,
                                                                                  map_workshop, structure_id):
    code, wid, owner = map_workshop
    login(client, owner)
    with app.app_context():
        entry = service.add_entry(db.session.get(Structure, structure_id), "Cabinet Faure",
                                  {"next_action": "Proposer un mécénat de compétences", "holder": "Chloé Vidal"})
        entry_id, partner_id = entry.id, entry.partner_id
    resp = client.post(f"/structures/{structure_id}/entries/{entry_id}/action", data={"workshop": wid})
    assert resp.status_code == 302
    with app.app_context():
        action = db.session.scalar(db.select(Action))
        assert (action.title, action.map_entry_id, action.workshop_id, action.owner_name, action.validated) == (
            "Proposer un mécénat de compétences", entry_id, wid, "Chloé Vidal", True)
    page = client.get(f"/structures/{structure_id}/partners/{partner_id}").get_data(as_text=True)
    assert "Proposer un mécénat de compétences" in page.split("Actions</h2>")[1]


def test_votes_and_actions_need_a_workshop_of_this_structure(app, client, fac, make_workshop, workshop_of,
                                                            structure_id):
    _import_sample(app, structure_id)
    foreign = workshop_of(make_workshop())
    with app.app_context():
        entry_id = db.session.scalar(db.select(MapEntry.id).limit(1))
    client.post(f"/structures/{structure_id}/vote", data={"entries": [entry_id], "workshop": foreign.id})
    assert "Choisissez un atelier rattaché" in client.get(f"/structures/{structure_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(func.count(Card.id))) == 0


# ----------------------------------------------------------- table, entries

def test_the_table_filters_by_category_status_holder_priority_and_kind(app, client, fac, structure_id):
    _import_sample(app, structure_id)
    base = f"/structures/{structure_id}"
    counts = {}
    for query in ("", "?category=mecenat", "?status=wished", "?holder=Thomas+Giraud", "?priority=none",
                  "?kind=association", "?q=plasturgie", "?category=mecenat&status=active", "?category=bogus"):
        page = client.get(base + query).get_data(as_text=True)
        counts[query] = page.count('name="entries"')
    assert counts == {"": 31, "?category=mecenat": 10, "?status=wished": 5, "?holder=Thomas+Giraud": 3,
                      "?priority=none": 31, "?kind=association": 0, "?q=plasturgie": 3,
                      "?category=mecenat&status=active": 6, "?category=bogus": 31}


def test_entries_are_added_edited_and_deleted_with_clear_errors(app, client, fac, structure_id):
    base = f"/structures/{structure_id}"
    resp = client.post(base + "/entries/new", data={"partner": "", "partner_kind": "company"})
    assert resp.status_code == 422 and "Indiquez le partenaire." in resp.get_data(as_text=True)
    resp = client.post(base + "/entries/new", data={"partner": "Cabinet Faure", "partner_kind": "company",
                                                    "last_contact": "2026-02-30"})
    assert resp.status_code == 422 and "Date invalide" in resp.get_data(as_text=True)
    assert _entries(app, structure_id) == 0
    resp = client.post(base + "/entries/new", data={"partner": " Cabinet  Faure ", "partner_kind": "company",
                                                    "category": "mecenat", "status": "active",
                                                    "last_contact": "2026-03-01", "holder": "Chloé Vidal"})
    assert resp.status_code == 302
    with app.app_context():
        entry = db.session.scalar(db.select(MapEntry))
        assert (entry.partner.name, entry.category, str(entry.last_contact)) == ("Cabinet Faure", "mecenat", "2026-03-01")
        entry_id = entry.id
    resp = client.post(f"{base}/entries/{entry_id}", data={"partner": "Cabinet Faure", "partner_kind": "company",
                                                           "category": "bogus"})
    assert resp.status_code == 422
    resp = client.post(f"{base}/entries/{entry_id}", data={"partner": "Cabinet Faure", "partner_kind": "company",
                                                           "category": "practices", "priority": "high"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(MapEntry, entry_id).priority == "high"
    assert client.post(f"{base}/entries/{entry_id}/delete").status_code == 302
    assert _entries(app, structure_id) == 0


def test_structures_are_created_once_by_name(app, client, fac):
    assert client.post("/structures/", data={"name": "Tremplin Emploi Ain"}).status_code == 302
    resp = client.post("/structures/", data={"name": "tremplin  emploi AIN"})
    assert resp.status_code == 422 and "Une structure porte déjà ce nom." in resp.get_data(as_text=True)
    assert "Tremplin Emploi Ain" in client.get("/structures/").get_data(as_text=True)


def test_the_map_is_for_logged_in_facilitators_only(app, client, new_client, join_as, make_workshop, structure_id):
    anonymous = new_client()
    for url in ("/structures/", f"/structures/{structure_id}", f"/structures/{structure_id}/matrix",
                f"/structures/{structure_id}/duplicates", f"/structures/{structure_id}/download/xlsx"):
        resp = anonymous.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    participant = join_as(make_workshop())
    assert participant.get(f"/structures/{structure_id}").status_code in (302, 403)
    assert participant.post(f"/structures/{structure_id}/entries/new", data={"partner": "X"}).status_code in (302, 403)
    assert _entries(app, structure_id) == 0


def test_matrix_pages_and_downloads(app, client, fac, structure_id):
    _import_sample(app, structure_id)
    page = client.get(f"/structures/{structure_id}/matrix").get_data(as_text=True)
    assert "Coopération économique" in page and "Plasturgie Ain" in page
    screen = client.get(f"/structures/{structure_id}/matrix?screen=1")
    assert screen.status_code == 200 and 'class="topbar"' not in screen.get_data(as_text=True)
    resp = client.get(f"/structures/{structure_id}/download/xlsx?category=mecenat")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    assert "attachment" in resp.headers["Content-Disposition"]
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(resp.data)).worksheets[0]
    assert sheet.max_row == 11          # a header and the ten mécénat links
    resp = client.get(f"/structures/{structure_id}/download/pdf")
    assert resp.status_code == 200 and resp.data[:4] == b"%PDF"
    assert client.get(f"/structures/{structure_id}/download/docx").status_code == 404


def test_the_import_takes_files_beyond_the_form_limit_but_not_beyond_five_megabytes(app, client, fac, structure_id):
    header, *lines = SAMPLE.read_bytes().splitlines()
    big = b"\n".join([header] + (lines * 160)[:4900])            # ~0.6 MB: over the 256 KB of forms
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    resp = _upload(client, structure_id, big, "gros.csv")
    assert resp.status_code == 302
    assert "4900 lignes lues" in client.get(resp.headers["Location"]).get_data(as_text=True)
    resp = _upload(client, structure_id, b"x" * (6 * 1024 * 1024), "trop.csv")
    assert resp.status_code == 413
    # Other forms keep their limit.
    assert client.post(f"/structures/{structure_id}/entries/new",
                       data={"partner": "X", "notes": "y" * 300_000}).status_code == 413


def test_a_facilitator_not_on_the_workshop_cannot_use_it_from_the_map(app, client, make_facilitator, login,
                                                                     map_workshop, structure_id):
    code, wid, owner = map_workshop
    _import_sample(app, structure_id)
    login(client, make_facilitator("autre@example.org"))
    with app.app_context():
        entry_id = db.session.scalar(db.select(MapEntry.id).limit(1))
    client.post(f"/structures/{structure_id}/vote", data={"entries": [entry_id], "workshop": wid})
    client.post(f"/structures/{structure_id}/entries/{entry_id}/action", data={"workshop": wid})
    client.post(f"/structures/{structure_id}/vote/apply", data={"workshop": wid})
    with app.app_context():
        assert db.session.scalar(db.select(func.count(Card.id))) == 0
        assert db.session.scalar(db.select(func.count(Action.id))) == 0
        assert db.session.execute(db.text("SELECT count(*) FROM vote")).scalar() == 0
    assert "Reporter son vote" not in client.get(f"/structures/{structure_id}").get_data(as_text=True)


@pytest.mark.parametrize("value", ["2147483648", "-5", "0", "abc", str(2**70)])
def test_odd_ids_in_map_forms_are_refused_without_a_500(app, client, fac, structure_id, value):
    _import_sample(app, structure_id)
    a = _ids(app, "Cabinet Faure")[0]
    with app.app_context():
        entry_id = db.session.scalar(db.select(MapEntry.id).limit(1))
    before = _partners_of_entries(app, structure_id)
    for url, data in ((f"/structures/{structure_id}/vote", {"entries": [entry_id], "workshop": value}),
                      (f"/structures/{structure_id}/vote", {"entries": [value], "workshop": 1}),
                      (f"/structures/{structure_id}/vote/apply", {"workshop": value}),
                      (f"/structures/{structure_id}/entries/{entry_id}/action", {"workshop": value}),
                      (f"/structures/{structure_id}/duplicates/merge", {"partners": [a, value], "keep": a}),
                      (f"/structures/{structure_id}/duplicates/apart", {"partners": [a, value]})):
        assert client.post(url, data=data).status_code < 500, (url, data)
    assert client.post(f"/structures/{structure_id}/duplicates/apart",
                       data={"partners": [a, 999999]}).status_code == 422
    assert _partners_of_entries(app, structure_id) == before


def test_undo_leaves_alone_a_link_made_after_the_merge(app, structure_id):
    with app.app_context():
        structure = db.session.get(Structure, structure_id)
        keep = service.add_entry(structure, "Plasturgie de l'Ain", {"description": "stages"})
        gone = service.add_entry(structure, "Plasturgie Ain SAS", {"description": "fournisseur"})
        keep_id, other_id = keep.partner_id, gone.partner_id
        record = merges.merge(structure, [keep_id, other_id], keep_id)
        service.delete_entry(structure, gone)
        fresh = service.add_entry(structure, "Plasturgie de l'Ain", {"description": "nouveau lien"})
        fresh_id = fresh.id
        merges.undo(structure, record.id)
        assert db.session.get(MapEntry, fresh_id).partner_id == keep_id


def test_a_confirmation_sent_twice_imports_once(app, client, fac, structure_id, monkeypatch):
    preview_url = _upload(client, structure_id, SAMPLE.read_bytes(), "x.csv").headers["Location"]
    real = service.import_rows
    second = {}

    def import_while_a_second_confirmation_arrives(*args, **kwargs):
        if not second:
            second["status"] = client.post(preview_url, data={}).status_code
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "import_rows", import_while_a_second_confirmation_arrives)
    assert client.post(preview_url, data={}).status_code == 302
    assert second["status"] == 404
    assert _entries(app, structure_id) == 31
