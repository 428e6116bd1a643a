"""The matching as the page groups it, and as XLSX or CSV (headers in the reader's language).

The files reuse the outcome downloads' writers: XLSX cells and CSV cells that a
spreadsheet would run as formulas are neutralised there.
"""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import force_locale, gettext as _

from ..models import Organisation
from ..outcomes import sheets, text
from ..outcomes.exports import CSV_TYPE, FORMATS
from ..outcomes.tables import Table
from ..vocab import RAMEAU, TERRITORY_MATCHES
from .matching import Pair


@dataclass
class CompanyRanking:
    company: Organisation
    year: int
    wishes: tuple[str, ...]
    territory: str
    pairs: list[Pair] = field(default_factory=list)


def by_company(pairs: list[Pair]) -> list[CompanyRanking]:
    """Each company with its offers, best first; companies by their best score, then name."""
    groups: dict[int, CompanyRanking] = {}
    for p in pairs:
        group = groups.setdefault(p.company.id, CompanyRanking(p.company, p.year, p.wishes, p.company_territory))
        group.pairs.append(p)
    return sorted(groups.values(), key=lambda g: (-g.pairs[0].score, g.company.name.casefold()))


def table(pairs: list[Pair]) -> Table:
    """One row per (company, offer), in the current language."""
    def cats(codes) -> str:
        return ", ".join(str(RAMEAU[c]) for c in codes)
    columns = [_("Entreprise"), _("Envies (diagnostic)"), _("Année du diagnostic"), _("Territoire de l'entreprise"),
               _("Offre commune"), _("Associations"), _("Catégories en commun"), _("Territoire de l'offre"),
               _("Territoire"), _("Score"), _("Raisons")]
    rows = [[p.company.name, cats(p.wishes), p.year, p.company_territory, p.offer.title,
             ", ".join(p.offer.associations), cats(p.shared), p.offer.territory, str(TERRITORY_MATCHES[p.territory]),
             p.score, " ; ".join(p.reasons)] for p in pairs]
    return Table("matching", _("Mise en relation"), columns, rows)


@dataclass(frozen=True)
class Download:
    filename: str
    mimetype: str
    data: bytes


def render(pairs: list[Pair], fmt: str, lang: str) -> Download:
    """The ranking as an XLSX or CSV file, labelled in `lang`."""
    with force_locale(lang):
        sheet = table(pairs)
        name = f"{_('Mise en relation entreprises–associations')} {date.today().isoformat()}.{fmt}"
        if fmt == "xlsx":
            return Download(name, FORMATS["xlsx"][1], sheets.render([sheet], sheet.title, lang))
        return Download(name, CSV_TYPE, text.csv_table(sheet))
