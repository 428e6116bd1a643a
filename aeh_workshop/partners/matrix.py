"""Partners × Le Rameau's categories: how many links each partner has in each category.

Pure arithmetic over map entries (anything with partner_id, partner.name,
partner.kind, category and status): the matrix page, the projector, the PDF and
the spreadsheet all draw the same grid from here.
"""
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from math import ceil

from ..vocab import RAMEAU

NONE = "none"      # the column of links not (or not validly) qualified yet
LEVELS = 4         # colour intensities of a non-empty cell: 1 (a few links) .. 4 (the most)


@dataclass
class Cell:
    count: int
    level: int     # 0 only when count is 0; else 1..LEVELS, relative to the matrix's largest cell


@dataclass
class Line:
    partner_id: int
    name: str
    kind: str
    cells: dict[str, Cell]      # one per column of the matrix
    total: int = 0
    active: int = 0
    wished: int = 0


@dataclass
class Matrix:
    columns: list[str]          # RAMEAU codes in the grid's order, then NONE when some link has no category
    lines: list[Line]           # most links first
    totals: dict[str, int]      # links per column
    grand_total: int
    largest: int = field(default=0)   # the largest cell's count (level LEVELS)

    def head(self, n: int) -> tuple[list[Line], Line | None]:
        """The first n lines, and the others summed into one line (None when there are no others)."""
        shown, rest = self.lines[:n], self.lines[n:]
        if not rest:
            return shown, None
        others = Line(0, "", "", {c: Cell(sum(ln.cells[c].count for ln in rest), 0) for c in self.columns},
                      sum(ln.total for ln in rest), sum(ln.active for ln in rest), sum(ln.wished for ln in rest))
        return shown, others


def build(entries: Iterable) -> Matrix:
    """The grid of a list of map entries; lines by number of links, then by name."""
    counts: dict[int, dict[str, int]] = {}
    lines: dict[int, Line] = {}
    for entry in entries:
        line = lines.get(entry.partner_id)
        if line is None:
            partner = entry.partner
            line = lines[entry.partner_id] = Line(entry.partner_id, partner.name, partner.kind or "other", {})
            counts[entry.partner_id] = {}
        column = entry.category if entry.category in RAMEAU else NONE
        counts[entry.partner_id][column] = counts[entry.partner_id].get(column, 0) + 1
        line.total += 1
        line.active += entry.status == "active"
        line.wished += entry.status == "wished"

    unqualified = any(NONE in by_column for by_column in counts.values())
    columns = list(RAMEAU) + ([NONE] if unqualified else [])
    largest = max((n for by_column in counts.values() for n in by_column.values()), default=0)
    for pid, line in lines.items():
        line.cells = {c: cell(counts[pid].get(c, 0), largest) for c in columns}
    ordered = sorted(lines.values(), key=lambda ln: (-ln.total, folded(ln.name), ln.partner_id))
    totals = {c: sum(ln.cells[c].count for ln in ordered) for c in columns}
    return Matrix(columns, ordered, totals, sum(totals.values()), largest)


def cell(count: int, largest: int) -> Cell:
    return Cell(count, level(count, largest))


def level(count: int, largest: int) -> int:
    """0 for an empty cell; otherwise the share of the largest cell, in LEVELS steps (the largest is LEVELS)."""
    if count <= 0 or largest <= 0:
        return 0
    return max(1, min(LEVELS, ceil(LEVELS * count / largest)))


def folded(name: str) -> str:
    """A name as sorting compares it: « Élan » beside « elan », before « Emmaüs »."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()
