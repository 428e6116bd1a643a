"""Outcomes: versions frozen at closing, the report page, downloads, the secret share link, the PDF."""
import io
import json
import re
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from aeh_workshop.extensions import db
from aeh_workshop.models import Action, OfferSection, Workshop, touch
from aeh_workshop.outcomes import service
from conftest import PASSWORD, pushes
from outcome_data import ACTION_TITLE, OFFER_TITLE, rich_workshop

EDITED_ACTION = "Présenter l'offre commune au club d'entreprises d'Oyonnax"
EDITED_NEED = "Les PME du bassin d'Oyonnax cherchent des salarié·es formé·es à la plasturgie."


@pytest.fixture
def rich(app):
    """The rich workshop (live): ids and code."""
    with app.app_context():
        workshop = rich_workshop(PASSWORD)
        return SimpleNamespace(id=workshop.id, owner_id=workshop.owner_id, code=workshop.join_code)


@pytest.fixture
def fac(app, client, rich, login):
    """The rich workshop's facilitator, logged in."""
    return login(client, rich.owner_id)


def set_status(client, rich, status):
    resp = client.post(f"/workshops/{rich.id}/status", data={"status": status}, htmx=True)
    assert resp.status_code == 200, resp.get_data(as_text=True)


def snapshots(app, rich) -> dict[int, dict]:
    with app.app_context():
        return {o.version: o.snapshot for o in service.versions(db.session.get(Workshop, rich.id))}


def edit_while_closed(app, rich, what):
    """An edit made straight in the models, then re-frozen as the services do after an edit."""
    with app.app_context():
        workshop = db.session.get(Workshop, rich.id)
        if what == "action":
            db.session.scalar(db.select(Action).filter_by(title=ACTION_TITLE)).title = EDITED_ACTION
        else:
            db.session.scalar(db.select(OfferSection).filter_by(key="need")).text = EDITED_NEED
        touch(workshop)
        service.refreeze_if_closed(workshop)
        db.session.commit()


def edited_value(snap, what):
    return snap["actions"][0]["title"] if what == "action" else snap["offers"][0]["need"]


def text_of(html: str) -> str:
    """What a reader sees: tags dropped, entities and spaces normalised."""
    from html import unescape
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# ------------------------------------------------------------------ versions

def test_closing_freezes_version_one_with_the_workshops_content(app, fac, rich):
    set_status(fac, rich, "closed")
    versions = snapshots(app, rich)
    assert list(versions) == [1]
    v1 = versions[1]
    assert v1["version"] == 1 and v1["provisional"] is False
    assert v1["offers"][0]["title"] == OFFER_TITLE
    assert ACTION_TITLE in [a["title"] for a in v1["actions"]]
    assert [p["rank"] for p in v1["priorities"]] == [1, 2, 3]
    assert v1["summary"]["participants"] == 6


@pytest.mark.parametrize("what", ["action", "offer"])
def test_an_edit_after_closing_is_version_two_and_version_one_is_unchanged(app, fac, rich, what):
    set_status(fac, rich, "closed")
    before = snapshots(app, rich)[1]
    edit_while_closed(app, rich, what)
    versions = snapshots(app, rich)
    assert sorted(versions) == [1, 2]
    assert versions[1] == before
    assert edited_value(versions[2], what) == (EDITED_ACTION if what == "action" else EDITED_NEED)
    assert edited_value(versions[1], what) != edited_value(versions[2], what)


def test_reopening_and_closing_again_is_version_three_and_version_one_is_unchanged(app, fac, rich):
    set_status(fac, rich, "closed")
    v1 = snapshots(app, rich)[1]
    edit_while_closed(app, rich, "action")
    set_status(fac, rich, "live")
    edit_while_closed(app, rich, "offer")               # while open again: nothing is frozen...
    assert sorted(snapshots(app, rich)) == [1, 2]
    set_status(fac, rich, "closed")                     # ...until it closes
    versions = snapshots(app, rich)
    assert sorted(versions) == [1, 2, 3]
    assert versions[1] == v1
    assert versions[1]["actions"][0]["title"] == ACTION_TITLE
    assert versions[2]["actions"][0]["title"] == EDITED_ACTION and versions[2]["offers"][0]["need"] != EDITED_NEED
    assert versions[3]["actions"][0]["title"] == EDITED_ACTION and versions[3]["offers"][0]["need"] == EDITED_NEED


