"""The board: cards, their qualification with Le Rameau's grid, moderation, clusters."""
from dataclasses import dataclass

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from .. import access, realtime
from ..extensions import db
from ..models import Card, Cluster, Participant, Workshop, touch
from ..participants.service import organisation
from ..vocab import CARD_KINDS


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


def columns(workshop: Workshop, cards: list[Card]) -> list[tuple[str, list[Card]]]:
    """Cards grouped by cluster once clusters exist, by kind before that."""
    if workshop.clusters:
        groups = [(c.name, [card for card in cards if card.cluster_id == c.id]) for c in workshop.clusters]
        loose = [card for card in cards if card.cluster_id is None]
        return groups + ([(str(_l("Sans regroupement")), loose)] if loose else [])
    return [(str(label), [card for card in cards if card.kind == kind]) for kind, label in CARD_KINDS.items()]


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


def _commit(workshop: Workshop) -> None:
    touch(workshop)
    db.session.commit()
    realtime.announce(workshop, "board", "modboard")


def post(workshop: Workshop, who: Actor, fields: dict) -> Card:
    """Add a card in the author's name (no author when a facilitator writes it)."""
    _check_writable(workshop, who)
    card = Card(workshop_id=workshop.id, author=who.participant)
    _apply(card, dict(fields))
    db.session.add(card)
    _commit(workshop)
    return card


def require_editable(workshop: Workshop, who: Actor, card: Card) -> None:
    """Authors edit their own cards, facilitators any card; others get a 403."""
    if not who.facilitator and (who.participant is None or card.author_id != who.participant.id):
        abort(403)
    _check_writable(workshop, who)


def edit(workshop: Workshop, who: Actor, card: Card, fields: dict) -> None:
    require_editable(workshop, who, card)
    _apply(card, dict(fields))
    _commit(workshop)


def delete(workshop: Workshop, who: Actor, card: Card) -> None:
    require_editable(workshop, who, card)
    db.session.delete(card)
    _commit(workshop)


def set_hidden(workshop: Workshop, card: Card, hidden: bool) -> None:
    """Moderation: hide a card from participants and the projector, or restore it."""
    card.hidden = hidden
    _commit(workshop)


def add_cluster(workshop: Workshop, name: str) -> Cluster:
    name = " ".join(name.split())
    if any(c.name.casefold() == name.casefold() for c in workshop.clusters):
        raise BoardError(_("Ce regroupement existe déjà."))
    cluster = Cluster(workshop=workshop, name=name, position=len(workshop.clusters))
    db.session.add(cluster)
    _commit(workshop)
    return cluster


def delete_cluster(workshop: Workshop, cluster_id: int) -> None:
    """Remove a cluster; its cards go back to the loose pile."""
    cluster = db.session.get(Cluster, cluster_id)
    if cluster is None or cluster.workshop_id != workshop.id:
        abort(404)
    db.session.execute(db.update(Card).where(Card.cluster_id == cluster.id).values(cluster_id=None))
    db.session.delete(cluster)
    _commit(workshop)


def assign(workshop: Workshop, card: Card, cluster_id: str) -> None:
    """Put a card in a cluster of the same workshop ('' takes it out)."""
    if cluster_id:
        cluster = db.session.get(Cluster, int(cluster_id)) if cluster_id.isdigit() else None
        if cluster is None or cluster.workshop_id != workshop.id:
            raise BoardError(_("Regroupement inconnu."))
        card.cluster = cluster
    else:
        card.cluster = None
    _commit(workshop)
