"""Outcomes: closing a workshop freezes what it produced as a numbered version.

A version is written in the same transaction as the change that calls for it
(closing, or an edit while closed), after the workshop's revision bump, which
serialises writers on the workshop row: two freezes never race for a number.
"""
import secrets

from .. import realtime
from ..extensions import db
from ..models import Outcome, Workshop, touch
from . import snapshot


def versions(workshop: Workshop) -> list[Outcome]:
    """Every frozen version, newest first."""
    return list(db.session.scalars(
        db.select(Outcome).where(Outcome.workshop_id == workshop.id).order_by(Outcome.version.desc())))


def latest(workshop: Workshop) -> Outcome | None:
    return db.session.scalar(
        db.select(Outcome).where(Outcome.workshop_id == workshop.id).order_by(Outcome.version.desc()).limit(1))


def get(workshop: Workshop, version: int) -> Outcome | None:
    return db.session.scalar(db.select(Outcome).filter_by(workshop_id=workshop.id, version=version))


def freeze(workshop: Workshop) -> Outcome | None:
    """Store the workshop's state as a new version, unless it says what the last one
    says. Inside the caller's transaction, after touch(workshop); the caller commits."""
    db.session.flush()
    last = latest(workshop)
    number = (last.version + 1) if last else 1
    snap = snapshot.build(workshop, version=number)
    if last is not None and snapshot.content(last.snapshot) == snapshot.content(snap):
        return None
    outcome = Outcome(workshop_id=workshop.id, version=number, snapshot=snap)
    db.session.add(outcome)
    return outcome


def refreeze_if_closed(workshop: Workshop) -> None:
    """An edit made after closing is a new version; old versions stay as they were."""
    if workshop.status == "closed":
        freeze(workshop)


def current(workshop: Workshop) -> dict:
    """What to download now: the latest version, or the live state marked provisional."""
    last = latest(workshop) if workshop.status == "closed" else None
    if last is not None:
        return last.snapshot
    return snapshot.build(workshop, provisional=True)


def share(workshop: Workshop) -> str:
    """Make the share link if there is none yet, and show it on the screens that have a place for it.

    Two facilitators clicking at once get the same secret: only a null one is replaced.
    """
    if workshop.share_token:
        return workshop.share_token
    db.session.execute(db.update(Workshop).where(Workshop.id == workshop.id, Workshop.share_token.is_(None))
                       .values(share_token=secrets.token_urlsafe(24)))
    touch(workshop)
    db.session.commit()
    realtime.announce(workshop, "outcomectl", "outcomelink")
    return workshop.share_token


def snapshot_of(workshop: Workshop, version: int | None) -> dict | None:
    """A stored version's snapshot, or (version None) what downloads give now."""
    if version is None:
        return current(workshop)
    outcome = get(workshop, version)
    return outcome.snapshot if outcome else None


def by_share_token(token: str) -> Workshop | None:
    if not token:
        return None
    return db.session.scalar(db.select(Workshop).filter_by(share_token=token))
