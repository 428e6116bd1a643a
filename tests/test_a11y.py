"""Accessibility in real browsers (Chromium via Playwright) against `python app.py`.

The server starts on a database seeded with real content: a workshop with cards
of every kind, a cluster, a revealed vote, priorities, a joint offer and actions
(tests/outcome_data.py), a second one with an open dot vote, a company-diagnostic
workshop with answers, and a structure's partnership map imported from the sample
file. Then:

1. axe-core (tests/vendor, from its npm package) runs on every page a participant,
   a facilitator or the projector sees, at each phase: no serious or critical
   violation (WCAG 2.x A/AA and best practices, colour contrast included).
2. A participant joins, posts a card and places and removes dots with the keyboard alone.
3. Each kind of control shows a visible focus indicator when reached with Tab.
4. Where colour carries meaning, text says it too.
5. The projector's smallest text is at least 28 px at 1920×1080, at every phase.
"""
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import PASSWORD, config_for
from live_server import Browser, running_server
from browser_kit import DESK, LAPTOP, PHONE, PROJECTOR, _context, _login, _wait_live, chromium  # noqa: F401

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
MIN_PROJECTOR_PX = 28
KEYBOARD_CARD = "Nous prêtons notre salle de réunion aux associations du quartier le jeudi soir."


# ------------------------------------------------------------------ the seeded server

MORE_CARDS = [
    ("practice", "Nos salarié·es donnent deux heures par mois pour du soutien scolaire dans le quartier."),
    ("practice", "Nous publions nos offres d'emploi auprès des associations d'insertion avant tout autre site."),
    ("practice", "Une fois par an, notre comité de direction passe une journée dans une association partenaire."),
    ("practice", "Le restaurant d'entreprise achète ses légumes à un chantier d'insertion maraîcher."),
    ("link", "Les Restos du Cœur de Bourg récupèrent nos palettes de produits proches de la date limite."),
    ("link", "Partenariat avec l'ESAT du Revermont pour la mise sous pli de nos courriers."),
    ("link", "Nos apprentis réparent les vélos de la recyclerie solidaire le samedi matin."),
    ("wish", "Trouver une association qui forme nos managers à l'accueil de personnes en situation de handicap."),
    ("wish", "Mutualiser un véhicule utilitaire entre trois associations du canton."),
    ("wish", "Des mentors en entreprise pour les jeunes décrocheurs suivis par la mission locale."),
    ("idea", "Un annuaire partagé des compétences que chaque entreprise peut prêter, mis à jour chaque trimestre."),
    ("idea", "Un « vendredi solidaire » mensuel où les salarié·es rejoignent une association pour la journée."),
    ("idea", "Une bourse aux locaux : salles de réunion libres le soir ouvertes aux associations."),
    ("idea", "Un prix commun récompensant le partenariat entreprise–association le plus utile de l'année."),
]

