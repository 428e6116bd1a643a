"""Outcomes: the versions a facilitator downloads, and the page shared by a secret link."""
import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, abort, make_response, render_template, url_for
from flask_babel import get_locale, gettext as _

from .. import access, guard, realtime
from ..models import Workshop
from ..network import public_url
from . import exports, files, report, service

bp = Blueprint("outcomes", __name__)

MAX_VERSION = 2**31 - 1
# What the panel and the report page offer, in this order; the report page adds the single CSV files.
OFFERED = ("pdf", "xlsx", "docx", "csv", "md", "json", "ics")
SINGLE_CSV = ("cards.csv", "votes.csv", "actions.csv")


@bp.record_once
def _regions(state):
    realtime.register_region(state.app, "outcomectl", access.FAC, _render_outcomectl)
    realtime.register_region(state.app, "outcomelink", access.EVERYONE, _render_outcomelink)


def _render_outcomectl(workshop):
    return render_template("outcomes/_outcomectl.html", workshop=workshop, versions=service.versions(workshop),
                           formats=format_labels())


def _render_outcomelink(workshop):
    return render_template("outcomes/_participant.html", workshop=workshop)


def format_labels() -> list[tuple[str, str]]:
    """The download formats as people know them."""
    labels = {"pdf": "PDF", "xlsx": _("Excel (XLSX)"), "docx": _("Word (DOCX)"), "csv": _("CSV (zip)"),
              "md": "Markdown", "json": "JSON", "ics": _("Agenda (ICS)")}
    return [(fmt, labels[fmt]) for fmt in OFFERED]


# ------------------------------------------------------------ facilitators

@bp.get("/workshops/<id:workshop_id>/outcome")
def page(workshop_id):
    """The report as downloads give it now: the latest version once closed, else a provisional preview."""
    workshop = access.facilitated_or_404(workshop_id)
    return _report_page(workshop, service.current(workshop))


@bp.get("/workshops/<id:workshop_id>/outcome/v<id:version>")
def version(workshop_id, version):
    """One frozen version of the report."""
    workshop = access.facilitated_or_404(workshop_id)
    outcome = service.get(workshop, version) or abort(404)
    return _report_page(workshop, outcome.snapshot)


@bp.get("/workshops/<id:workshop_id>/outcome/<which>/download/<fmt>")
def download(workshop_id, which, fmt):
    """A version ("v3", or "current") as a file: PDF, XLSX, DOCX, CSV, Markdown, JSON, ICS."""
    workshop = access.facilitated_or_404(workshop_id)
    _known_format(fmt)
    snap = service.snapshot_of(workshop, _version_number(which))
    if snap is None:
        abort(404)
    return _file(snap, fmt, _share_url(workshop, snap.get("version")))


@bp.post("/workshops/<id:workshop_id>/outcome/share")
def share(workshop_id):
    """Make the secret link to the outcome page; answer with the share box."""
    workshop = access.facilitated_or_404(workshop_id)
    service.share(workshop)
    return _share_box(workshop)


@bp.get("/workshops/<id:workshop_id>/outcome/share")
def share_box(workshop_id):
    """The share box, fetched by the panel: a push cannot know the address people use."""
    return _share_box(access.facilitated_or_404(workshop_id))


def _share_box(workshop):
    url = _share_url(workshop)
    resp = make_response(render_template("outcomes/_share.html", workshop=workshop, share_url=url))
    resp.cache_control.no_store = True
    return resp


def _report_page(workshop, snap):
    shown = snap.get("version")
    which = f"v{shown}" if shown else "current"
    preview = url_for("outcomes.page", workshop_id=workshop.id) if workshop.is_open else None
    return _render_report(
        workshop, snap, lambda n: url_for("outcomes.version", workshop_id=workshop.id, version=n),
        lambda fmt: url_for("outcomes.download", workshop_id=workshop.id, which=which, fmt=fmt),
        preview_url=preview, back_url=url_for("workshops.show", workshop_id=workshop.id))


