"""The board: cards, their qualification with Le Rameau's grid, moderation, clusters."""
from dataclasses import dataclass

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from .. import access, realtime
from ..extensions import db
from ..models import Action, Card, Cluster, Participant, Workshop, offer_card, touch
from ..participants.service import organisation
from ..vocab import CARD_KINDS
from ..votes.service import regions_for_card_change


class BoardError(ValueError):
    """A refused change, with the message to show."""


@dataclass(frozen=True)
class Actor:
    participant: Participant | None
    facilitator: bool


def actor(workshop: Workshop) -> Actor:
    """Who is acting on this workshop's board; 403 for a stranger."""
    facilitator = access.is_facilitator(workshop)
    participant = None if facilitator else access.current_participant(workshop)
    if not facilitator and participant is None:
        abort(403)
    return Actor(participant, facilitator)


def _cards(workshop: Workshop, **filters) -> list[Card]:
    """Cards in posting order, with what the board shows loaded in the same few queries."""
    query = (db.select(Card).filter_by(workshop_id=workshop.id, **filters).order_by(Card.id)
             .options(joinedload(Card.author).joinedload(Participant.organisation), joinedload(Card.partner)))
    return list(db.session.scalars(query))


def visible_cards(workshop: Workshop) -> list[Card]:
    return _cards(workshop, hidden=False)


def all_cards(workshop: Workshop) -> list[Card]:
    return _cards(workshop)


@dataclass
class Column:
    key: str          # stable, used in element ids: "practice", "c12", "loose"
    title: str
    cards: list[Card]


def column_key(workshop: Workshop, card: Card) -> str:
    """The column a card sits in: its cluster once clusters exist, its kind before."""
    if workshop.clusters:
        return f"c{card.cluster_id}" if card.cluster_id else "loose"
    return card.kind


def columns(workshop: Workshop, cards: list[Card]) -> list[Column]:
    """Every column of the board, empty ones included, each with its cards."""
    if workshop.clusters:
        heads = [(f"c{c.id}", c.name) for c in workshop.clusters] + [("loose", str(_l("Sans regroupement")))]
    else:
        heads = [(kind, str(label)) for kind, label in CARD_KINDS.items()]
    by_key = {key: Column(key, title, []) for key, title in heads}
    for card in cards:
        by_key[column_key(workshop, card)].cards.append(card)
    return list(by_key.values())


def column_counts(workshop: Workshop, include_hidden: bool) -> dict[str, int]:
    """How many cards each column holds, counted in the database."""
    group = Card.cluster_id if workshop.clusters else Card.kind
    query = db.select(group, db.func.count(Card.id)).filter_by(workshop_id=workshop.id).group_by(group)
    if not include_hidden:
        query = query.filter_by(hidden=False)
    counts = {col.key: 0 for col in columns(workshop, [])}
    for value, n in db.session.execute(query):
        key = (f"c{value}" if value else "loose") if workshop.clusters else value
        counts[key] = n
    return counts


def card_for_push(workshop: Workshop, card_id: int, include_hidden: bool) -> Card | None:
    """The card as a board shows it, or None when it is gone (or hidden from this board)."""
    query = (db.select(Card).filter_by(id=card_id, workshop_id=workshop.id)
             .options(joinedload(Card.author).joinedload(Participant.organisation), joinedload(Card.partner)))
    card = db.session.scalar(query)
    return card if card is not None and (include_hidden or not card.hidden) else None


def card_or_404(workshop: Workshop, card_id: int) -> Card:
    card = db.session.get(Card, card_id)
    if card is None or card.workshop_id != workshop.id:
        abort(404)
    return card


def _check_writable(workshop: Workshop, who: Actor) -> None:
    if workshop.status == "closed":
        raise BoardError(_("L'atelier est clos : le tableau ne change plus."))
    if workshop.status == "draft" and not who.facilitator:
        raise BoardError(_("L'atelier n'a pas encore commencé."))


def _apply(card: Card, fields: dict) -> None:
    partner = fields.pop("partner")
    card.partner = organisation(partner) if partner else None
    for name, value in fields.items():
        setattr(card, name, value)


