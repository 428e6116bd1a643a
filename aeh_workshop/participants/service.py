"""Participants: joining without an account, coming back with a PIN."""
import secrets

from sqlalchemy import func
from werkzeug.security import check_password_hash

from .. import access, realtime
from ..extensions import db
from ..models import Organisation, Participant, Workshop, hash_secret, touch


def organisation(name: str, kind: str = "other") -> Organisation:
    """The organisation of that name (case and spacing ignored), created if new."""
    clean = " ".join(name.split())
    key = clean.casefold()
    org = db.session.scalar(db.select(Organisation).filter_by(key=key))
    if org is None:
        org = Organisation(name=clean, key=key, kind=kind)
        db.session.add(org)
        db.session.flush()
    return org


def join(workshop: Workshop, display_name: str, organisation_name: str, kind: str) -> tuple[Participant, str]:
    """Add a participant; returns them and the rejoin PIN, shown once."""
    pin = f"{secrets.randbelow(10**6):06d}"
    participant = Participant(
        workshop=workshop, display_name=" ".join(display_name.split()), kind=kind,
        organisation=organisation(organisation_name, kind), pin_hash=hash_secret(pin))
    db.session.add(participant)
    touch(workshop)
    db.session.commit()
    access.remember_participant(participant)
    realtime.announce(workshop, "count", "roster")
    return participant, pin


def rejoin(workshop: Workshop, display_name: str, pin: str) -> Participant | None:
    """Come back as oneself from another device with the PIN; None if no match."""
    name = " ".join(display_name.split()).casefold()
    for participant in workshop.participants:
        if participant.display_name.casefold() == name and check_password_hash(participant.pin_hash, pin.strip()):
            access.remember_participant(participant)
            return participant
    return None


def count(workshop: Workshop) -> int:
    return db.session.scalar(db.select(func.count(Participant.id)).filter_by(workshop_id=workshop.id))