def _render_report(workshop, snap, version_url, download_url, **page):
    """The report page with its toolbar: every version (this one marked), this one's downloads."""
    versions = [{"label": _("v%(n)d", n=o.version), "shown": o.version == snap.get("version"),
                 "url": version_url(o.version)} for o in reversed(service.versions(workshop))]
    downloads = [(label, download_url(fmt), fmt == "pdf") for fmt, label in format_labels()]
    single = {"cards.csv": _("cartes"), "votes.csv": _("votes"), "actions.csv": _("actions")}
    csv_files = [(f"{single[fmt]}.csv", download_url(fmt)) for fmt in SINGLE_CSV if fmt in exports.FORMATS]
    return report.render(snap, versions=versions, downloads=downloads, csv_files=csv_files, **page)


# ----------------------------------------------------------- shared link

def _shared_workshop(token: str) -> Workshop:
    """The workshop behind a share link; wrong secrets count as guesses, like join codes."""
    return service.by_share_token(token) or guard.unknown_code()


@bp.get("/o/<token>")
def shared(token):
    """The outcome page for whoever has the link: the latest frozen version."""
    workshop = _shared_workshop(token)
    outcome = service.latest(workshop)
    if outcome is None:
        return _private(make_response(render_template("outcomes/pending.html", workshop=workshop)))
    return _shared_page(workshop, token, outcome.snapshot)


@bp.get("/o/<token>/v<id:version>")
def shared_version(token, version):
    """One frozen version, through the share link."""
    workshop = _shared_workshop(token)
    outcome = service.get(workshop, version) or abort(404)
    return _shared_page(workshop, token, outcome.snapshot)


@bp.get("/o/<token>/v<id:version>/download/<fmt>")
def shared_download(token, version, fmt):
    """One frozen version as a file, through the share link."""
    workshop = _shared_workshop(token)
    _known_format(fmt)
    outcome = service.get(workshop, version) or abort(404)
    return _private(_file(outcome.snapshot, fmt, _share_url(workshop, version)))


def _shared_page(workshop, token, snap):
    html = _render_report(
        workshop, snap, lambda n: url_for("outcomes.shared_version", token=token, version=n),
        lambda fmt: url_for("outcomes.shared_download", token=token, version=snap["version"], fmt=fmt))
    return _private(make_response(html))


def _private(resp):
    """Pages behind a secret link: not indexed, and the secret never leaks in a Referer."""
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.cache_control.private = True
    return resp


# --------------------------------------------------------------- helpers

def _version_number(which: str) -> int | None:
    """ "current" → None; "v3" or "3" → 3; anything else is a 404."""
    if which == "current":
        return None
    match = re.fullmatch(r"v?([1-9][0-9]{0,9})", which)
    if not match or int(match.group(1)) > MAX_VERSION:
        abort(404)
    return int(match.group(1))


def _share_url(workshop, version: int | None = None) -> str | None:
    """Where the QR code of a download leads: that version's page, when a share link exists."""
    if not workshop.share_token:
        return None
    if version:
        return public_url(url_for("outcomes.shared_version", token=workshop.share_token, version=version))
    return public_url(url_for("outcomes.shared", token=workshop.share_token))


def _known_format(fmt: str) -> None:
    if fmt not in exports.FORMATS:
        abort(404)


def _file(snap: dict, fmt: str, share_url: str | None):
    export = files.export(snap, fmt, lang=str(get_locale() or "fr"), share_url=share_url)
    return attachment(export.data, export.mimetype, export.filename)


def attachment(data: bytes, mimetype: str, filename: str):
    """A download: its real name (accents kept), never sniffed, never cached by a proxy."""
    resp = make_response(data)
    resp.headers["Content-Type"] = mimetype
    resp.headers["Content-Disposition"] = content_disposition(filename)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.cache_control.private = True
    return resp


def content_disposition(filename: str) -> str:
    """attachment; an ASCII fallback for old clients, and the real name (RFC 5987/6266)."""
    return f"attachment; filename=\"{ascii_filename(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"


LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'", "«": "", "»": ""})


def ascii_filename(filename: str) -> str:
    """« Cœur de Dombes.pdf » → "Coeur de Dombes.pdf": accents dropped, never a quote or a slash."""
    text = unicodedata.normalize("NFKD", filename.translate(LIGATURES)).encode("ascii", "ignore").decode()
    text = re.sub(r'[^A-Za-z0-9 ._()\'-]+', "_", text).strip(" ._") or "export"
    return re.sub(r"\s+", " ", text)
