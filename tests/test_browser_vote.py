"""A dot vote in real browsers (Chromium via Playwright) against `python app.py`.

The issue: two participants vote from two browser contexts, the projector's
bars move without a reload, and the reveal shows the ranked results. Also the
phase timer on the projector, and the screenshots of the vote's screens.
"""
import re

import pytest

from browser_kit import (LAPTOP, LIVE, PHONE, PROJECTOR, _context, _control_room, _join, _vote_rules,  # noqa: F401
                         _wait_live, chromium, server, _shot, shots_dir)
from live_server import first_facilitator, live_workshop

pytestmark = pytest.mark.browser

IDEAS = [
    "Un forum commun entreprises–associations au printemps",
    "Des binômes salarié·e bénévole pour le mécénat de compétences",
    "Acheter local : référencer les ESAT dans nos achats",
    "Un kit d'accueil partagé pour les stagiaires en insertion",
]


def _bar_width(page, card_id) -> float:
    return page.evaluate(f"() => parseFloat(document.querySelector('#scr-{card_id} .fill').style.width)")


def test_two_participants_vote_and_the_projector_follows(chromium, server, tmp_path):
    from playwright.sync_api import expect
    errors = []

    # Set-up over HTTP: an open workshop with four ideas, in its vote phase.
    http = first_facilitator(server)
    workshop = live_workshop(http, "Priorités 2027 du club entreprises–associations")
    code = workshop["code"]
    for text in IDEAS:
        assert http.post(f"/w/{code}/cards", {"kind": "idea", "text": text}, htmx=True).status_code == 200
    board = http.get(f"/w/{code}/r/board").text
    ids = dict(zip(IDEAS, sorted({int(n) for n in re.findall(r'id="card-(\d+)"', board)})))   # posting order
    assert http.post(f"/workshops/{workshop['id']}/phase", {"phase": "vote"}, htmx=True).status_code == 200

    # The facilitator logs in, sets the vote's rules in the control room and opens it.
    fac_ctx, fac = _control_room(chromium, server, errors, workshop["id"])
    panel = _vote_rules(fac, "Quelles pistes pour 2027 ?", budget=4, cap=2)

    # Nadia (on a phone) is already in the room when the vote opens: her ballot arrives by itself.
    nadia_ctx, nadia = _context(chromium, server, errors, **PHONE)
    nadia.goto(f"/w/{code}")
    _join(nadia, "Nadia Haddad", "Tremplin Emploi Ain", "association")
    _wait_live(nadia)
    expect(nadia.locator("#ballot")).to_have_count(0)
    nadia.evaluate("window.__marker = 1")
    panel.get_by_role("button", name="Ouvrir le vote").click()
    expect(panel.locator(".badge")).to_have_text("Ouvert")
    expect(nadia.locator("#ballot")).to_contain_text("Il vous reste 4 gommettes", timeout=LIVE)
    assert nadia.evaluate("window.__marker") == 1, "the participant's page was reloaded"

    # A 5-minute countdown for the phase.
    fac.locator("#timer-minutes").fill("5")
    fac.locator("#phasectl").get_by_role("button", name="Lancer").click()

    # The projector: the live tally takes the board's place, and the timer runs.
    screen_ctx, screen = _context(chromium, server, errors, **PROJECTOR)
    screen.goto(workshop["screen_link"])
    _wait_live(screen)
    expect(screen.locator("#screentally")).to_contain_text("Quelles pistes pour 2027 ?")
    expect(screen.locator("#board")).to_be_hidden()
    expect(screen.locator("#phase .timer .clock")).to_have_text(re.compile(r"0[45]:\d\d"))
    screen.evaluate("window.__marker = 1")

    # Julien joins from a laptop once the vote is open: his page comes with his ballot.
    julien_ctx, julien = _context(chromium, server, errors, **LAPTOP)
    julien.goto(f"/w/{code}")
    _join(julien, "Julien Moreau", "Boulangeries Moreau", "company")
    _wait_live(julien)
    expect(julien.locator("#ballot")).to_contain_text("Il vous reste 4 gommettes")

    forum, binomes = ids[IDEAS[0]], ids[IDEAS[1]]
    nadia.locator(f"#add-{forum}").tap()
    expect(nadia.locator("#ballot")).to_contain_text("Il vous reste 3 gommettes")
    expect(screen.locator(f"#scr-{forum} .score strong")).to_have_text("1", timeout=LIVE)
    width_after_one = _bar_width(screen, forum)

    nadia.locator(f"#add-{forum}").tap()
    expect(nadia.locator(f"#ballot-{forum}")).to_contain_text("2 gommettes")
    # The cap is 2: a third dot on the same card is refused, with the reason.
    nadia.locator(f"#add-{forum}").tap()
    expect(nadia.locator("#ballot [role=alert]")).to_contain_text("Au plus 2 gommettes par carte")
    # Julien votes with the keyboard: focus a card's button, press + .
    julien.locator(f"#add-{binomes}").focus()
    julien.keyboard.press("+")
    expect(julien.locator("#ballot")).to_contain_text("Il vous reste 3 gommettes")
    julien.keyboard.press("+")
    expect(julien.locator("#ballot")).to_contain_text("Il vous reste 2 gommettes")
    julien.locator(f"#add-{forum}").click()

    # The projector's bars moved, without a reload: 3 dots on the forum, 2 on the pairs.
    expect(screen.locator(f"#scr-{forum} .score strong")).to_have_text("3", timeout=LIVE)
    expect(screen.locator(f"#scr-{binomes} .score strong")).to_have_text("2", timeout=LIVE)
    expect(screen.locator(".tally-count")).to_contain_text("5 gommettes posées")
    assert _bar_width(screen, forum) == 100 and width_after_one == 100
    expect(screen.locator(f"#scr-{binomes} .fill")).to_have_attribute("style", re.compile(r"width: 66\.6"))
    assert screen.evaluate("window.__marker") == 1, "the projector was reloaded"

    # Participants see no tally while results are hidden.
    expect(julien.locator("#results")).to_contain_text("masqués")
    expect(julien.locator("#results .bars")).to_have_count(0)
    expect(nadia.locator("#results .bars")).to_have_count(0)

    shots = shots_dir(tmp_path)
    screen.wait_for_timeout(1000)   # the bars' slide
    _shot(screen, shots / "screen-vote-projector.png")
    _shot(nadia, shots / "screen-vote-participant.png", full_page=True)

    # Close and reveal: everyone sees the ranking, the forum first.
    panel.get_by_role("button", name="Clore le vote").click()
    expect(nadia.locator("#votebox")).to_contain_text("Le vote est clos", timeout=LIVE)
    panel.get_by_role("button", name="Révéler les résultats").click()
    for page in (nadia, julien):
        ranking = page.locator("#results .bar-row .label")
        expect(ranking.first).to_have_text(IDEAS[0], timeout=LIVE)
        expect(ranking.nth(1)).to_have_text(IDEAS[1])
    expect(screen.locator("#screentally")).to_contain_text("vote clos", timeout=LIVE)

    # The facilitator keeps the top two as priorities; they show on the participants' page.
    fac.locator("#facresults #promote-top").fill("2")
    fac.locator("#facresults").get_by_role("button", name="premières comme priorités").click()
    expect(nadia.locator("#priorities li")).to_have_count(2, timeout=LIVE)
    expect(nadia.locator("#priorities li").first).to_contain_text(IDEAS[0])
    _shot(fac, shots / "screen-vote-facilitator.png", full_page=True)

    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    for ctx in (fac_ctx, screen_ctx, nadia_ctx, julien_ctx):
        ctx.close()
