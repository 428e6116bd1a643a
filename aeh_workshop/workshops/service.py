"""Workshops: creation, editing, status, phases and co-facilitators."""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _

from .. import guard, realtime
from ..extensions import db
from ..models import Facilitator, Structure, Vote, Workshop, co_facilitators, touch, utcnow
from ..outcomes import service as outcomes
from ..votes.service import STATE_REGIONS as VOTE_STATE_REGIONS
from ..vocab import PHASES, TEMPLATES, template_phases

# No 0/O or 1/I/L: codes are read aloud and copied from a wall.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 7  # 31**7 ≈ 2**34.7 codes
TRANSITIONS = {"draft": {"live"}, "live": {"closed"}, "closed": {"live"}}


class WorkshopError(ValueError):
    pass


def normalise_code(raw: str) -> str:
    """Case-insensitive codes; spaces and dashes people type are ignored."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def new_join_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not db.session.scalar(db.select(Workshop.id).filter_by(join_code=code)):
            return code


def by_code(code: str) -> Workshop | None:
    return db.session.scalar(db.select(Workshop).filter_by(join_code=normalise_code(code)))


def by_code_or_404(code: str) -> Workshop:
    """The workshop behind a code in a URL; unknown codes count as guesses."""
    return by_code(code) or guard.unknown_code()


def for_facilitator(user: Facilitator) -> list[Workshop]:
    """Workshops the facilitator owns or co-facilitates, newest first."""
    co = db.select(co_facilitators.c.workshop_id).where(co_facilitators.c.facilitator_id == user.id)
    query = db.select(Workshop).where((Workshop.owner_id == user.id) | Workshop.id.in_(co))
    return list(db.session.scalars(query.order_by(Workshop.created_at.desc(), Workshop.id.desc())))


def create(owner: Facilitator, title: str, purpose: str, template: str,
           structure_id: int | None = None) -> Workshop:
    workshop = Workshop(title=title.strip(), purpose=(purpose or "").strip(), template=_template(template),
                        structure_id=_structure_id(structure_id), owner=owner, join_code=new_join_code(),
                        screen_token=secrets.token_urlsafe(24))
    db.session.add(workshop)
    db.session.commit()
    return workshop


def update(workshop: Workshop, title: str, purpose: str, template: str, structure_id: int | None = None) -> None:
    """Save the workshop's settings. A new template changes what is offered from now on
    (phases, card kinds); nothing already written is touched."""
    template, structure_id = _template(template), _structure_id(structure_id)
    workshop.title, workshop.purpose, workshop.template = title.strip(), (purpose or "").strip(), template
    workshop.structure_id = structure_id
    touch(workshop)
    db.session.commit()
    realtime.announce(workshop, "phase", "phasectl", "diaglist", "diagsummary")


def _template(template: str) -> str:
    if template not in TEMPLATES:
        raise WorkshopError(_("Modèle d'atelier inconnu."))
    return template


def _structure_id(structure_id: int | None) -> int | None:
    """A structure that exists, or none."""
    if structure_id is None:
        return None
    if db.session.get(Structure, structure_id) is None:
        raise WorkshopError(_("Cette structure n'existe pas (ou plus)."))
    return structure_id


def phases_offered(workshop: Workshop) -> list[str]:
    """The template's phases, plus the current one if the workshop sits outside them
    (its template changed): it shows, and can be left."""
    phases = template_phases(workshop.template)
    if workshop.phase not in phases:
        phases = [p for p in PHASES if p in phases or p == workshop.phase]
    return phases


def set_phase(workshop: Workshop, phase: str) -> None:
    if phase not in PHASES:
        raise WorkshopError(_("Phase inconnue."))
    if phase not in phases_offered(workshop):
        raise WorkshopError(_("Cette phase ne fait pas partie du modèle de l'atelier."))
    workshop.phase = phase
    workshop.timer_phase = workshop.timer_ends_at = workshop.timer_left = None   # each phase has its own
    touch(workshop)
    db.session.commit()
    realtime.announce(workshop, "phase", "phasectl", "screenactions")


def set_status(workshop: Workshop, status: str) -> None:
    """Draft → live → closed (a closed workshop can be reopened)."""
    if status not in TRANSITIONS.get(workshop.status, set()):
        raise WorkshopError(_("Ce changement de statut n'est pas possible."))
    # A closed workshop takes no more dots, and its vote says so. The vote's row
    # is locked before the workshop's, in the same order as a dot's transaction.
    closing_vote = status == "closed" and db.session.execute(
        db.update(Vote).where(Vote.workshop_id == workshop.id, Vote.status == "open").values(status="closed")
    ).rowcount > 0
    workshop.status = status
    workshop.closed_at = utcnow() if status == "closed" else None
    touch(workshop)
    if status == "closed":
        outcomes.freeze(workshop)   # the outcome as it stands at closing: a new version
    db.session.commit()
    realtime.announce(workshop, "phase", "phasectl", "outcomectl", "outcomelink",
                      *(VOTE_STATE_REGIONS if closing_vote else ()))


def add_co_facilitator(workshop: Workshop, email: str) -> Facilitator:
    from ..accounts.service import find_by_email
    user = find_by_email(email)
    if user is None:
        raise WorkshopError(_("Aucun compte d'animation pour cette adresse. Créez-le d'abord."))
    if workshop.is_facilitated_by(user):
        raise WorkshopError(_("Cette personne anime déjà cet atelier."))
    workshop.co_facilitators.append(user)
    db.session.commit()
    return user


# ------------------------------------------------------------- phase timer

TIMER_MAX_MINUTES = 120


@dataclass(frozen=True)
class Timer:
    """The phase's countdown as screens show it, derived from the stored end time."""
    state: str                    # idle, running, paused, over
    ends_at: datetime | None      # while running (naive UTC)
    left: int                     # seconds to go (0 when over or idle)
    now: datetime                 # when this was worked out, for clients to set their clocks

    @property
    def ends_ms(self) -> int | None:
        return _epoch_ms(self.ends_at) if self.ends_at else None

    @property
    def now_ms(self) -> int:
        return _epoch_ms(self.now)

    @property
    def clock(self) -> str:
        minutes, seconds = divmod(self.left, 60)
        return f"{minutes:02d}:{seconds:02d}"


