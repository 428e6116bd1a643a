"""From the map to decisions: a partner's page, map entries put to a workshop's
dot vote and its result carried back as priorities, next actions into action plans."""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from .. import access, realtime
from ..extensions import db
from ..models import Action, Card, MapEntry, Organisation, Participant, Priority, Structure, Workshop, touch
from .merges import aliases
from .service import Filters, MapError, _lock, entries, entry_or_none, workshops_of

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
