"""Company diagnostics and the matching of company wishes with associations' joint offers.

Companies fill their diagnostic from their participant page (a form outside
every pushed region: a push or a resync never wipes what someone is typing);
facilitators follow the answers live in the control room, the projector shows
the counts; every year of an organisation sits side by side on its history page.
"""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import access, realtime
from ..extensions import db
from ..htmx import wants_fragment
from ..models import Organisation, Workshop
from ..outcomes.routes import attachment
from ..workshops.service import by_code_or_404
from . import exports, matching, service
from .forms import DiagnosticForm, MatchingForm

bp = Blueprint("diagnostics", __name__)


@bp.record_once
def _regions(state):
    realtime.register_region(state.app, "diaglist", access.FAC, _render_list)
    realtime.register_region(state.app, "diagsummary", access.SCREEN, _render_summary)


def _render_list(workshop):
    """The facilitators' list of each company's answers (empty outside the diagnostic template)."""
    active = service.is_diagnostic(workshop)
    return render_template("diagnostics/_list.html", workshop=workshop, active=active,
                           year=service.year_of(workshop), companies=service.answers_of(workshop) if active else [])


def _render_summary(workshop):
    """The projector's counts per category (empty outside the diagnostic template)."""
    active = service.is_diagnostic(workshop)
    return render_template("diagnostics/_summary.html", workshop=workshop, active=active,
                           summary=service.summary(workshop) if active else None)


# ------------------------------------------------------------ participants

@bp.app_template_global("render_diagnostic")
def render_diagnostic(workshop, participant) -> Markup:
    """The participant page's diagnostic section: the form for companies, a note for others."""
    if not service.is_diagnostic(workshop):
        return Markup("")
    return Markup(_section(workshop, participant))


def _section(workshop, participant, form=None, message=None, error=False, current=None):
    year = service.year_of(workshop)
    start = saved = None
    if participant.kind == "company":
        start, saved = service.answers_for(participant.organisation, year)
        form = form or DiagnosticForm.filled(start)
    return render_template("diagnostics/_participant.html", workshop=workshop, participant=participant,
                           year=year, form=form, start=start, saved=saved, message=message, error=error,
                           current=current)


def _respond(workshop, participant, status=200, **ctx):
    """The section alone for htmx; a page of its own without JavaScript."""
    html = _section(workshop, participant, **ctx)
    if not wants_fragment():
        html = render_template("diagnostics/edit.html", workshop=workshop, section=Markup(html),
                               home=url_for("participants.page", code=workshop.join_code))
    resp = make_response(html, status)
    resp.vary.add("HX-Request")
    return resp


@bp.get("/w/<code>/diagnostic")
def form(code):
    """The participant's diagnostic, as last saved (or prefilled from an earlier year)."""
    workshop = by_code_or_404(code)
    participant = access.participant_or_403(workshop)
    if not service.is_diagnostic(workshop):
        abort(404)
    return _respond(workshop, participant)


@bp.post("/w/<code>/diagnostic")
def save(code):
    """Save this year's diagnostic of the participant's company, unless someone saved it since."""
    workshop = by_code_or_404(code)
    participant = service.require_company(access.participant_or_403(workshop))
    form = DiagnosticForm()
    if not form.validate_on_submit():
        return _respond(workshop, participant, 422, form=form, error=True,
                        message=_("Vérifiez les champs signalés : rien n'a été enregistré."))
    try:
        changed = service.save(workshop, participant, service.clean(form.answers()), form.version.data)
    except service.DiagnosticConflict as exc:
        form.keep_version(exc.current.version)
        return _respond(workshop, participant, 409, form=form, error=True, message=str(exc), current=exc.current)
    except service.DiagnosticError as exc:
        return _respond(workshop, participant, 409, form=form, error=True, message=str(exc))
    message = _("Diagnostic enregistré.") if changed else _("Aucun changement.")
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("participants.page", code=workshop.join_code) + "#diagnostic")
    return _respond(workshop, participant, message=message)


# ------------------------------------------------------------ facilitators

@bp.get("/organisations/<id:organisation_id>/diagnostics")
@login_required
def history(organisation_id):
    """Every year of an organisation's diagnostic, side by side."""
    organisation = db.get_or_404(Organisation, organisation_id)
    return render_template("diagnostics/history.html", organisation=organisation,
                           years=service.history(organisation))


def _matching_filters():
    """The page's filters from the query string: (form, year, workshop)."""
    form = MatchingForm(formdata=request.args)
    years = service.years()
    form.year.choices = [("", _("La dernière réponse de chaque entreprise"))] + [(str(y), str(y)) for y in years]
    if not form.validate() or (form.year.data and form.year.data not in {str(y) for y in years}):
        abort(make_response(render_template("diagnostics/matching.html", form=form, pairs=[], workshop=None,
                                            invalid=True), 422))
    workshop = None
    if form.workshop.data:
        workshop = db.get_or_404(Workshop, form.workshop.data)
        if not workshop.is_facilitated_by(current_user):
            abort(403)
    return form, int(form.year.data) if form.year.data else None, workshop


@bp.get("/matching")
@login_required
def matching_page():
    """Each company's wishes and the joint offers that answer them, best first."""
    form, year, workshop = _matching_filters()
    pairs = matching.pairs(year, workshop)
    return render_template("diagnostics/matching.html", form=form, pairs=pairs, workshop=workshop,
                           by_company=exports.by_company(pairs), query=_query(year, workshop))


@bp.get("/matching.<any(xlsx, csv):fmt>")
@login_required
def matching_download(fmt):
    """The same ranking as a spreadsheet (?lang=en for English headers)."""
    _form, year, workshop = _matching_filters()
    lang = str(get_locale() or "fr")
    export = exports.render(matching.pairs(year, workshop), fmt, lang)
    return attachment(export.data, export.mimetype, export.filename)


def _query(year, workshop) -> dict:
    return {k: v for k, v in (("year", year), ("workshop", workshop.id if workshop else None)) if v}
