"""The partnership map of each accompanied structure: entries, imports, promotion
from workshops, duplicate merges (with undo), votes on entries, next actions.

Every write to a map starts by bumping its structure's revision: two
facilitators merging or importing at once take turns, and each sees the other's
work before deciding (the same lock-first rule as the workshop revision).
"""
import unicodedata
from dataclasses import dataclass, fields as dataclass_fields
from datetime import date
from itertools import combinations

from flask_babel import gettext as _, ngettext
from sqlalchemy import or_, update
from sqlalchemy.orm import joinedload

from .. import access, realtime
from ..extensions import db
from ..models import (Action, Card, MapEntry, Organisation, Participant, PartnerDistinct, PartnerMerge, Priority,
                      Structure, Workshop, touch, utcnow)
from ..participants.service import organisation, organisation_key
from . import names

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


# --------------------------------------------------------------- duplicates

def partners_in(structure: Structure) -> list[Organisation]:
    found = db.session.scalars(db.select(Organisation).where(Organisation.id.in_(
        db.select(MapEntry.partner_id).where(MapEntry.structure_id == structure.id))))
    return sorted(found, key=lambda o: (sort_key(o.name), o.id))


def link_counts(structure: Structure) -> dict[int, int]:
    return dict(db.session.execute(db.select(MapEntry.partner_id, db.func.count(MapEntry.id))
                                   .where(MapEntry.structure_id == structure.id).group_by(MapEntry.partner_id)).all())


_suggestion_counts: dict[int, tuple[int, int]] = {}


def suggestion_count(structure: Structure) -> int:
    """How many groups are suggested, computed again only when the map changed."""
    cached = _suggestion_counts.get(structure.id)
    if cached is None or cached[0] != structure.revision:
        cached = (structure.revision, len(suggestions(structure)))
        _suggestion_counts[structure.id] = cached
    return cached[1]


def suggestions(structure: Structure) -> list[names.Group]:
    """Groups of this map's partners that look like one company, best first."""
    rejected = [frozenset((d.first_id, d.second_id)) for d in
                db.session.scalars(db.select(PartnerDistinct).filter_by(structure_id=structure.id))]
    partners = [names.Name(o.id, o.name, o.siren_rna) for o in partners_in(structure)]
    return names.suggest(partners, rejected=rejected)


def merge(structure: Structure, ids: list[int], target_id: int, score: float | None = None,
          reasons: list | None = None, by: str = "") -> PartnerMerge:
    """Repoint every link of the partners `ids` to `target_id` in this map. Nothing
    is deleted: the merge records each link's partner before, for undo."""
    _lock(structure)
    present = set(db.session.scalars(db.select(MapEntry.partner_id).where(
        MapEntry.structure_id == structure.id, MapEntry.partner_id.in_(ids or [0]))))
    others = [i for i in dict.fromkeys(ids) if i != target_id]
    if target_id not in ids or len(set(ids)) < 2:
        db.session.rollback()
        raise MapError(_("Choisissez au moins deux partenaires, dont celui à garder."))
    if not set(ids) <= present:
        db.session.rollback()
        raise MapError(_("Ces partenaires viennent de changer dans la cartographie : rechargez la page."))
    moved = db.session.scalars(db.select(MapEntry).where(
        MapEntry.structure_id == structure.id, MapEntry.partner_id.in_(others)).order_by(MapEntry.id)).all()
    target = db.session.get(Organisation, target_id)
    record = PartnerMerge(structure_id=structure.id, target_id=target_id, target_name_before=target.name,
                          merged=[{"id": o.id, "name": o.name} for o in
                                  db.session.scalars(db.select(Organisation).where(Organisation.id.in_(others)))],
                          moves=[[e.id, e.partner_id] for e in moved], score=score,
                          reasons=reasons or [], done_by=by[:254])
    for entry in moved:
        entry.partner_id = target_id
    db.session.add(record)
    db.session.commit()
    return record


def merges(structure: Structure) -> list[PartnerMerge]:
    return list(db.session.scalars(db.select(PartnerMerge).filter_by(structure_id=structure.id)
                                   .order_by(PartnerMerge.id.desc())))


