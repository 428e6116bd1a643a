"""Cards on the board: post, edit, delete; moderation and clusters for facilitators."""
from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import access, realtime, vocab
from ..htmx import error_flash, page_or_fragment, wants_fragment
from ..workshops.service import by_code_or_404
from . import service
from .forms import AssignForm, CardForm, ClusterForm

bp = Blueprint("board", __name__, url_prefix="/w/<code>")


@bp.record_once
def _regions(state):
    realtime.register_region(state.app, "board", access.EVERYONE, _render_board)
    realtime.register_region(state.app, "modboard", access.FAC, _render_modboard)
    realtime.register_family(state.app, "card", access.EVERYONE,
                             lambda w, key: _render_card_push(w, int(key), moderate=False))
    realtime.register_family(state.app, "modcard", access.FAC,
                             lambda w, key: _render_card_push(w, int(key), moderate=True))


# The two boards: participants' and projector's ("own" controls, hidden cards
# left out) and the facilitators' ("moderate" controls, every card).
BOARDS = {False: {"controls": "own", "prefix": ""}, True: {"controls": "moderate", "prefix": "mod-"}}


def _card_context(workshop, moderate: bool) -> dict:
    """What every card of a board needs, worked out once per render, not per card."""
    return {
        "workshop": workshop, **BOARDS[moderate], "labels": vocab.resolved(),
        "cards_url": url_for("board.create", code=workshop.join_code),
        "t": {"edit": _("Modifier"), "delete": _("Supprimer"), "confirm": _("Supprimer cette carte ?"),
              "hide": _("Masquer"), "restore": _("Rétablir"), "hidden": _("masquée"), "with": _("avec"),
              "room": _("Animation"), "anonymous": _("Participant·e anonyme"), "cluster": _("Regroupement"),
              "loose": _("— sans regroupement —")},
    }


def _render_board(workshop):
    cards = service.visible_cards(workshop)
    return render_template("board/_board.html", columns=service.columns(workshop, cards),
                           **_card_context(workshop, moderate=False))


def _render_modboard(workshop):
    cards = service.all_cards(workshop)
    return render_template("board/_modboard.html", columns=service.columns(workshop, cards),
                           **_card_context(workshop, moderate=True))


def _render_card_push(workshop, card_id: int, moderate: bool) -> str:
    """One card's change: replaced in place, appended to its column, or removed; plus the counts."""
    card = service.card_for_push(workshop, card_id, include_hidden=moderate)
    return render_template("board/_card_push.html", card=card, card_id=card_id,
                           column=service.column_key(workshop, card) if card else None,
                           counts=service.column_counts(workshop, include_hidden=moderate),
                           **_card_context(workshop, moderate))


def _composer(workshop, who, form, card=None, message=None, status=200, done=False):
    """The card form; the board itself follows by the push every viewer gets.

    Without htmx (a plain form post or a link opened directly) the same routes
    answer with a whole page, or a redirect back to the board once done.
    """
    if done and not wants_fragment():
        flash(message, "success")
        return redirect(_home(workshop, who))
    return page_or_fragment("board/edit.html", "board/_composer.html", status, workshop=workshop,
                            form=form, card=card, message=message, error=status >= 400,
                            home=_home(workshop, who))


def _home(workshop, who) -> str:
    if who.facilitator:
        return url_for("workshops.show", workshop_id=workshop.id)
    return url_for("participants.page", code=workshop.join_code)


@bp.get("/composer")
def composer(code):
    """A fresh card form (also how an edit is cancelled)."""
    workshop = by_code_or_404(code)
    return _composer(workshop, service.actor(workshop), CardForm(formdata=None, workshop=workshop))


@bp.post("/cards")
def create(code):
    """Post a card to the board."""
    workshop = by_code_or_404(code)
    who = service.actor(workshop)
    form = CardForm(workshop=workshop)
    if not form.validate_on_submit():
        return _composer(workshop, who, form, status=422)
    try:
        service.post(workshop, who, form.card_fields())
    except service.BoardError as exc:
        return _composer(workshop, who, form, message=str(exc), status=409)
    return _composer(workshop, who, CardForm(formdata=None, workshop=workshop), message=_("Carte publiée."),
                     done=True)