def _seed(path: Path) -> dict:
    """Fill the database the server will open; return the ids and secrets the tests need."""
    from datetime import date, timedelta

    from aeh_workshop import create_app
    from aeh_workshop.demo import DEMO_EMAIL, create_demo
    from aeh_workshop.extensions import db
    from aeh_workshop.models import Action, Card, Diagnostic, Organisation, Participant
    from aeh_workshop.partners import importer, service as partners
    from aeh_workshop.participants.service import hash_pin, organisation
    from aeh_workshop.workshops import service as workshops
    from outcome_data import rich_workshop

    app = create_app(config_for(f"sqlite:///{path}"))
    with app.app_context(), app.test_request_context():
        rich = rich_workshop(PASSWORD)                 # build phase, vote revealed, offer, actions
        authors = list(db.session.scalars(db.select(Participant).filter_by(workshop_id=rich.id)))
        db.session.add_all(Card(workshop_id=rich.id, author=authors[i % len(authors)], kind=kind, text=text)
                           for i, (kind, text) in enumerate(MORE_CARDS))   # a full wall: 5 and more per kind
        db.session.add(Action(workshop_id=rich.id, title="Envoyer le compte rendu aux entreprises absentes",
                              owner_name="Karim Benali", owner_org="Groupe Ainvest", validated=True,
                              due_on=date.today() - timedelta(days=10), status="todo", step="manage"))   # late
        voting, user = create_demo(PASSWORD)           # vote phase, an open vote with dots
        sample = Path(__file__).resolve().parent / "data" / "partner-links-sample.csv"
        structure = partners.create_structure("Tremplin Emploi Ain")
        sheet = importer.read(sample.read_bytes(), sample.name)
        partners.import_rows(structure, importer.parse(sheet, importer.guess(sheet.headers)), sample.name)
        rich.structure_id = structure.id
        diag = workshops.create(user, "Diagnostics des entreprises de l'Ain", "", "company_diagnostic")
        diag.status, diag.phase = "live", "collect"
        year = date.today().year
        bakery = organisation("Boulangerie Lyonnaise", "company")
        clinic = db.session.scalar(db.select(Organisation).filter_by(name="Clinique du Val de Saône"))
        db.session.add_all([
            Participant(workshop=diag, display_name="Claire Martin", kind="company", organisation=bakery,
                        pin_hash=hash_pin("482913")),
            Participant(workshop=diag, display_name="Sophie Lefèvre", kind="company", organisation=clinic,
                        pin_hash=hash_pin("730581")),
            Diagnostic(organisation=bakery, year=year - 1, respondent="Claire Martin",
                       does={"mecenat": "Dons d'invendus à l'épicerie solidaire"},
                       wants={"economic": "Acheter l'entretien des espaces verts à une structure d'insertion"},
                       involve_employees="wished", territory="Bourg-en-Bresse"),
            Diagnostic(organisation=bakery, year=year, workshop=diag, respondent="Claire Martin",
                       does={"mecenat": "Dons d'invendus", "practices": "Accueil de stagiaires en insertion"},
                       wants={"economic": "Recruter des salarié·es en parcours", "innovation": "Un tiers-lieu"},
                       involve_employees="yes", territory="Bourg-en-Bresse"),
            Diagnostic(organisation=clinic, year=year, workshop=diag, respondent="Sophie Lefèvre",
                       does={"practices": "Sensibilisation au handicap"},
                       wants={"mecenat": "Mécénat de compétences"}, involve_employees="no",
                       territory="Val de Saône"),
        ])
        db.session.commit()
        seeded = {"email": DEMO_EMAIL, "rich": (rich.id, rich.join_code, rich.screen_token),
                  "voting": (voting.id, voting.join_code, voting.screen_token),
                  "diag": (diag.id, diag.join_code, diag.screen_token),
                  "structure": structure.id, "bakery": bakery.id}
        db.engine.dispose()
    return seeded


class Site:
    def __init__(self, base, workdir, seeded):
        self.base, self.db, self.seeded = base, workdir / "atelier.sqlite3", seeded

    def query(self, sql, *args):
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, args).fetchall()

    def http(self) -> Browser:
        """The facilitator's session over HTTP, to move a workshop from phase to phase."""
        fac = Browser(self.base)
        fac.get("/login")
        resp = fac.post("/login", {"email": self.seeded["email"], "password": PASSWORD})
        assert resp.status_code == 302, resp.text
        fac.get("/workshops/")
        return fac


@pytest.fixture(scope="module")
def site(tmp_path_factory, migrated_db):
    workdir = tmp_path_factory.mktemp("a11y")
    shutil.copy(migrated_db, workdir / "atelier.sqlite3")
    seeded = _seed(workdir / "atelier.sqlite3")
    with running_server(workdir) as base:
        yield Site(base, workdir, seeded)


# ------------------------------------------------------------------ helpers

def _facilitator(browser, site, errors):
    """The seeded facilitator's browser, logged in through the form (browser_kit's desk size)."""
    return _login(browser, site.base, errors, site.seeded["email"])


def _join_workshop(page, code, name, organisation, kind):
    page.goto(f"/w/{code}")
    page.fill("#display_name", name)
    page.fill("#organisation", organisation)
    page.select_option("#kind", kind)
    page.get_by_role("button", name="Rejoindre l'atelier").click()
    page.wait_for_selector("#phase")


def axe(page, label) -> tuple[list[str], int]:
    """axe-core's serious and critical violations on the page as it is, one readable line each,
    and how many text elements its colour-contrast rule found good (it did look at the page).

    Evaluated through the DevTools protocol, so the page keeps its Content-Security-Policy."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        const contrast = r.passes.find(v => v.id === "color-contrast");
        return {contrasted: contrast ? contrast.nodes.length : 0,
                violations: r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 6).map(n => n.target.join(" ") + "  —  "
                                            + (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 220))}))};
    }""", AXE_TAGS)
    return ([f"[{label}] {v['id']} ({v['impact']}): {v['help']}\n      " + "\n      ".join(v["nodes"])
             for v in result["violations"]], result["contrasted"])


