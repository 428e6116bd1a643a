"""Plain-text downloads: CSV tables (alone or zipped together) and the Markdown report.

CSV follows RFC 4180 as Python's csv module writes it (Excel's dialect): comma
separators, CRLF line ends, quotes where needed, UTF-8 with a byte-order mark so
that Excel shows accents right. French Excel expects semicolons when a file is
double-clicked: open it with Data > From Text/CSV, or with LibreOffice, which
asks. Dates are ISO 8601 (2027-01-15), numbers plain digits; texts a spreadsheet
would run as formulas start with a quote.
"""
import csv
import re
import zipfile
from datetime import date, datetime
from io import BytesIO, StringIO

from .tables import Fields, Heading, Paragraph, Table, as_text, colon, neutralised

MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&])")   # & too: "&lt;" typed must not show as "<"
MD_LINE_START = re.compile(r"^(\s*)([#+=-])", re.MULTILINE)    # a heading, a list...
MD_NUMBERED = re.compile(r"^(\s*\d+)\.", re.MULTILINE)           # ...or a numbered list


def csv_table(table: Table) -> bytes:
    """One table as a CSV file."""
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([_csv_cell(value) for value in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def csv_zip(files: dict[str, Table], moment: datetime) -> bytes:
    """Several CSV files in one zip ({member name: table}), dated `moment` (the same bytes each time)."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, table in files.items():
            member = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, csv_table(table))
    return out.getvalue()


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return neutralised(value)


def markdown(blocks: list) -> bytes:
    """The report as Markdown (CommonMark with GitHub-style tables)."""
    lines = []
    for block in blocks:
        if isinstance(block, Heading):
            lines.append("#" * (block.level + 1) + " " + _md(block.text))
        elif isinstance(block, Paragraph):
            text = MD_NUMBERED.sub(r"\1\\.", MD_LINE_START.sub(r"\1\\\2", _md(block.text)))
            lines.append(text.replace("\n", "  \n"))
        elif isinstance(block, Fields):
            lines.append("\n".join(f"- **{_md(colon(label))}** {_md(as_text(value))}" for label, value in block.pairs))
        elif isinstance(block, Table):
            lines.append(_md_table(block))
    return ("\n\n".join(lines) + "\n").encode()


def _md_table(table: Table) -> str:
    if not table.rows:
        return _md(table.empty)
    numeric = [all(isinstance(row[i], int) or row[i] is None for row in table.rows) for i in range(len(table.columns))]
    rows = [[_md(name) for name in table.columns], ["---:" if n else "---" for n in numeric]]
    rows += [[_md(as_text(value)).replace("\n", "<br>") for value in row] for row in table.rows]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _md(text: str) -> str:
    """Text shown as written: Markdown's special characters escaped."""
    return MD_SPECIAL.sub(r"\\\1", text)
