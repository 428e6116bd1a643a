"""The projector: join code and QR, phase, participant count, the live board."""
import segno
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .. import access
from ..extensions import login
from ..network import public_url
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
    return render_template("screen.html", workshop=workshop, join_url=join_url, qr=qr_svg(join_url))


def qr_svg(url: str) -> Markup:
    """The join URL as an inline SVG QR code (segno), sized by CSS."""
    svg = segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#111", light="#fff",
                                                 omitsize=True)
    return Markup(svg)