def test_freezing_again_without_a_change_stores_no_new_version(app, fac, rich, monkeypatch):
    from aeh_workshop.models import utcnow
    from aeh_workshop.workshops import service as workshops
    moment = utcnow()
    monkeypatch.setattr(workshops, "utcnow", lambda: moment)   # both closes in the same second
    set_status(fac, rich, "closed")
    set_status(fac, rich, "live")
    set_status(fac, rich, "closed")     # the same closing date, the same content
    with app.app_context():
        workshop = db.session.get(Workshop, rich.id)
        touch(workshop)
        assert service.freeze(workshop) is None
        service.refreeze_if_closed(workshop)
        db.session.commit()
    assert sorted(snapshots(app, rich)) == [1]


def test_closing_again_after_reopening_is_a_new_version_because_the_closing_date_moved(
        app, fac, rich, monkeypatch):
    """Nothing else changed, but the cover's closing date did (a version says when it was
    closed, to the second): closing again later is a new version, within the same second it is not."""
    from datetime import timedelta
    from aeh_workshop.models import utcnow
    from aeh_workshop.workshops import service as workshops
    set_status(fac, rich, "closed")
    set_status(fac, rich, "live")
    later = utcnow() + timedelta(minutes=20)
    monkeypatch.setattr(workshops, "utcnow", lambda: later)
    set_status(fac, rich, "closed")
    versions = snapshots(app, rich)
    assert sorted(versions) == [1, 2]
    assert versions[1]["workshop"]["closed_at"] != versions[2]["workshop"]["closed_at"]
    for key in ("cards", "votes", "priorities", "offers", "actions", "participants"):
        assert versions[1][key] == versions[2][key]


# ------------------------------------------------------------ report pages

def test_before_closing_the_page_is_a_provisional_preview(fac, rich):
    page = fac.get(f"/workshops/{rich.id}/outcome").get_data(as_text=True)
    text = text_of(page)
    assert "Provisoire — l'atelier n'est pas encore clos" in text
    assert "Aperçu provisoire" in text
    assert OFFER_TITLE in text and ACTION_TITLE in text
    assert '<meta name="robots" content="noindex, nofollow">' in page


def test_the_facilitator_page_lists_the_versions_and_shows_the_latest(app, fac, rich):
    set_status(fac, rich, "closed")
    edit_while_closed(app, rich, "action")
    page = fac.get(f"/workshops/{rich.id}/outcome").get_data(as_text=True)
    assert re.search(r'<strong class="version-pill is-shown" aria-current="page">v2</strong>', page)
    assert f'href="/workshops/{rich.id}/outcome/v1"' in page
    assert f'href="/workshops/{rich.id}/outcome/v2/download/pdf"' in page
    for fmt in ("xlsx", "docx", "csv", "md", "json", "ics", "cards.csv", "votes.csv", "actions.csv"):
        assert f"/outcome/v2/download/{fmt}" in page
    text = text_of(page)
    assert EDITED_ACTION in text and "Version 2, figée le" in text
    assert "Provisoire" not in text


def test_an_old_version_page_shows_what_it_said(app, fac, rich):
    set_status(fac, rich, "closed")
    edit_while_closed(app, rich, "action")
    text = text_of(fac.get(f"/workshops/{rich.id}/outcome/v1").get_data(as_text=True))
    assert ACTION_TITLE in text and EDITED_ACTION not in text
    assert "Version 1, figée le" in text


def test_the_report_shows_every_section(app, fac, rich):
    set_status(fac, rich, "closed")
    text = text_of(fac.get(f"/workshops/{rich.id}/outcome").get_data(as_text=True))
    for expected in ("L'atelier en chiffres", "Qui a participé", "Priorités retenues", "Offres communes",
                     "Plan d'action", "Résultats des votes", "Par catégorie du Rameau et par type",
                     "Par regroupement", "Emploi & insertion", "Toutes les contributions, par catégorie",
                     "Tremplin Emploi Ain", "Dombes et Bresse (Ain)", "Mécénat — Mécénat de compétences",
                     "Entreprises 2 · Associations 5 · Autres 1", "Hélène Besson", "Imprimerie Bourg Graphic",
                     "15 janv. 2027", "En cours", "Préparer", "proposition Évaluer la première année",
                     "Priorité n° 1 : Étudier ensemble une recyclerie"):
        assert expected in text, expected


def test_dates_follow_the_readers_language(app, fac, rich):
    set_status(fac, rich, "closed")
    text = text_of(fac.get(f"/workshops/{rich.id}/outcome?lang=en").get_data(as_text=True))
    assert "Jan 15, 2027" in text and "15 janv. 2027" not in text


# ---------------------------------------------------------------- downloads

