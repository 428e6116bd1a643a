"""Facilitator pages: the list of workshops, create and edit, the control room."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access, realtime
from ..board.forms import CardForm, ClusterForm
from ..network import public_url
from . import service
from .forms import CoFacilitatorForm, PhaseForm, StatusForm, TimerForm, WorkshopForm

bp = Blueprint("workshops", __name__, url_prefix="/workshops")


@bp.record_once
def _regions(state):
    # Morphed, not replaced: the phase name stays the same element, so its aria-live announces a new phase.
    realtime.register_region(state.app, "phase", access.EVERYONE, _render_phase, swap="outerMorph")
    realtime.register_region(state.app, "phasectl", access.FAC, _render_phasectl)


def _render_phase(workshop):
    return render_template("workshops/_phase.html", workshop=workshop, timer=service.timer(workshop))


def _render_phasectl(workshop, error=None):
    return render_template("workshops/_phasectl.html", workshop=workshop, timer=service.timer(workshop),
                           phases=service.phases_offered(workshop), error=error)


@bp.get("/")
@login_required
def index():
    """The workshops this facilitator runs."""
    return render_template("workshops/index.html", workshops=service.for_facilitator(current_user))


@bp.get("/new")
@login_required
def new():
    """Form for a new workshop."""
    return render_template("workshops/form.html", form=WorkshopForm(), workshop=None)


@bp.post("/new")
@login_required
def create():
    """Create a workshop (as a draft) and open its control room."""
    form = WorkshopForm()
    if not form.validate_on_submit():
        return render_template("workshops/form.html", form=form, workshop=None), 422
    try:
        workshop = service.create(current_user, form.title.data, form.purpose.data, form.template.data,
                                  form.structure_id)
    except service.WorkshopError as exc:   # the structure was deleted meanwhile
        form.structure.errors.append(str(exc))
        return render_template("workshops/form.html", form=form, workshop=None), 422
    flash(_("Atelier créé. Code pour rejoindre : %(code)s", code=workshop.join_code), "success")
    return redirect(url_for("workshops.show", workshop_id=workshop.id))


@bp.get("/<id:workshop_id>")
def show(workshop_id):
    """The facilitator's control room: phases, board moderation, participants."""
    workshop = access.facilitated_or_404(workshop_id)
    join_url = public_url(url_for("participants.page", code=workshop.join_code))
    return render_template("workshops/show.html", workshop=workshop, form=CardForm(workshop=workshop),
                           join_url=join_url, cluster_form=ClusterForm(), cofac_form=CoFacilitatorForm())


@bp.get("/<id:workshop_id>/edit")
def edit(workshop_id):
    """Form to edit a workshop's title, purpose, template and structure."""
    workshop = access.facilitated_or_404(workshop_id)
    return render_template("workshops/form.html", form=WorkshopForm(obj=workshop), workshop=workshop)


@bp.post("/<id:workshop_id>/edit")
def update(workshop_id):
    """Save a workshop's title, purpose, template and structure."""
    workshop = access.facilitated_or_404(workshop_id)
    form = WorkshopForm()
    if not form.validate_on_submit():
        return render_template("workshops/form.html", form=form, workshop=workshop), 422
    try:
        service.update(workshop, form.title.data, form.purpose.data, form.template.data, form.structure_id)
    except service.WorkshopError as exc:
        form.structure.errors.append(str(exc))
        return render_template("workshops/form.html", form=form, workshop=workshop), 422
    flash(_("Atelier enregistré."), "success")
    return redirect(url_for("workshops.show", workshop_id=workshop.id))


@bp.post("/<id:workshop_id>/phase")
def phase(workshop_id):
    """Move the workshop to another phase; every screen follows."""
    workshop = access.facilitated_or_404(workshop_id)
    form = PhaseForm(workshop=workshop)
    if form.validate_on_submit():
        service.set_phase(workshop, form.phase.data)
        return _render_phasectl(workshop)
    return _refused(workshop, form)


@bp.post("/<id:workshop_id>/status")
def status(workshop_id):
    """Open, close or reopen the workshop."""
    workshop = access.facilitated_or_404(workshop_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            service.set_status(workshop, form.status.data)
        except service.WorkshopError as exc:
            return _render_phasectl(workshop, str(exc)), 409
        return _render_phasectl(workshop)
    return _refused(workshop, form)


@bp.post("/<id:workshop_id>/facilitators")
def add_facilitator(workshop_id):
    """Add a co-facilitator by the e-mail of their account."""
    workshop = access.facilitated_or_404(workshop_id)
    form = CoFacilitatorForm()
    message = None
    if form.validate_on_submit():
        try:
            user = service.add_co_facilitator(workshop, form.email.data)
            message = _("%(name)s co-anime maintenant cet atelier.", name=user.label)
            form = CoFacilitatorForm(formdata=None)
        except service.WorkshopError as exc:
            form.email.errors.append(str(exc))
    status = 200 if not form.errors else 422
    return render_template("workshops/_cofacilitators.html", workshop=workshop,
                           cofac_form=form, message=message), status


@bp.post("/<id:workshop_id>/timer")
def timer(workshop_id):
    """The phase's countdown: start, pause, resume, add minutes, stop."""
    workshop = access.facilitated_or_404(workshop_id)
    form = TimerForm()
    if form.validate_on_submit():
        try:
            service.timer_action(workshop, form.action.data, form.minutes.data)
        except service.WorkshopError as exc:
            return _render_phasectl(workshop, str(exc)), 422
        return _render_phasectl(workshop)
    return _refused(workshop, form)


def _refused(workshop, form):
    errors = "; ".join(e for errs in form.errors.values() for e in errs)
    return _render_phasectl(workshop, errors), 422
