"""Action plans: participants propose, facilitators add, validate, edit and follow them.

Participants' routes live under /w/<code>/actions, facilitators' under
/workshops/<id>/actions. The forms where people type sit outside the pushed
regions (or are fetched into that place for one person), so a push never wipes
what someone is writing.
"""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from .. import access, realtime
from ..extensions import db
from ..htmx import error_flash, page_or_fragment, wants_fragment
from ..workshops.service import by_code_or_404
from . import service
from .forms import ActionForm, FacilitatorActionForm, StatusForm

bp = Blueprint("actions", __name__)


@bp.record_once
def _regions(state):
    realtime.register_region(state.app, "actions", access.EVERYONE, _render_actions)
    realtime.register_region(state.app, "actionsctl", access.FAC, _render_actionsctl)
    realtime.register_region(state.app, "screenactions", access.SCREEN, _render_screenactions)


def _render_actions(workshop):
    """Everyone's view: the validated plan, then proposals awaiting validation."""
    return render_template("actions/_plan.html", workshop=workshop, plan=service.plan(workshop),
                           proposals=service.proposals(workshop), late=service.is_late)


def _render_actionsctl(workshop, error=None):
    return render_template("actions/_planctl.html", workshop=workshop, plan=service.plan(workshop),
                           proposals=service.proposals(workshop), late=service.is_late, error=error)


def _render_screenactions(workshop):
    return render_template("actions/_screenplan.html", workshop=workshop, plan=service.on_screen(workshop),
                           late=service.is_late)


# ----------------------------------------------------------- the form

def _urls(workshop, who, action=None) -> dict:
    """Where this viewer's form posts, cancels, and goes back to."""
    if who.facilitator:
        kw, prefix = {"workshop_id": workshop.id}, "actions.fac_"
        home = url_for("workshops.show", workshop_id=workshop.id) + "#actionsctl"
    else:
        kw, prefix = {"code": workshop.join_code}, "actions."
        home = url_for("participants.page", code=workshop.join_code) + "#actions"
    save = (url_for(prefix + "update", action_id=action.id, **kw) if action is not None
            else url_for(prefix + "create", **kw))
    return {"save": save, "cancel": url_for(prefix + "form", **kw), "home": home}


def _new_form(who, action=None, formdata=True):
    """This viewer's form (a facilitator's also has the status): posted, blank, or filled with an action."""
    cls = FacilitatorActionForm if who.facilitator else ActionForm
    if action is not None and not formdata:
        return cls.for_action(action, who.participant)
    return cls() if formdata else cls(formdata=None)


def _composer(workshop, who, form, action=None, message=None, status=200, done=False, opened=False):
    """The action form (fragment or page); once saved without htmx, back to the plan."""
    if done and not wants_fragment():
        flash(message, "success")
        return redirect(_urls(workshop, who)["home"])
    return page_or_fragment("actions/edit.html", "actions/_form.html", status,
                            **_form_context(workshop, who, form, action, message, status, opened))


def _form_context(workshop, who, form, action=None, message=None, status=200, opened=False) -> dict:
    participants = workshop.participants if who.facilitator else ()
    form.set_choices(service.links(workshop, action), me=who.participant, participants=participants,
                     current_owner=action.owner if action is not None else None)
    return {"workshop": workshop, "form": form, "action": action, "urls": _urls(workshop, who, action),
            "message": message, "error": status >= 400, "facilitator": who.facilitator,
            "opened": opened or action is not None or status >= 400, "closed": not workshop.is_open}


@bp.app_template_global("action_composer")
def _composer_global(workshop, participant=None):
    """The blank form, for the pages that include it (participant page, control room)."""
    who = service.Actor(participant, facilitator=participant is None)
    form = _new_form(who, formdata=False)
    return Markup(render_template("actions/_form.html", **_form_context(workshop, who, form)))


def _show_form(workshop, who, action_id=None):
    action = service.action_or_404(workshop, action_id) if action_id else None
    if action is not None:
        try:
            service.require_editable(workshop, who, action)
        except service.ActionError as exc:
            form = _new_form(who, formdata=False)
            return _composer(workshop, who, form, message=str(exc), status=409)
    form = _new_form(who, action, formdata=False)
    return _composer(workshop, who, form, action=action)


def _save(workshop, who, action_id=None):
    """Add an action (or a proposal), or save changes to one; the plan follows by push."""
    action = service.find(workshop, action_id) if action_id else None
    form = _new_form(who)
    if action_id and action is None:
        # Deleted while being edited: keep what was typed, to be saved as a new one.
        return _composer(workshop, who, form, status=409,
                         message=_("Cette action a été supprimée entre-temps : enregistrez-la à nouveau si besoin."))
    if not form.validate_on_submit():
        return _composer(workshop, who, form, action=action, status=422,
                         message=_("Vérifiez les champs signalés."))
    try:
        if action is None:
            added = service.add(workshop, who, form.fields())
        else:
            service.edit(workshop, who, action, form.fields())
    except service.ActionError as exc:
        db.session.rollback()
        if exc.field and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, str(exc)]
            return _composer(workshop, who, form, action=action, status=422,
                             message=_("Vérifiez les champs signalés."))
        return _composer(workshop, who, form, action=action, message=str(exc), status=409)
    if action is not None:
        message = _("Action modifiée.")
    elif added.validated:
        message = _("Action ajoutée au plan.")
    else:
        message = _("Proposition envoyée : l'animation la validera avant qu'elle rejoigne le plan.")
    fresh = _new_form(who, formdata=False)
    return _composer(workshop, who, fresh, message=message, done=True, opened=True)


