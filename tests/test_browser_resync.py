"""A screen that missed pushes catches up, in real browsers (Chromium + Playwright)
against the real server (`python app.py`).

static/js/app.js re-fetches every `[data-region][data-src]` of the page when the
server's `hello` revision (sent on every connect) differs from the page's, or when
a push's `since` shows that a push on its channel never arrived. Each scenario
makes the page miss changes to several regions, among them the last region of
the page (the projector's `board`, the control room's `roster`), so a resync
that only fetches the first region(s) fails here.

1. Offline: the projector and the control room drop their sockets; meanwhile
   cards are posted, a second participant joins and the phase changes. After
   reconnecting, both pages show it all, without a reload.
2. A gap: the projector stays connected but one push is dropped in the page
   (its socket's `onevent` is wrapped); the next push reveals the gap.
"""
import re
import time

import pytest

from browser_kit import LIVE, PASSWORD, _context, _join, _post, _wait_live, chromium, server  # noqa: F401
from live_server import Browser, first_facilitator, live_workshop

pytestmark = pytest.mark.browser

CATCH_UP = 5_000    # ms: how long a page may take to catch up after a reconnect or a gap
QUIET = 0.5         # s: time for pushes that could still be on their way to land

FAC_EMAIL = "camille@example.org"
FIRST = "Nos salarié·es animent des ateliers CV chaque trimestre avec l'association R5T"
SECOND = "Une salle de réunion prêtée le soir aux bénévoles du quartier W8P"
GAP_A = "Carte dont le push se perd en route G1A"
GAP_B = "Carte suivante qui révèle le trou G2B"


@pytest.fixture(scope="module")
def facilitator(server):
    """The first account, created over HTTP on the setup page."""
    return first_facilitator(server, email=FAC_EMAIL)


def _live_workshop(fac, title):
    w = live_workshop(fac, title)
    return w["id"], w["code"], w["screen_link"]


def _join_http(base, code, name, organisation, kind):
    person = Browser(base)
    person.get(f"/w/{code}")
    resp = person.post(f"/w/{code}/join", {"display_name": name, "organisation": organisation,
                                           "kind": kind})
    assert resp.status_code == 302, resp.text
    return person


def _card(text, kind="practice"):
    return {"kind": kind, "text": text, "partner": "", "category": "", "subtype": "",
            "direction": "", "link_status": ""}


def _watch(page, problems):
    """Uncaught exceptions and console errors of this page go to `problems`."""
    page.on("console", lambda msg: problems.append(f"{page.url} console.{msg.type}: {msg.text}")
            if msg.type == "error" else None)


def _screen(chromium, server, link, errors):
    ctx, page = _context(chromium, server, errors, viewport={"width": 1920, "height": 1080})
    _watch(page, errors)
    page.goto(link)
    page.wait_for_selector(".join-code")
    _wait_live(page)
    return ctx, page


def test_offline_screen_and_control_room_catch_up_on_reconnect(chromium, server, facilitator):
    from playwright.sync_api import expect
    errors = []
    workshop_id, code, screen_link = _live_workshop(facilitator, "Atelier hors ligne puis de retour")

    # The facilitator's control room, in a browser session of its own (log in).
    fac_ctx, fac = _context(chromium, server, errors, viewport={"width": 1400, "height": 1000})
    _watch(fac, errors)
    fac.goto("/login")
    fac.fill("#email", FAC_EMAIL)
    fac.fill("#password", PASSWORD)
    fac.get_by_role("button", name="Se connecter").click()
    expect(fac).to_have_url(re.compile(r"/workshops/$"))
    fac.goto(f"/workshops/{workshop_id}")
    expect(fac.locator("#phasectl .badge")).to_have_text("En cours")
    _wait_live(fac)

    # The projector: the secret link, no account.
    screen_ctx, screen = _screen(chromium, server, screen_link, errors)

    # A participant on a phone joins.
    phone = {"viewport": {"width": 420, "height": 900}, "is_mobile": True, "has_touch": True}
    nadia_ctx, nadia = _context(chromium, server, errors, **phone)
    _watch(nadia, errors)
    nadia.goto(f"/w/{code}")
    _join(nadia, "Nadia Haddad", "Tremplin Emploi Ain", "association")
    _wait_live(nadia)
    expect(screen.locator("#count")).to_have_text("1 participant·e", timeout=LIVE)
    expect(fac.locator("#roster")).to_contain_text("Nadia Haddad", timeout=LIVE)
    expect(screen.locator("#phase .phase-name")).to_have_text("Accueil")
    time.sleep(QUIET)

    # Offline: the projector and the control room drop their sockets.
    for page in (screen, fac):
        page.evaluate("window.__marker = 1")
        page.evaluate("window.aehSocket.disconnect()")
        page.wait_for_function("() => !window.aehSocket.connected")
        expect(page.locator("body")).to_have_class(re.compile(r"\boffline\b"))

    # Meanwhile: two cards from the phone, a second participant, the next phase.
    _post(nadia, "practice", FIRST)
    _post(nadia, "wish", SECOND)
    _join_http(server, code, "Julien Moreau", "Boulangeries Moreau", "company")
    resp = facilitator.post(f"/workshops/{workshop_id}/phase", {"phase": "collect"}, htmx=True)
    assert resp.status_code == 200 and 'aria-current="step"' in resp.text, resp.text
    # The phone stayed connected: its pushes show that every change was sent.
    expect(nadia.locator("#count")).to_have_text("2 participant·es", timeout=LIVE)
    expect(nadia.locator("#phase .phase-name")).to_have_text("Collecte", timeout=LIVE)
    time.sleep(QUIET)

    # Nothing reached the offline pages: what they show next comes from the resync.
    expect(screen.locator("#board")).not_to_contain_text(FIRST)
    expect(screen.locator("#board")).not_to_contain_text(SECOND)
    expect(screen.locator("#count")).to_have_text("1 participant·e")
    expect(screen.locator("#phase .phase-name")).to_have_text("Accueil")
    expect(fac.locator("#modboard")).not_to_contain_text(FIRST)
    expect(fac.locator("#roster")).not_to_contain_text("Julien Moreau")

    # Back online.
    started = time.monotonic()
    for page in (screen, fac):
        page.evaluate("window.aehSocket.connect()")
    for page in (screen, fac):
        _wait_live(page)

    expect(screen.locator("#board")).to_contain_text(FIRST, timeout=CATCH_UP)
    expect(screen.locator("#board")).to_contain_text(SECOND, timeout=CATCH_UP)
    expect(screen.locator("#count")).to_have_text("2 participant·es", timeout=CATCH_UP)
    expect(screen.locator("#phase .phase-name")).to_have_text("Collecte", timeout=CATCH_UP)
    expect(fac.locator("#modboard")).to_contain_text(FIRST, timeout=CATCH_UP)
    expect(fac.locator("#modboard")).to_contain_text(SECOND, timeout=CATCH_UP)
    expect(fac.locator("#roster")).to_contain_text("Julien Moreau", timeout=CATCH_UP)
    expect(fac.locator("#phasectl [aria-current=step]")).to_contain_text("Collecte", timeout=CATCH_UP)
    print(f"\ncaught up after reconnect in {time.monotonic() - started:.2f} s")

    # Each card once, the pages never reloaded, still live, no error.
    for text in (FIRST, SECOND):
        expect(screen.locator("#board .card", has_text=text)).to_have_count(1)
        expect(fac.locator("#modboard .card", has_text=text)).to_have_count(1)
    for page in (screen, fac):
        assert page.evaluate("window.__marker") == 1, f"{page.url} was reloaded"
        assert page.evaluate("window.aehSocket.connected"), f"{page.url} is offline"
        expect(page.locator("body")).not_to_have_class(re.compile(r"\boffline\b"))
    expect(screen).to_have_url(f"{server}/w/{code}/screen")
    time.sleep(QUIET)   # late failures of the resync requests
    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    for ctx in (fac_ctx, screen_ctx, nadia_ctx):
        ctx.close()


