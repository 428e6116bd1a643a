"""A whole workshop in real browsers: Debian's Chromium driven by Playwright,
against the real server (`python app.py`, gevent).

Three people, three browser contexts: the facilitator sets the app up and opens
a workshop; the projector opens the secret screen link; participants join from
a phone by typing the code. A card posted from the phone must appear on the
projector and in the control room without any reload. The run also takes the
three screens' screenshots: into a temporary folder, or into the README's
docs/ with `make screenshots` (SCREENSHOTS_DIR=docs).
"""
import re

import pytest

# test_a11y.py imports _context, _wait_live and chromium from here too.
from browser_kit import (DESK, LIVE, PASSWORD, PHONE, PROJECTOR, _context, _join, _post, _wait_live,  # noqa: F401
                         chromium, server, _shot, shots_dir)

pytestmark = pytest.mark.browser

LITERAL = '<b>bold</b> hx-get="/x"'


def test_workshop_in_three_browsers(chromium, server, tmp_path):
    from playwright.sync_api import expect
    errors = []

    # (a) The facilitator: first start, setup page, a new workshop, opened.
    fac_ctx, fac = _context(chromium, server, errors, **DESK)
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
    screen_ctx, screen = _context(chromium, server, errors, **PROJECTOR)
    screen.goto(screen_link)
    expect(screen).to_have_url(f"{server}/w/{code}/screen")
    expect(screen.locator(".join-code")).to_have_text(code)
    _wait_live(screen)

    # (c) A participant on a phone: the code typed on the home page, then the join form.
    nadia_ctx, nadia = _context(chromium, server, errors, **PHONE)
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

    # Moving to the collect phase shows on every screen. The phase name is morphed in place, not
    # replaced, so a screen reader hears the new phase through its aria-live.
    nadia.locator("#phase .phase-name").evaluate("el => { el.__before = 1; }")
    fac.locator("#phasectl").get_by_role("button", name=re.compile("Collecte")).click()
    expect(screen.locator("#phase .phase-name")).to_have_text("Collecte", timeout=LIVE)
    expect(nadia.locator("#phase .phase-name")).to_have_text("Collecte", timeout=LIVE)
    assert nadia.locator("#phase .phase-name").evaluate("el => el.__before") == 1, "the phase name was replaced"
    assert nadia.locator("#phase .phase-name").get_attribute("aria-live") == "polite"

    # A second participant, from a company, and a board worth a screenshot.
    julien_ctx, julien = _context(chromium, server, errors, **PHONE)
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

    shots = shots_dir(tmp_path)
    _shot(screen, shots / "screen-projector.png")
    _shot(nadia, shots / "screen-participant.png", full_page=True)
    _shot(fac, shots / "screen-facilitator.png", full_page=True)

    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    for ctx in (fac_ctx, screen_ctx, nadia_ctx, julien_ctx):
        ctx.close()
