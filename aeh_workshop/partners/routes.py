"""The partnership map of each accompanied structure: table, matrix, partners,
entries, votes and actions, exports (imports: import_routes.py; duplicates:
merge_routes.py). Facilitators only (the AEH team shares every map); views parse
a form, call the service, render. Every POST is CSRF-checked by CSRFProtect."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, ngettext
from flask_login import login_required

from .. import access
from ..extensions import db
from ..models import Structure
from . import decisions, merges, service
from .forms import EntryForm, FilterForm, SelectionForm, StructureForm

bp = Blueprint("partners", __name__)


@bp.before_request
@login_required
def _facilitators_only():
    """Every page of the map is for logged-in facilitators (the AEH team)."""


@bp.app_context_processor
def _globals():
    return {"map_promotable": service.promotable}


def _structure(structure_id: int) -> Structure:
    return db.get_or_404(Structure, structure_id)


# ------------------------------------------------------------------ structures

@bp.get("/structures/")
def index():
    """Every structure whose partnership map the team keeps."""
    return render_template("partners/index.html", structures=service.structures(), counts=service.counts(),
                           form=StructureForm())


@bp.post("/structures/")
def create():
    form = StructureForm()
    if form.validate_on_submit():
        try:
            structure = service.create_structure(form.name.data)
        except service.MapError as exc:
            form.name.errors = [str(exc)]
        else:
            flash(_("Structure créée. Importez ses liens ou ajoutez-les un par un."), "success")
            return redirect(url_for("partners.show", structure_id=structure.id))
    return render_template("partners/index.html", structures=service.structures(), counts=service.counts(),
                           form=form), 422


def _filters(structure: Structure) -> tuple[FilterForm, service.Filters]:
    form = FilterForm(request.args)
    form.fill(service.holders(structure))
    form.validate()
    return form, service.Filters(category=form.known("category"), status=form.known("status"),
                                 holder=form.known("holder"), priority=form.known("priority"),
                                 kind=form.known("kind"), q=(form.q.data or "")[:100])


@bp.get("/structures/<id:structure_id>")
def show(structure_id):
    """The map as a filterable table, with the tools to vote on links and follow them up."""
    structure = _structure(structure_id)
    form, filters = _filters(structure)
    found = service.entries(structure, filters)
    total = len(found) if not filters.active else len(service.entries(structure))
    return render_template("partners/show.html", structure=structure, entries=found, total=total,
                           filters=form, filtering=filters.active, workshops=service.workshops_of(structure),
                           my_workshops=decisions.my_workshops(structure), selection=SelectionForm(),
                           duplicates=merges.suggestion_count(structure))


@bp.get("/structures/<id:structure_id>/matrix")
def matrix(structure_id):
    """Partners × Le Rameau's categories; `?screen=1` is the projector's big-type version."""
    from . import matrix as matrices
    structure = _structure(structure_id)
    form, filters = _filters(structure)
    grid = matrices.build(service.entries(structure, filters))
    if request.args.get("screen"):
        return render_template("partners/matrix_screen.html", structure=structure, matrix=grid)
    return render_template("partners/matrix.html", structure=structure, matrix=grid, filters=form,
                           filtering=filters.active)


@bp.get("/structures/<id:structure_id>/partners/<id:partner_id>")
def partner(structure_id, partner_id):
    """One partner: all its links, the names merged into it, the workshops where it came up, its actions."""
    structure = _structure(structure_id)
    view = decisions.partner_view(structure, partner_id)
    if view is None:
        abort(404)
    open_workshops = [w for w in decisions.my_workshops(structure) if w.status != "closed"]
    return render_template("partners/partner.html", structure=structure, view=view,
                           structure_workshops=open_workshops)


# --------------------------------------------------------------------- entries

@bp.get("/structures/<id:structure_id>/entries/new")
def new_entry(structure_id):
    structure = _structure(structure_id)
    form = EntryForm(partner=request.args.get("partner", "")[:160])
    return render_template("partners/entry_form.html", structure=structure, form=form, entry=None)


@bp.post("/structures/<id:structure_id>/entries/new")
def add_entry(structure_id):
    structure = _structure(structure_id)
    form = EntryForm()
    if form.validate_on_submit():
        try:
            entry = service.add_entry(structure, form.partner.data, form.values(), form.partner_kind.data)
        except service.MapError as exc:
            _field_error(form, exc)
        else:
            flash(_("Lien ajouté avec %(name)s.", name=entry.partner.name), "success")
            return redirect(url_for("partners.show", structure_id=structure.id))
    return render_template("partners/entry_form.html", structure=structure, form=form, entry=None), 422


def _entry(structure: Structure, entry_id: int):
    entry = service.entry_or_none(structure, entry_id)
    if entry is None:
        abort(404)
    return entry


@bp.get("/structures/<id:structure_id>/entries/<id:entry_id>")
def edit_entry(structure_id, entry_id):
    structure = _structure(structure_id)
    entry = _entry(structure, entry_id)
    form = EntryForm(obj=entry, partner=entry.partner.name, partner_kind=entry.partner.kind)
    for name in ("category", "direction", "status", "involvement", "priority"):
        getattr(form, name).data = getattr(entry, name) or ""
    return render_template("partners/entry_form.html", structure=structure, form=form, entry=entry)


@bp.post("/structures/<id:structure_id>/entries/<id:entry_id>")
def update_entry(structure_id, entry_id):
    structure = _structure(structure_id)
    entry = _entry(structure, entry_id)
    form = EntryForm()
    if form.validate_on_submit():
        try:
            service.edit_entry(structure, entry, form.partner.data, form.values(), form.partner_kind.data)
        except service.MapError as exc:
            _field_error(form, exc)
        else:
            flash(_("Lien enregistré."), "success")
            return redirect(request.args.get("next_partner") and url_for(
                "partners.partner", structure_id=structure.id, partner_id=entry.partner_id)
                or url_for("partners.show", structure_id=structure.id))
    return render_template("partners/entry_form.html", structure=structure, form=form, entry=entry), 422


@bp.post("/structures/<id:structure_id>/entries/<id:entry_id>/delete")
def delete_entry(structure_id, entry_id):
    structure = _structure(structure_id)
    entry = _entry(structure, entry_id)
    service.delete_entry(structure, entry)
    flash(_("Lien supprimé."), "success")
    return redirect(url_for("partners.show", structure_id=structure.id))


def _errors(form) -> str:
    """A refused form's messages, for a flash (lazy strings made text)."""
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _field_error(form, exc: service.MapError) -> None:
    target = getattr(form, exc.field, None) if exc.field else None
    if target is not None:
        target.errors = [*target.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


# ------------------------------------------------------------- votes, actions

@bp.post("/structures/<id:structure_id>/vote")
def put_to_vote(structure_id):
    """Put the ticked links to a dot vote in a workshop of this structure."""
    structure = _structure(structure_id)
    form = SelectionForm()
    if not form.validate_on_submit():
        flash(_errors(form), "error")
        return redirect(url_for("partners.show", structure_id=structure.id))
    try:
        workshop, count = decisions.put_to_vote(structure, form.workshop.data, form.entries.data)
    except service.MapError as exc:
        flash(str(exc), "error")
        return redirect(url_for("partners.show", structure_id=structure.id))
    flash(ngettext("%(num)d lien soumis au vote : ouvrez le vote depuis l'atelier.",
                   "%(num)d liens soumis au vote : ouvrez le vote depuis l'atelier.", count), "success")
    return redirect(url_for("workshops.show", workshop_id=workshop.id))


@bp.post("/structures/<id:structure_id>/vote/apply")
def apply_vote(structure_id):
    """Carry a workshop's vote back into the map's priorities."""
    structure = _structure(structure_id)
    form = SelectionForm()
    if form.validate_on_submit():
        try:
            changed = decisions.apply_vote(structure, form.workshop.data)
        except service.MapError as exc:
            flash(str(exc), "error")
        else:
            flash(ngettext("Priorité mise à jour pour %(num)d lien.",
                           "Priorités mises à jour pour %(num)d liens.", changed), "success")
    else:
        flash(_errors(form), "error")
    return redirect(url_for("partners.show", structure_id=structure.id, priority=""))


@bp.post("/structures/<id:structure_id>/entries/<id:entry_id>/action")
def to_action(structure_id, entry_id):
    """The link's next action goes into a workshop's action plan."""
    structure = _structure(structure_id)
    entry = _entry(structure, entry_id)
    form = SelectionForm()
    if form.validate_on_submit():
        try:
            action = decisions.to_action(structure, entry, form.workshop.data)
        except service.MapError as exc:
            flash(str(exc), "error")
        else:
            flash(_("« %(title)s » ajoutée au plan d'action de l'atelier.", title=action.title), "success")
    else:
        flash(_errors(form), "error")
    return redirect(url_for("partners.partner", structure_id=structure.id, partner_id=entry.partner_id))


# ------------------------------------------------------------------ workshops

@bp.post("/workshops/<id:workshop_id>/map")
def promote(workshop_id):
    """Put a workshop's link cards into its structure's map: the ones ticked, or all."""
    workshop = access.facilitated_or_404(workshop_id)
    chosen = None if request.form.get("all") else [int(v) for v in request.form.getlist("cards")
                                                   if v.isdigit() and len(v) < 10]
    try:
        added = service.promote(workshop, chosen)
    except service.MapError as exc:
        flash(str(exc), "error")
    else:
        flash(ngettext("%(num)d lien versé dans la cartographie.", "%(num)d liens versés dans la cartographie.",
                       added) if added else _("Tous ces liens sont déjà dans la cartographie."), "success")
    return redirect(url_for("workshops.show", workshop_id=workshop.id) + "#map-panel")


# -------------------------------------------------------------------- exports

@bp.get("/structures/<id:structure_id>/download/<fmt>")
def download(structure_id, fmt):
    """The map (with the table's filters) as XLSX or PDF."""
    from ..outcomes.files import _off_loop
    from ..outcomes.routes import attachment
    from . import exports
    if fmt not in ("xlsx", "pdf"):
        abort(404)
    structure = _structure(structure_id)
    _form, filters = _filters(structure)
    lang = str(get_locale() or "fr")
    app = current_app._get_current_object()
    if fmt == "pdf":
        import weasyprint  # noqa: F401 -- loaded on the loop (see outcomes/files.py)

    def render() -> bytes:
        with app.app_context():
            here = db.session.get(Structure, structure.id)
            try:
                return getattr(exports, fmt)(here, service.entries(here, filters), lang)
            finally:
                db.session.remove()

    mimetype = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "pdf": "application/pdf"}[fmt]
    return attachment(_off_loop(render), mimetype, exports.filename(structure, fmt, lang))


# The import (a file, its preview, its confirmation) and the duplicates have their own modules.
from . import import_routes, merge_routes  # noqa: E402,F401  (register their routes on bp)