def test_an_old_versions_download_serves_that_versions_content(app, fac, rich):
    set_status(fac, rich, "closed")
    edit_while_closed(app, rich, "action")
    old = fac.get(f"/workshops/{rich.id}/outcome/v1/download/json")
    new = fac.get(f"/workshops/{rich.id}/outcome/current/download/json")
    assert old.status_code == new.status_code == 200
    assert [a["title"] for a in json.loads(old.data)["actions"]][0] == ACTION_TITLE
    assert [a["title"] for a in json.loads(new.data)["actions"]][0] == EDITED_ACTION
    assert json.loads(old.data)["version"] == 1 and json.loads(new.data)["version"] == 2


def test_a_download_is_an_attachment_named_after_the_workshop_with_its_accents(app, fac, rich):
    set_status(fac, rich, "closed")
    resp = fac.get(f"/workshops/{rich.id}/outcome/v1/download/md")
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    match = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert match and quote("coopérations", safe="") in match.group(1) and match.group(1).endswith(".md")
    fallback = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert fallback.isascii() and "cooperations" in fallback and fallback.endswith(".md")
    assert "Entreprises et associations de l'Ain" in resp.get_data(as_text=True)


@pytest.mark.parametrize("path", ["v7/download/json", "v1/download/exe", "vx/download/pdf", "v0/download/pdf",
                                  "v99999999999/download/json", "latest/download/json"])
def test_an_unknown_version_or_format_is_a_404_page(fac, rich, path):
    set_status(fac, rich, "closed")
    resp = fac.get(f"/workshops/{rich.id}/outcome/{path}")
    assert resp.status_code == 404
    assert "Cette page n'existe pas ou plus." in text_of(resp.get_data(as_text=True))


def test_an_unknown_version_page_is_a_404(fac, rich):
    set_status(fac, rich, "closed")
    assert fac.get(f"/workshops/{rich.id}/outcome/v2").status_code == 404


# ----------------------------------------------------------------- access

FACILITATOR_ROUTES = [("get", "/workshops/{id}/outcome"), ("get", "/workshops/{id}/outcome/v1"),
                      ("get", "/workshops/{id}/outcome/v1/download/json"),
                      ("get", "/workshops/{id}/outcome/share"), ("post", "/workshops/{id}/outcome/share")]


@pytest.mark.parametrize("method,path", FACILITATOR_ROUTES)
def test_another_facilitator_is_refused(app, fac, rich, login, new_client, make_facilitator, method, path):
    set_status(fac, rich, "closed")
    other = login(new_client(), make_facilitator("autre@example.org", "Autre Animation"))
    resp = getattr(other, method)(path.format(id=rich.id))
    assert resp.status_code == 403
    assert "Vous n'avez pas accès à cette page." in text_of(resp.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Workshop, rich.id).share_token is None


@pytest.mark.parametrize("method,path", FACILITATOR_ROUTES)
@pytest.mark.parametrize("who", ["anonymous", "participant"])
def test_anonymous_people_log_in_and_participants_are_refused(app, fac, rich, new_client, join_as, method, path, who):
    set_status(fac, rich, "closed")
    set_status(fac, rich, "live")       # participants can join again
    browser = join_as(rich.code) if who == "participant" else new_client()
    resp = getattr(browser, method)(path.format(id=rich.id))
    if who == "anonymous":
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    else:
        assert resp.status_code == 403
    with app.app_context():
        assert db.session.get(Workshop, rich.id).share_token is None


# -------------------------------------------------------------- share link

def share(fac, rich) -> str:
    resp = fac.post(f"/workshops/{rich.id}/outcome/share", htmx=True)
    assert resp.status_code == 200
    url = re.search(r'id="outcome-share-url" readonly class="copy" value="([^"]+)"', resp.get_data(as_text=True))
    assert url, resp.get_data(as_text=True)
    return url.group(1)


def test_the_share_link_shows_the_report_to_anyone_who_has_it(app, fac, rich, new_client):
    set_status(fac, rich, "closed")
    url = share(fac, rich)
    assert re.fullmatch(r"http://[^/]+/o/[A-Za-z0-9_-]{32}", url)
    assert share(fac, rich) == url                      # asked twice, one link
    token = url.rsplit("/", 1)[1]
    resp = new_client().get(f"/o/{token}")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert OFFER_TITLE in text_of(page) and "Version 1, figée le" in text_of(page)
    assert "Retour à l'atelier" not in page and f"/workshops/{rich.id}" not in page
    assert f'href="/o/{token}/v1/download/pdf"' in page


