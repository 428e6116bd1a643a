"""Facilitator accounts."""
from sqlalchemy import func

from ..extensions import db
from ..models import Facilitator, hash_secret
from .passwords import normalise


class AccountError(ValueError):
    pass


def has_facilitators() -> bool:
    return db.session.scalar(db.select(func.count(Facilitator.id))) > 0


def find_by_email(email: str) -> Facilitator | None:
    return db.session.scalar(db.select(Facilitator).filter_by(email=email.strip().lower()))


def create_facilitator(email: str, password: str, name: str = "", locale: str = "fr") -> Facilitator:
    """Create a facilitator account; refuses an e-mail already in use."""
    from flask_babel import gettext as _
    email = email.strip().lower()
    if find_by_email(email):
        raise AccountError(_("Un compte existe déjà pour cette adresse."))
    user = Facilitator(email=email, name=name.strip(), locale=locale)
    user.set_password(normalise(password))
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> Facilitator | None:
    """The account these credentials open, or None. Passwords are stored normalised (NFKC);
    one stored before that, as typed, is still accepted as typed."""
    user = find_by_email(email)
    if user is None:
        # The same work as a wrong password (one check, two when normalising changes it):
        # the timing tells no address apart.
        hash_secret(password)
        if normalise(password) != password:
            hash_secret(password)
        return None
    if user.check_password(normalise(password)):
        return user
    return user if normalise(password) != password and user.check_password(password) else None
