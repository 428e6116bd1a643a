"""XLSX: one sheet per section, header row frozen and filtered, real numbers and dates.

Written in openpyxl's write-only mode (rows streamed to the file, a thousand cards
in a fraction of a second); freeze panes, filters and column widths are set
before the first row, as that mode requires.
"""
import re
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .tables import Table, column_widths, neutralised, xml_safe

SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def render(tables: list[Table], title: str, lang: str) -> bytes:
    """The workbook: one sheet per table."""
    wb = Workbook(write_only=True)
    wb.properties.title, wb.properties.creator, wb.properties.language = xml_safe(title), "AEH Atelier", lang
    bold = Font(bold=True)
    for table in tables:
        ws = wb.create_sheet(_sheet_name(table.title, wb.sheetnames))
        last = get_column_letter(len(table.columns))
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
        for i, width in enumerate(column_widths(table), 1):
            ws.column_dimensions[get_column_letter(i)].width = width + 2
        header = []
        for name in table.columns:
            cell = WriteOnlyCell(ws, value=name)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in table.rows:
            ws.append([_cell(value) for value in row])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell(value):
    """Texts neutralised (no formula runs) and cleared of characters XML cannot hold."""
    if isinstance(value, str):
        return neutralised(xml_safe(value))   # in this order: a stripped control character must not unmask a formula
    return value


def _sheet_name(title: str, taken: list[str]) -> str:
    """At most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = SHEET_NAME_UNSAFE.sub("-", title)[:31]
    name, n = base, 2
    while name in taken:
        name = f"{base[:28]} {n}"
        n += 1
    return name

