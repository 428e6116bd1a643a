"""Whole workshops in real browsers, one per template (Chromium via Playwright, `python app.py`).

Four screens each: the facilitator's control room, the projector (the secret
screen link), a participant on a laptop (who types the address shown on the
projector) and one on a phone (who types the code on the home page). The
facilitator creates the workshop with the template and walks through every
phase the template offers, in order; the participants do what each phase asks:
cards of the template's kinds, the Rameau grid and clusters, a dot vote revealed
on the projector, priorities, a joint offer, actions proposed and validated, a
company's diagnostic. Then the workshop closes and every download of version 1
is opened with a real reader.

At each phase every screen is checked (the phase's name, new things arriving
without a reload), the phone never scrolls sideways, and the four screens are
photographed into <SCREENSHOTS_DIR or the test's folder>/<template>/<phase>-<screen>.png
(`make screenshots` puts them in docs/screens/).
"""
import io
import re
from datetime import date
from pathlib import Path

import pytest

from aeh_workshop.vocab import LINK_STATUSES, PHASES, RAMEAU, TEMPLATE_SETUP, TEMPLATES, template_kinds, template_phases
from browser_kit import (LAPTOP, LIVE, PHONE, PROJECTOR, _context, _join, _login, _no_horizontal_scroll,  # noqa: F401
                         _not_reloaded, _post, _shot, _vote_rules, _wait_live, chromium, server, shots_dir)
from live_server import first_facilitator
from test_exports import csv_rows, document, docx_text, events, members, rows_of, valid_json, workbook

pytestmark = pytest.mark.browser

NADIA = ("Nadia Haddad", "Tremplin Emploi Ain", "association")
JULIEN = ("Julien Moreau", "Boulangeries Moreau", "company")
# What each kind of card says; the phone and the laptop take turns.
TEXTS = {
    "practice": "Nous accueillons chaque mois des salarié·es en parcours d'insertion pour deux semaines.",
    "link": "Notre équipe RH anime des simulations d'entretien avec Tremplin Emploi depuis 2022.",
    "wish": "Trouver une entreprise qui nous prête une salle le soir pour nos ateliers numériques.",
    "idea": "Un parrainage entre nos apprenti·es boulangers et les jeunes suivis par l'association.",
    "action": "Organiser une matinée portes ouvertes commune au printemps.",
}
CLUSTER = "Emploi et insertion"
OFFER = "Parcours « Premier emploi » du Pays de Gex"
NEED = "Des jeunes sans réseau qui cherchent un premier emploi près de chez eux."
TERRITORY = "Pays de Gex et bassin genevois"
DATED_ACTION = "Présenter le parcours au club d'entreprises de Gex"
DUE_ISO, DUE_FR = "2027-03-31", "31 mars 2027"
OPEN_ACTION = "Faire le point sur les salles disponibles le soir"
DIAG_DOES = "Mécénat de compétences : deux salarié·es animent des ateliers CV."
DIAG_WANTS = "Recruter des apprenti·es suivis par une association d'insertion."
DIAG_TERRITORY = "Pays de Gex"
# What the control room's and the laptop's screenshots of each phase show (the projector shows
# everything it has, the phone's screenshot is its whole page).
IN_VIEW = {
    "welcome": ("#phasectl", "#phase"), "collect": ("#modboard", "#board"), "qualify": ("#modboard", "#board"),
    "vote": ("#votectl", "#ballot"), "reveal": ("#facresults", "#results"), "priorities": ("#prioctl", "#priorities"),
    "build": ("#actionsctl", ".offers-block"), "closing": ("#phasectl", "#actions"),
    "closed": ("#outcomectl", "#phase"),
}


@pytest.fixture(scope="module")
def facilitator(server):
    """The server's first account, created over HTTP; each test logs in through the form."""
    return first_facilitator(server)


