"""Participants: joining without an account, coming back with a PIN."""
import secrets

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.security import check_password_hash, generate_password_hash

from .. import access, realtime
from ..extensions import db
from ..models import Organisation, Participant, Workshop, touch


def hash_pin(pin: str) -> str:
    """A salted hash of a 6-digit PIN. A slow hash would not protect a million
    possibilities anyway (the rate limit on wrong PINs does), and it would stall
    the event loop for every person joining."""
    return generate_password_hash(pin, method="pbkdf2:sha256:1000")


def organisation(name: str, kind: str = "other") -> Organisation:
    """The organisation of that name (case and spacing ignored), created if new.

    Two people may name the same new organisation at the same instant: the
    insert skips a row that already exists (ON CONFLICT DO NOTHING, inside the
    caller's transaction), then both read the one row.
    """
    clean = " ".join(name.split())
    key = organisation_key(clean)
    org = db.session.scalar(db.select(Organisation).filter_by(key=key))
    if org is None:
        insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(Organisation).values(name=clean, key=key, kind=kind)
                           .on_conflict_do_nothing(index_elements=["key"]))
        org = db.session.scalar(db.select(Organisation).filter_by(key=key))
    return org


def organisation_key(name: str) -> str:
    """Case-insensitive key of an organisation name, bounded like the column."""
    return name.casefold()[:Organisation.KEY_LENGTH]


def join(workshop: Workshop, display_name: str, organisation_name: str, kind: str) -> tuple[Participant, str]:
    """Add a participant; returns them and the rejoin PIN, shown once."""
    pin = f"{secrets.randbelow(10**6):06d}"
    pin_hash = hash_pin(pin)   # before the transaction opens
    participant = Participant(
        workshop=workshop, display_name=" ".join(display_name.split()), kind=kind,
        organisation=organisation(organisation_name, kind), pin_hash=pin_hash)
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