SMALLEST_TEXT = """(limit) => {
    const hidden = (el) => {
        for (let e = el; e; e = e.parentElement) {
            const s = getComputedStyle(e);
            if (s.display === "none" || s.visibility === "hidden" || s.opacity === "0") return true;
            // visually hidden for screen readers only (.sr-only, .visually-hidden)
            if ((s.position === "absolute" || s.position === "fixed")
                && (s.clip === "rect(0px, 0px, 0px, 0px)" || s.clipPath === "inset(50%)"
                    || (e.offsetWidth <= 1 && e.offsetHeight <= 1))) return true;
        }
        return false;
    };
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.classList.length ? "." + [...el.classList].join(".") : "");
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.nodeValue.trim();
        const el = node.parentElement;
        if (!text || !el || el.closest("script, style, template, noscript, title")) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        if (![...range.getClientRects()].some(r => r.width > 0 && r.height > 0) || hidden(el)) continue;
        const px = parseFloat(getComputedStyle(el).fontSize);
        if (px < limit) {
            const path = [];
            for (let e = el; e && e !== document.body && path.length < 3; e = e.parentElement) path.unshift(name(e));
            found.push(`${px}px  ${path.join(" > ")}  «${text.slice(0, 50)}»`);
        }
    }
    return found;
}"""


def small_text(page, label) -> list[str]:
    """Visible text under MIN_PROJECTOR_PX on the page, with its element and words."""
    return [f"[{label}] {line}" for line in page.evaluate(SMALLEST_TEXT, MIN_PROJECTOR_PX)]


def _submit_empty(page, field):
    """Send the form of `field` with that field empty, past the browser's own checks, as a
    browser without them would: the server's answer marks the field."""
    page.fill(field, "")
    with page.expect_navigation():
        page.evaluate("(f) => { const form = document.querySelector(f).form; form.noValidate = true; form.requestSubmit(); }",
                      field)