class Room:
    """The four screens of one workshop, and what every phase checks on them."""

    def __init__(self, template, fac, screen, laptop, phone, shots):
        self.template, self.shots = template, shots
        self.pages = {"facilitator": fac, "projector": screen, "laptop": laptop, "phone": phone}
        self.fac, self.screen, self.laptop, self.phone = fac, screen, laptop, phone

    def go(self, phase):
        """The facilitator moves to `phase`: the control room, the projector and both participants follow."""
        from playwright.sync_api import expect
        name = str(PHASES[phase])
        if phase != "welcome":
            self.fac.locator("#phasectl").get_by_role("button", name=re.compile(rf"^\d+\. {name}$")).click()
        expect(self.fac.locator("#phasectl .phase.current")).to_contain_text(name)
        for page in (self.screen, self.laptop, self.phone):
            expect(page.locator("#phase .phase-name")).to_have_text(name, timeout=LIVE)

    def done(self, phase):
        """End of a phase: nobody reloaded, the phone fits its width, the four screens photographed."""
        _not_reloaded(*self.pages.values())
        _no_horizontal_scroll(self.phone, f"in the {phase} phase of {self.template}")
        for page, selector in zip((self.fac, self.laptop), IN_VIEW[phase]):
            page.locator(selector).first.evaluate("el => el.scrollIntoView({block: 'start'})")
        for name, page in self.pages.items():
            _shot(page, self.shots / f"{phase}-{name}.png", full_page=name == "phone")

    def everywhere(self, text, pages=None):
        """`text` shows on every page given (by default the projector, the control room and both participants)."""
        from playwright.sync_api import expect
        for page in pages or (self.screen, self.fac, self.laptop, self.phone):
            where = "#modboard" if page is self.fac else "#board"
            expect(page.locator(where)).to_contain_text(text, timeout=LIVE)


def _create_workshop(fac, template, title):
    """The facilitator's form, with the template and no accompanied structure; then opened."""
    from playwright.sync_api import expect
    fac.get_by_role("link", name="Nouvel atelier").click()
    fac.fill("#title", title)
    fac.fill("#purpose", "Faire naître des partenariats entre entreprises et associations du territoire")
    fac.select_option("#template", template)
    assert fac.locator("#structure").input_value() == ""
    fac.get_by_role("button", name="Enregistrer").click()
    expect(fac).to_have_url(re.compile(r"/workshops/\d+$"))
    expect(fac.locator(".page-head")).to_contain_text(str(TEMPLATES[template]))
    expect(fac.locator(".ws-structure")).to_have_count(0)
    fac.get_by_role("button", name="Ouvrir l'atelier").click()
    expect(fac.locator("#phasectl .badge")).to_have_text("En cours")
    _wait_live(fac)
    code = fac.locator(".code-big").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4,}", code), code
    return code, fac.locator("input.copy").input_value()


def _card_id(page, text) -> str:
    return page.locator("#board .card", has_text=text).get_attribute("id").removeprefix("card-")


def _collect(room, kinds):
    """Phone and laptop take turns posting one card of each kind; it shows everywhere, live."""
    posted = []
    for i, kind in enumerate(kinds):
        page, other = (room.phone, room.laptop) if i % 2 == 0 else (room.laptop, room.phone)
        _post(page, kind, TEXTS[kind])
        room.everywhere(TEXTS[kind], (room.screen, room.fac, other))
        posted.append(TEXTS[kind])
    from playwright.sync_api import expect
    expect(room.screen.locator("#board .card")).to_have_count(len(kinds))
    for kind in kinds:
        expect(room.phone.locator(f"#n-{kind}")).to_have_text("1")
    return posted


def _qualify(room, page, text, category, subtype, direction, status):
    """Someone qualifies a card with the Rameau grid (the facilitator from the control room, an
    author from their own board): the projector and both participants see it, live."""
    from playwright.sync_api import expect
    board = "#modboard" if page is room.fac else "#board"
    page.locator(f"{board} .card", has_text=text).get_by_role("link", name="Modifier").click()
    composer = page.locator("form#composer")
    expect(composer.locator("#text")).to_have_value(text)
    composer.locator("#category").select_option(category)
    composer.locator("#subtype").fill(subtype)
    composer.locator("#direction").select_option(direction)
    composer.locator("#link_status").select_option(status)
    if page is room.phone:
        _no_horizontal_scroll(page, f"with the Rameau grid open ({room.template})")
    composer.get_by_role("button", name="Enregistrer").click()
    expect(composer.locator("#text")).to_have_value("")
    label = f"{RAMEAU[category]} · {subtype}"
    for viewer in (room.screen, room.phone, room.laptop):
        card = viewer.locator("#board .card", has_text=text)
        expect(card.locator(".chip.cat")).to_have_text(label, timeout=LIVE)
        expect(card.locator(".meta")).to_contain_text(str(LINK_STATUSES[status]))
    # Read from the back of the room: the projector's chips are as big as its other small print.
    size = room.screen.locator("#board .card", has_text=text).locator(".chip.cat").evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 20, f"the category chip on the projector is {size}px"