def test_a_shared_version_and_its_downloads(app, fac, rich, new_client):
    set_status(fac, rich, "closed")
    token = share(fac, rich).rsplit("/", 1)[1]
    edit_while_closed(app, rich, "action")
    anyone = new_client()
    assert EDITED_ACTION in text_of(anyone.get(f"/o/{token}").get_data(as_text=True))
    assert ACTION_TITLE in text_of(anyone.get(f"/o/{token}/v1").get_data(as_text=True))
    old = anyone.get(f"/o/{token}/v1/download/json")
    assert old.status_code == 200 and json.loads(old.data)["actions"][0]["title"] == ACTION_TITLE
    assert old.headers["Referrer-Policy"] == "no-referrer"
    assert anyone.get(f"/o/{token}/v3").status_code == 404
    assert anyone.get(f"/o/{token}/v3/download/json").status_code == 404
    assert anyone.get(f"/o/{token}/v1/download/nope").status_code == 404


def test_a_wrong_share_token_is_a_404(fac, rich, new_client):
    set_status(fac, rich, "closed")
    share(fac, rich)
    for path in ("/o/not-the-token", "/o/not-the-token/v1", "/o/not-the-token/v1/download/json"):
        resp = new_client().get(path)
        assert resp.status_code == 404 and "Cette page n'existe pas ou plus." in text_of(resp.get_data(as_text=True))


def test_before_anything_is_frozen_the_share_link_says_to_come_back(fac, rich, new_client):
    token = share(fac, rich).rsplit("/", 1)[1]
    resp = new_client().get(f"/o/{token}")
    assert resp.status_code == 200
    assert "seront disponibles ici dès sa clôture" in resp.get_data(as_text=True)
    assert OFFER_TITLE not in resp.get_data(as_text=True)


def test_the_share_box_offers_a_button_until_the_link_exists(fac, rich):
    box = fac.get(f"/workshops/{rich.id}/outcome/share", htmx=True).get_data(as_text=True)
    assert "Créer le lien de partage" in box and "outcome-share-url" not in box
    share(fac, rich)
    box = fac.get(f"/workshops/{rich.id}/outcome/share", htmx=True).get_data(as_text=True)
    assert "Créer le lien de partage" not in box and "/o/" in box


# ------------------------------------------------- control room and participants

def test_the_restitution_panel_lists_versions_and_their_downloads(app, fac, rich):
    live = text_of(fac.get(f"/workshops/{rich.id}").get_data(as_text=True))
    assert "Restitution" in live and "Aperçu provisoire" in live and "Aucune version figée" in live
    set_status(fac, rich, "closed")
    edit_while_closed(app, rich, "action")
    page = fac.get(f"/workshops/{rich.id}").get_data(as_text=True)
    panel = page[page.index('id="outcomectl"'):page.index("</section>", page.index('id="outcomectl"'))]
    assert "Version 2" in panel and "Version 1" in panel
    words = text_of(panel)
    assert words.count("actuelle") == 1 and words.index("Version 2") < words.index("actuelle") < words.index("Version 1")
    assert "Aperçu provisoire" not in panel
    for fmt in ("pdf", "xlsx", "docx", "csv", "md", "json", "ics"):
        assert f"/workshops/{rich.id}/outcome/v1/download/{fmt}" in panel
    assert f'hx-get="/workshops/{rich.id}/outcome/share"' in panel


def test_participants_see_the_results_link_once_closed_and_shared(app, fac, rich, join_as, socket_for):
    participant = join_as(rich.code, name="Inès Dubois", organisation="Banque Alimentaire de l'Ain")
    socket = socket_for(participant, rich.code)
    assert "Les résultats de l'atelier" not in participant.get(f"/w/{rich.code}").get_data(as_text=True)
    set_status(fac, rich, "closed")
    assert "Les résultats de l'atelier" not in participant.get(f"/w/{rich.code}").get_data(as_text=True)
    pushes(socket)
    token = share(fac, rich).rsplit("/", 1)[1]
    pushed = "".join(p["html"] for p in pushes(socket))
    assert 'hx-target="#outcomelink"' in pushed and f'href="/o/{token}"' in pushed
    assert "outcomectl" not in pushed                     # a facilitators' region never reaches participants
    page = participant.get(f"/w/{rich.code}").get_data(as_text=True)
    assert "Les résultats de l'atelier" in page and f'href="/o/{token}"' in page


def test_closing_pushes_the_results_link_to_participants_when_already_shared(app, fac, rich, join_as, socket_for):
    token = share(fac, rich).rsplit("/", 1)[1]
    socket = socket_for(join_as(rich.code, name="Paul Girard", organisation="Décathlon Bourg"), rich.code)
    pushes(socket)
    set_status(fac, rich, "closed")
    pushed = "".join(p["html"] for p in pushes(socket))
    assert f'href="/o/{token}"' in pushed and "Les résultats de l'atelier" in pushed


