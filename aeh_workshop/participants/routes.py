"""Joining by code, the participant's page, coming back with a PIN."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _

from .. import access, guard, privacy, realtime
from ..board.forms import CardForm
from ..extensions import limiter
from ..workshops.service import by_code, by_code_or_404
from . import service
from .forms import CodeForm, JoinForm, LeaveForm, RejoinForm

bp = Blueprint("participants", __name__)

# Against floods of fake participants; wrong codes and PINs are counted by guard.
join_limit = limiter.limit(lambda: current_app.config["JOIN_CREATE_LIMIT"])


@bp.record_once
def _regions(state):
    realtime.register_region(state.app, "count", access.EVERYONE,
                             lambda w: render_template("participants/_count.html", workshop=w,
                                                       count=service.count(w)))
    realtime.register_region(state.app, "roster", access.FAC,
                             lambda w: render_template("participants/_roster.html", workshop=w))


@bp.post("/join")
def join_by_code():
    """The home page's code form: go to the workshop, or say the code is unknown."""
    form = CodeForm()
    if form.validate_on_submit():
        workshop = by_code(form.code.data)
        if workshop is not None:
            return redirect(url_for("participants.page", code=workshop.join_code))
        guard.count_failure()
        form.code.errors.append(_("Aucun atelier ne correspond à ce code. Vérifiez-le sur l'écran."))
        return render_template("core/index.html", form=form), 404
    return render_template("core/index.html", form=form), 422


@bp.get("/w/<code>")
def page(code):
    """The participant's screen, or the join form for a newcomer."""
    workshop = by_code_or_404(code)
    if code != workshop.join_code:
        return redirect(url_for("participants.page", code=workshop.join_code))
    participant = access.current_participant(workshop)
    if participant is None:
        return _join_page(workshop, JoinForm(), RejoinForm())
    return render_template("participants/page.html", workshop=workshop, participant=participant,
                           pin=session.pop("pin", None), form=CardForm(), leave_form=LeaveForm())


@bp.post("/w/<code>/join")
@join_limit
def join(code):
    """Join with a name, an organisation and its kind; the PIN is shown once."""
    workshop = by_code_or_404(code)
    form = JoinForm()
    if not workshop.is_open:
        return _join_page(workshop, form, RejoinForm()), 409
    if not form.validate_on_submit():
        return _join_page(workshop, form, RejoinForm()), 422
    _participant, pin = service.join(workshop, form.display_name.data, form.organisation.data, form.kind.data)
    session["pin"] = pin
    return redirect(url_for("participants.page", code=workshop.join_code))


@bp.post("/w/<code>/rejoin")
def rejoin(code):
    """Come back as oneself from another device, with one's name and PIN."""
    workshop = by_code_or_404(code)
    form = RejoinForm()
    if form.validate_on_submit():
        if not guard.has_budget():
            abort(429)
        if service.rejoin(workshop, form.display_name.data, form.pin.data):
            return redirect(url_for("participants.page", code=workshop.join_code))
        guard.count_failure()
        form.pin.errors.append(_("Nom ou code personnel incorrect."))
    return _join_page(workshop, JoinForm(formdata=None), form), 422


@bp.post("/w/<code>/leave")
def leave(code):
    """Leave the workshop: one's cards and votes removed while it runs, one's name once it is closed."""
    workshop = by_code_or_404(code)
    participant = access.current_participant(workshop)
    if participant is None:   # left already (a second click), or never joined here: nothing to do
        return redirect(url_for("participants.page", code=workshop.join_code))
    if not LeaveForm().validate_on_submit():
        abort(400)
    if privacy.leave(workshop, participant) == "removed":
        flash(_("Vous avez quitté l'atelier : vos cartes et vos gommettes ont été supprimées."), "success")
    else:
        flash(_("Vous avez quitté l'atelier : votre nom a été retiré de ses résultats, qui restent anonymes."),
              "success")
    return redirect(url_for("participants.page", code=workshop.join_code))


def _join_page(workshop, join_form, rejoin_form):
    return render_template("participants/join.html", workshop=workshop,
                           form=join_form, rejoin_form=rejoin_form)
