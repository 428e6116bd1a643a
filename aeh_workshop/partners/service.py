"""The partnership map of each accompanied structure: structures, entries,
imports, promotion of workshop link cards (merges.py: duplicates; decisions.py:
the partner page, votes and actions).

Every write to a map starts by bumping its structure's revision: two
facilitators merging or importing at once take turns, and each sees the other's
work before deciding (the same lock-first rule as the workshop revision).
"""
import unicodedata
from dataclasses import dataclass, fields as dataclass_fields

from flask_babel import gettext as _, ngettext
from sqlalchemy import or_, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Card, MapEntry, Organisation, Structure, Workshop
from ..participants.service import organisation, organisation_key

MAX_NAME = 160


class MapError(ValueError):
    """A refused change, with the message to show (and the form field it concerns, if any)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ----------------------------------------------------------------- structures

def structures() -> list[Structure]:
    return list(db.session.scalars(db.select(Structure).order_by(Structure.name)))


def counts() -> dict[int, tuple[int, int]]:
    """Per structure: (links, partners)."""
    rows = db.session.execute(db.select(MapEntry.structure_id, db.func.count(MapEntry.id),
                                        db.func.count(db.distinct(MapEntry.partner_id)))
                              .group_by(MapEntry.structure_id))
    return {sid: (links, partners) for sid, links, partners in rows}


def structure_by_name(name: str) -> Structure | None:
    return db.session.scalar(db.select(Structure).filter_by(key=organisation_key(" ".join(name.split()))))


def create_structure(name: str) -> Structure:
    clean = " ".join((name or "").split())
    if not clean:
        raise MapError(_("Indiquez le nom de la structure."), field="name")
    if len(clean) > MAX_NAME:
        raise MapError(_("Le nom ne peut dépasser %(n)d caractères.", n=MAX_NAME), field="name")
    if structure_by_name(clean) is not None:
        raise MapError(_("Une structure porte déjà ce nom."), field="name")
    structure = Structure(name=clean, key=organisation_key(clean))
    db.session.add(structure)
    db.session.commit()
    return structure


def structure_for(name: str) -> tuple[Structure, bool]:
    """The structure of that name, created if new (the shell import): (it, created)."""
    existing = structure_by_name(name)
    return (existing, False) if existing else (create_structure(name), True)


def _lock(structure: Structure) -> None:
    """Bump the structure's revision first: concurrent writers to one map take turns."""
    db.session.execute(update(Structure).where(Structure.id == structure.id)
                       .values(revision=Structure.revision + 1))


# ------------------------------------------------------------------- reading

@dataclass
class Filters:
    category: str = ""
    status: str = ""
    holder: str = ""
    priority: str = ""
    kind: str = ""
    partner_id: int | None = None
    q: str = ""

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in dataclass_fields(self))


def entries(structure: Structure, filters: Filters | None = None) -> list[MapEntry]:
    """The map's links, partner by partner (filtered: "none" stands for not set)."""
    query = (db.select(MapEntry).join(MapEntry.partner).options(joinedload(MapEntry.partner))
             .where(MapEntry.structure_id == structure.id))
    f = filters or Filters()
    for column, value in ((MapEntry.category, f.category), (MapEntry.status, f.status),
                          (MapEntry.priority, f.priority)):
        if value == "none":
            query = query.where(column.is_(None))
        elif value:
            query = query.where(column == value)
    if f.holder:
        query = query.where(MapEntry.holder == f.holder)
    if f.kind:
        query = query.where(Organisation.kind == f.kind)
    if f.partner_id:
        query = query.where(MapEntry.partner_id == f.partner_id)
    if f.q:
        pattern = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Organisation.name.ilike(pattern, escape="\\"),
                                MapEntry.description.ilike(pattern, escape="\\"),
                                MapEntry.notes.ilike(pattern, escape="\\")))
    found = db.session.scalars(query.order_by(MapEntry.id)).unique()
    return sorted(found, key=lambda e: (sort_key(e.partner.name), e.id))


def sort_key(name: str) -> str:
    """Alphabetical as a French reader expects: « Élec » beside « Elan », not after « Z »."""
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


def holders(structure: Structure) -> list[str]:
    return list(db.session.scalars(db.select(MapEntry.holder).distinct()
                                   .where(MapEntry.structure_id == structure.id, MapEntry.holder != "")
                                   .order_by(MapEntry.holder)))


def entry_or_none(structure: Structure, entry_id: int) -> MapEntry | None:
    entry = db.session.get(MapEntry, entry_id)
    return entry if entry is not None and entry.structure_id == structure.id else None


def workshops_of(structure: Structure) -> list[Workshop]:
    return list(db.session.scalars(db.select(Workshop).filter_by(structure_id=structure.id)
                                   .order_by(Workshop.created_at.desc())))


# ------------------------------------------------------------------ entries

FIELDS = ("description", "category", "subtype", "direction", "status", "holder", "last_contact",
          "involvement", "notes", "priority", "next_action")
TEXT_LIMITS = {"description": 2000, "notes": 2000, "holder": 120, "subtype": 80, "next_action": 200}


def _partner(name: str, kind: str | None) -> Organisation:
    clean = " ".join((name or "").split())
    if not clean:
        raise MapError(_("Indiquez le partenaire."), field="partner")
    if len(clean) > MAX_NAME:
        raise MapError(_("Le nom ne peut dépasser %(n)d caractères.", n=MAX_NAME), field="partner")
    org = organisation(clean, kind or "other")
    if kind and org.kind == "other" and kind != "other":
        org.kind = kind   # a partner first named without its kind learns it
    return org


