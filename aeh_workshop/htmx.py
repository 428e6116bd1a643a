"""The only code that reads htmx's request headers (STYLE.md, "One URL")."""
from flask import make_response, render_template, request


def is_htmx() -> bool:
    """Any request sent by htmx, whatever it swaps."""
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """True for an htmx swap of a part of the page.

    A boosted link, a history restore or a swap targeting the whole body
    needs the full page even though it carries HX-Request.
    """
    h = request.headers
    return (
        is_htmx()
        and h.get("HX-Boosted") != "true"
        and h.get("HX-History-Restore-Request") != "true"
        and h.get("HX-Request-Type", "partial") == "partial"
    )


def page_or_fragment(page: str, fragment: str, status: int = 200, **ctx):
    """Full page for a normal load, the fragment alone for an htmx swap."""
    resp = make_response(render_template(fragment if wants_fragment() else page, **ctx), status)
    resp.vary.add("HX-Request")
    return resp


def error_flash(message: str, status: int):
    """For an htmx request that failed: the message, swapped into the page's #flash."""
    html = render_template("_components/flash.html", category="error", message=message)
    return retarget(make_response(html, status), "#flash")


def retarget(resp, selector: str, swap: str = "innerHTML"):
    """Send an htmx response somewhere other than the element that asked."""
    resp.headers["HX-Retarget"] = selector
    resp.headers["HX-Reswap"] = swap
    return resp