def undo(structure: Structure, merge_id: int) -> int:
    """Give each link moved by a merge its partner back; how many links. A later
    merge that moved the same links must be undone first."""
    _lock(structure)
    record = db.session.get(PartnerMerge, merge_id)
    if record is None or record.structure_id != structure.id:
        db.session.rollback()
        raise MapError(_("Cette fusion n'existe pas."))
    if record.undone_at is not None:
        db.session.rollback()
        raise MapError(_("Cette fusion a déjà été annulée."))
    mine = {entry_id for entry_id, _before in record.moves}
    later = db.session.scalars(db.select(PartnerMerge).where(
        PartnerMerge.structure_id == structure.id, PartnerMerge.id > record.id,
        PartnerMerge.undone_at.is_(None))).all()
    if any(mine & {entry_id for entry_id, _b in m.moves} or m.target_id in {o["id"] for o in record.merged}
           for m in later):
        db.session.rollback()
        raise MapError(_("Une fusion plus récente concerne ces partenaires : annulez-la d'abord."))
    restored = 0
    for entry_id, before in record.moves:
        entry = db.session.get(MapEntry, entry_id)
        if entry is not None and entry.partner_id == record.target_id and entry.created_at <= record.created_at:
            entry.partner_id = before
            restored += 1
    record.undone_at = utcnow()
    db.session.commit()
    return restored


def keep_apart(structure: Structure, ids: list[int]) -> None:
    """A facilitator says these partners are different companies: never suggest them together again."""
    _lock(structure)
    unique = sorted(set(ids))
    if len(unique) < 2:
        db.session.rollback()
        raise MapError(_("Choisissez au moins deux partenaires."))
    if not set(unique) <= {o.id for o in partners_in(structure)}:
        db.session.rollback()
        raise MapError(_("Ces partenaires viennent de changer dans la cartographie : rechargez la page."))
    existing = {(d.first_id, d.second_id) for d in
                db.session.scalars(db.select(PartnerDistinct).filter_by(structure_id=structure.id))}
    for first, second in combinations(unique, 2):
        if (first, second) not in existing:
            db.session.add(PartnerDistinct(structure_id=structure.id, first_id=first, second_id=second))
    db.session.commit()


def aliases(structure: Structure, partner_id: int) -> list[dict]:
    """The names merged into this partner in this map ({"id", "name"}), oldest first."""
    found = []
    for record in reversed(merges(structure)):
        if record.undone_at is None and record.target_id == partner_id:
            found.extend(record.merged)
    return found


# -------------------------------------------------------------- partner page

@dataclass
class PartnerView:
    partner: Organisation
    entries: list[MapEntry]
    aliases: list[dict]
    workshops: list[Workshop]
    actions: list[Action]


def partner_view(structure: Structure, partner_id: int) -> PartnerView | None:
    partner = db.session.get(Organisation, partner_id)
    if partner is None:
        return None
    found = entries(structure, Filters(partner_id=partner_id))
    merged = aliases(structure, partner_id)
    if not found and not merged:
        return None
    ids = [partner_id] + [a["id"] for a in merged]
    entry_ids = [e.id for e in found] or [0]
    came_up = db.union(db.select(Card.workshop_id).where(Card.partner_id.in_(ids)),
                       db.select(Participant.workshop_id).where(Participant.organisation_id.in_(ids)),
                       db.select(MapEntry.source_workshop_id).where(MapEntry.id.in_(entry_ids)))
    workshops = db.session.scalars(db.select(Workshop).where(Workshop.id.in_(came_up))
                                   .order_by(Workshop.created_at.desc())).all()
    actions = db.session.scalars(db.select(Action).options(joinedload(Action.card)).outerjoin(Action.card).where(
        or_(Action.map_entry_id.in_(entry_ids), Card.map_entry_id.in_(entry_ids)))
        .order_by(Action.due_on.is_(None), Action.due_on, Action.id)).unique().all()
    return PartnerView(partner, found, merged, list(workshops), list(actions))


# ------------------------------------------------------------ vote, actions

def _structure_workshop(structure: Structure, workshop_id: int | None, open_only: bool = True) -> Workshop:
    """A workshop of this structure that the current facilitator runs (the map is the
    team's; a workshop's board and plan are its facilitators')."""
    workshop = db.session.get(Workshop, workshop_id) if workshop_id else None
    if workshop is None or workshop.structure_id != structure.id:
        raise MapError(_("Choisissez un atelier rattaché à cette structure."), field="workshop")
    if not access.is_facilitator(workshop):
        raise MapError(_("Seules les personnes qui animent cet atelier peuvent y soumettre des liens."),
                       field="workshop")
    if open_only and workshop.status == "closed":
        raise MapError(_("Cet atelier est clos."), field="workshop")
    return workshop


def my_workshops(structure: Structure) -> list[Workshop]:
    """The structure's workshops the current facilitator runs (for votes and actions)."""
    return [w for w in workshops_of(structure) if access.is_facilitator(w)]


