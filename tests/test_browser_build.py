"""The construction phase in real browsers (Chromium via Playwright) against `python app.py`.

Four screens: the facilitator's laptop, the projector, Nadia on a laptop and
Mathieu on a phone. Nadia starts a joint offer; both edit the same section at
once: Mathieu saves first, Nadia's open editor survives the push, her stale
save is refused with Mathieu's text and hers kept, and her second save wins.
Mathieu proposes an action from his phone; the facilitator validates it and the
projector shows it. Closing the workshop freezes version 1 of the outcome,
whose PDF holds the offer and the action. Also the screenshots of these screens.
"""
import io
import re
from pathlib import Path

import pytest

from browser_kit import (LAPTOP, LIVE, PHONE, PROJECTOR, _context, _control_room, _join,  # noqa: F401
                         _no_horizontal_scroll, _not_reloaded, _wait_live, chromium, server, _shot, shots_dir)
from live_server import first_facilitator, live_workshop

pytestmark = pytest.mark.browser

OFFER = "Parcours d'insertion « Cœur de Dombes »"
NEED = "Besoin auquel l'offre répond"
MATHIEU_NEED = ("Les entreprises de la Dombes peinent à recruter des salarié·es formé·es "
                "aux métiers de la restauration collective.")
NADIA_NEED = ("Des personnes éloignées de l'emploi, motivées, sans réseau pour entrer "
              "en entreprise : un parcours commun leur ouvre des portes.")
ACTION = "Présenter le parcours au club d'entreprises de Villars-les-Dombes"
DUE_ISO, DUE_FR = "2027-03-31", "31 mars 2027"


