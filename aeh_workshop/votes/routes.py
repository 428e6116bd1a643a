"""Dot votes: the facilitator's settings and controls, participants' dots, results, priorities."""
from flask import Blueprint, flash, get_template_attribute, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from .. import access, realtime, vocab
from ..board.service import card_or_404, visible_cards
from ..htmx import error_flash, wants_fragment
from ..workshops.service import by_code_or_404
from . import service
from .forms import DisplayForm, DotsForm, MoveForm, PromoteForm, VoteForm, VoteStatusForm

bp = Blueprint("votes", __name__, url_prefix="/w/<code>")


@bp.record_once
def _regions(state):
    app = state.app
    # The tally regions morph in place, so the bars slide to their new length.
    realtime.register_region(app, "votebox", access.EVERYONE, lambda w: _votebox(w, None))
    realtime.register_region(app, "results", access.EVERYONE, _render_results, swap="outerMorph")
    realtime.register_region(app, "screentally", access.SCREEN, _render_screentally, swap="outerMorph")
    realtime.register_region(app, "facresults", access.FAC, _render_facresults, swap="outerMorph")
    realtime.register_region(app, "votectl", access.FAC, lambda w: _render_votectl(w))
    realtime.register_region(app, "priorities", access.EVERYONE, _render_priorities)
    realtime.register_region(app, "prioctl", access.FAC, _render_prioctl)


def _labels() -> dict:
    """Words the result bars repeat on every row, translated once per render."""
    voters: dict[int, str] = {}

    def voters_label(n: int) -> str:
        if n not in voters:
            voters[n] = ngettext("%(num)d votant·e", "%(num)d votant·es", n)
        return voters[n]
    return {"groups": {g: str(label) for g, label in vocab.VOTE_GROUPS.items()},
            "rank": _("Rang"), "tie": _("ex æquo"), "retained": _("priorité"), "retain": _("Retenir"),
            "voters": voters_label}


def _current(workshop):
    """The workshop's current vote, read once per push for every region and language."""
    return realtime.once(("vote-current", workshop.id), lambda: service.current(workshop))


def _priorities(workshop):
    return realtime.once(("priorities", workshop.id), lambda: service.priorities(workshop))


def _results(vote):
    """The vote's tally, summed once per push for every region and language showing it."""
    return realtime.once(("vote-results", vote.id), lambda: service.results(vote))


def _render_results(workshop):
    """Participants' view: nothing of the tally until results are live or revealed."""
    vote = _current(workshop)
    results = _results(vote) if service.results_public(vote) else None
    return render_template("votes/_results.html", workshop=workshop, vote=vote, results=results, labels=_labels())


def _render_screentally(workshop):
    vote = _current(workshop)
    results = _results(vote) if vote and vote.status != "draft" else None
    return render_template("votes/_screentally.html", workshop=workshop, vote=vote, results=results,
                           labels=_labels())


def _render_facresults(workshop):
    vote = _current(workshop)
    results = _results(vote) if vote and vote.status != "draft" else None
    retained = {p.card_id for p in _priorities(workshop)}
    return render_template("votes/_facresults.html", workshop=workshop, vote=vote, results=results,
                           retained=retained, labels=_labels())


def _render_votectl(workshop, form=None, message=None, error=False):
    vote = service.current(workshop)
    if form is None:
        editing = vote if vote is not None and vote.status == "draft" else None
        form = VoteForm.for_settings(service.settings_of(editing) if editing else service.Settings())
    _choices(form, workshop, visible_cards(workshop))
    return render_template("votes/_votectl.html", workshop=workshop, vote=vote, form=form,
                           message=message, error=error, labels=_labels())


def _choices(form, workshop, cards):
    form.cluster.choices = [SelectChoice(0, "—")] + [SelectChoice(c.id, c.name) for c in workshop.clusters]
    form.shortlist.choices = [SelectChoice(c.id, c.text if len(c.text) <= 90 else c.text[:89] + "…") for c in cards]


def _render_priorities(workshop):
    """Everyone's list of priorities. Those retained from a vote whose results are
    still hidden stay off it: their order would give the ranking away."""
    shown = [p for p in service.priorities(workshop) if p.vote is None or service.results_public(p.vote)]
    return render_template("votes/_priorities.html", workshop=workshop, priorities=shown)


def _render_prioctl(workshop, error=None):
    return render_template("votes/_prioctl.html", workshop=workshop, priorities=service.priorities(workshop),
                           error=error)


@bp.app_template_global("render_votebox")
def _votebox(workshop, participant):
    """The ballot region. Pushed to everyone as an empty shell that fetches each
    person's own ballot; pages render it with that ballot already inside."""
    vote = service.current(workshop)
    ballot = service.ballot(vote, participant) if vote is not None and participant is not None else None
    return Markup(render_template("votes/_votebox.html", workshop=workshop, vote=vote, ballot=ballot))


# ------------------------------------------------------------ participants

@bp.get("/ballot")
def ballot(code):
    """This participant's ballot: the votable cards, their dots, what is left."""
    workshop = by_code_or_404(code)
    return _votebox(workshop, access.participant_or_403(workshop))


