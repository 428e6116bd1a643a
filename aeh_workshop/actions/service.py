"""Action plans: participants propose, facilitators validate; owners follow their status.

Every write decides who may make it here, bumps the workshop's revision, makes a
new outcome version when the workshop is already closed, commits, and only
then announces the regions that changed.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from flask import abort
from flask_babel import gettext as _
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import HTTPException

from .. import access, realtime
from ..extensions import db
from ..models import Action, Card, JointOffer, Participant, Priority, Workshop, touch
from ..outcomes.service import refreeze_if_closed
from ..vocab import ACTION_STATUSES, RAMEAU_STEPS

PLAN_REGIONS = ("actions", "actionsctl", "screenactions")
SCREEN_PHASES = ("build", "closing")
MAX_ID = 2**31 - 1   # what the database's ids can hold


class ActionError(ValueError):
    """A refused change, with the message to show (and the form field it concerns, if any)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Actor:
    participant: Participant | None
    facilitator: bool


@dataclass
class Fields:
    """An action as a form gives it. `owner` is "" (nobody yet), "me", "other"
    (the free name) or a participant's id; `status` is None in a participant's form."""
    title: str
    owner: str = ""
    owner_name: str = ""
    owner_org: str = ""
    due_on: date | None = None
    step: str | None = None
    card_id: int | None = None
    priority_id: int | None = None
    offer_id: int | None = None
    status: str | None = None
    status_was: str | None = None   # the status the form showed (None: a new action)
    map_entry_id: int | None = None  # the partnership-map link it follows up (set, never cleared, by the map)


def actor(workshop: Workshop) -> Actor:
    """Who is acting on this workshop's plan; 403 for a stranger."""
    facilitator = access.is_facilitator(workshop)
    participant = None if facilitator else access.current_participant(workshop)
    if not facilitator and participant is None:
        abort(403)
    return Actor(participant, facilitator)


# ------------------------------------------------------------------ reading

def _query(workshop: Workshop):
    """Actions by due date (none last), with what every view shows loaded up front."""
    return (db.select(Action).filter_by(workshop_id=workshop.id)
            .options(joinedload(Action.owner).joinedload(Participant.organisation), joinedload(Action.card),
                     joinedload(Action.priority), selectinload(Action.offer).selectinload(JointOffer.sections))
            .order_by(Action.due_on.is_(None), Action.due_on, Action.id))


def plan(workshop: Workshop) -> list[Action]:
    """The validated plan."""
    return list(db.session.scalars(_query(workshop).filter_by(validated=True)))


def proposals(workshop: Workshop) -> list[Action]:
    """Proposals awaiting a facilitator's validation."""
    return list(db.session.scalars(_query(workshop).filter_by(validated=False)))


def on_screen(workshop: Workshop) -> list[Action]:
    """What the projector shows: the validated plan, during the last two phases only."""
    return plan(workshop) if workshop.phase in SCREEN_PHASES else []