def card_text(entry: MapEntry) -> str:
    return f"{entry.partner.name} — {entry.description}" if entry.description else entry.partner.name


def put_to_vote(structure: Structure, workshop_id: int | None, entry_ids: list[int]) -> tuple[Workshop, int]:
    """Put map entries to a workshop's dot vote: each becomes (or is again) a link
    card of that workshop, and the vote in preparation is a shortlist of them.
    Returns the workshop and the number of entries on the shortlist."""
    from ..votes import service as votes
    workshop = _structure_workshop(structure, workshop_id)
    chosen = [e for e in entries(structure) if e.id in set(entry_ids)]
    if not chosen:
        raise MapError(_("Cochez au moins un lien de la cartographie."))
    touch(workshop)   # first: a vote opened meanwhile by a co-facilitator is seen below
    vote = votes.current(workshop)
    if vote is not None:
        db.session.refresh(vote)
    if vote is not None and vote.status == "open":
        db.session.rollback()
        raise MapError(_("Un vote est ouvert dans cet atelier : fermez-le d'abord."))
    existing = dict(db.session.execute(db.select(Card.map_entry_id, Card.id).where(
        Card.workshop_id == workshop.id, Card.map_entry_id.in_([e.id for e in chosen]))).all())
    card_ids = []
    for entry in chosen:
        card = db.session.get(Card, existing[entry.id]) if entry.id in existing else None
        if card is None:
            card = Card(workshop_id=workshop.id, kind="link", map_entry_id=entry.id)
            db.session.add(card)
        card.text, card.partner_id, card.hidden = card_text(entry), entry.partner_id, False
        card.category, card.subtype, card.direction, card.link_status = (
            entry.category, entry.subtype, entry.direction, entry.status)
        db.session.flush()
        card_ids.append(card.id)
    settings = votes.settings_of(vote if vote is not None and vote.status == "draft" else None)
    settings.scope, settings.shortlist = "shortlist", card_ids
    settings.title = settings.title or _("Priorités de la cartographie — %(name)s", name=structure.name)[:160]
    try:
        votes.configure(workshop, vote if vote is not None and vote.status == "draft" else None, settings)
    except votes.VoteError as exc:
        db.session.rollback()
        raise MapError(str(exc)) from None
    realtime.announce(workshop, "board", "modboard")
    return workshop, len(card_ids)


def apply_vote(structure: Structure, workshop_id: int | None) -> int:
    """Carry a workshop's last vote back into the map: each entry voted on keeps its
    dots, and its priority becomes high (retained as a priority), medium (dots) or
    low (none). How many entries changed."""
    from ..votes import service as votes
    workshop = _structure_workshop(structure, workshop_id, open_only=False)
    _lock(structure)
    vote = votes.current(workshop)
    if vote is None or vote.status == "draft":
        db.session.rollback()
        raise MapError(_("Cet atelier n'a pas encore voté."))
    retained = set(db.session.scalars(db.select(Priority.card_id).filter_by(workshop_id=workshop.id)))
    changed = 0
    for row in votes.results(vote).rows:
        entry = entry_or_none(structure, row.card.map_entry_id) if row.card.map_entry_id else None
        if entry is None:
            continue
        entry.dots = row.dots
        entry.priority = "high" if row.card.id in retained else ("medium" if row.dots else "low")
        changed += 1
    if not changed:
        db.session.rollback()
        raise MapError(_("Ce vote ne portait sur aucun lien de la cartographie."))
    db.session.commit()
    return changed


def to_action(structure: Structure, entry: MapEntry, workshop_id: int | None) -> Action:
    """The entry's next action becomes an action of a workshop's plan (validated,
    held by the link's holder), linked back to the entry."""
    from ..actions import service as actions
    workshop = _structure_workshop(structure, workshop_id)
    title = entry.next_action or _("Reprendre contact avec %(name)s", name=entry.partner.name)
    card_id = db.session.scalar(db.select(Card.id).where(Card.workshop_id == workshop.id,
                                                         Card.map_entry_id == entry.id, Card.hidden.is_(False)))
    fields = actions.Fields(title=title[:200], owner="other" if entry.holder else "",
                            owner_name=entry.holder[:80], owner_org=structure.name[:160], step="prepare",
                            card_id=card_id, map_entry_id=entry.id)
    try:
        return actions.add(workshop, actions.Actor(None, True), fields)
    except actions.ActionError as exc:
        raise MapError(str(exc)) from None


def today() -> date:
    return date.today()