def _column(page, board, title):
    return page.locator(f"{board} .column", has=page.locator("h3", has_text=title))


def _cluster(room, texts):
    """A cluster made in the control room, with cards put in it: the boards regroup, live."""
    from playwright.sync_api import expect
    fac = room.fac
    clusters = fac.locator("#clusters")
    clusters.get_by_label("Nom").fill(CLUSTER)
    clusters.get_by_role("button", name="Ajouter").click()
    expect(clusters.locator("li")).to_contain_text(CLUSTER)
    for text in texts:
        fac.locator("#modboard .card", has_text=text).get_by_label("Regroupement").select_option(label=CLUSTER)
        expect(_column(fac, "#modboard", CLUSTER)).to_contain_text(text)
    for page in (room.screen, room.phone, room.laptop):
        column = _column(page, "#board", CLUSTER)
        for text in texts:
            expect(column).to_contain_text(text, timeout=LIVE)
    for page in (room.phone, room.laptop):    # the projector shows only the columns that hold cards
        expect(_column(page, "#board", "Sans regroupement")).to_be_visible()


def _vote(room, texts):
    """A dot vote: rules, open, the phone taps, the laptop uses the keyboard; closed, revealed, priorities."""
    from playwright.sync_api import expect
    fac, screen, phone, laptop = room.fac, room.screen, room.phone, room.laptop
    a, b, c = (_card_id(phone, t) for t in texts[:3])
    panel = _vote_rules(fac, "Par où commencer ?", budget=3, cap=2)
    panel.get_by_role("button", name="Ouvrir le vote").click()
    expect(panel.locator(".badge")).to_have_text("Ouvert")
    for page in (phone, laptop):
        expect(page.locator("#ballot")).to_contain_text("Il vous reste 3 gommettes", timeout=LIVE)
    expect(screen.locator("#screentally")).to_contain_text("Par où commencer ?", timeout=LIVE)

    # One tap at a time, as people do: each waits for the ballot to show the dot.
    for card, left in ((a, "2 gommettes"), (a, "1 gommette"), (b, "0 gommette")):
        phone.locator(f"#add-{card}").tap()
        expect(phone.locator("#dots-left")).to_contain_text(f"Il vous reste {left}")
    laptop.locator(f"#add-{b}").focus()
    laptop.keyboard.press("+")
    expect(laptop.locator("#ballot")).to_contain_text("Il vous reste 2 gommettes")
    laptop.keyboard.press("+")
    expect(laptop.locator(f"#ballot-{b}")).to_contain_text("2 gommettes")
    laptop.locator(f"#add-{c}").focus()
    laptop.keyboard.press("+")
    expect(laptop.locator("#ballot")).to_contain_text("Il vous reste 0 gommette")
    expect(screen.locator(".tally-count")).to_contain_text("6 gommettes posées", timeout=LIVE)
    expect(screen.locator(f"#scr-{b} .score strong")).to_have_text("3", timeout=LIVE)
    room.done("vote")

    panel.get_by_role("button", name="Clore le vote").click()
    expect(phone.locator("#votebox")).to_contain_text("Le vote est clos", timeout=LIVE)
    panel.get_by_role("button", name="Révéler les résultats").click()
    expect(screen.locator("#screentally")).to_contain_text("vote clos", timeout=LIVE)
    for card, dots in ((b, "3"), (a, "2"), (c, "1")):
        expect(screen.locator(f"#scr-{card} .score strong")).to_have_text(dots)
    for page in (phone, laptop):
        ranking = page.locator("#results .bar-row .label")
        expect(ranking.first).to_have_text(texts[1], timeout=LIVE)
        expect(ranking.nth(1)).to_have_text(texts[0])
        # Each card's whole text is readable, on the phone too (not cut after two words).
        clipped = ranking.evaluate_all("els => els.filter(el => el.scrollHeight > el.clientHeight + 1)"
                                       ".map(el => el.textContent.trim())")
        assert clipped == [], f"results cut short on the {'phone' if page is phone else 'laptop'}: {clipped}"
    room.done("reveal")

    fac.locator("#facresults #promote-top").fill("2")
    fac.locator("#facresults").get_by_role("button", name="premières comme priorités").click()
    expect(fac.locator("#prioctl li")).to_have_count(2)
    for page in (phone, laptop, screen):
        expect(page.locator("#priorities li")).to_have_count(2, timeout=LIVE)
        expect(page.locator("#priorities li").first).to_contain_text(texts[1])
    room.done("priorities")


