"""The outcome downloads: one snapshot rendered as PDF, XLSX, DOCX, CSV, Markdown, JSON or ICS.

Every format reads the snapshot alone (codes, not labels) and labels it in the
language asked for, so a version downloaded twice gives the same content. File
names come from the workshop's title (accents kept), its date and the version.
"""
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, gettext as _, lazy_gettext as _l

from . import docx_file, ics, sheets, text
from .tables import OutcomeView

CSV_TYPE = "text/csv; charset=utf-8"
FORMATS: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "csv": ("zip", "application/zip"),     # cards.csv, votes.csv and actions.csv together
    "cards.csv": ("csv", CSV_TYPE),
    "votes.csv": ("csv", CSV_TYPE),
    "actions.csv": ("csv", CSV_TYPE),
    "md": ("md", "text/markdown; charset=utf-8"),
    "json": ("json", "application/json"),
    "ics": ("ics", "text/calendar; charset=utf-8"),
}
# The CSV files: format -> (the table, the file's name in the reader's language).
CSV_FILES = {"cards.csv": (OutcomeView.cards, _l("cartes")), "votes.csv": (OutcomeView.votes, _l("votes")),
             "actions.csv": (OutcomeView.actions, _l("actions"))}
UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
TITLE_CHARS = 100


@dataclass(frozen=True)
class Export:
    filename: str
    mimetype: str
    data: bytes


def render(snapshot: dict, fmt: str, lang: str = "fr", share_url: str | None = None) -> Export:
    """The snapshot as a file in format `fmt` (a key of FORMATS), labelled in `lang`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    ext, mimetype = FORMATS[fmt]
    with force_locale(lang):
        if fmt in CSV_FILES:
            table, name = CSV_FILES[fmt]
            return Export(f"{_stem(snapshot)} {name}.{ext}", mimetype, text.csv_table(table(OutcomeView(snapshot))))
        return Export(filename(snapshot, ext), mimetype, _data(snapshot, fmt, lang, share_url))


def _data(snapshot: dict, fmt: str, lang: str, share_url: str | None) -> bytes:
    if fmt == "pdf":
        from .pdf import render_pdf   # WeasyPrint is heavy: loaded for PDFs only
        return render_pdf(snapshot, lang, share_url)
    if fmt == "json":
        return json.dumps(snapshot, ensure_ascii=False, indent=2).encode()
    if fmt == "ics":
        return ics.render(snapshot, share_url)
    view = OutcomeView(snapshot)
    title = snapshot["workshop"]["title"]
    if fmt == "xlsx":
        return sheets.render(view.tables(share_url), title, lang)
    if fmt == "docx":
        return docx_file.render(view.document(share_url), title, lang)
    if fmt == "md":
        return text.markdown(view.document(share_url))
    files = {f"{name}.csv": table(view) for table, name in CSV_FILES.values()}
    return text.csv_zip(files, datetime.fromisoformat(snapshot["frozen_at"]))


def filename(snapshot: dict, ext: str) -> str:
    """« Coopérations de l'Ain 2026-11-28 v2.xlsx »: title, date, version (or "provisoire")."""
    return f"{_stem(snapshot)}.{ext}"


def _stem(snapshot: dict) -> str:
    w = snapshot["workshop"]
    title = UNSAFE_IN_NAMES.sub("-", unicodedata.normalize("NFC", w["title"]))
    title = " ".join(title.split())[:TITLE_CHARS].strip(" .-") or w["code"]
    day = (w["closed_at"] or snapshot["frozen_at"])[:10]
    version = _("provisoire") if snapshot["provisional"] or not snapshot["version"] else f"v{snapshot['version']}"
    return f"{title} {day} {version}"
