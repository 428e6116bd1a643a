"""What the browser tests share: Debian's Chromium driven by Playwright, the real
server (`python app.py`), and the steps people take on its pages.

Each browser test module imports the `chromium` and `server` fixtures from here
(one browser and one server per module) and the helpers below. Every context
made by `_context` records JavaScript errors and Content-Security-Policy
refusals into the list it is given: a test ends by asserting that list empty.
"""
import io
import os
import re
from pathlib import Path

import pytest

from live_server import PASSWORD, running_server
from services import unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
LIVE = 5_000          # ms: how long a pushed change may take to show on another screen
FAC_EMAIL = "camille@example.org"

# The four screens of a workshop.
DESK = {"viewport": {"width": 1400, "height": 1000}}                 # the facilitator's control room
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


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
def server(tmp_path_factory, request):
    """The app for this test module alone: its own SQLite file, so its own first account."""
    with running_server(tmp_path_factory.mktemp(request.module.__name__.removeprefix("test_"))) as base:
        yield base


def shots_dir(tmp_path, *parts) -> Path:
    """Where screenshots go: SCREENSHOTS_DIR (`make screenshots`) or the test's own folder."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path, *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot(page, path, full_page=False):
    """A screenshot. Into SCREENSHOTS_DIR (docs/, kept in git) as a 256-colour PNG: a third of
    the size, text as sharp. Elsewhere, or without Pillow (WeasyPrint brings it), as Chromium made it.
    """
    data = page.screenshot(full_page=full_page)
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is None or not os.environ.get("SCREENSHOTS_DIR"):
        Path(path).write_bytes(data)
        return
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


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


def _login(browser, base, errors, email=FAC_EMAIL):
    """A facilitator's browser, logged in through the form, on the list of workshops."""
    from playwright.sync_api import expect
    ctx, fac = _context(browser, base, errors, **DESK)
    fac.goto("/login")
    fac.fill("#email", email)
    fac.fill("#password", PASSWORD)
    fac.get_by_role("button", name="Se connecter").click()
    expect(fac).to_have_url(re.compile(r"/workshops/$"))
    return ctx, fac


def _control_room(browser, base, errors, workshop_id, email=FAC_EMAIL):
    """A facilitator's browser, logged in through the form, in the workshop's control room, live."""
    ctx, fac = _login(browser, base, errors, email)
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


def _vote_rules(fac, title, budget, cap):
    """The facilitator sets a dot vote's rules in the control room (live bars on the projector); not open yet."""
    from playwright.sync_api import expect
    panel = fac.locator("#votectl")
    panel.locator("#title").fill(title)
    panel.locator("#budget").fill(str(budget))
    panel.locator("#cap").fill(str(cap))
    panel.get_by_label("Les barres en direct").check()   # the default is the count only
    panel.get_by_role("button", name="Enregistrer les règles").click()
    expect(panel.locator(".badge")).to_have_text("En préparation")
    return panel


# The widest elements of a page wider than its viewport, deepest first: what makes a phone scroll sideways.
_OVERFLOW = """(width) => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '');
  // An element inside a box that clips or scrolls (a wide table in its own scroller) moves no page.
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  // How far right an element reaches: its box, or its content spilling out of it (a long word).
  const right = (el) => {
    const box = el.getBoundingClientRect();
    const spill = getComputedStyle(el).overflowX === 'visible' ? el.scrollWidth : 0;
    return Math.max(box.right, box.left + spill);
  };
  const wide = [...document.body.querySelectorAll('*')].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && (right(el) > width + 0.5 || box.left < -0.5) && !clipped(el);
  });
  const leaves = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          wide: leaves.slice(0, 5).map((el) => {
            const box = el.getBoundingClientRect();
            return `${name(el)} [${Math.round(box.left)}..${Math.round(right(el))}]`;
          })};
}"""


def _no_horizontal_scroll(page, when):
    """The page fits its viewport's width; else, which elements stick out.

    Measured against the width the context was given: on an emulated phone, a page wider
    than the screen zooms out, and window.innerWidth grows with it.
    """
    width = page.viewport_size["width"]
    seen = page.evaluate(_OVERFLOW, width)
    assert seen["scroll"] <= width and not seen["wide"], (
        f"the phone page scrolls sideways {when}: scrollWidth {seen['scroll']} (innerWidth {seen['inner']}) "
        f"> viewport {width}; too wide: {seen['wide']}")


def _not_reloaded(*pages):
    for page in pages:
        assert page.evaluate("window.__marker") == 1, f"{page.url} was reloaded"
