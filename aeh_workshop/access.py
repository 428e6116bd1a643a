"""Who the current viewer is for a workshop, decided from the server session only.

Participants are known by their id in the signed session cookie (no account);
projector computers by the workshop's secret screen token, remembered in the
session; facilitators by Flask-Login.
"""
from flask import abort, session
from flask_login import current_user

from .extensions import db
from .models import Participant, Workshop

EVERYONE, SCREEN, FAC = "all", "screen", "fac"


def remember_participant(participant: Participant) -> None:
    known = dict(session.get("participants", {}))
    known[str(participant.workshop_id)] = [participant.id, _stamp(participant)]
    session["participants"] = known
    session.permanent = True


def current_participant(workshop: Workshop) -> Participant | None:
    remembered = session.get("participants", {}).get(str(workshop.id))
    if remembered is None:
        return None
    # [id, stamp]; a bare id from a session made before stamps existed is still honoured.
    participant_id, stamp = remembered if isinstance(remembered, list) and len(remembered) == 2 else (remembered, None)
    if not isinstance(participant_id, int):
        return None
    participant = db.session.get(Participant, participant_id)
    # One who left has no PIN any more (or no row: SQLite may give the id to the next person
    # joining, whose PIN hash differs): any browser still holding them is a stranger.
    if participant is None or participant.workshop_id != workshop.id or not participant.pin_hash:
        return None
    if stamp is not None and stamp != _stamp(participant):
        return None
    return participant


def _stamp(participant: Participant) -> str:
    """The end of the participant's salted PIN hash: tells this row from a later one with its id."""
    return participant.pin_hash[-12:]


def participant_or_403(workshop: Workshop) -> Participant:
    """This session's participant in the workshop, or a 403 (a stranger, or someone of another workshop)."""
    participant = current_participant(workshop)
    if participant is None:
        abort(403)
    return participant


def is_facilitator(workshop: Workshop) -> bool:
    return workshop.is_facilitated_by(current_user)


def grant_screen(workshop: Workshop) -> None:
    screens = set(session.get("screens", []))
    screens.add(workshop.id)
    session["screens"] = sorted(screens)


def has_screen(workshop: Workshop) -> bool:
    return is_facilitator(workshop) or workshop.id in session.get("screens", [])


def audiences(workshop: Workshop) -> list[str]:
    """The channels this viewer may hear, widest first; empty for a stranger."""
    if is_facilitator(workshop):
        return [EVERYONE, SCREEN, FAC]
    if workshop.id in session.get("screens", []):
        return [EVERYONE, SCREEN]
    if current_participant(workshop):
        return [EVERYONE]
    return []


def facilitated_or_404(workshop_id: int) -> Workshop:
    """A workshop by id, for a facilitator of it (404, login, or 403 otherwise)."""
    from .extensions import db
    workshop = db.get_or_404(Workshop, workshop_id)
    require_facilitator(workshop)
    return workshop


def require_facilitator(workshop: Workshop) -> None:
    """Anonymous users are sent to log in (by Flask-Login); others get a 403."""
    from .extensions import login
    if not current_user.is_authenticated:
        abort(login.unauthorized())
    if not is_facilitator(workshop):
        abort(403)