def _settle(page):
    """htmx has loaded what the page fetches by itself (a ballot, a share box) and is not busy."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => !document.querySelector('[hx-trigger=load], .htmx-request')")


# ------------------------------------------------------------------ 1 and 5: axe and projector text

@pytest.fixture(scope="module")
def tour(chromium, site, tmp_path_factory):  # noqa: F811  (chromium is a fixture)
    """Every page in every state that matters, with axe's findings and the projector's small text."""
    found = {"axe": [], "small": [], "errors": [], "visited": [], "contrasted": {}}
    errors = found["errors"]
    base = site.base
    rich_id, rich_code, rich_key = site.seeded["rich"]
    vote_id, vote_code, vote_key = site.seeded["voting"]
    diag_id, diag_code, diag_key = site.seeded["diag"]
    sid = site.seeded["structure"]
    http = site.http()

    def check(page, label, path=None, projector=False):
        if path is not None:
            resp = page.goto(path)
            wanted = 404 if label == "404" else 200
            assert resp is not None and resp.status == wanted, f"{label}: {path} answered {resp and resp.status}"
        if label != "login":
            assert not page.url.split("?")[0].endswith("/login"), f"{label}: sent to the login page"
        _settle(page)
        found["visited"].append(label)
        violations, found["contrasted"][label] = axe(page, label)
        found["axe"].extend(violations)
        if projector:
            found["small"].extend(small_text(page, label))

    # Someone who is not logged in.
    anon_ctx, anon = _context(chromium, base, errors, **LAPTOP)
    check(anon, "home", "/")
    check(anon, "login", "/login")
    check(anon, "privacy", "/privacy")
    check(anon, "404", "/nowhere-at-all")
    check(anon, "join page", f"/w/{rich_code}")
    _submit_empty(anon, "#display_name")
    check(anon, "join page with errors")
    # The setup page: a fresh server's first start, on its own empty database.
    with running_server(tmp_path_factory.mktemp("a11y-setup"), name="setup") as fresh:
        check(anon, "setup", f"{fresh}/setup")
        _submit_empty(anon, "#email")
        check(anon, "setup with errors")
    anon_ctx.close()

    # The facilitator on a laptop, the projector, two participants (phone and laptop).
    fac_ctx, fac = _facilitator(chromium, site, errors)
    screen_ctx, screen = _context(chromium, base, errors, **PROJECTOR)
    screen.goto(f"/w/{rich_code}/screen?key={rich_key}")
    phone_ctx, phone = _context(chromium, base, errors, **PHONE)
    _join_workshop(phone, rich_code, "Inès Garnier", "Les Jardins de Cocagne de la Dombes", "association")
    laptop_ctx, laptop = _context(chromium, base, errors, **LAPTOP)
    _join_workshop(laptop, rich_code, "Paul Girard", "Boulangeries Girard", "company")

    check(fac, "workshop list", "/workshops/")
    check(fac, "new workshop", "/workshops/new")
    _submit_empty(fac, "#title")                                # no title: the form says so
    check(fac, "new workshop with errors")
    check(fac, "workshop edit", f"/workshops/{rich_id}/edit")
    card_id = site.query("SELECT min(id) FROM card WHERE workshop_id = ?", rich_id)[0][0]
    check(fac, "card edit", f"/w/{rich_code}/cards/{card_id}/edit")
    check(fac, "new facilitator", "/facilitators/new")

    # From the welcome to the build phase; the vote's results hidden until the vote phase reveals them.
    rich_vote = site.query("SELECT id FROM vote WHERE workshop_id = ?", rich_id)[0][0]
    display = f"/w/{rich_code}/votes/{rich_vote}/display"
    assert http.post(display, {"revealed": "0"}, htmx=True).status_code == 200
    hidden = site.query("SELECT max(id) FROM card WHERE workshop_id = ?", rich_id)[0][0]
    assert http.post(f"/w/{rich_code}/cards/{hidden}/hide", {}, htmx=True).status_code == 200   # moderated
    for phase in ("welcome", "collect", "qualify", "vote", "vote, results revealed", "build"):
        if phase == "vote, results revealed":
            assert http.post(display, {"revealed": "1"}, htmx=True).status_code == 200
        else:
            assert http.post(f"/workshops/{rich_id}/phase", {"phase": phase}, htmx=True).status_code == 200
        check(fac, f"control room, {phase}", f"/workshops/{rich_id}")
        check(screen, f"projector, {phase}", f"/w/{rich_code}/screen", projector=True)
        check(phone, f"participant on a phone, {phase}", f"/w/{rich_code}")
        check(laptop, f"participant on a laptop, {phase}", f"/w/{rich_code}")
        if phase == "collect":   # the wall is full: its smallest text is in the cards' chips and lines
            assert screen.locator("#board .card:visible").count() >= 5, "the projector shows no full wall"
    # The phase's countdown, running then paused, on every screen.
    for action, state in (("start", "running"), ("pause", "paused")):
        resp = http.post(f"/workshops/{rich_id}/timer", {"action": action, "minutes": 5}, htmx=True)
        assert resp.status_code == 200, resp.text
        check(screen, f"projector, timer {state}", f"/w/{rich_code}/screen", projector=True)
        check(fac, f"control room, timer {state}", f"/workshops/{rich_id}")
        check(phone, f"participant on a phone, timer {state}", f"/w/{rich_code}")
        assert screen.locator(f"#phase .timer.is-{state}").count() == 1, state
    # ... and run out: the projector's own clock moved a minute on (app.js turns it red).
    for action in ("stop", "start"):
        resp = http.post(f"/workshops/{rich_id}/timer", {"action": action, "minutes": 1}, htmx=True)
        assert resp.status_code == 200, resp.text
    screen.clock.install()
    screen.goto(f"/w/{rich_code}/screen")
    _wait_live(screen)
    for _ in range(20):       # app.js sets its offset from the server's clock on hello: move ours after it
        screen.clock.fast_forward(65_000)
        if screen.locator("#phase .timer.is-over").count():
            break
        screen.wait_for_timeout(100)
    screen.locator("#phase .timer.is-over").wait_for()
    check(screen, "projector, time is up", projector=True)

    # Build, in the states people work in: a section's editor open, the action form open.
    laptop.get_by_role("button", name="Modifier : Besoin auquel l'offre répond").click()
    laptop.locator("#offer-editor textarea").wait_for()
    check(laptop, "participant, offer section editor open")
    laptop.locator("#action-form").get_by_text("Proposer une action").click()
    check(laptop, "participant, action form open")
    offer_id = site.query("SELECT id FROM joint_offer WHERE workshop_id = ?", rich_id)[0][0]
    check(laptop, "offer section editor page", f"/w/{rich_code}/offers/{offer_id}/sections/need")
    action_id = site.query("SELECT min(id) FROM action WHERE workshop_id = ?", rich_id)[0][0]
    check(fac, "action edit page", f"/workshops/{rich_id}/actions/{action_id}/edit")
    check(fac, "outcome preview", f"/workshops/{rich_id}/outcome")
    # The share link before the outcome's first version: the waiting page.
    assert http.post(f"/workshops/{rich_id}/outcome/share", {}, htmx=True).status_code == 200
    token = site.query("SELECT share_token FROM workshop WHERE id = ?", rich_id)[0][0]
    outsider_ctx, outsider = _context(chromium, base, errors, **LAPTOP)
    check(outsider, "shared outcome, pending", f"/o/{token}")

    # The open vote with its dots, in the other workshop.
    check(fac, "control room, open vote", f"/workshops/{vote_id}")
    check(screen, "projector, open vote with tally", f"/w/{vote_code}/screen?key={vote_key}", projector=True)
    _join_workshop(phone, vote_code, "Inès Garnier", "Les Jardins de Cocagne de la Dombes", "association")
    phone.locator("#ballot .dot-btn.add").first.click()
    check(phone, "participant ballot on a phone")
    add = phone.locator("#ballot .dot-btn.add").first
    for _ in range(6):                         # past the cap per card: the ballot says why
        if phone.locator("#ballot [role=alert]").count():
            break
        add.click()
        _settle(phone)
    check(phone, "participant ballot with its refusal")
    _join_workshop(laptop, vote_code, "Paul Girard", "Boulangeries Girard", "company")
    check(laptop, "participant ballot on a laptop")

    # Closed: the outcome, its share link, every screen.
    assert http.post(f"/workshops/{rich_id}/status", {"status": "closed"}, htmx=True).status_code == 200
    check(fac, "control room, closed", f"/workshops/{rich_id}")
    check(screen, "projector, closed", f"/w/{rich_code}/screen", projector=True)
    check(phone, "participant on a phone, closed", f"/w/{rich_code}")
    check(laptop, "participant on a laptop, closed", f"/w/{rich_code}")
    check(fac, "outcome report v1", f"/workshops/{rich_id}/outcome/v1")
    check(outsider, "shared outcome", f"/o/{token}")
    outsider_ctx.close()

    # The partnership map.
    check(fac, "structures", "/structures/")
    check(fac, "structure map", f"/structures/{sid}")
    check(fac, "matrix", f"/structures/{sid}/matrix")
    fac.set_viewport_size(PROJECTOR["viewport"])      # the facilitator's laptop on the projector
    check(fac, "map matrix projector", f"/structures/{sid}/matrix?screen=1", projector=True)
    fac.set_viewport_size(DESK["viewport"])
    partner_id = site.query("SELECT min(partner_id) FROM map_entry WHERE structure_id = ?", sid)[0][0]
    check(fac, "partner page", f"/structures/{sid}/partners/{partner_id}")
    entry_id = site.query("SELECT min(id) FROM map_entry WHERE structure_id = ?", sid)[0][0]
    check(fac, "map entry edit", f"/structures/{sid}/entries/{entry_id}")
    check(fac, "new map entry", f"/structures/{sid}/entries/new")
    check(fac, "duplicates", f"/structures/{sid}/duplicates")
    check(fac, "import", f"/structures/{sid}/import")
    sample = Path(__file__).resolve().parent / "data" / "partner-links-sample.csv"
    fac.set_input_files("input[type=file]", str(sample))
    fac.locator("form[enctype='multipart/form-data'] button").first.click()
    fac.wait_for_url(re.compile(r"/import/[^/]+$"))
    check(fac, "import preview")

    # Diagnostics: a company's form, the projector's summary, history, matching.
    check(screen, "diagnostics projector", f"/w/{diag_code}/screen?key={diag_key}", projector=True)
    _join_workshop(laptop, diag_code, "Hugo Bernard", "Boulangerie Lyonnaise", "company")
    check(laptop, "participant diagnostic")
    check(laptop, "diagnostic edit", f"/w/{diag_code}/diagnostic")
    check(fac, "control room, diagnostics", f"/workshops/{diag_id}")
    check(fac, "diagnostic history", f"/organisations/{site.seeded['bakery']}/diagnostics")
    check(fac, "matching", "/matching")

    for ctx in (fac_ctx, screen_ctx, phone_ctx, laptop_ctx):
        ctx.close()
    return found


def test_no_serious_or_critical_axe_violation_on_any_page(tour):
    assert len(tour["visited"]) > 50, tour["visited"]
    # The colour-contrast rule (AA; 3:1 for the projector's large text) looked at every screen's text.
    unchecked = {label: n for label, n in tour["contrasted"].items() if n < 5}
    assert not unchecked, f"axe's colour-contrast rule checked almost no text on {unchecked}"
    assert not tour["axe"], (f"axe-core found {len(tour['axe'])} serious or critical violations:\n"
                             + "\n".join(tour["axe"]))
    assert not tour["errors"], "JavaScript errors:\n" + "\n".join(tour["errors"])


def test_the_projectors_smallest_text_is_at_least_28px_at_1920x1080(tour):
    projected = [label for label in tour["visited"] if "projector" in label]
    assert len(projected) >= 8, projected
    assert not tour["small"], (f"text under {MIN_PROJECTOR_PX} px on the projector:\n" + "\n".join(tour["small"]))


# ------------------------------------------------------------------ 2: the keyboard alone

def _tab_to(page, selector, backwards=False, limit=80):
    """Press Tab (or Shift+Tab) until the focus is on `selector`; fail if it never gets there."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} cannot be reached with {key} ({limit} presses); the focus is on "
                         + page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 200)"))