def _change(workshop, who, action_id, change, done_message):
    """A button on the plan (validate, status, delete): apply, answer with the plan as this viewer sees it."""
    action = service.action_or_404(workshop, action_id)
    try:
        change(action)
    except service.ActionError as exc:
        db.session.rollback()
        if not wants_fragment():
            flash(str(exc), "error")
            return redirect(_urls(workshop, who)["home"])
        return error_flash(str(exc), 409)
    if not wants_fragment():
        flash(done_message, "success")
        return redirect(_urls(workshop, who)["home"])
    return _render_actionsctl(workshop) if who.facilitator else _render_actions(workshop)


def _set_status(workshop, who, action_id):
    form = StatusForm()
    if not form.validate_on_submit():
        if not wants_fragment():
            flash(_("Statut inconnu."), "error")
            return redirect(_urls(workshop, who)["home"])
        return error_flash(_("Statut inconnu."), 422)
    return _change(workshop, who, action_id,
                   lambda action: service.set_status(workshop, who, action, form.status.data), _("Statut mis à jour."))


# ----------------------------------------------------------- participants

def _participant(code):
    workshop = by_code_or_404(code)
    return workshop, service.actor(workshop)


@bp.get("/w/<code>/actions/form")
def form(code):
    """A blank proposal form (also how an edit is cancelled)."""
    workshop, who = _participant(code)
    return _show_form(workshop, who)


@bp.post("/w/<code>/actions")
def create(code):
    """Propose an action (a facilitator's goes straight into the plan)."""
    return _save(*_participant(code))


@bp.get("/w/<code>/actions/<id:action_id>/edit")
def edit(code, action_id):
    """One's own proposal, in the form, while it awaits validation."""
    return _show_form(*_participant(code), action_id)


@bp.post("/w/<code>/actions/<id:action_id>")
def update(code, action_id):
    """Save changes to one's own proposal."""
    return _save(*_participant(code), action_id)


@bp.post("/w/<code>/actions/<id:action_id>/delete")
def withdraw(code, action_id):
    """Withdraw one's own proposal."""
    workshop, who = _participant(code)
    return _change(workshop, who, action_id, lambda a: service.delete(workshop, who, a), _("Proposition retirée."))


@bp.post("/w/<code>/actions/<id:action_id>/status")
def status(code, action_id):
    """The owner of a validated action says where it stands."""
    return _set_status(*_participant(code), action_id)


# ----------------------------------------------------------- facilitators

def _facilitated(workshop_id):
    return access.facilitated_or_404(workshop_id), service.Actor(None, facilitator=True)


@bp.get("/workshops/<id:workshop_id>/actions/form")
def fac_form(workshop_id):
    """A blank action form (also how an edit is cancelled)."""
    return _show_form(*_facilitated(workshop_id))


@bp.post("/workshops/<id:workshop_id>/actions")
def fac_create(workshop_id):
    """Add an action to the plan, validated."""
    return _save(*_facilitated(workshop_id))


@bp.get("/workshops/<id:workshop_id>/actions/<id:action_id>/edit")
def fac_edit(workshop_id, action_id):
    """Any action, in the form."""
    return _show_form(*_facilitated(workshop_id), action_id)


@bp.post("/workshops/<id:workshop_id>/actions/<id:action_id>")
def fac_update(workshop_id, action_id):
    """Save changes to any action, its status included."""
    return _save(*_facilitated(workshop_id), action_id)


@bp.post("/workshops/<id:workshop_id>/actions/<id:action_id>/validate")
def validate(workshop_id, action_id):
    """Take a proposal into the plan."""
    workshop, who = _facilitated(workshop_id)
    return _change(workshop, who, action_id, lambda a: service.validate(workshop, who, a), _("Action validée."))


@bp.post("/workshops/<id:workshop_id>/actions/<id:action_id>/status")
def fac_status(workshop_id, action_id):
    """À faire, en cours, fait."""
    return _set_status(*_facilitated(workshop_id), action_id)


@bp.post("/workshops/<id:workshop_id>/actions/<id:action_id>/delete")
def delete(workshop_id, action_id):
    """Delete an action, or turn a proposal down."""
    workshop, who = _facilitated(workshop_id)
    return _change(workshop, who, action_id, lambda a: service.delete(workshop, who, a), _("Action supprimée."))