def timer(workshop: Workshop, now: datetime | None = None) -> Timer:
    now = now or utcnow()
    if workshop.timer_phase != workshop.phase:
        return Timer("idle", None, 0, now)
    if workshop.timer_left is not None:
        return Timer("paused", None, workshop.timer_left, now)
    if workshop.timer_ends_at is not None:
        left = max(0, int(-(-(workshop.timer_ends_at - now).total_seconds() // 1)))   # ceil: 0:00 means over
        return Timer("over" if left == 0 else "running", workshop.timer_ends_at, left, now)
    return Timer("idle", None, 0, now)


def timer_action(workshop: Workshop, action: str, minutes: int | None = None) -> None:
    """start (minutes), pause, resume, add (minutes), stop."""
    now = utcnow()
    current = timer(workshop, now)
    if action in ("start", "add") and (minutes is None or not 1 <= minutes <= TIMER_MAX_MINUTES):
        raise WorkshopError(_("Indiquez une durée entre 1 et %(max)d minutes.", max=TIMER_MAX_MINUTES))
    if action == "start":
        _run(workshop, now + timedelta(minutes=minutes))
    elif action == "pause" and current.state == "running":
        workshop.timer_ends_at, workshop.timer_left = None, current.left
    elif action == "resume" and current.state == "paused":
        _run(workshop, now + timedelta(seconds=current.left))
    elif action == "add" and current.state in ("running", "paused", "over"):
        left = current.left + minutes * 60
        if left > TIMER_MAX_MINUTES * 60:
            raise WorkshopError(_("Le minuteur ne peut pas dépasser %(max)d minutes.", max=TIMER_MAX_MINUTES))
        if current.state == "paused":
            workshop.timer_left = left
        elif current.state == "running":
            workshop.timer_ends_at += timedelta(minutes=minutes)
        else:
            _run(workshop, now + timedelta(minutes=minutes))
    elif action == "stop":
        workshop.timer_phase = workshop.timer_ends_at = workshop.timer_left = None
    else:
        raise WorkshopError(_("Le minuteur ne peut pas faire cela maintenant."))
    touch(workshop)
    db.session.commit()
    realtime.announce(workshop, "phase", "phasectl")


def _epoch_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


def _run(workshop: Workshop, ends_at: datetime) -> None:
    workshop.timer_phase, workshop.timer_ends_at, workshop.timer_left = workshop.phase, ends_at, None