def test_a_participant_joins_posts_and_votes_with_the_keyboard_alone(chromium, site):  # noqa: F811
    from playwright.sync_api import expect
    errors = []
    vote_id, code, _key = site.seeded["voting"]
    ctx, page = _context(chromium, site.base, errors, **LAPTOP)
    page.goto(f"/w/{code}")
    keys = page.keyboard

    # The join form: its first field has the focus; Tab from field to field, Enter on the button.
    _tab_to(page, "#display_name")
    keys.type("Léa Fontaine")
    _tab_to(page, "#organisation")
    keys.type("Fromagerie Fontaine")
    _tab_to(page, "#kind")
    first = page.input_value("#kind")
    keys.press("ArrowDown")
    chosen = page.input_value("#kind")
    assert chosen != first, "the arrow keys do not change the select"
    _tab_to(page, "form:has(#display_name) button:not([type=button])")
    keys.press("Enter")
    expect(page.locator("form#composer")).to_be_visible()
    (pid, kind), = site.query("SELECT id, kind FROM participant WHERE display_name = 'Léa Fontaine'")
    assert kind == chosen

    # A card: Tab to the text, type, Tab to the button, Space.
    _tab_to(page, "#composer #text")
    keys.type(KEYBOARD_CARD)
    _tab_to(page, "#composer button.primary")
    keys.press("Space")
    expect(page.locator("#board")).to_contain_text(KEYBOARD_CARD)
    expect(page.locator("#composer #text")).to_have_value("")
    assert site.query("SELECT count(*) FROM card WHERE author_id = ? AND text = ?", pid, KEYBOARD_CARD) == [(1,)]
    # The composer was swapped for a fresh one: the focus is still on its button, not lost at the
    # top of the page (htmx restores the focus of an element with an id).
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'composer-submit'")

    # Dots: Tab to a card's +, Enter, then Space; Shift+Tab to its −, Enter.
    ballot = page.locator("#ballot")
    expect(ballot).to_be_visible()
    before = int(page.get_attribute("#dots-left", "data-left"))
    card = page.locator("#ballot [data-ballot-row]").first.get_attribute("id").removeprefix("ballot-")
    _tab_to(page, f"#add-{card}", backwards=True)       # the ballot is above the composer
    keys.press("Enter")
    expect(page.locator(f"#ballot-{card} .n")).to_have_text("1 gommette")
    # The row was swapped: the focus stays on its + (no Tab from the top of the page again).
    page.wait_for_function("(id) => document.activeElement && document.activeElement.id === id", arg=f"add-{card}")
    keys.press("Space")
    expect(page.locator(f"#ballot-{card} .n")).to_have_text("2 gommettes")
    expect(page.locator("#dots-left")).to_have_attribute("data-left", str(before - 2))
    _tab_to(page, f"#rm-{card}", backwards=True, limit=5)
    keys.press("Enter")
    expect(page.locator(f"#ballot-{card} .n")).to_have_text("1 gommette")
    assert site.query("SELECT dots FROM dot WHERE vote_id = ? AND participant_id = ? AND card_id = ?",
                      vote_id, pid, int(card)) == [(1,)]
    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    ctx.close()


