"""Duplicates in a structure's map: suggested groups, merges (never deleting a
partner or a link), their undo, and pairs a facilitator keeps apart."""
from itertools import combinations

from flask_babel import gettext as _

from ..extensions import db
from ..models import MapEntry, Organisation, PartnerDistinct, PartnerMerge, Structure, utcnow
from . import grouping, names
from .service import MapError, _lock, sort_key

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
    return grouping.suggest(partners, rejected=rejected)


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
    unique = sorted(set(ids or []))
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
