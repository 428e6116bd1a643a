"""A whole workshop in real browsers: Debian's Chromium driven by Playwright,
against the real server (`python app.py`, gevent).

Three people, three browser contexts: the facilitator sets the app up and opens
a workshop; the projector opens the secret screen link; participants join from
a phone by typing the code. A card posted from the phone must appear on the
projector and in the control room without any reload. The run also takes the
three screens' screenshots: into a temporary folder, or into the README's
docs/ with `make screenshots` (SCREENSHOTS_DIR=docs).
"""
import os
import re
from pathlib import Path

import pytest

from live_server import running_server
from services import unavailable

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "motdepasse-solide"
LIVE = 5_000          # ms: how long a pushed change may take to show on another screen
LITERAL = '<b>bold</b> hx-get="/x"'


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"Playwright for Python is not installed: {exc}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("browser")) as base:
        yield base


def _context(browser, base, errors, **kw):
    ctx = browser.new_context(base_url=base, locale="fr-FR", **kw)
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    # A Content-Security-Policy refusal is only a console message: count it as an error too.
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    return ctx, page


def _wait_live(page):
    """The page's socket is connected (static/js/app.js exposes it as window.aehSocket)."""
    page.wait_for_function("() => window.aehSocket && window.aehSocket.connected", timeout=5_000)


def _control_room(browser, base, errors, workshop_id, email="camille@example.org"):
    """A facilitator's browser, logged in through the form, in the workshop's control room, live."""
    from playwright.sync_api import expect
    ctx, fac = _context(browser, base, errors, viewport={"width": 1400, "height": 1000})
    fac.goto("/login")
    fac.fill("#email", email)
    fac.fill("#password", PASSWORD)
    fac.get_by_role("button", name="Se connecter").click()
    expect(fac).to_have_url(re.compile(r"/workshops/$"))
    fac.goto(f"/workshops/{workshop_id}")
    _wait_live(fac)
    return ctx, fac


def _join(page, name, organisation, kind):
    page.fill("#display_name", name)
    page.fill("#organisation", organisation)
    page.select_option("#kind", kind)
    page.get_by_role("button", name="Rejoindre l'atelier").click()
    page.wait_for_selector("form#composer")


def _post(page, kind, text, partner="", category="", subtype="", direction="", link_status=""):
    """Write a card with the composer, as a participant does on a phone."""
    from playwright.sync_api import expect
    composer = page.locator("form#composer")
    composer.locator("#kind").select_option(kind)
    composer.locator("#text").fill(text)
    if partner:
        composer.locator("#partner").fill(partner)
    if category or subtype or direction or link_status:
        composer.get_by_text("Qualifier avec la grille du Rameau").click()
        if category:
            composer.locator("#category").select_option(category)
        if subtype:
            composer.locator("#subtype").fill(subtype)
        if direction:
            composer.locator("#direction").select_option(direction)
        if link_status:
            composer.locator("#link_status").select_option(link_status)
    composer.locator("button.primary").click()
    # The answer swaps in a fresh composer and the poster's own board.
    expect(page.locator("#board")).to_contain_text(text)
    expect(page.locator("form#composer #text")).to_have_value("")