# ------------------------------------------------------------------ 3: focus is visible

RING = """(el) => { const s = getComputedStyle(el);
    return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, shadow: s.boxShadow}; }"""


def test_every_kind_of_control_shows_a_visible_focus_ring_when_reached_with_tab(chromium, site):  # noqa: F811
    errors = []
    _vote_id, code, _key = site.seeded["voting"]
    ctx, page = _context(chromium, site.base, errors, **LAPTOP)
    _join_workshop(page, code, "Hugo Bernard", "Boulangerie Lyonnaise", "company")
    page.locator("#ballot").wait_for()
    kinds = {
        "link in the top bar": ".topbar a",
        "dot button (+)": "#ballot .dot-btn.add",
        "select": "#composer #kind",
        "input": "#composer #partner",
        "textarea": "#composer #text",
        "summary of a details": "#composer details > summary",
        "button": "#composer button.primary",
    }
    fac_ctx, fac = _facilitator(chromium, site, errors)
    fac.goto(f"/workshops/{site.seeded['rich'][0]}")
    fac_kinds = {"link in a page": "main a[href]", "button styled as a link": "main button.link"}
    faults = []
    for where, selectors in ((page, kinds), (fac, fac_kinds)):
        for kind, selector in selectors.items():
            where.evaluate("document.activeElement && document.activeElement.blur()")
            _tab_to(where, selector, limit=150)
            focused = where.evaluate(f"({RING})(document.activeElement)")
            where.evaluate("document.activeElement.blur()")
            resting = where.evaluate(f"({RING})(document.querySelector({selector!r}))")
            ring = focused["outline"] not in ("none", "hidden") and focused["width"] >= 2
            shadow = focused["shadow"] not in ("none", "")
            if not (ring or shadow) or focused == resting:
                faults.append(f"{kind} ({selector}): focused {focused}, not focused {resting}")
    assert not faults, "focus not visible:\n" + "\n".join(faults)
    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    ctx.close()
    fac_ctx.close()


