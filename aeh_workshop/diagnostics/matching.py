"""Matching company wishes with associations' joint offers (the company–association meetup).

A company's wishes are the Rameau categories its diagnostic fills in under "what
we want to do". A joint offer's categories are those whose "ask:<category>"
section says something; its territory is its "territory" section; its
associations are the organisations of its "brings:<id>" sections. A pair scores
by the categories they share, weighted by how much of the company's wishes the
offer covers, plus a bonus when their territories share a word (accents and
case aside). Pairs sharing no category are not proposed.
"""
import re
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Diagnostic, JointOffer, Organisation, Participant, Workshop
from ..vocab import RAMEAU, TERRITORY_MATCHES

COVERAGE_POINTS = 60      # all the company's wishes covered
SHARED_POINTS = 5         # per category in common
TERRITORY_POINTS = {"same": 20, "unknown": 0, "other": -10}
# Words that say nothing about a place.
STOP_WORDS = {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "sur", "sous",
              "pays", "agglomeration", "metropole", "communaute", "communes", "territoire"}
WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Wish:
    """A company and what it wants to do, from one diagnostic."""
    organisation: Organisation
    year: int
    categories: tuple[str, ...]
    territory: str


@dataclass(frozen=True)
class Offer:
    """A titled joint offer, as matching reads it."""
    id: int
    title: str
    workshop_id: int
    categories: tuple[str, ...]
    territory: str
    associations: tuple[str, ...]


@dataclass(frozen=True)
class Pair:
    company: Organisation
    year: int                          # of the diagnostic the wishes come from
    wishes: tuple[str, ...]
    company_territory: str
    offer: Offer
    shared: tuple[str, ...]
    territory: str                     # same, unknown or other
    score: int
    reasons: tuple[str, ...]


def words(place: str | None) -> set[str]:
    """The words of a place name, lower case, without accents or filler words."""
    plain = unicodedata.normalize("NFKD", place or "").encode("ascii", "ignore").decode().lower()
    return {w for w in WORD.findall(plain) if w not in STOP_WORDS and len(w) > 1}


def compare_territories(company: str, offer: str) -> str:
    """same (a word in common), unknown (either is blank) or other."""
    a, b = words(company), words(offer)
    if not a or not b:
        return "unknown"
    return "same" if a & b else "other"


def score(wishes: tuple[str, ...], shared: tuple[str, ...], territory: str) -> int:
    """0–100: how much of the wishes the offer covers, how many categories, where."""
    coverage = len(shared) / len(wishes) if wishes else 0
    return max(0, round(COVERAGE_POINTS * coverage + SHARED_POINTS * len(shared) + TERRITORY_POINTS[territory]))


def wishes(year: int | None = None, workshop: Workshop | None = None) -> list[Wish]:
    """Each company's latest diagnostic (or that of `year`) that wants something.

    For a meetup workshop, only the companies taking part in it, if any of them
    has a diagnostic; else every company.
    """
    query = db.select(Diagnostic).options(selectinload(Diagnostic.organisation)).order_by(Diagnostic.year.desc())
    if year is not None:
        query = query.where(Diagnostic.year == year)
    latest: dict[int, Diagnostic] = {}
    for row in db.session.scalars(query):
        latest.setdefault(row.organisation_id, row)
    if workshop is not None:
        present = set(db.session.scalars(db.select(Participant.organisation_id).where(
            Participant.workshop_id == workshop.id, Participant.kind == "company")))
        if present & latest.keys():
            latest = {org_id: row for org_id, row in latest.items() if org_id in present}
    out = []
    for row in latest.values():
        cats = tuple(c for c in RAMEAU if (row.wants or {}).get(c, "").strip())
        if cats:
            territory = row.territory or row.organisation.territory or ""
            out.append(Wish(row.organisation, row.year, cats, territory))
    return sorted(out, key=lambda w: (w.organisation.name.casefold(), w.organisation.id))


def offers() -> list[Offer]:
    """Every joint offer with a title, read the way matching needs."""
    rows = db.session.scalars(db.select(JointOffer).options(selectinload(JointOffer.sections))
                              .order_by(JointOffer.id)).all()
    org_ids = {int(s.key.partition(":")[2]) for o in rows for s in o.sections_of("brings") if s.text.strip()}
    names = dict(db.session.execute(db.select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(org_ids or [0]))).all())
    out = []
    for o in rows:
        if not o.title.strip():
            continue
        cats = tuple(c for c in RAMEAU if o.text(f"ask:{c}").strip())
        assoc = tuple(sorted((names[int(s.key.partition(":")[2])] for s in o.sections_of("brings")
                              if s.text.strip() and int(s.key.partition(":")[2]) in names), key=str.casefold))
        out.append(Offer(o.id, o.title.strip(), o.workshop_id, cats, o.text("territory").strip(), assoc))
    return out


def pairs(year: int | None = None, workshop: Workshop | None = None) -> list[Pair]:
    """Every (company, offer) sharing a category, best first."""
    found = []
    all_offers = offers()
    for wish in wishes(year, workshop):
        for offer in all_offers:
            shared = tuple(c for c in wish.categories if c in offer.categories)
            if not shared:
                continue
            where = compare_territories(wish.territory, offer.territory)
            found.append(Pair(wish.organisation, wish.year, wish.categories, wish.territory, offer, shared, where,
                              score(wish.categories, shared, where), reasons(wish, offer, shared, where)))
    return sorted(found, key=lambda p: (-p.score, p.company.name.casefold(), p.offer.id))


def reasons(wish: Wish, offer: Offer, shared: tuple[str, ...], where: str) -> tuple[str, ...]:
    """Why this pair, in words."""
    labels = ", ".join(str(RAMEAU[c]) for c in shared)
    out = [ngettext("En commun : %(categories)s — %(num)d envie sur %(total)d",
                    "En commun : %(categories)s — %(num)d envies sur %(total)d",
                    len(shared), categories=labels, total=len(wish.categories))]
    if where == "same" and words(wish.territory) == words(offer.territory):
        out.append(_("Même territoire : %(territory)s", territory=offer.territory))
    elif where == "same":
        out.append(_("Même territoire : %(company)s / %(offer)s", company=wish.territory, offer=offer.territory))
    elif where == "other":
        out.append(_("Autre territoire : %(company)s / %(offer)s", company=wish.territory, offer=offer.territory))
    else:
        out.append(str(TERRITORY_MATCHES["unknown"]).capitalize())
    return tuple(out)
