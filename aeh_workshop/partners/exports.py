"""A structure's partnership map as files: an XLSX workbook and an A4 landscape PDF.

Rendering only, from the entries the service found (filters applied, partners
loaded). Labels are in the language asked for, each translated once per file (a
map has thousands of links). The outcome downloads' helpers are reused: the
spreadsheet's texts are neutralised against formula injection and cleared of
what XML cannot hold (outcomes/tables.py), the PDF gets the report's stylesheets
read from disk and its translated page numbers (outcomes/pdf.py): nothing remote.
"""
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timezone
from io import BytesIO
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale, format_date, gettext as _, ngettext, to_user_timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from .. import vocab
from ..outcomes.pdf import _counter_content, _shared_rules
from ..outcomes.report import keep_together
from ..outcomes.sheets import _cell as sheet_value, _sheet_name
from ..outcomes.tables import Table, column_widths, xml_safe
from . import matrix as matrices

FORMATS = ("xlsx", "pdf")
STYLESHEETS = ("css/report.css", "css/report-pdf.css", "css/partners.css", "css/map-pdf.css")
# The matrix's tints, as in partners.css (.lvl-0 .. .lvl-4): (fill, text).
RAMP = [("F3F5F7", "4B5563"), ("CDEBDB", "1D2430"), ("86CFAC", "1D2430"), ("1F7A57", "FFFFFF"), ("0A4532", "FFFFFF")]
PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}
DATE_FORMATS = {"fr": "DD/MM/YYYY"}      # other languages: ISO, which no reader misreads
SLUG_CHARS = 60
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'"})
VOCABS = {"kinds": vocab.PARTICIPANT_KINDS, "rameau": vocab.RAMEAU, "directions": vocab.DIRECTIONS,
          "statuses": vocab.LINK_STATUSES, "involvement": vocab.INVOLVEMENT,
          "priorities": vocab.MAP_PRIORITIES, "sources": vocab.ENTRY_SOURCES}


# ------------------------------------------------------------------ names

def filename(structure, fmt: str, lang: str) -> str:
    """« cartographie-coeur-de-dombes-2026-11-29.xlsx »: ASCII, no quote nor slash (safe in any header)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown map export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    with force_locale(lang):
        prefix = _slug(_("Cartographie")) or "cartographie"
    return f"{prefix}-{_slug(structure.name) or 'structure'}-{today().isoformat()}.{fmt}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.translate(LIGATURES)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_CHARS].rstrip("-")


def today() -> date:
    """Today where the app's users are (its Babel time zone)."""
    return to_user_timezone(datetime.now(timezone.utc)).date()


def title(structure) -> str:
    return _("Cartographie des partenariats") + " — " + structure.name


# ------------------------------------------------------------------ labels

class Labels:
    """Every vocabulary of the map in the current language, translated once."""

    def __init__(self):
        self.maps = {name: {code: str(label) for code, label in mapping.items()} for name, mapping in VOCABS.items()}
        self.maps["rameau"][matrices.NONE] = _("à qualifier").capitalize()

    def __call__(self, vocabulary: str, code: str | None) -> str:
        """A code's label (an unknown code shows as itself, none as empty)."""
        return self.maps[vocabulary].get(code, code) if code else ""

    def column(self, code: str) -> str:
        return self.maps["rameau"][code]

    def source(self, entry) -> str:
        label = self("sources", entry.source)
        return f"{label} — {entry.source_label}" if entry.source_label else label


# ------------------------------------------------------------------ XLSX

def xlsx(structure, entries: Iterable, lang: str) -> bytes:
    """Three sheets: « Liens » (re-importable), « Matrice » (tinted counts), « Partenaires »."""
    entries = list(entries)
    with force_locale(lang):
        labels = Labels()
        grid = matrices.build(entries)
        wb = Workbook(write_only=True)
        wb.properties.title, wb.properties.creator = xml_safe(title(structure)), "AEH Atelier"
        wb.properties.language = lang
        dates = DATE_FORMATS.get(lang, "YYYY-MM-DD")
        _write(wb, _links(entries, labels), dates)
        _write(wb, _matrix(grid, labels), dates, tint=_tints(grid), footer=_matrix_totals(grid))
        _write(wb, _partners(entries, labels), dates)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _links(entries: list, labels: Labels) -> Table:
    """One row per link; its headers are ones the map's importer recognises."""
    columns = [_("Partenaire"), _("Type de structure"), _("Description"), _("Catégorie du Rameau"), _("Sous-type"),
               _("Sens du lien"), _("Statut du lien"), _("Porteur"), _("Dernier contact"),
               _("Implication des salariés"), _("Priorité"), _("Gommettes"), _("Prochaine action"), _("Notes"),
               _("Origine")]
    rows = [[e.partner.name, labels("kinds", e.partner.kind), e.description, labels("rameau", e.category),
             e.subtype, labels("directions", e.direction), labels("statuses", e.status), e.holder, e.last_contact,
             labels("involvement", e.involvement), labels("priorities", e.priority), e.dots, e.next_action,
             e.notes, labels.source(e)] for e in entries]
    return Table("links", _("Liens"), columns, rows)