# ------------------------------------------------------------------ 4: colour is never the only cue

DIGITS = re.compile(r"^\d+$")


def _texts(page, selector):
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_where_colour_carries_meaning_text_says_it_too(chromium, site):  # noqa: F811
    from playwright.sync_api import expect
    errors = []
    _vote_id, vote_code, vote_key = site.seeded["voting"]
    rich_id = site.seeded["rich"][0]
    sid = site.seeded["structure"]
    kinds = {"Pratique", "Lien existant", "Envie", "Idée"}

    # The board: every card names its kind (its colour only repeats it); the projector's tally
    # prints each bar's number and, split by kind, each segment's number beside a legend in words.
    ctx, page = _context(chromium, site.base, errors, **LAPTOP)
    _join_workshop(page, vote_code, "Anne Roux", "Association Relais", "association")
    page.locator("#ballot").wait_for()
    card_kinds = _texts(page, "#board .card .chip.kind")
    assert len(card_kinds) == page.locator("#board .card").count() >= 4, card_kinds
    assert set(card_kinds) <= kinds and len(set(card_kinds)) == 4, card_kinds

    # Own dots: the row says how many in words, as many as the dots drawn.
    row = page.locator("#ballot [data-ballot-row]").first
    row.locator(".dot-btn.add").click()
    expect(row.locator(".n")).to_have_text("1 gommette")
    row.locator(".dot-btn.add").click()
    expect(row.locator(".n")).to_have_text("2 gommettes")
    expect(row.locator(".mine-dot")).to_have_count(2)
    assert all(t.split(" ")[0] in {"Idée", "Pratique", "Lien", "Envie"} for t in _texts(page, "#ballot .ballot-row .chip.kind"))
    ctx.close()

    screen_ctx, screen = _context(chromium, site.base, errors, **PROJECTOR)
    screen.goto(f"/w/{vote_code}/screen?key={vote_key}")
    rows = screen.locator("#screentally .bar-row")
    assert rows.count() >= 4
    assert all(DIGITS.match(t) for t in _texts(screen, "#screentally .bar-row .score strong"))
    segments = screen.locator("#screentally .fill")
    assert segments.count() >= rows.count()
    assert all(DIGITS.match(t) for t in _texts(screen, "#screentally .fill .seg-n"))
    legend = screen.locator("#screentally .legend").inner_text()
    assert "Entreprises" in legend or "Entreprise" in legend, legend
    screen_ctx.close()

    # Statuses of actions and links, the matrix's tints, diagnostic counts: words and numbers.
    fac_ctx, fac = _facilitator(chromium, site, errors)
    fac.goto(f"/workshops/{rich_id}")
    statuses = fac.locator("#actionsctl .status-select")
    assert statuses.count() >= 2
    for i in range(statuses.count()):
        assert statuses.nth(i).locator("option:checked").inner_text().strip()
        assert statuses.nth(i).get_attribute("aria-label") or statuses.nth(i).evaluate("e => e.labels.length")
    expect(fac.locator("#actionsctl .is-late", has_text="Envoyer le compte rendu")).to_contain_text("en retard")
    fac.goto(f"/workshops/{rich_id}/outcome")
    badges = _texts(fac, ".report span.status")
    assert len(badges) >= 2 and all(badges), badges
    fac.goto(f"/structures/{sid}")
    chips = _texts(fac, "table .chip[class*=cat-]")
    assert chips and all(chips), chips
    fac.goto(f"/structures/{sid}/matrix")
    cells = _texts(fac, ".map-matrix td[class*=lvl-]")
    assert cells and all(DIGITS.match(c) for c in cells), cells
    expect(fac.locator(".map-matrix-legend")).to_contain_text("Plus la case est foncée")
    diag_code, diag_key = site.seeded["diag"][1:]
    screen_ctx, screen = _context(chromium, site.base, errors, **PROJECTOR)
    screen.goto(f"/w/{diag_code}/screen?key={diag_key}")
    counts = screen.locator(".diag-tile .diag-count")
    expect(screen.locator(".diag-answered")).to_have_text("2 entreprises ont répondu")
    assert counts.count() == 8
    for i in range(8):
        assert DIGITS.match(counts.nth(i).locator("strong").inner_text().strip())
        assert counts.nth(i).locator("span").inner_text().strip()
    screen_ctx.close()

    # A form's error: in words, tied to its field (aria-invalid, aria-describedby), not only red.
    fac.goto("/workshops/new")
    _submit_empty(fac, "#title")
    field = fac.locator("#title")
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby")
    assert described, "the field does not point to its error"
    expect(fac.locator(f"#{described}")).to_have_text(re.compile(r"\w{3,}"))
    fac_ctx.close()
    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)