@bp.get("/cards/<id:card_id>/edit")
def edit(code, card_id):
    """The card's form, filled in, in place of the composer."""
    workshop = by_code_or_404(code)
    who = service.actor(workshop)
    card = service.card_or_404(workshop, card_id)
    try:
        service.require_editable(workshop, who, card)
    except service.BoardError as exc:
        return _composer(workshop, who, CardForm(formdata=None, workshop=workshop), message=str(exc), status=409)
    form = CardForm(obj=card, workshop=workshop, card=card)
    # obj wins over keyword data in WTForms: card.partner is an Organisation, the field wants its name.
    form.partner.data = card.partner.name if card.partner else ""
    return _composer(workshop, who, form, card=card)


@bp.post("/cards/<id:card_id>")
def update(code, card_id):
    """Save changes to a card (its author, or a facilitator)."""
    workshop = by_code_or_404(code)
    who = service.actor(workshop)
    card = service.card_or_404(workshop, card_id)
    form = CardForm(workshop=workshop, card=card)
    if not form.validate_on_submit():
        return _composer(workshop, who, form, card=card, status=422)
    try:
        service.edit(workshop, who, card, form.card_fields())
    except service.BoardError as exc:
        return _composer(workshop, who, form, card=card, message=str(exc), status=409)
    return _composer(workshop, who, CardForm(formdata=None, workshop=workshop), message=_("Carte modifiée."),
                     done=True)


@bp.post("/cards/<id:card_id>/delete")
def delete(code, card_id):
    """Delete a card (its author, or a facilitator)."""
    workshop = by_code_or_404(code)
    who = service.actor(workshop)
    card = service.card_or_404(workshop, card_id)
    try:
        service.delete(workshop, who, card)
    except service.BoardError as exc:
        return _composer(workshop, who, CardForm(formdata=None, workshop=workshop), message=str(exc), status=409)
    return _composer(workshop, who, CardForm(formdata=None, workshop=workshop), message=_("Carte supprimée."),
                     done=True)


@bp.post("/cards/<id:card_id>/hide")
def hide(code, card_id):
    """Moderation: hide a card from participants and the projector."""
    return _moderate(code, card_id, hidden=True)


@bp.post("/cards/<id:card_id>/restore")
def restore(code, card_id):
    """Moderation: show a hidden card again."""
    return _moderate(code, card_id, hidden=False)


def _moderate(code, card_id, hidden):
    workshop = by_code_or_404(code)
    access.require_facilitator(workshop)
    try:
        service.set_hidden(workshop, service.card_or_404(workshop, card_id), hidden)
    except service.BoardError as exc:
        return error_flash(str(exc), 409)
    return _render_modboard(workshop)


@bp.post("/cards/<id:card_id>/cluster")
def assign(code, card_id):
    """Put a card into one of the workshop's clusters."""
    workshop = by_code_or_404(code)
    access.require_facilitator(workshop)
    form = AssignForm()
    card = service.card_or_404(workshop, card_id)
    if form.validate_on_submit():
        try:
            service.assign(workshop, card, form.cluster.data or "")
        except service.BoardError as exc:
            return error_flash(str(exc), 422)
        return _render_modboard(workshop)
    return error_flash(_("Requête invalide."), 422)


@bp.post("/clusters")
def add_cluster(code):
    """Create a named cluster to group cards during qualification."""
    workshop = by_code_or_404(code)
    access.require_facilitator(workshop)
    form = ClusterForm()
    if form.validate_on_submit():
        try:
            service.add_cluster(workshop, form.name.data)
            form = ClusterForm(formdata=None)
        except service.BoardError as exc:
            form.name.errors.append(str(exc))
    html = render_template("board/_clusters.html", workshop=workshop, cluster_form=form)
    return make_response(html + realtime.partial("modboard", _render_modboard(workshop)),
                         422 if form.errors else 200)


@bp.post("/clusters/<id:cluster_id>/delete")
def delete_cluster(code, cluster_id):
    """Remove a cluster; its cards stay on the board, ungrouped."""
    workshop = by_code_or_404(code)
    access.require_facilitator(workshop)
    try:
        service.delete_cluster(workshop, cluster_id)
    except service.BoardError as exc:
        return error_flash(str(exc), 409)
    html = render_template("board/_clusters.html", workshop=workshop, cluster_form=ClusterForm(formdata=None))
    return html + realtime.partial("modboard", _render_modboard(workshop))