def _offer(room):
    """The phone starts a joint offer and writes its need; the laptop its territory; everyone sees both."""
    from playwright.sync_api import expect
    phone, laptop = room.phone, room.laptop
    new = phone.locator("form#offer-new")
    new.locator("input[name=title]").fill(OFFER)
    new.get_by_role("button", name="Créer l'offre").tap()
    expect(new).to_contain_text("Offre créée")
    for page in room.pages.values():
        expect(page.locator("#offers-list .offer h3")).to_have_text(OFFER, timeout=LIVE)
    for page, section, text in ((phone, "Besoin auquel l'offre répond", NEED), (laptop, "Territoire", TERRITORY)):
        page.get_by_role("button", name=f"Modifier : {section}").click()
        page.locator("#offer-editor #offer-text").fill(text)
        if page is phone:
            _no_horizontal_scroll(phone, f"with the offer editor open ({room.template})")
        page.locator("#offer-editor").get_by_role("button", name="Enregistrer").click()
        expect(page.locator("#offer-editor")).to_contain_text("Section enregistrée")
    for page in (room.fac, room.phone, room.laptop):
        for text in (NEED, TERRITORY):
            expect(page.locator("#offers-list .offer").get_by_text(text)).to_be_visible(timeout=LIVE)
    # The projector shows each offer's title and need, in big type, instead of the board.
    expect(room.screen.locator(".screen-offers .offer h3")).to_have_text(OFFER)
    expect(room.screen.locator(".screen-offers .offer").get_by_text(NEED)).to_be_visible(timeout=LIVE)
    expect(room.screen.locator("#board")).to_be_hidden()


def _actions(room, participant_names):
    """Each participant proposes an action (the phone's with a due date); the facilitator validates both."""
    from playwright.sync_api import expect
    fac, screen = room.fac, room.screen
    for page, title, due in ((room.phone, DATED_ACTION, DUE_ISO), (room.laptop, OPEN_ACTION, "")):
        form = page.locator("#action-form")
        form.get_by_text("Proposer une action").click()
        form.locator("input[name=title]").fill(title)
        form.get_by_label(re.compile(rf"^Moi \({participant_names[page]}\)")).check()
        if due:
            form.locator("input[name=due_on]").fill(due)
        if page is room.phone:
            _no_horizontal_scroll(page, f"with the action form open ({room.template})")
        form.get_by_role("button", name="Envoyer ma proposition").click()
        expect(page.locator("#action-form")).to_contain_text("Proposition envoyée")
        proposal = fac.locator("#actionsctl .is-proposal", has_text=title)
        expect(proposal).to_contain_text(f"proposée par {participant_names[page]}", timeout=LIVE)
        if due:
            expect(proposal).to_contain_text(DUE_FR)
        proposal.get_by_role("button", name="Valider").click()
        expect(fac.locator("#actionsctl .action-table")).to_contain_text(title)
        planned = screen.locator("#screenactions .screen-action", has_text=title)
        expect(planned).to_be_visible(timeout=LIVE)
        expect(planned.locator(".sa-meta")).to_contain_text(participant_names[page])
        for other in (room.phone, room.laptop):
            expect(other.locator("#actions .action-list:not(.proposals)")).to_contain_text(title, timeout=LIVE)
    dated = screen.locator("#screenactions .screen-action", has_text=DATED_ACTION)
    expect(dated.locator(".sa-due")).to_contain_text(DUE_FR)
    expect(fac.locator("#actionsctl .is-proposal")).to_have_count(0)


def _diagnostic(room, company):
    """The company's participant fills the diagnostic; the facilitator reads it live."""
    from playwright.sync_api import expect
    form = company.locator("#diagnostic form.diag-form")
    expect(form).to_be_visible()
    form.locator("#does_mecenat").fill(DIAG_DOES)
    form.locator("#wants_economic").fill(DIAG_WANTS)
    form.get_by_label("Souhaitée").check()
    form.get_by_label("Votre territoire").fill(DIAG_TERRITORY)
    _no_horizontal_scroll(room.phone, f"with the diagnostic filled ({room.template})")
    form.get_by_role("button", name="Enregistrer le diagnostic").click()
    expect(company.locator("#diagnostic")).to_contain_text("Dernier enregistrement par")
    answers = room.fac.locator("#diaglist .diag-company", has_text=JULIEN[1])
    expect(answers).to_contain_text(DIAG_DOES, timeout=LIVE)
    expect(answers).to_contain_text(DIAG_WANTS)
    expect(answers).to_contain_text(DIAG_TERRITORY)
    # The projector counts the companies: one does mécénat already, one wants economic cooperation.
    summary = room.screen.locator("#diagsummary")
    expect(summary.locator(".diag-answered")).to_have_text("1 entreprise a répondu", timeout=LIVE)
    expect(summary.locator(".cat-mecenat .does strong")).to_have_text("1")
    expect(summary.locator(".cat-economic .wants strong")).to_have_text("1")
    expect(summary.locator(".cat-economic .does strong")).to_have_text("0")
    expect(summary).to_be_visible()
    _shot(room.screen, room.shots / "diagnostic-projector.png")


