"""The projector: join code and QR, phase, participant count, the live board."""
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import segno
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .. import access
from ..board import service as board
from ..extensions import login
from ..participants import service as participants
from ..workshops.service import by_code_or_404

bp = Blueprint("screen", __name__)


@bp.get("/w/<code>/screen")
def show(code):
    """Projector view: a facilitator's session, or the workshop's secret screen link."""
    workshop = by_code_or_404(code)
    key = request.args.get("key")
    if key is not None:
        if key != workshop.screen_token:
            abort(403)
        access.grant_screen(workshop)
        return redirect(url_for("screen.show", code=workshop.join_code))
    if not access.has_screen(workshop):
        if access.current_participant(workshop) or current_user.is_authenticated:
            abort(403)
        return login.unauthorized()
    join_url = public_url(url_for("participants.page", code=workshop.join_code))
    cards = board.visible_cards(workshop)
    return render_template("screen.html", workshop=workshop, join_url=join_url,
                           qr=qr_svg(join_url), count=participants.count(workshop),
                           columns=board.columns(workshop, cards), total=len(cards))


def qr_svg(url: str) -> Markup:
    """The join URL as an inline SVG QR code (segno), sized by CSS."""
    svg = segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#111", light="#fff",
                                                 omitsize=True)
    return Markup(svg)


def public_url(path: str) -> str:
    """An absolute URL people in the room can open from their phones.

    PUBLIC_URL wins; otherwise the request's host, except that a loopback host
    (the projector opened on the server itself) is replaced by the LAN address.
    """
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + path
    parts = urlsplit(request.host_url)
    host = parts.hostname or "localhost"
    if _is_loopback(host):
        lan = lan_address()
        if lan:
            netloc = lan + (f":{parts.port}" if parts.port else "")
            return urlunsplit((parts.scheme, netloc, path, "", ""))
    return request.host_url.rstrip("/") + path


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str | None:
    """This machine's first non-loopback IPv4 address, if it has one (no packet sent)."""
    for address in _interface_addresses() + _hostname_addresses():
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None


def _interface_addresses() -> list[str]:
    """IPv4 addresses of the network interfaces (Linux SIOCGIFADDR)."""
    try:
        import fcntl
        import struct
        names = [name for _index, name in socket.if_nameindex()]
    except (ImportError, OSError):
        return []
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in names:
            try:
                packed = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
                found.append(socket.inet_ntoa(packed[20:24]))
            except OSError:
                continue
    return found


def _hostname_addresses() -> list[str]:
    try:
        return [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        return []