def test_the_map_wall_updates_in_place_without_a_timed_page_reload(chromium, site):  # noqa: F811
    """axe's meta-refresh rule: the projector's matrix once reloaded itself every minute; now its
    table alone is fetched again and swapped, and the page stays put."""
    from playwright.sync_api import expect
    errors = []
    sid = site.seeded["structure"]
    ctx, wall = _facilitator(chromium, site, errors)
    wall.set_viewport_size(PROJECTOR["viewport"])
    wall.clock.install()
    wall.goto(f"/structures/{sid}/matrix?screen=1")
    assert wall.locator("meta[http-equiv=refresh]").count() == 0
    links = int(re.search(r"(\d+) liens", wall.locator(".map-matrix caption").inner_text()).group(1))
    wall.evaluate("window.__marker = 1")
    resp = site.http().post(f"/structures/{sid}/entries/new", {
        "partner": "Épicerie solidaire du Plateau", "partner_kind": "association", "category": "mecenat",
        "description": "Dons d'invendus chaque semaine"})
    assert resp.status_code == 302, resp.text
    wall.clock.fast_forward(61_000)
    expect(wall.locator(".map-matrix caption")).to_contain_text(f"{links + 1} liens")
    assert wall.evaluate("window.__marker") == 1, "the wall was reloaded"
    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    ctx.close()
