"""Duplicates in a map: the suggestions, a merge, keeping partners apart, undo."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from . import merges, service
from .forms import MergeForm
from .routes import _structure, bp
from ..models import Structure


@bp.get("/structures/<id:structure_id>/duplicates")
def duplicates(structure_id):
    """Suggested merges with their score and reason; past merges, each can be undone."""
    structure = _structure(structure_id)
    return _duplicates_page(structure)


def _duplicates_page(structure: Structure, error: str | None = None, status: int = 200):
    return render_template("partners/duplicates.html", structure=structure, groups=merges.suggestions(structure),
                           links=merges.link_counts(structure), merges=merges.merges(structure),
                           form=MergeForm(), error=error), status


@bp.post("/structures/<id:structure_id>/duplicates/merge")
def merge(structure_id):
    structure = _structure(structure_id)
    form = MergeForm()
    if not form.validate_on_submit():
        return _duplicates_page(structure, _("Choisissez au moins deux partenaires, dont celui à garder."), 422)
    ids = list(dict.fromkeys(form.partners.data))
    group = next((g for g in merges.suggestions(structure) if set(ids) <= set(g.ids)), None)
    try:
        record = merges.merge(structure, ids, form.keep.data, score=group.score if group else None,
                               reasons=[r.code for r in group.reasons] if group else [], by=current_user.email)
    except service.MapError as exc:
        return _duplicates_page(structure, str(exc), 409)
    flash(ngettext("Fusion faite : %(num)d lien rattaché à « %(name)s ».",
                   "Fusion faite : %(num)d liens rattachés à « %(name)s ».", len(record.moves),
                   name=record.target.name), "success")
    return redirect(url_for("partners.duplicates", structure_id=structure.id))


@bp.post("/structures/<id:structure_id>/duplicates/apart")
def keep_apart(structure_id):
    structure = _structure(structure_id)
    form = MergeForm()
    form.keep.validators = []
    if not form.validate_on_submit():
        return _duplicates_page(structure, _("Choisissez au moins deux partenaires."), 422)
    try:
        merges.keep_apart(structure, form.partners.data)
    except service.MapError as exc:
        return _duplicates_page(structure, str(exc), 422)
    flash(_("Noté : ces partenaires ne seront plus proposés comme doublons."), "success")
    return redirect(url_for("partners.duplicates", structure_id=structure.id))


@bp.post("/structures/<id:structure_id>/merges/<id:merge_id>/undo")
def undo(structure_id, merge_id):
    structure = _structure(structure_id)
    try:
        restored = merges.undo(structure, merge_id)
    except service.MapError as exc:
        return _duplicates_page(structure, str(exc), 409)
    flash(ngettext("Fusion annulée : %(num)d lien a retrouvé son partenaire.",
                   "Fusion annulée : %(num)d liens ont retrouvé leur partenaire.", restored), "success")
    return redirect(url_for("partners.duplicates", structure_id=structure.id))