# ---------------------------------------------------------------------- PDF

def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, " ".join(" ".join(page.extract_text() for page in reader.pages).replace("\xa0", " ").split())


def test_the_pdf_is_an_a4_report_with_accents_page_numbers_and_the_share_link(app, fac, rich):
    set_status(fac, rich, "closed")
    url = share(fac, rich)
    resp = fac.get(f"/workshops/{rich.id}/outcome/v1/download/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert quote("coopérations", safe="") in resp.headers["Content-Disposition"]
    reader, text = pdf_text(resp.data)
    pages = len(reader.pages)
    assert pages >= 3
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - 595.28) < 1 and abs(float(page.mediabox.height) - 841.89) < 1
    for expected in ("Cœur de Dombes", ACTION_TITLE, "Hélène Besson", "Entreprises et associations de l'Ain",
                     "Version 1, figée le", "15 janv. 2027", f"page 2 / {pages}", f"page {pages} / {pages}",
                     f"{url}/v1"):
        assert expected in text, expected
    assert "Provisoire" not in text


def test_the_pdf_renders_without_a_request_as_the_command_line_does(app, rich):
    from aeh_workshop.outcomes import pdf, snapshot
    with app.app_context():
        snap = snapshot.build(db.session.get(Workshop, rich.id), provisional=True)
        data = pdf.render_pdf(snap, "en", None)
    assert data.startswith(b"%PDF")
    _reader, text = pdf_text(data)
    assert "Jan 15, 2027" in text and "Cœur de Dombes" in text
    assert "Provisional version" in text and "/o/" not in text


def test_a_huge_workshops_pdf_points_to_the_spreadsheet_instead_of_listing_every_card(app, rich, monkeypatch):
    from aeh_workshop.outcomes import report, snapshot
    with app.app_context():
        snap = snapshot.build(db.session.get(Workshop, rich.id), version=1)
        card = "Nos équipes ont été sensibilisées au handicap"   # in no offer, priority or action
        assert card in report.render(snap, for_pdf=True)
        monkeypatch.setattr(report, "PDF_CARDS_MAX", 3)
        short = report.render(snap, for_pdf=True)
        assert card not in short.replace("\u00a0", " ")
        assert "Les 8 contributions sont détaillées une par une dans le fichier Excel" in short.replace("\u00a0", " ")
        assert "Mécénat" in short                                  # the overview table stays
    with app.test_request_context():
        assert card in report.render(snap)                          # the web page lists them all


def test_the_regions_render_alike_for_every_viewer_and_the_panel_for_facilitators_only(fac, rich, join_as):
    participant = join_as(rich.code, name="Lucie Morel", organisation="Restos du Cœur de l'Ain")
    set_status(fac, rich, "closed")
    share(fac, rich)
    for_participant = participant.get(f"/w/{rich.code}/r/outcomelink")
    for_facilitator = fac.get(f"/w/{rich.code}/r/outcomelink")
    assert for_participant.status_code == for_facilitator.status_code == 200
    assert for_participant.data == for_facilitator.data and b"/o/" in for_participant.data
    assert participant.get(f"/w/{rich.code}/r/outcomectl").status_code == 403
    assert b"Version 1" in fac.get(f"/w/{rich.code}/r/outcomectl").data


def test_a_frozen_versions_file_is_rendered_once_then_served_from_the_cache(app, monkeypatch):
    """Versions never change: the second download of a PDF costs no rendering."""
    from aeh_workshop.outcomes import exports, files
    from aeh_workshop.outcomes import service as outcome_service
    with app.app_context():
        workshop = rich_workshop()
        from aeh_workshop.workshops.service import set_status
        set_status(workshop, "closed")
        snap = outcome_service.latest(workshop).snapshot
        calls = []
        real = exports.render
        monkeypatch.setattr(exports, "render", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
        first = files.export(snap, "docx", "fr", None)
        second = files.export(snap, "docx", "fr", None)
        assert calls == ["docx"]
        assert second == first and second.filename.endswith(" v1.docx")
        files.export(snap, "docx", "en", None)                     # another language: its own file
        provisional = outcome_service.current(workshop) | {"provisional": True, "version": None}
        files.export(provisional, "docx", "fr", None)
        files.export(provisional, "docx", "fr", None)              # the live state: never cached
        assert calls == ["docx", "docx", "docx", "docx"]