# Wraps the socket's packet handler: the first `push` after this never reaches
# app.js's listeners (it is kept in window.__dropped); everything else does.
DROP_ONE_PUSH = """() => {
  const socket = window.aehSocket;
  window.__dropped = [];
  window.__connects = 0;
  socket.on("connect", () => { window.__connects += 1; });
  const deliver = socket.onevent;
  socket.onevent = function (packet) {
    const [name, msg] = packet.data || [];
    if (name === "push" && window.__dropped.length === 0) {
      window.__dropped.push(msg);
      return;
    }
    return deliver.call(this, packet);
  };
}"""


def test_screen_that_missed_one_push_catches_up_on_the_next(chromium, server, facilitator):
    from playwright.sync_api import expect
    errors = []
    _workshop_id, code, screen_link = _live_workshop(facilitator, "Atelier au push perdu")
    nadia = _join_http(server, code, "Nadia Haddad", "Tremplin Emploi Ain", "association")
    screen_ctx, screen = _screen(chromium, server, screen_link, errors)
    expect(screen.locator("#count")).to_have_text("1 participant·e")
    time.sleep(QUIET)   # no push from the setup is still on its way

    screen.evaluate("window.__marker = 1")
    screen.evaluate(DROP_ONE_PUSH)

    resp = nadia.post(f"/w/{code}/cards", _card(GAP_A), htmx=True)
    assert resp.status_code == 200, resp.text
    screen.wait_for_function("() => window.__dropped.length === 1", timeout=LIVE)
    dropped = screen.evaluate("window.__dropped[0]")
    assert GAP_A in dropped["html"], f"the wrong push was dropped: {dropped}"
    time.sleep(QUIET)
    expect(screen.locator("#board")).not_to_contain_text(GAP_A)   # the drop worked

    # The next push on that channel says it follows the lost one: the page resyncs.
    started = time.monotonic()
    resp = nadia.post(f"/w/{code}/cards", _card(GAP_B, kind="idea"), htmx=True)
    assert resp.status_code == 200, resp.text
    expect(screen.locator("#board")).to_contain_text(GAP_A, timeout=CATCH_UP)
    expect(screen.locator("#board")).to_contain_text(GAP_B, timeout=CATCH_UP)
    print(f"\ncaught up after a lost push in {time.monotonic() - started:.2f} s")
    for text in (GAP_A, GAP_B):
        expect(screen.locator("#board .card", has_text=text)).to_have_count(1)

    # Repaired over the same connection, without a reload, and no error.
    assert screen.evaluate("window.__connects") == 0, "the socket reconnected: not a gap test"
    assert screen.evaluate("window.aehSocket.connected")
    assert screen.evaluate("window.__marker") == 1, "the projector was reloaded"
    time.sleep(QUIET)
    assert errors == [], "JavaScript errors:\n" + "\n".join(errors)
    screen_ctx.close()
