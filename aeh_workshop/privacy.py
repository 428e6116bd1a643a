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
from .models import (Action, Card, Diagnostic, Dot, JointOffer, MapEntry, OfferSection, Outcome, Participant,
                     Workshop, touch, utcnow)

ANONYMOUS = ""     # an anonymised participant's display name
# Everything that may show a departing participant's cards, dots, name or actions.
REGIONS = ("board", "modboard", "count", "roster", "votebox", "results", "screentally", "facresults",
           "priorities", "offers", "actions", "actionsctl", "screenactions", "outcomectl", "diaglist")


def leave(workshop: Workshop, participant: Participant) -> str:
    """The participant leaves: "removed" while the workshop runs (cards, dots and row deleted),
    "anonymised" once closed (the row stays, nameless and without a PIN). Either way the name
    goes from everywhere it was copied, earlier frozen versions included (a workshop closed,
    reopened, then left). Another browser still holding the participant is a stranger from then
    on (access.current_participant checks the row's PIN hash, so a reused id is not theirs)."""
    # The participant's row first, as a dot's transaction locks it (votes.service._lock).
    db.session.execute(db.select(Participant.id).filter_by(id=participant.id).with_for_update())
    _anonymise(workshop, [participant], clear_free_owners=False)
    if workshop.is_open:
        db.session.execute(db.delete(Dot).where(Dot.participant_id == participant.id))
        db.session.execute(db.delete(Card).where(Card.author_id == participant.id))
        db.session.flush()
        db.session.execute(db.delete(Participant).where(Participant.id == participant.id))
        outcome = "removed"
    else:
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


def is_anonymised(participant: Participant) -> bool:
    return participant.display_name == ANONYMOUS and not participant.pin_hash


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
    expired = db.session.scalars(db.select(Workshop.id).where(
        Workshop.status == "closed", Workshop.closed_at.is_not(None), Workshop.closed_at < cutoff)
        .order_by(Workshop.id)).all()
    for workshop_id in expired:
        # Re-read under a lock: a facilitator may have reopened it since the list was made.
        workshop = db.session.scalar(db.select(Workshop).filter_by(id=workshop_id).with_for_update())
        if workshop.status != "closed" or workshop.closed_at is None or workshop.closed_at >= cutoff:
            db.session.rollback()
            continue
        people = [p for p in workshop.participants if not is_anonymised(p)]
        free_owners = db.session.scalar(db.select(db.func.count(Action.id)).where(
            Action.workshop_id == workshop.id, Action.owner_name != ""))
        if people or free_owners:
            done.workshops += 1
            done.participants += len(people)
            done.versions += db.session.scalar(
                db.select(db.func.count(Outcome.id)).filter_by(workshop_id=workshop.id))
            if not dry_run:
                _anonymise(workshop, people, clear_free_owners=True)
        if dry_run:
            db.session.rollback()
            continue
        db.session.commit()
        clear_exports(workshop)     # every expired workshop, each time: a failed deletion is retried
    return done


def _anonymise(workshop: Workshop, people: list[Participant], clear_free_owners: bool) -> None:
    """No name, no PIN; nor anywhere the name was copied: the frozen versions, action owners
    typed by hand, map entries' holders, diagnostics' respondents, offer sections' last
    editors (for a purge, every name typed as an action owner too). Organisations and kinds
    stay: they are not people. A homonym in the same workshop loses the name too: safer."""
    names = {p.display_name for p in people if p.display_name}
    for person in people:
        person.display_name = ANONYMOUS
        person.pin_hash = ""        # nobody can come back as them
    owners = Action.workshop_id == workshop.id
    if clear_free_owners:
        names |= set(db.session.scalars(db.select(Action.owner_name).where(owners, Action.owner_name != "")))
    if not names:
        return
    db.session.execute(db.update(Action).where(owners, Action.owner_name.in_(names)).values(owner_name=""))
    db.session.execute(db.update(MapEntry).where(MapEntry.source_workshop_id == workshop.id,
                                                 MapEntry.holder.in_(names)).values(holder=""))
    db.session.execute(db.update(Diagnostic).where(Diagnostic.workshop_id == workshop.id,
                                                   Diagnostic.respondent.in_(names)).values(respondent=""))
    offers = db.select(JointOffer.id).where(JointOffer.workshop_id == workshop.id)
    db.session.execute(db.update(OfferSection).where(OfferSection.offer_id.in_(offers),
                                                     OfferSection.updated_by.in_(names)).values(updated_by=""))
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