def _commit(workshop: Workshop, card_id: int | None = None) -> None:
    """Commit, then push either the one card that changed or the whole boards
    (and a running vote's tally and ballots, which show cards too)."""
    touch(workshop)
    voting = regions_for_card_change(workshop)
    shown_in = _shown_in(card_id) if card_id is not None else ()
    db.session.commit()
    if card_id is None:
        realtime.announce(workshop, "board", "modboard", *voting)
    else:
        realtime.announce(workshop, f"card:{card_id}", f"modcard:{card_id}", *voting, *shown_in)


def _shown_in(card_id: int) -> tuple[str, ...]:
    """The joint offers and the action plan that show this card's text: a card
    edited, hidden or deleted must change there too. Read before a deletion is
    flushed, while the links still exist."""
    with db.session.no_autoflush:
        offers = db.session.scalars(db.select(offer_card.c.offer_id).where(offer_card.c.card_id == card_id)).all()
        in_plan = db.session.scalar(db.select(Action.id).where(Action.card_id == card_id).limit(1)) is not None
    return tuple(f"offer:{offer_id}" for offer_id in offers) + (("actions", "actionsctl") if in_plan else ())


def post(workshop: Workshop, who: Actor, fields: dict) -> Card:
    """Add a card in the author's name (no author when a facilitator writes it)."""
    _check_writable(workshop, who)
    card = Card(workshop_id=workshop.id, author=who.participant)
    _apply(card, dict(fields))
    db.session.add(card)
    db.session.flush()
    _commit(workshop, card.id)
    return card


def require_editable(workshop: Workshop, who: Actor, card: Card) -> None:
    """Authors edit their own cards, facilitators any card; others get a 403."""
    if not who.facilitator and (who.participant is None or card.author_id != who.participant.id):
        abort(403)
    _check_writable(workshop, who)


def edit(workshop: Workshop, who: Actor, card: Card, fields: dict) -> None:
    require_editable(workshop, who, card)
    before = column_key(workshop, card)
    _apply(card, dict(fields))
    # A card that changes column is redrawn with its boards, keeping their order.
    _commit(workshop, card.id if column_key(workshop, card) == before else None)


def delete(workshop: Workshop, who: Actor, card: Card) -> None:
    require_editable(workshop, who, card)
    card_id = card.id
    db.session.delete(card)
    _commit(workshop, card_id)


def set_hidden(workshop: Workshop, card: Card, hidden: bool) -> None:
    """Moderation: hide a card from participants and the projector, or restore it."""
    _check_writable(workshop, Actor(None, facilitator=True))
    card.hidden = hidden
    _commit(workshop, card.id)


def add_cluster(workshop: Workshop, name: str) -> Cluster:
    """A new, empty cluster at the end of the board."""
    _check_writable(workshop, Actor(None, facilitator=True))
    name = " ".join(name.split())
    if any(c.name.casefold() == name.casefold() for c in workshop.clusters):
        raise BoardError(_("Ce regroupement existe déjà."))
    cluster = Cluster(workshop=workshop, name=name, position=len(workshop.clusters))
    db.session.add(cluster)
    _commit(workshop)
    return cluster


def delete_cluster(workshop: Workshop, cluster_id: int) -> None:
    """Remove a cluster; its cards go back to the loose pile."""
    _check_writable(workshop, Actor(None, facilitator=True))
    cluster = db.session.get(Cluster, cluster_id)
    if cluster is None or cluster.workshop_id != workshop.id:
        abort(404)
    db.session.execute(db.update(Card).where(Card.cluster_id == cluster.id).values(cluster_id=None))
    db.session.delete(cluster)
    _commit(workshop)


def assign(workshop: Workshop, card: Card, cluster_id: str) -> None:
    """Put a card in a cluster of the same workshop ('' takes it out)."""
    _check_writable(workshop, Actor(None, facilitator=True))
    if cluster_id:
        cluster = next((c for c in workshop.clusters if str(c.id) == cluster_id), None)
        if cluster is None:
            raise BoardError(_("Regroupement inconnu."))
        card.cluster = cluster
    else:
        card.cluster = None
    _commit(workshop)