def _apply(entry: MapEntry, values: dict) -> None:
    for name in FIELDS:
        if name not in values:
            continue
        value = values[name]
        if value is None and name in ("description", "holder", "notes", "next_action"):
            value = ""
        if isinstance(value, str):
            value = value.strip()
            limit = TEXT_LIMITS.get(name)
            if limit and len(value) > limit:
                raise MapError(_("Ce texte ne peut dépasser %(n)d caractères.", n=limit), field=name)
            if name in ("category", "subtype", "direction", "status", "involvement", "priority"):
                value = value or None
        setattr(entry, name, value)


def add_entry(structure: Structure, partner: str, values: dict, kind: str | None = None) -> MapEntry:
    _lock(structure)
    try:
        entry = MapEntry(structure_id=structure.id, partner=_partner(partner, kind), source="manual")
        _apply(entry, values)
    except MapError:
        db.session.rollback()
        raise
    db.session.add(entry)
    db.session.commit()
    return entry


def edit_entry(structure: Structure, entry: MapEntry, partner: str, values: dict, kind: str | None = None) -> None:
    _lock(structure)
    try:
        org = _partner(partner, kind)
        entry.partner = org
        _apply(entry, values)
    except MapError:
        db.session.rollback()
        raise
    db.session.commit()


def delete_entry(structure: Structure, entry: MapEntry) -> None:
    _lock(structure)
    db.session.delete(entry)
    db.session.commit()


# ------------------------------------------------------------------- import

@dataclass
class Imported:
    links: int
    partners_new: int
    partners: int


def import_rows(structure: Structure, rows, source: str, dry_run: bool = False) -> Imported:
    """Write every row of an import, or none: one bad row refuses the whole file.

    `rows` are importer.Row objects (line, values, errors). With dry_run the
    work is done inside the transaction and rolled back: the counts are real.
    """
    bad = [row for row in rows if row.errors]
    if bad:
        raise MapError(ngettext("%(num)d ligne contient une erreur : rien n'a été importé.",
                                "%(num)d lignes contiennent des erreurs : rien n'a été importé.", len(bad)))
    if not rows:
        raise MapError(_("Le fichier ne contient aucune ligne à importer."))
    _lock(structure)
    known = set(db.session.scalars(db.select(Organisation.key)))
    seen: set[int] = set()
    new = 0
    try:
        for row in rows:
            values = dict(row.values)
            name = " ".join(str(values.pop("partner")).split())
            new += organisation_key(name) not in known
            known.add(organisation_key(name))
            org = _partner(name, values.pop("partner_kind", None))
            siren = values.pop("siren", None)
            if siren and not org.siren_rna:
                org.siren_rna = str(siren)
            seen.add(org.id)
            entry = MapEntry(structure_id=structure.id, partner=org, source="import",
                             source_label=_("%(file)s, ligne %(line)d", file=source, line=row.line)[:300])
            _apply(entry, values)
            db.session.add(entry)
        db.session.flush()
    except Exception:
        db.session.rollback()
        raise
    result = Imported(links=len(rows), partners_new=new, partners=len(seen))
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return result


# ---------------------------------------------------------------- workshops

@dataclass
class Promotable:
    card: Card
    entry_id: int | None      # already in the map


def promotable(workshop: Workshop) -> list[Promotable]:
    """A workshop's visible link cards naming a partner, and whether each is already in its map."""
    if workshop.structure_id is None:
        return []
    cards = db.session.scalars(db.select(Card).options(joinedload(Card.partner), joinedload(Card.author))
                               .where(Card.workshop_id == workshop.id, Card.kind == "link",
                                      Card.hidden.is_(False), Card.partner_id.is_not(None),
                                      Card.map_entry_id.is_(None))
                               .order_by(Card.id)).all()
    done = dict(db.session.execute(db.select(MapEntry.source_card_id, MapEntry.id).where(
        MapEntry.structure_id == workshop.structure_id, MapEntry.source_card_id.in_([c.id for c in cards] or [0]))).all())
    return [Promotable(card, done.get(card.id)) for card in cards]


def promote(workshop: Workshop, card_ids: list[int] | None = None) -> int:
    """Put link cards into the workshop's structure map (all, or those chosen),
    keeping where they came from; a card already there is skipped. How many were added."""
    if workshop.structure_id is None:
        raise MapError(_("Rattachez d'abord cet atelier à une structure (Modifier l'atelier)."))
    structure = db.session.get(Structure, workshop.structure_id)
    _lock(structure)
    todo = [p.card for p in promotable(workshop) if p.entry_id is None
            and (card_ids is None or p.card.id in card_ids)]
    if card_ids is not None and not todo:
        db.session.rollback()
        raise MapError(_("Cochez au moins une carte qui n'est pas encore dans la cartographie."))
    for card in todo:
        db.session.add(MapEntry(
            structure_id=structure.id, partner_id=card.partner_id, description=card.text[:2000],
            category=card.category, subtype=card.subtype, direction=card.direction, status=card.link_status,
            holder=(card.author.display_name if card.author else "")[:120], source="workshop",
            source_label=workshop.title[:300], source_workshop_id=workshop.id, source_card_id=card.id))
    db.session.commit()
    return len(todo)