def _matrix(grid: matrices.Matrix, labels: Labels) -> Table:
    columns = [_("Partenaire"), _("Type de structure")] + [labels.column(c) for c in grid.columns] + [_("Total")]
    rows = [[ln.name, labels("kinds", ln.kind)] + [ln.cells[c].count for c in grid.columns] + [ln.total]
            for ln in grid.lines]
    return Table("matrix", _("Matrice"), columns, rows)


def _matrix_totals(grid: matrices.Matrix) -> list:
    return [_("Total"), None] + [grid.totals[c] for c in grid.columns] + [grid.grand_total]


def _tints(grid: matrices.Matrix):
    """The style of a matrix cell by (row, column): its level's tint (none for an empty cell)."""
    first = 2     # the category columns follow the partner and its kind
    styles = [(PatternFill("solid", fgColor=fill), Font(color=ink, bold=True)) for fill, ink in RAMP]
    quiet = Font(color=RAMP[0][1])

    def tint(row: int, col: int):
        if not first <= col < first + len(grid.columns):
            return None
        cell = grid.lines[row].cells[grid.columns[col - first]]
        return styles[cell.level] if cell.level else (None, quiet)
    return tint


def _partners(entries: list, labels: Labels) -> Table:
    """One row per partner, alphabetical: its links, categories, last contact and highest priority."""
    by_partner: dict[int, list] = {}
    for e in entries:
        by_partner.setdefault(e.partner_id, []).append(e)
    order = list(labels.maps["rameau"])
    rows = []
    for links in sorted(by_partner.values(), key=lambda ls: (matrices.folded(ls[0].partner.name), ls[0].partner_id)):
        partner, statuses = links[0].partner, Counter(e.status for e in links)
        categories = {e.category if e.category in vocab.RAMEAU else matrices.NONE for e in links}
        contacts = [e.last_contact for e in links if e.last_contact]
        priorities = [e.priority for e in links if e.priority in PRIORITY_RANK]
        rows.append([partner.name, labels("kinds", partner.kind), len(links), statuses["active"], statuses["wished"],
                     ", ".join(labels.column(c) for c in order if c in categories), max(contacts, default=None),
                     labels("priorities", min(priorities, key=PRIORITY_RANK.get, default=None))])
    columns = [_("Partenaire"), _("Type de structure"), _("Liens"), _("Liens actifs"), _("Liens souhaités"),
               _("Catégories"), _("Dernier contact"), _("Priorité la plus haute")]
    return Table("partners", _("Partenaires"), columns, rows)


def _write(wb: Workbook, table: Table, dates: str, tint=None, footer: list | None = None) -> None:
    """A sheet like the outcome's (outcomes/sheets.py): bold frozen header, filter, widths; dates as
    dates, optional per-cell tints, and a footer row left out of the filter (a total stays last)."""
    ws = wb.create_sheet(_sheet_name(table.title, wb.sheetnames))
    ws.freeze_panes = "B2"     # the header and the partner's name stay in view
    ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    for i, width in enumerate(column_widths(table), 1):
        ws.column_dimensions[get_column_letter(i)].width = width + 2
    bold = Font(bold=True)
    ws.append([_styled(ws, name, font=bold) for name in table.columns])
    for r, row in enumerate(table.rows):
        cells = []
        for c, value in enumerate(row):
            style = tint(r, c) if tint else None
            if style:
                cells.append(_styled(ws, value, fill=style[0], font=style[1]))
            elif isinstance(value, date):
                cells.append(_styled(ws, value, number_format=dates))
            else:
                cells.append(sheet_value(value))
        ws.append(cells)
    if footer:
        ws.append([_styled(ws, value, font=bold) for value in footer])


def _styled(ws, value, fill=None, font=None, number_format=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=sheet_value(value))
    if fill is not None:
        cell.fill = fill
    if font is not None:
        cell.font = font
    if number_format:
        cell.number_format = number_format
    return cell