def test_offer_written_together_action_plan_and_outcome(chromium, server, tmp_path):
    from playwright.sync_api import expect
    from pypdf import PdfReader
    errors = []

    # Set-up over HTTP: the first account and an open workshop.
    http = first_facilitator(server)
    workshop = live_workshop(http, "Associations et entreprises de la Dombes")
    code = workshop["code"]

    # The facilitator logs in and opens the control room.
    fac_ctx, fac = _control_room(chromium, server, errors, workshop["id"])

    # The projector, and two participants: Nadia on a laptop, Mathieu on a phone.
    screen_ctx, screen = _context(chromium, server, errors, **PROJECTOR)
    screen.goto(workshop["screen_link"])
    _wait_live(screen)
    nadia_ctx, nadia = _context(chromium, server, errors, **LAPTOP)
    nadia.goto(f"/w/{code}")
    _join(nadia, "Nadia Haddad", "Tremplin Emploi Ain", "association")
    _wait_live(nadia)
    mathieu_ctx, mathieu = _context(chromium, server, errors, **PHONE)
    mathieu.goto(f"/w/{code}")
    _join(mathieu, "Mathieu Girard", "Les Jardins de la Dombes", "association")
    _wait_live(mathieu)
    everyone = (fac, screen, nadia, mathieu)
    for page in everyone:
        page.evaluate("window.__marker = 1")

    # 1. The facilitator moves to the construction phase: every screen follows.
    fac.locator("#phasectl").get_by_role("button", name=re.compile("Construction")).click()
    expect(fac.locator("#phasectl .phase.current")).to_contain_text("Construction")
    for page in (screen, nadia, mathieu):
        expect(page.locator("#phase .phase-name")).to_have_text("Construction", timeout=LIVE)
    expect(mathieu.locator("form#offer-new")).to_be_visible()
    expect(mathieu.locator("#action-form")).to_be_visible()

    # 2. Nadia starts an offer: it reaches the phone, the control room and the projector, live.
    new = nadia.locator("form#offer-new")
    new.locator("input[name=title]").fill(OFFER)
    new.get_by_role("button", name="Créer l'offre").click()
    expect(nadia.locator("form#offer-new")).to_contain_text("Offre créée")
    expect(nadia.locator("form#offer-new input[name=title]")).to_have_value("")
    for page in everyone:
        expect(page.locator("#offers-list .offer h3")).to_have_text(OFFER, timeout=LIVE)
    offer_id = nadia.locator("#offers-list .offer").first.get_attribute("id").removeprefix("offer-")
    expect(screen.locator(".screen-offers")).to_be_visible()
    _not_reloaded(*everyone)

    # 3. Both open the editor of the same section; each types, Mathieu saves first.
    need = f"#offersec-{offer_id}-need"
    nadia.get_by_role("button", name=f"Modifier : {NEED}").click()
    mathieu.get_by_role("button", name=f"Modifier : {NEED}").tap()
    for page in (nadia, mathieu):
        expect(page.locator("#offer-editor h3")).to_contain_text(NEED)
    nadia.locator("#offer-editor #offer-text").fill(NADIA_NEED)
    nadia.locator("#offer-editor #offer-text").blur()   # her text must survive without the focus's help
    mathieu.locator("#offer-editor #offer-text").fill(MATHIEU_NEED)
    _no_horizontal_scroll(mathieu, "with the offer editor open")
    mathieu.locator("#offer-editor").get_by_role("button", name="Enregistrer").tap()
    expect(mathieu.locator("#offer-editor")).to_contain_text("Section enregistrée")
    expect(mathieu.locator("#offer-editor textarea")).to_have_count(0)
    expect(mathieu.locator(f"{need} dd")).to_have_text(MATHIEU_NEED)

    # Nadia's page shows Mathieu's text behind her open editor, which still holds hers.
    expect(nadia.locator(f"{need} dd")).to_have_text(MATHIEU_NEED, timeout=LIVE)
    expect(nadia.locator("#offer-editor #offer-text")).to_have_value(NADIA_NEED)
    expect(nadia.locator("#offer-editor")).to_be_visible()

    # Her save is based on the old version: refused, with Mathieu's text, hers kept.
    nadia.locator("#offer-editor").get_by_role("button", name="Enregistrer").click()
    editor = nadia.locator("#offer-editor")
    expect(editor.locator("[role=alert]")).to_contain_text(
        "Mathieu Girard a modifié cette section pendant que vous écriviez")
    expect(editor.locator("blockquote")).to_have_text(MATHIEU_NEED)
    expect(editor.locator("#offer-text")).to_have_value(NADIA_NEED)
    for page in everyone:
        expect(page.locator(f"{need} dd")).to_have_text(MATHIEU_NEED, timeout=LIVE)

    shots = shots_dir(tmp_path)
    _shot(nadia, shots / "screen-build-conflict.png")

    # Saving again is a deliberate choice: her text wins, everywhere.
    editor.get_by_role("button", name="Enregistrer").click()
    expect(nadia.locator("#offer-editor")).to_contain_text("Section enregistrée")
    expect(nadia.locator("#offer-editor textarea")).to_have_count(0)
    for page in everyone:
        expect(page.locator(f"{need} dd")).to_have_text(NADIA_NEED, timeout=LIVE)
    _not_reloaded(*everyone)

    # 4. Mathieu proposes an action with a due date from his phone.
    form = mathieu.locator("#action-form")
    form.get_by_text("Proposer une action").tap()
    form.locator("input[name=title]").fill(ACTION)
    form.get_by_label(re.compile(r"^Moi \(Mathieu Girard\)")).check()
    form.locator("input[name=due_on]").fill(DUE_ISO)
    _no_horizontal_scroll(mathieu, "with the action form open")
    form.get_by_role("button", name="Envoyer ma proposition").tap()
    expect(mathieu.locator("#action-form")).to_contain_text("Proposition envoyée")
    expect(mathieu.locator("#actions .is-proposal")).to_contain_text(ACTION, timeout=LIVE)

    # The facilitator sees the proposal live and validates it; the projector shows it.
    proposal = fac.locator("#actionsctl .is-proposal", has_text=ACTION)
    expect(proposal).to_contain_text("proposée par Mathieu Girard", timeout=LIVE)
    expect(proposal).to_contain_text(DUE_FR)
    expect(screen.locator("#screenactions .screen-action")).to_have_count(0)   # not validated yet
    proposal.get_by_role("button", name="Valider").click()
    expect(fac.locator("#actionsctl .action-table")).to_contain_text(ACTION)
    expect(fac.locator("#actionsctl .is-proposal")).to_have_count(0)
    planned = screen.locator("#screenactions .screen-action", has_text=ACTION)
    expect(planned).to_be_visible(timeout=LIVE)
    expect(planned.locator(".sa-due")).to_contain_text(DUE_FR)
    expect(planned.locator(".sa-meta")).to_contain_text("Mathieu Girard")
    expect(mathieu.locator("#actions .action-list:not(.proposals)")).to_contain_text(ACTION, timeout=LIVE)
    expect(nadia.locator("#actions .action-list:not(.proposals)")).to_contain_text(ACTION, timeout=LIVE)
    expect(screen.locator(".screen-offers .offer")).to_contain_text(NADIA_NEED)
    _not_reloaded(*everyone)

    # 5. The phone never scrolls sideways.
    _no_horizontal_scroll(mathieu, "with the offer and the plan")

    _shot(screen, shots / "screen-build-projector.png")
    mathieu.evaluate(f"document.getElementById('offer-{offer_id}').scrollIntoView({{block: 'start'}})")
    _shot(mathieu, shots / "screen-build-participant.png")

    # 6. The facilitator closes the workshop: version 1 is frozen, the panel shows it live.
    fac.once("dialog", lambda dialog: dialog.accept())
    fac.locator("#phasectl").get_by_role("button", name="Clore l'atelier").click()
    expect(fac.locator("#phasectl .badge")).to_have_text("Clos")
    panel = fac.locator("#outcomectl")
    expect(panel.locator(".outcome-versions li")).to_have_count(1, timeout=LIVE)
    expect(panel.locator(".outcome-versions li").first).to_contain_text("Version 1")
    expect(panel.locator(".outcome-versions li").first).to_contain_text("actuelle")
    for page in (screen, nadia, mathieu):
        expect(page.locator("#phase .phase-name")).to_have_text("Atelier clos", timeout=LIVE)
    _not_reloaded(*everyone)

    # The report page of version 1, and its PDF.
    panel.get_by_role("link", name="Version 1").click()
    expect(fac).to_have_url(re.compile(rf"/workshops/{workshop['id']}/outcome/v1$"))
    expect(fac.locator(".report")).to_contain_text("Cœur de Dombes")
    expect(fac.locator(".report")).to_contain_text(ACTION)
    _shot(fac, shots / "screen-outcome.png")
    with fac.expect_download(timeout=30_000) as download:
        fac.locator(".report-toolbar").get_by_role("link", name="PDF", exact=True).click()
    pdf = download.value
    assert pdf.suggested_filename.endswith(".pdf"), pdf.suggested_filename
    data = Path(pdf.path()).read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages)
    flat = " ".join(text.split())
    assert "Cœur de Dombes" in flat, flat[:2000]
    assert ACTION in flat, flat[:2000]

    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    for ctx in (fac_ctx, screen_ctx, nadia_ctx, mathieu_ctx):
        ctx.close()
