"""Importing a CSV or XLSX file of links into a map: upload, preview with the
columns guessed and the errors by line, then all the rows or none."""
import json
import re
import secrets
import time
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import ngettext

from . import importer, service
from .forms import UploadForm
from .routes import _structure, bp
from ..models import Structure

UPLOAD_MAX = 5 * 1024 * 1024
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
UPLOAD_TTL = 24 * 3600
PREVIEW_ROWS = 50


def _upload_dir() -> Path:
    folder = Path(current_app.config["IMPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    """Files uploaded and never confirmed go after a day."""
    limit = time.time() - UPLOAD_TTL
    for path in folder.glob("*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


@bp.get("/structures/<id:structure_id>/import")
def upload_page(structure_id):
    structure = _structure(structure_id)
    return render_template("partners/upload.html", structure=structure, form=UploadForm())


@bp.post("/structures/<id:structure_id>/import")
def upload(structure_id):
    """Keep the file aside and show its preview: nothing is written to the map yet."""
    structure = _structure(structure_id)
    form = UploadForm()
    if form.validate_on_submit():
        data = form.file.data.read(UPLOAD_MAX + 1)
        filename = Path(form.file.data.filename or "import").name[:120]
        try:
            importer.read(data, filename)
        except importer.FileError as exc:
            form.file.errors = [str(exc)]
        else:
            folder = _upload_dir()
            _sweep(folder)
            token = secrets.token_urlsafe(16)
            (folder / f"{token}.bin").write_bytes(data)
            (folder / f"{token}.json").write_text(json.dumps({"structure": structure.id, "filename": filename}))
            return redirect(url_for("partners.preview", structure_id=structure.id, token=token))
    return render_template("partners/upload.html", structure=structure, form=form), 422


upload.max_upload = UPLOAD_MAX   # the one route that takes a file (see UploadAwareRequest)


def _pending(structure: Structure, token: str) -> tuple[importer.Sheet, Path]:
    if not TOKEN.match(token):
        abort(404)
    folder = _upload_dir()
    meta_path, data_path = folder / f"{token}.json", folder / f"{token}.bin"
    try:
        meta = json.loads(meta_path.read_text())
        data = data_path.read_bytes()
    except (OSError, ValueError):
        abort(404)
    if meta.get("structure") != structure.id:
        abort(404)
    try:
        return importer.read(data, meta["filename"]), data_path
    except importer.FileError:
        abort(404)


def _mapping(sheet: importer.Sheet, source) -> dict[int, str]:
    """The column mapping from the form (col-<n> = field), else the guess."""
    if not any(key.startswith("col-") for key in source):
        return importer.guess(sheet.headers)
    mapping = {}
    for index in range(len(sheet.headers)):
        field = source.get(f"col-{index}", "")
        if field in importer.FIELDS:
            mapping[index] = field
    return mapping


def _preview(structure: Structure, token: str, sheet: importer.Sheet, mapping: dict[int, str],
             error: str | None = None, status: int = 200):
    problems = importer.check_mapping(mapping)
    rows = importer.parse(sheet, mapping) if not problems else []
    bad = [row for row in rows if row.errors]
    shown = bad[:200] + [row for row in rows[:PREVIEW_ROWS] if not row.errors]
    shown.sort(key=lambda row: row.line)
    return render_template("partners/preview.html", structure=structure, token=token, sheet=sheet,
                           mapping=mapping, problems=problems, rows=rows, bad=bad, shown=shown,
                           fields=importer.FIELDS, error=error, confirm_form=UploadForm()), status


@bp.get("/structures/<id:structure_id>/import/<token>")
def preview(structure_id, token):
    """Columns mapped (guessed, then as the facilitator sets them), errors by line; nothing written."""
    structure = _structure(structure_id)
    sheet, _path = _pending(structure, token)
    return _preview(structure, token, sheet, _mapping(sheet, request.args))


@bp.post("/structures/<id:structure_id>/import/<token>")
def confirm(structure_id, token):
    """Write every row, or none."""
    structure = _structure(structure_id)
    sheet, data_path = _pending(structure, token)
    mapping = _mapping(sheet, request.form)
    problems = importer.check_mapping(mapping)
    if problems:
        return _preview(structure, token, sheet, mapping, status=422)
    meta, claimed = data_path.with_suffix(".json"), data_path.with_suffix(".claimed")
    try:
        meta.rename(claimed)   # atomic: of two confirmations at once, one imports, the other gets a 404
    except OSError:
        abort(404)
    try:
        result = service.import_rows(structure, importer.parse(sheet, mapping), sheet.filename)
    except service.MapError as exc:
        claimed.rename(meta)
        return _preview(structure, token, sheet, mapping, error=str(exc), status=422)
    for path in (data_path, claimed):
        path.unlink(missing_ok=True)
    flash(ngettext("%(num)d lien importé", "%(num)d liens importés", result.links) + " — " +
          ngettext("%(num)d partenaire", "%(num)d partenaires", result.partners) + ".", "success")
    return redirect(url_for("partners.show", structure_id=structure.id))
