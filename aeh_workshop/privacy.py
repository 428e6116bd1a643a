"""Personal data: a participant leaving a workshop, and the retention period.

A workshop keeps only what it needs about a person: a display name, an
organisation and its kind. Leaving a workshop that is still running removes the
person's cards and withdraws their votes. Once the workshop is closed its
contributions are the outcome, so the person is anonymised instead: no name, no
PIN to come back with, the frozen versions and their cached downloads scrubbed
of the name. `flask --app app purge` does the same for every participant of the
workshops closed longer ago than RETENTION_DAYS; outcomes stay, anonymised.
"""
import shutil
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, session
from sqlalchemy.orm.attributes import flag_modified

from . import realtime
from .extensions import db
from .models import Action, Card, Outcome, Participant, Workshop, touch, utcnow

ANONYMOUS = ""     # an anonymised participant's display name
# Everything that may show a departing participant's cards, dots, name or actions.
REGIONS = ("board", "modboard", "count", "roster", "votebox", "results", "screentally", "facresults",
           "priorities", "offers", "actions", "actionsctl", "screenactions", "outcomectl")


def leave(workshop: Workshop, participant: Participant) -> str:
    """The participant leaves: "removed" while the workshop runs, "anonymised" once closed."""
    if workshop.is_open:
        db.session.execute(db.delete(Card).where(Card.author_id == participant.id))
        # Dots go with the row (ON DELETE CASCADE); actions, offers and cards lose the link (SET NULL).
        db.session.execute(db.delete(Participant).where(Participant.id == participant.id))
        outcome = "removed"
    else:
        _anonymise(workshop, [participant], clear_free_owners=False)
        outcome = "anonymised"
    touch(workshop)
    db.session.commit()
    forget(workshop)
    clear_exports(workshop)
    realtime.announce(workshop, *REGIONS)
    return outcome


def forget(workshop: Workshop) -> None:
    """This browser no longer speaks for anyone in the workshop."""
    known = dict(session.get("participants", {}))
    if known.pop(str(workshop.id), None) is not None:
        session["participants"] = known


@dataclass
class Purged:
    workshops: int = 0
    participants: int = 0
    versions: int = 0


def purge(days: int, dry_run: bool = False) -> Purged:
    """Anonymise every workshop closed more than `days` days ago (already anonymised ones count
    nothing). One transaction per workshop; `dry_run` counts without writing."""
    cutoff = utcnow() - timedelta(days=days)
    done = Purged()
    workshops = db.session.scalars(db.select(Workshop).where(
        Workshop.status == "closed", Workshop.closed_at.is_not(None), Workshop.closed_at < cutoff)
        .order_by(Workshop.id)).all()
    for workshop in workshops:
        people = [p for p in workshop.participants if p.display_name != ANONYMOUS or p.pin_hash]
        free_owners = db.session.scalar(db.select(db.func.count(Action.id)).where(
            Action.workshop_id == workshop.id, Action.owner_name != ""))
        if not people and not free_owners:
            continue
        done.workshops += 1
        done.participants += len(people)
        done.versions += db.session.scalar(db.select(db.func.count(Outcome.id)).filter_by(workshop_id=workshop.id))
        if dry_run:
            continue
        _anonymise(workshop, people, clear_free_owners=True)
        db.session.commit()
        clear_exports(workshop)
    if dry_run:
        db.session.rollback()
    return done


def _anonymise(workshop: Workshop, people: list[Participant], clear_free_owners: bool) -> None:
    """No name, no PIN; the frozen versions no longer hold the names (nor, for a purge, the
    names typed as action owners). Organisations and kinds stay: they are not people."""
    names = {p.display_name for p in people if p.display_name}
    for person in people:
        person.display_name = ANONYMOUS
        person.pin_hash = ""        # nobody can come back as them
    if clear_free_owners:
        actions = db.session.scalars(db.select(Action).where(Action.workshop_id == workshop.id)).all()
        names |= {a.owner_name for a in actions if a.owner_name}
        for action in actions:
            action.owner_name = ""
    for outcome in db.session.scalars(db.select(Outcome).filter_by(workshop_id=workshop.id)):
        outcome.snapshot = scrub(outcome.snapshot, names, every_owner=clear_free_owners)
        flag_modified(outcome, "snapshot")


def scrub(snapshot: dict, names: set[str], every_owner: bool = False) -> dict:
    """A copy of the snapshot without these people's names (a homonym loses it too: safer)."""
    snap = dict(snapshot)
    snap["participants"] = [{**p, "name": ANONYMOUS} if p.get("name") in names else p
                            for p in snapshot.get("participants", [])]
    snap["cards"] = [{**c, "author": None} if c.get("author") in names else c
                     for c in snapshot.get("cards", [])]
    snap["actions"] = [{**a, "owner": ""} if every_owner or a.get("owner") in names else a
                       for a in snapshot.get("actions", [])]
    return snap


def clear_exports(workshop: Workshop) -> None:
    """Delete the workshop's cached downloads (outcomes/files.py keeps one folder per workshop)."""
    from .outcomes.files import cache_folder
    folder = cache_folder(workshop.join_code)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    # Files cached before there was one folder per workshop cannot be told apart: they go too.
    for old in folder.parent.glob("*.bin"):
        old.unlink(missing_ok=True)
        old.with_suffix(".name").unlink(missing_ok=True)


def retention_days() -> int:
    return int(current_app.config["RETENTION_DAYS"])