def test_workshop_in_three_browsers(chromium, server, tmp_path):
    from playwright.sync_api import expect
    errors = []

    # (a) The facilitator: first start, setup page, a new workshop, opened.
    fac_ctx, fac = _context(chromium, server, errors, viewport={"width": 1400, "height": 1000})
    fac.goto("/")
    expect(fac).to_have_url(re.compile(r"/setup$"))
    fac.fill("#name", "Camille Martin")
    fac.fill("#email", "camille@example.org")
    fac.fill("#password", PASSWORD)
    fac.fill("#confirm", PASSWORD)
    fac.select_option("#locale", "fr")
    fac.get_by_role("button", name="Créer le compte").click()
    expect(fac).to_have_url(re.compile(r"/workshops/$"))
    fac.get_by_role("link", name="Nouvel atelier").click()
    fac.fill("#title", "Entreprises et associations du Pays de Gex")
    fac.fill("#purpose", "Partager nos pratiques et faire naître des partenariats locaux")
    fac.select_option("#template", "practice_exchange")
    fac.get_by_role("button", name="Enregistrer").click()
    expect(fac).to_have_url(re.compile(r"/workshops/\d+$"))
    code = fac.locator(".code-big").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4,}", code), code
    fac.get_by_role("button", name="Ouvrir l'atelier").click()
    expect(fac.locator("#phasectl .badge")).to_have_text("En cours")
    _wait_live(fac)

    # (b) The projector: the secret link from the control room, no account.
    screen_link = fac.locator("input.copy").input_value()
    assert screen_link.startswith(server) and "key=" in screen_link, screen_link
    screen_ctx, screen = _context(chromium, server, errors, viewport={"width": 1920, "height": 1080})
    screen.goto(screen_link)
    expect(screen).to_have_url(f"{server}/w/{code}/screen")
    expect(screen.locator(".join-code")).to_have_text(code)
    _wait_live(screen)

    # (c) A participant on a phone: the code typed on the home page, then the join form.
    phone = {"viewport": {"width": 420, "height": 900}, "is_mobile": True, "has_touch": True}
    nadia_ctx, nadia = _context(chromium, server, errors, **phone)
    nadia.goto("/")
    nadia.fill("#code", code)
    nadia.get_by_role("button", name="Rejoindre", exact=True).click()
    expect(nadia).to_have_url(f"{server}/w/{code}")
    _join(nadia, "Nadia Haddad", "Tremplin Emploi Ain", "association")
    _wait_live(nadia)

    # Marks that a reload or a navigation would erase.
    for page in (screen, fac):
        page.evaluate("window.__marker = 1")

    first = ("Nous accueillons chaque mois des salarié·es en parcours d'insertion "
             "pour des immersions de deux semaines en entreprise.")
    _post(nadia, "practice", first, category="economic", subtype="parcours d'insertion",
          direction="association_to_company", link_status="active")
    expect(screen.locator("#board")).to_contain_text(first, timeout=LIVE)
    expect(fac.locator("#modboard")).to_contain_text(first, timeout=LIVE)
    for page in (screen, fac):
        assert page.evaluate("window.__marker") == 1, f"{page.url} was reloaded"
    expect(screen).to_have_url(f"{server}/w/{code}/screen")

    # Markup typed into a card is text on the projector, never elements or htmx attributes.
    _post(nadia, "wish", LITERAL)
    card = screen.locator("#board .card", has_text=LITERAL)
    expect(card).to_have_count(1, timeout=LIVE)
    expect(card.locator(".text")).to_have_text(LITERAL)
    expect(card.locator("b")).to_have_count(0)
    expect(screen.locator('[hx-get="/x"]')).to_have_count(0)
    expect(fac.locator("#modboard .card", has_text=LITERAL).locator("b")).to_have_count(0)

    # The facilitator hides it from the control room: it leaves the projector, live.
    fac.locator("#modboard .card", has_text=LITERAL).get_by_role("button", name="Masquer").click()
    expect(screen.locator("#board")).not_to_contain_text(LITERAL, timeout=LIVE)
    expect(fac.locator("#modboard .card", has_text=LITERAL)).to_contain_text("masquée")

    # Moving to the collect phase shows on every screen.
    fac.locator("#phasectl").get_by_role("button", name=re.compile("Collecte")).click()
    expect(screen.locator("#phase .phase-name")).to_have_text("Collecte", timeout=LIVE)
    expect(nadia.locator("#phase .phase-name")).to_have_text("Collecte", timeout=LIVE)

    # A second participant, from a company, and a board worth a screenshot.
    julien_ctx, julien = _context(chromium, server, errors, **phone)
    julien.goto(f"/w/{code}")
    _join(julien, "Julien Moreau", "Boulangeries Moreau", "company")
    cards = [
        (julien, "link", "Notre équipe RH anime des simulations d'entretien avec Tremplin Emploi depuis 2022.",
         {"partner": "Tremplin Emploi Ain", "category": "mecenat", "subtype": "compétences",
          "direction": "company_to_association", "link_status": "active"}),
        (nadia, "wish", "Trouver une entreprise qui nous prête une salle le soir pour nos ateliers numériques.", {}),
        (julien, "idea", "Un parrainage entre nos apprenti·es boulangers et les jeunes suivis par l'association ?",
         {"category": "innovation"}),
        (julien, "practice", "Nos invendus partent chaque soir vers l'épicerie solidaire du quartier.",
         {"category": "practices", "subtype": "anti-gaspillage"}),
        (nadia, "idea", "Une matinée « portes ouvertes » commune pour présenter nos métiers aux jeunes.", {}),
    ]
    for page, kind, text, extra in cards:
        _post(page, kind, text, **extra)
    for _page, _kind, text, _extra in cards:
        expect(screen.locator("#board")).to_contain_text(text, timeout=LIVE)
        expect(fac.locator("#modboard")).to_contain_text(text, timeout=LIVE)
    expect(screen.locator("#board .card")).to_have_count(6)
    # The wall: the board right under the phase banner, only the four kinds that have cards.
    banner, board = screen.locator("#phase").bounding_box(), screen.locator("#board").bounding_box()
    assert 0 <= board["y"] - (banner["y"] + banner["height"]) < 60, (banner, board)
    expect(screen.locator("#board .column:visible")).to_have_count(4)
    expect(screen.locator(".count")).to_contain_text("2 participant·es", timeout=LIVE)
    expect(fac.locator("#roster")).to_contain_text("Julien Moreau", timeout=LIVE)
    for page in (screen, fac):
        assert page.evaluate("window.__marker") == 1, f"{page.url} was reloaded"

    shots = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    shots.mkdir(exist_ok=True)
    screen.screenshot(path=str(shots / "screen-projector.png"))
    nadia.screenshot(path=str(shots / "screen-participant.png"), full_page=True)
    fac.screenshot(path=str(shots / "screen-facilitator.png"), full_page=True)

    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    for ctx in (fac_ctx, screen_ctx, nadia_ctx, julien_ctx):
        ctx.close()