def _close(room):
    """The closing phase, then the workshop closed: version 1 of the outcome is frozen."""
    from playwright.sync_api import expect
    fac = room.fac
    fac.once("dialog", lambda dialog: dialog.accept())
    fac.locator("#phasectl").get_by_role("button", name="Clore l'atelier").click()
    expect(fac.locator("#phasectl .badge")).to_have_text("Clos")
    for page in (room.screen, room.laptop, room.phone):
        expect(page.locator("#phase .phase-name")).to_have_text("Atelier clos", timeout=LIVE)
    # Nobody can join a closed workshop: the projector stops inviting the room to.
    expect(room.screen.locator(".join-panel")).to_be_hidden()
    versions = fac.locator("#outcomectl .outcome-versions li")
    expect(versions).to_have_count(1, timeout=LIVE)
    expect(versions.first).to_contain_text("Version 1")
    room.done("closed")


def _download(page, name):
    """One link of the outcome's toolbar, downloaded: its file name and bytes."""
    toolbar = page.locator(".report-toolbar")
    with page.expect_download(timeout=30_000) as download:
        toolbar.get_by_role("link", name=name, exact=True).click()
    return download.value.suggested_filename, Path(download.value.path()).read_bytes()


def _check_downloads(fac, title, cards, winner, dated_actions):
    """Every format of version 1, opened with its reader: each says what the workshop did
    (`winner`: the card the vote put first, None without a vote)."""
    from pypdf import PdfReader
    files = {}
    for label in ("PDF", "Excel (XLSX)", "Word (DOCX)", "CSV (zip)", "Markdown", "JSON", "Agenda (ICS)",
                  "cartes.csv", "votes.csv", "actions.csv"):
        files[label] = _download(fac, label)
    flat = lambda text: " ".join(text.split())  # noqa: E731  (words wrap in tables and pages)

    name, data = files["PDF"]
    assert name.endswith(".pdf") and data.startswith(b"%PDF"), (name, data[:20])
    pdf = flat(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))
    assert title in pdf and cards[0] in pdf, pdf[:1500]

    name, data = files["Excel (XLSX)"]
    book = workbook(data)
    assert {"Cartes", "Plan d'action"} <= set(book.sheetnames), book.sheetnames
    cells = [str(v) for row in rows_of(book["Cartes"]) for v in row if v is not None]
    assert all(text in cells for text in cards), cells
    plan = [str(v) for row in rows_of(book["Plan d'action"]) for v in row if v is not None]
    assert DATED_ACTION in plan and OPEN_ACTION in plan, plan

    name, data = files["Word (DOCX)"]
    doc = document(data)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings and any(title in h for h in headings), headings
    assert all(text in flat(docx_text(doc)) for text in cards)

    name, data = files["CSV (zip)"]
    zipped = members(data)
    assert len(zipped) == 3, list(zipped)
    assert any(cards[0] in cell for body in zipped.values() for row in csv_rows(body) for cell in row)
    for label in ("cartes.csv", "votes.csv", "actions.csv"):
        name, data = files[label]
        rows = csv_rows(data)   # the byte-order mark is checked there
        assert name.endswith(".csv") and rows and rows[0], (name, rows[:1])
    assert all(any(text in cell for row in csv_rows(files["cartes.csv"][1]) for cell in row) for text in cards)
    assert any(DATED_ACTION in cell for row in csv_rows(files["actions.csv"][1]) for cell in row)
    votes = csv_rows(files["votes.csv"][1])
    if winner:   # the winner's row holds its 3 dots
        assert any(winner in row and "3" in row for row in votes), votes
    else:
        assert len(votes) == 1, votes    # the header alone

    markdown = files["Markdown"][1].decode("utf-8")
    assert markdown.lstrip().startswith("#") and title in markdown and cards[0] in markdown, markdown[:500]

    calendar = events(files["Agenda (ICS)"][1])
    assert len(calendar) == len(dated_actions), calendar
    assert [str(e["SUMMARY"]) for e in calendar] == dated_actions
    assert [e["DTSTART"].dt for e in calendar] == [date.fromisoformat(DUE_ISO)]

    doc = valid_json(files["JSON"][1])    # against docs/outcome.schema.json
    assert doc["workshop"]["title"] == title and cards[0] in str(doc)