# ------------------------------------------------------------------ PDF

def pdf(structure, entries: Iterable, lang: str) -> bytes:
    """The report a structure's team reads: key figures, the matrix, then every link by category."""
    import weasyprint   # heavy (Pango); only the PDF needs it

    entries = list(entries)
    static = Path(current_app.static_folder)
    with force_locale(lang):
        # The shared layout (outcomes/_pdf_layout.html) names a workshop's facilitators as authors:
        # a map has none.
        html = keep_together(render_template(
            "partners/report.html", ws={"facilitators": []}, page_css=_page_css(),
            **report_context(structure, entries)))
    document = weasyprint.HTML(string=html, base_url=str(static))
    sheets = [weasyprint.CSS(string=_shared_rules(static / name), base_url=str(static)) for name in STYLESHEETS]
    return document.write_pdf(stylesheets=sheets)


def _page_css() -> str:
    """« page X / Y » on every page, in the reader's language (the first is no cover here)."""
    return f"@page {{ @bottom-right {{ content: {_counter_content(_('page %(page)s / %(pages)s'))}; }} }}"


def report_context(structure, entries: list) -> dict:
    """What the PDF shows, worked out in the current language."""
    labels = Labels()
    grid = matrices.build(entries)
    categories = [(code, labels.column(code), grid.totals[code]) for code in grid.columns]
    return {"structure": structure, "title": title(structure), "today": format_date(today(), "long"),
            "matrix": grid, "figures": _figures(entries, grid), "categories": categories,
            "categories_top": max((n for _c, _l, n in categories), default=0),
            "groups": _groups(entries, grid, labels)}


def _figures(entries: list, grid: matrices.Matrix) -> list[tuple[int, str]]:
    n = Counter(e.status if e.status in vocab.LINK_STATUSES else None for e in entries)
    figures = [(len(grid.lines), ngettext("partenaire", "partenaires", len(grid.lines))),
               (len(entries), ngettext("lien", "liens", len(entries))),
               (n["active"], ngettext("lien actif", "liens actifs", n["active"])),
               (n["past"], ngettext("lien passé", "liens passés", n["past"])),
               (n["wished"], ngettext("lien souhaité, à développer", "liens souhaités, à développer", n["wished"]))]
    if n[None]:
        figures.append((n[None], ngettext("lien sans statut", "liens sans statut", n[None])))
    return figures


def _groups(entries: list, grid: matrices.Matrix, labels: Labels) -> list[dict]:
    """The links under each column of the matrix, then under each priority, highest first, by partner."""
    groups: dict[str, list] = {code: [] for code in grid.columns}
    for e in entries:
        groups[e.category if e.category in vocab.RAMEAU else matrices.NONE].append(e)
    return [{"code": code, "label": labels.column(code), "count": len(links), "priorities": _by_priority(links, labels)}
            for code, links in groups.items() if links]


def _by_priority(links: list, labels: Labels) -> list[dict]:
    ranks: dict[str | None, list] = {code: [] for code in PRIORITY_RANK}
    ranks[None] = []
    for e in links:
        ranks[e.priority if e.priority in PRIORITY_RANK else None].append(e)
    return [{"code": code or "none",
             "label": _("Priorité : %(level)s", level=labels("priorities", code)) if code else _("Sans priorité"),
             "rows": [_row(e, labels) for e in sorted(rows, key=_by_partner)]}
            for code, rows in ranks.items() if rows]


def _by_partner(entry) -> tuple:
    return matrices.folded(entry.partner.name), entry.id


def _row(e, labels: Labels) -> dict:
    """A link as the PDF's line shows it: who, what, how it is qualified, where it stands."""
    details = [e.subtype, labels("directions", e.direction)]
    if e.involvement:
        details.append(_("salariés : %(answer)s", answer=labels("involvement", e.involvement)))
    facts = [_("porteur : %(name)s", name=e.holder) if e.holder else "",
             _("dernier contact : %(day)s", day=format_date(e.last_contact, "medium")) if e.last_contact else "",
             ngettext("%(num)d gommette", "%(num)d gommettes", e.dots).replace(" ", "\u00a0", 1) if e.dots else ""]
    return {"partner": e.partner.name, "kind": labels("kinds", e.partner.kind), "description": e.description,
            "details": " · ".join(d for d in details if d), "status": labels("statuses", e.status),
            "facts": " · ".join(f for f in facts if f), "next_action": e.next_action}