def action_or_404(workshop: Workshop, action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None or action.workshop_id != workshop.id:
        abort(404)
    return action


def find(workshop: Workshop, action_id: int) -> Action | None:
    """The action, or None when it is gone (deleted meanwhile) or not this workshop's."""
    action = db.session.get(Action, action_id)
    return action if action is not None and action.workshop_id == workshop.id else None


def is_late(action: Action, today: date | None = None) -> bool:
    """Past its due date and not done: shown « en retard »."""
    return action.due_on is not None and action.status != "done" and action.due_on < (today or date.today())


@dataclass
class Links:
    """What an action may be linked to, for the form's lists."""
    cards: list[Card]
    priorities: list[Priority]
    offers: list[JointOffer]


def links(workshop: Workshop, action: Action | None = None) -> Links:
    """The workshop's visible cards, priorities and offers (and the edited action's own card,
    even if hidden since, so that saving the form does not silently drop it)."""
    cards = list(db.session.scalars(db.select(Card).filter_by(workshop_id=workshop.id, hidden=False).order_by(Card.id)))
    if action is not None and action.card is not None and action.card.hidden:
        cards.append(action.card)
    priorities = list(db.session.scalars(db.select(Priority).filter_by(workshop_id=workshop.id).order_by(Priority.rank)))
    offers = list(db.session.scalars(db.select(JointOffer).filter_by(workshop_id=workshop.id)
                                     .options(selectinload(JointOffer.sections)).order_by(JointOffer.id)))
    return Links(cards, priorities, offers)


# ------------------------------------------------------------------ writing

def add(workshop: Workshop, who: Actor, fields: Fields) -> Action:
    """A participant's proposal (to be validated), or a facilitator's action (validated)."""
    with _writing(workshop):
        _check_writable(workshop, who)
        action = Action(workshop_id=workshop.id, validated=who.facilitator,
                        proposed_by_id=who.participant.id if who.participant else None)
        _apply(workshop, who, action, fields)
        db.session.add(action)
        db.session.flush()
    _commit(workshop, PLAN_REGIONS if action.validated else PLAN_REGIONS[:2])
    return action


@contextmanager
def _writing(workshop: Workshop, action: Action | None = None):
    """Take the workshop's write lock first (the revision bump), then read what the
    checks need as it now is: an action validated, re-owned, deleted or a link
    removed by someone else a moment ago is seen. A refusal undoes everything."""
    touch(workshop)
    try:
        if action is not None:
            try:
                db.session.refresh(action)
            except InvalidRequestError:
                raise ActionError(_("Cette action vient d'être supprimée.")) from None
        yield
    except (ActionError, HTTPException):
        db.session.rollback()
        raise


def require_editable(workshop: Workshop, who: Actor, action: Action) -> None:
    """Facilitators edit any action; a participant only their own proposal, until it is validated."""
    if who.facilitator:
        return
    if who.participant is None or action.proposed_by_id != who.participant.id:
        abort(403)
    _check_writable(workshop, who)
    if action.validated:
        raise ActionError(_("Cette proposition a été validée : seule l'animation peut encore la modifier."))


def edit(workshop: Workshop, who: Actor, action: Action, fields: Fields) -> None:
    with _writing(workshop, action):
        require_editable(workshop, who, action)
        was_validated = action.validated
        _apply(workshop, who, action, fields)
    _commit(workshop, PLAN_REGIONS if was_validated else PLAN_REGIONS[:2])


def delete(workshop: Workshop, who: Actor, action: Action) -> None:
    """A facilitator deletes (or turns down) any action; a participant withdraws their own proposal."""
    with _writing(workshop, action):
        require_editable(workshop, who, action)
        regions = PLAN_REGIONS if action.validated else PLAN_REGIONS[:2]
        db.session.delete(action)
    _commit(workshop, regions)


def validate(workshop: Workshop, who: Actor, action: Action) -> None:
    """A facilitator takes a proposal into the plan."""
    if not who.facilitator:
        abort(403)
    with _writing(workshop, action):
        if action.validated:
            db.session.rollback()
            return   # already in the plan: nothing changes, nothing is pushed
        action.validated = True
    _commit(workshop, PLAN_REGIONS)


def set_status(workshop: Workshop, who: Actor, action: Action, status: str) -> None:
    """À faire, en cours, fait: a facilitator, or the participant who owns the validated action."""
    if status not in ACTION_STATUSES:
        raise ActionError(_("Statut inconnu."), field="status")
    with _writing(workshop, action):
        if not who.facilitator:
            if who.participant is None or action.owner_id != who.participant.id:
                abort(403)
            _check_writable(workshop, who)
            if not action.validated:
                raise ActionError(_("Cette action n'est pas encore validée par l'animation."))
        if action.status == status:
            db.session.rollback()
            return
        action.status = status
    _commit(workshop, PLAN_REGIONS if action.validated else PLAN_REGIONS[:2])


def _check_writable(workshop: Workshop, who: Actor) -> None:
    """Participants write while the workshop is live; facilitators always (a closed
    workshop's outcome then gets a new version)."""
    if who.facilitator:
        return
    if workshop.status == "closed":
        raise ActionError(_("L'atelier est clos : le plan d'action ne peut plus être modifié que par l'animation."))
    if workshop.status == "draft":
        raise ActionError(_("L'atelier n'a pas encore commencé."))


def _apply(workshop: Workshop, who: Actor, action: Action, fields: Fields) -> None:
    """Check every field against this workshop, then set them all (nothing half-set on a refusal)."""
    title = " ".join(fields.title.split())
    if not title:
        raise ActionError(_("Donnez un titre à l'action."), field="title")
    if len(title) > 200:
        raise ActionError(_("%(max)d caractères au plus.", max=200), field="title")
    if fields.step is not None and fields.step not in RAMEAU_STEPS:
        raise ActionError(_("Étape inconnue."), field="step")
    owner, owner_name, owner_org = _owner(workshop, who, action, fields)
    card = _card(workshop, action, fields.card_id)
    priority = _linked(Priority, workshop, fields.priority_id,
                       _("Cette priorité n'appartient pas à cet atelier."), "priority")
    offer = _linked(JointOffer, workshop, fields.offer_id,
                    _("Cette offre commune n'appartient pas à cet atelier."), "offer")
    if who.facilitator and fields.status is not None:
        if fields.status not in ACTION_STATUSES:
            raise ActionError(_("Statut inconnu."), field="status")
        if action.id is None or fields.status != fields.status_was:   # else keep a change made meanwhile
            action.status = fields.status
    action.title, action.due_on, action.step = title, fields.due_on, fields.step
    action.owner, action.owner_name, action.owner_org = owner, owner_name, owner_org
    action.card, action.priority, action.offer = card, priority, offer
    if fields.map_entry_id is not None:
        action.map_entry_id = fields.map_entry_id


def _owner(workshop: Workshop, who: Actor, action: Action, fields: Fields):
    """(participant, free name, free organisation) from the form's choice."""
    name, org = " ".join(fields.owner_name.split()), " ".join(fields.owner_org.split())
    choice = fields.owner
    if choice == "me":
        if who.participant is None:
            raise ActionError(_("Porteur·se inconnu·e."), field="owner")
        return who.participant, "", ""
    if choice.isdigit():
        participant = db.session.get(Participant, int(choice)) if int(choice) <= MAX_ID else None
        # A participant may keep the owner a facilitator chose, never pick someone else.
        allowed = who.facilitator or (action.owner_id is not None and participant is not None
                                      and participant.id == action.owner_id)
        if participant is None or participant.workshop_id != workshop.id or not allowed:
            raise ActionError(_("Porteur·se inconnu·e."), field="owner")
        return participant, "", ""
    if choice == "":
        return None, "", ""   # nobody yet: a name left in the (then hidden) fields does not count
    if choice != "other":
        raise ActionError(_("Porteur·se inconnu·e."), field="owner")
    if not name:
        raise ActionError(_("Indiquez le nom de la personne qui porte l'action."), field="owner_name")
    return None, name, org


def _card(workshop: Workshop, action: Action, card_id: int | None) -> Card | None:
    if card_id is None:
        return None
    card = db.session.get(Card, card_id) if 0 < card_id <= MAX_ID else None
    if card is None or card.workshop_id != workshop.id:
        raise ActionError(_("Cette carte n'appartient pas à cet atelier."), field="card")
    if card.hidden and card.id != action.card_id:   # a link made before the card was hidden may stay
        raise ActionError(_("Cette carte a été masquée par l'animation : choisissez-en une autre."), field="card")
    return card


def _linked(model, workshop: Workshop, target_id: int | None, refusal: str, field: str):
    if target_id is None:
        return None
    target = db.session.get(model, target_id) if 0 < target_id <= MAX_ID else None
    if target is None or target.workshop_id != workshop.id:
        raise ActionError(refusal, field=field)
    return target


def _commit(workshop: Workshop, regions: tuple[str, ...]) -> None:
    """Freeze a new outcome version if the workshop is closed, commit, push (the
    caller bumped the revision first, in _writing)."""
    closed = workshop.status == "closed"
    refreeze_if_closed(workshop)
    db.session.commit()
    realtime.announce(workshop, *regions, *(("outcomectl",) if closed else ()))