@pytest.mark.parametrize("template", list(TEMPLATE_SETUP))
def test_workshop_flow(chromium, server, facilitator, tmp_path, template):
    from playwright.sync_api import expect
    errors = []
    phases, kinds = template_phases(template), template_kinds(template)
    title = f"{TEMPLATES[template]} — Pays de Gex 2027"
    shots = shots_dir(tmp_path, template)

    # The facilitator logs in, creates the workshop with this template and opens it.
    fac_ctx, fac = _login(chromium, server, errors)
    code, screen_link = _create_workshop(fac, template, title)

    # The projector: the secret link from the control room.
    screen_ctx, screen = _context(chromium, server, errors, **PROJECTOR)
    screen.goto(screen_link)
    expect(screen.locator(".join-code")).to_have_text(code)
    _wait_live(screen)

    # The phone: the code typed on the home page. The company fills the diagnostic, so in that
    # template the phone is the company's (the phone must manage it too).
    phone_who, laptop_who = (JULIEN, NADIA) if template == "company_diagnostic" else (NADIA, JULIEN)
    phone_ctx, phone = _context(chromium, server, errors, **PHONE)
    phone.goto("/")
    phone.fill("#code", code)
    phone.get_by_role("button", name="Rejoindre", exact=True).click()
    expect(phone).to_have_url(f"{server}/w/{code}")
    _join(phone, *phone_who)
    _wait_live(phone)

    # The laptop: the address the projector shows under its QR code.
    address = screen.locator(".join-url").inner_text().strip()
    assert f"http://{address}" == f"{server}/w/{code}", address
    laptop_ctx, laptop = _context(chromium, server, errors, **LAPTOP)
    laptop.goto(f"http://{address}")
    _join(laptop, *laptop_who)
    _wait_live(laptop)
    expect(screen.locator(".count")).to_contain_text("2 participant·es", timeout=LIVE)
    expect(fac.locator("#roster")).to_contain_text(laptop_who[0], timeout=LIVE)

    room = Room(template, fac, screen, laptop, phone, shots)
    names = {phone: phone_who[0], laptop: laptop_who[0]}
    for page in room.pages.values():
        page.evaluate("window.__marker = 1")
    # Only the template's kinds are offered.
    assert phone.locator("form#composer #kind option").evaluate_all("os => os.map(o => o.value)") == kinds

    cards = []
    for phase in phases:
        room.go(phase)
        if phase == "collect":
            cards = _collect(room, kinds)
            if "qualify" not in phases:
                _cluster(room, cards[:2])
        elif phase == "qualify":
            _qualify(room, room.fac, cards[1], "economic", "recrutement", "mutual", "wished")
            _qualify(room, phone, cards[0], "mecenat", "compétences", "company_to_association", "active")
            _cluster(room, cards[:2])
        elif phase == "vote":
            _vote(room, cards)
            continue        # vote, reveal and priorities are photographed as they happen
        elif phase == "build":
            if template in ("joint_offer", "meetup"):
                _offer(room)
            if template == "company_diagnostic":
                _diagnostic(room, phone)
            _actions(room, names)
        room.done(phase)
    assert [str(PHASES[p]) for p in phases] == [
        t.split(". ", 1)[1] for t in fac.locator("#phasectl .phase:not(.off-template)").all_inner_texts()]

    _close(room)
    fac.locator("#outcomectl").get_by_role("link", name="Version 1").click()
    expect(fac.locator(".report")).to_contain_text(cards[0])
    expect(fac.locator(".report")).to_contain_text(DATED_ACTION)
    _shot(fac, shots / "outcome-facilitator.png")
    _check_downloads(fac, title, cards, cards[1] if "vote" in phases else None, [DATED_ACTION])

    assert errors == [], "JavaScript errors or CSP refusals:\n" + "\n".join(errors)
    for ctx in (fac_ctx, screen_ctx, laptop_ctx, phone_ctx):
        ctx.close()