@bp.post("/votes/<id:vote_id>/cards/<id:card_id>")
def set_dots(code, vote_id, card_id):
    """Set this participant's dots on a card to N (idempotent).

    The answer (htmx) replaces only what changed on the ballot: the dots left,
    the message, and that card's row, so a vote costs the same on a board of
    ten cards or a thousand.
    """
    workshop = by_code_or_404(code)
    participant = access.participant_or_403(workshop)
    vote = service.vote_or_404(workshop, vote_id)
    card = card_or_404(workshop, card_id)
    form = DotsForm()
    message, status, placed, ballot = None, 200, False, None
    if not form.validate_on_submit():
        message, status = "; ".join(str(e) for errs in form.errors.values() for e in errs), 422
    else:
        try:
            # Kept loaded: the answer below shows the state this very transaction wrote.
            placed, ballot = service.place(workshop, vote, participant, card_id, form.dots.data, keep_loaded=True)
        except service.VoteError as exc:
            message, status = str(exc), 409
    if not wants_fragment():
        if message:
            flash(message, "error")
        return redirect(url_for("participants.page", code=workshop.join_code) + "#votebox")
    if ballot is None:
        ballot = service.ballot(service.vote_or_404(workshop, vote_id), participant, cards=False)
    head, note, row = (get_template_attribute("votes/_ballot_parts.html", name) for name in ("head", "message", "row"))
    if not placed:
        card = service.card_now(card_id)   # deleted meanwhile: its row leaves the ballot
    card_part = (realtime.partial(f"ballot-{card_id}", row(workshop, ballot.vote, ballot, card), "outerMorph")
                 if card is not None else realtime.partial(f"ballot-{card_id}", "", "delete"))
    html = (realtime.partial("ballot-head", head(ballot.vote, ballot), "outerMorph")
            + realtime.partial("ballot-msg", note(message)) + card_part)
    return html, status


# ------------------------------------------------------------ facilitators

def _facilitated(code):
    workshop = by_code_or_404(code)
    access.require_facilitator(workshop)
    return workshop


@bp.post("/vote")
def configure(code):
    """Save the vote's settings: a new vote, or the draft being prepared."""
    workshop = _facilitated(code)
    form = VoteForm()
    _choices(form, workshop, visible_cards(workshop))
    if not form.validate_on_submit():
        return _render_votectl(workshop, form=form, message=_("Vérifiez les champs signalés."), error=True), 422
    try:
        service.configure(workshop, service.current(workshop), form.settings())
    except service.VoteError as exc:
        return _render_votectl(workshop, form=form, message=str(exc), error=True), 409
    return _render_votectl(workshop, message=_("Vote enregistré."))


@bp.post("/votes/<id:vote_id>/status")
def status(code, vote_id):
    """Open, close or reopen the vote."""
    return _vote_panel_action(code, vote_id, VoteStatusForm,
                              lambda workshop, vote, form: service.set_status(workshop, vote, form.status.data))


@bp.post("/votes/<id:vote_id>/display")
def display(code, vote_id):
    """Show or hide results for participants and the projector; reveal them."""
    def apply(workshop, vote, form):
        revealed = None if not form.revealed.data else form.revealed.data == "1"
        service.set_display(workshop, vote, results=form.results.data or None,
                            screen=form.screen.data or None, revealed=revealed)
    return _vote_panel_action(code, vote_id, DisplayForm, apply)


def _vote_panel_action(code, vote_id, form_class, apply):
    """A button of the vote panel: validate, apply, answer with the panel (and why, if refused)."""
    workshop = _facilitated(code)
    vote = service.vote_or_404(workshop, vote_id)
    form = form_class()
    if not form.validate_on_submit():
        return _render_votectl(workshop, message=_("Requête invalide."), error=True), 422
    try:
        apply(workshop, vote, form)
    except service.VoteError as exc:
        return _render_votectl(workshop, message=str(exc), error=True), 409
    return _render_votectl(workshop)


@bp.post("/votes/<id:vote_id>/priorities")
def promote(code, vote_id):
    """Turn the top results (or one card) into ranked priorities."""
    workshop = _facilitated(code)
    vote = service.vote_or_404(workshop, vote_id)
    form = PromoteForm()
    if not form.validate_on_submit():
        return error_flash(_("Indiquez un nombre entre 1 et 50."), 422)
    try:
        if form.card.data:
            service.promote_card(workshop, vote, form.card.data)
        else:
            service.promote_top(workshop, vote, form.top.data or 3)
    except service.VoteError as exc:
        return error_flash(str(exc), 409)
    return _render_facresults(workshop)


@bp.post("/priorities/<id:priority_id>/move")
def move_priority(code, priority_id):
    workshop = _facilitated(code)
    form = MoveForm()
    if not form.validate_on_submit():
        return _render_prioctl(workshop, error=_("Requête invalide.")), 422
    try:
        service.move_priority(workshop, priority_id, form.offset.data)
    except service.VoteError as exc:
        return _render_prioctl(workshop, error=str(exc)), 409
    return _render_prioctl(workshop)


@bp.post("/priorities/<id:priority_id>/delete")
def remove_priority(code, priority_id):
    workshop = _facilitated(code)
    try:
        service.remove_priority(workshop, priority_id)
    except service.VoteError as exc:
        return _render_prioctl(workshop, error=str(exc)), 409
    return _render_prioctl(workshop)
