"""What a workshop produced, as one plain JSON document (docs/outcome.schema.json).

The snapshot stores codes (card kinds, Rameau categories, statuses), not labels,
so that every download renders it in the reader's language. Once frozen in an
Outcome row it never changes; the exports read nothing else.
"""
from collections import Counter
from datetime import date, datetime

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Action, Card, JointOffer, Participant, Priority, Vote, Workshop, utcnow

SCHEMA_VERSION = 1
KINDS = ("company", "association", "public", "other")


def build(workshop: Workshop, version: int | None = None, provisional: bool = False) -> dict:
    """The workshop's current state as a snapshot (not stored)."""
    participants = list(db.session.scalars(
        db.select(Participant).where(Participant.workshop_id == workshop.id)
        .options(selectinload(Participant.organisation)).order_by(Participant.id)))
    cards = list(db.session.scalars(
        db.select(Card).where(Card.workshop_id == workshop.id, Card.hidden.is_(False))
        .options(selectinload(Card.author).selectinload(Participant.organisation),
                 selectinload(Card.partner), selectinload(Card.cluster))
        .order_by(Card.id)))
    votes = list(db.session.scalars(
        db.select(Vote).where(Vote.workshop_id == workshop.id).order_by(Vote.id)))
    priorities = list(db.session.scalars(
        db.select(Priority).where(Priority.workshop_id == workshop.id).order_by(Priority.rank)))
    offers = list(db.session.scalars(
        db.select(JointOffer).where(JointOffer.workshop_id == workshop.id)
        .options(selectinload(JointOffer.sections), selectinload(JointOffer.cards))
        .order_by(JointOffer.id)))
    actions = list(db.session.scalars(
        db.select(Action).where(Action.workshop_id == workshop.id)
        .options(selectinload(Action.owner).selectinload(Participant.organisation),
                 selectinload(Action.offer).selectinload(JointOffer.sections),
                 selectinload(Action.priority))
        .order_by(Action.due_on.is_(None), Action.due_on, Action.id)))
    vote_docs = [_vote(v) for v in votes]
    by_kind = Counter(p.kind for p in participants)
    visible_ids = {c.id for c in cards}
    ranks = {p.card_id: p.rank for p in priorities if p.card_id is not None}
    facilitators = [workshop.owner.label] + [f.label for f in workshop.co_facilitators]
    return {
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "provisional": provisional,
        "frozen_at": _iso(utcnow()),
        "workshop": {
            "title": workshop.title,
            "purpose": workshop.purpose or "",
            "template": workshop.template,
            "code": workshop.join_code,
            "status": workshop.status,
            "created_at": _iso(workshop.created_at),
            "closed_at": _iso(workshop.closed_at),
            "facilitators": facilitators,
        },
        "summary": {
            "participants": len(participants),
            "organisations": len({p.organisation_id for p in participants}),
            "cards": len(cards),
            "dots": sum(v["dots"] for v in vote_docs),
            "priorities": len(priorities),
            "offers": len(offers),
            "actions": len(actions),
        },
        "participants_by_kind": {kind: by_kind.get(kind, 0) for kind in KINDS},
        "participants": [
            {"name": p.display_name, "organisation": p.organisation.name, "kind": p.kind}
            for p in participants],
        "clusters": [{"id": c.id, "name": c.name} for c in workshop.clusters],
        "cards": [_card(c) for c in cards],
        "votes": vote_docs,
        "priorities": [
            {"rank": p.rank, "title": p.title, "dots": p.dots, "card_id": p.card_id, "vote_id": p.vote_id}
            for p in priorities],
        "offers": [_offer(o, visible_ids, ranks) for o in offers],
        "actions": [_action(a) for a in actions],
    }


def content(snapshot: dict) -> dict:
    """What a version says, without when it was made: two equal contents are one version."""
    return {k: v for k, v in snapshot.items() if k not in ("version", "frozen_at", "provisional")}


def _card(card: Card) -> dict:
    return {
        "id": card.id,
        "kind": card.kind,
        "text": card.text,
        "author": card.author.display_name if card.author else None,
        "organisation": card.author.organisation.name if card.author else None,
        "partner": card.partner.name if card.partner else None,
        "category": card.category,
        "subtype": card.subtype,
        "direction": card.direction,
        "link_status": card.link_status,
        "cluster": card.cluster.name if card.cluster else None,
        "created_at": _iso(card.created_at),
    }


def _vote(vote: Vote) -> dict:
    from ..votes.service import results
    res = results(vote)
    return {
        "id": vote.id,
        "title": vote.title,
        "status": vote.status,
        "budget": vote.budget,
        "cap": vote.cap,
        "scope": vote.scope,
        "by_kind": vote.by_kind,
        "voters": res.voters,
        "dots": res.dots,
        "results": [
            {"card_id": r.card.id, "text": r.card.text, "kind": r.card.kind, "dots": r.dots,
             "voters": r.voters, "rank": r.rank, "tied": r.tied, "by_group": dict(r.groups)}
            for r in res.rows],
    }


def _offer(offer: JointOffer, visible_ids: set[int], ranks: dict[int, int]) -> dict:
    from ..models import Organisation
    brings = sorted((s for s in offer.sections if s.key.startswith("brings:") and s.text.strip()),
                    key=lambda s: s.key)
    org_names = {}
    if brings:
        ids = [int(s.key.partition(":")[2]) for s in brings]
        org_names = dict(db.session.execute(
            db.select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())
    return {
        "id": offer.id,
        "title": offer.text("title"),
        "need": offer.text("need"),
        "territory": offer.text("territory"),
        "targets": offer.text("targets"),
        "contact": offer.text("contact"),
        "contributions": [
            {"organisation": org_names.get(int(s.key.partition(":")[2]), ""), "text": s.text}
            for s in brings],
        "asks": {s.key.partition(":")[2]: s.text for s in offer.sections
                 if s.key.startswith("ask:") and s.text.strip()},
        "cards": [c.id for c in offer.cards if c.id in visible_ids],
        "priorities": sorted(ranks[c.id] for c in offer.cards if c.id in visible_ids and c.id in ranks),
    }


def _action(action: Action) -> dict:
    return {
        "id": action.id,
        "title": action.title,
        "owner": action.owner_label,
        "owner_organisation": action.owner_organisation,
        "due": action.due_on.isoformat() if action.due_on else None,
        "status": action.status,
        "step": action.step,
        "validated": action.validated,
        "card_id": action.card_id,
        "priority_rank": action.priority.rank if action.priority else None,
        "offer_id": action.offer_id,
        "offer_title": action.offer.title if action.offer else None,
    }


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat(timespec="seconds") if isinstance(moment, datetime) else (
        moment.isoformat() if moment else None)
