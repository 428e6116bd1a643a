"""Joint offers ("offres communes"), written by several people at once.

Each section (title, need, territory, asks by Rameau category, what each
association brings...) is saved on its own with a version number. A save says
which version it was based on; if someone saved the section meanwhile, the
save is refused with the current text (OfferConflict), never applied over it.
"""
import re
from dataclasses import dataclass

from flask import abort
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import realtime
from ..board.service import Actor
from ..extensions import db
from ..models import Card, JointOffer, OfferSection, Organisation, Priority, Workshop, touch, utcnow
from ..outcomes import service as outcomes
from ..vocab import OFFER_SECTIONS, RAMEAU

ID = re.compile(r"[1-9][0-9]{0,9}")   # ASCII digits only: int() reads "²" or "٣" too
TITLE_MAX = 160
TEXT_MAX = 4000
MAX_OFFERS = 50


class OfferError(ValueError):
    """A refused change, with the message to show."""


class OfferConflict(OfferError):
    """A save based on a stale version: carries the section as it now stands."""

    def __init__(self, message: str, current: "SectionView"):
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class SectionView:
    """What a section says now (a section never written is empty, version 0)."""
    key: str
    text: str
    version: int
    updated_by: str = ""


def offers(workshop: Workshop) -> list[JointOffer]:
    return list(db.session.scalars(
        db.select(JointOffer).where(JointOffer.workshop_id == workshop.id)
        .options(selectinload(JointOffer.sections), selectinload(JointOffer.cards))
        .order_by(JointOffer.id)))


def offer_or_404(workshop: Workshop, offer_id: int) -> JointOffer:
    offer = db.session.get(JointOffer, offer_id)
    if offer is None or offer.workshop_id != workshop.id:
        abort(404)
    return offer


def offer_now(workshop: Workshop, offer_id: int) -> JointOffer | None:
    offer = db.session.get(JointOffer, offer_id)
    return offer if offer is not None and offer.workshop_id == workshop.id else None


def contributors(offers_: list[JointOffer]) -> dict[int, str]:
    """Organisation names of every "brings:<id>" section, in one query."""
    ids = {int(s.key.partition(":")[2]) for o in offers_ for s in o.sections if s.key.startswith("brings:")}
    if not ids:
        return {}
    return dict(db.session.execute(
        db.select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())


def section_label(key: str, org_names: dict[int, str] | None = None) -> str:
    kind, _sep, rest = key.partition(":")
    if kind == "ask":
        return _("Ce qui est demandé aux entreprises — %(category)s", category=RAMEAU[rest])
    if kind == "brings":
        name = (org_names or {}).get(int(rest)) or _("une association")
        return _("Ce qu'apporte %(organisation)s", organisation=name)
    return str(OFFER_SECTIONS[key])


def check_key(workshop: Workshop, who: Actor, offer: JointOffer, key: str) -> None:
    """A section key is one of the fixed sections, ask:<category> or brings:<organisation id>.

    What an organisation brings is written by its own people; a facilitator may
    edit a contribution already there. Any other organisation is not found (the
    ids of other workshops' organisations are nobody's business here).
    """
    kind, sep, rest = key.partition(":")
    if not sep:
        valid = key in OFFER_SECTIONS
    elif kind == "ask":
        valid = rest in RAMEAU
    elif kind == "brings" and ID.fullmatch(rest):
        own = who.participant is not None and who.participant.organisation_id == int(rest)
        valid = own or (who.facilitator and offer.section(key) is not None)
    else:
        valid = False
    if not valid:
        abort(404)


def section(offer: JointOffer, key: str) -> SectionView:
    s = offer.section(key)
    return SectionView(key, s.text, s.version, s.updated_by) if s else SectionView(key, "", 0)


def _require_writable(workshop: Workshop, who: Actor) -> None:
    if not workshop.is_open and not who.facilitator:
        raise OfferError(_("L'atelier est clos : les offres ne peuvent plus être modifiées."))


def _editor_name(who: Actor) -> str:
    from flask_login import current_user
    if who.participant is not None:
        return who.participant.display_name
    return getattr(current_user, "label", "") or _("Animation")


def create(workshop: Workshop, who: Actor, title: str) -> JointOffer:
    """A new offer with its title; the rest is written section by section."""
    _require_writable(workshop, who)
    title = _clean(title, TITLE_MAX, required=True)
    touch(workshop)   # first: writers of this workshop queue here, so the count below holds
    count = db.session.scalar(db.select(db.func.count(JointOffer.id)).filter_by(workshop_id=workshop.id))
    if count >= MAX_OFFERS:
        db.session.rollback()
        raise OfferError(_("Un atelier compte au plus %(n)d offres communes.", n=MAX_OFFERS))
    offer = JointOffer(workshop_id=workshop.id,
                       created_by_id=who.participant.id if who.participant else None)
    offer.sections = [OfferSection(key="title", text=title, updated_by=_editor_name(who))]
    db.session.add(offer)
    db.session.flush()
    _commit(workshop, f"offer:{offer.id}")
    return offer


def save_section(workshop: Workshop, who: Actor, offer: JointOffer, key: str, text: str,
                 base_version: int) -> bool:
    """Save one section if it still is at `base_version`; False when nothing changed.

    The check and the write are one conditional UPDATE (or an INSERT that the
    primary key refuses if someone else wrote the section first), so two
    editors cannot both win, on SQLite or PostgreSQL.
    """
    _require_writable(workshop, who)
    text = _clean(text, TITLE_MAX if key == "title" else TEXT_MAX, required=key == "title")
    offer_id = offer.id
    touch(workshop)   # first: takes the write lock (SQLite) / the workshop row (PostgreSQL)
    existing = db.session.execute(
        db.select(OfferSection.text, OfferSection.version).filter_by(offer_id=offer_id, key=key)).first()
    if existing is not None and existing.text == text:
        db.session.rollback()   # the section already says this: nothing to do, nothing lost, no push
        return False
    if existing is None and base_version == 0:
        db.session.add(OfferSection(offer_id=offer_id, key=key, text=text, version=1,
                                    updated_by=_editor_name(who)))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            _conflict(workshop, offer_id, key)
    else:
        updated = db.session.execute(
            db.update(OfferSection)
            .where(OfferSection.offer_id == offer_id, OfferSection.key == key,
                   OfferSection.version == base_version)
            .values(text=text, version=OfferSection.version + 1, updated_by=_editor_name(who),
                    updated_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if updated != 1:
            db.session.rollback()
            _conflict(workshop, offer_id, key)
    db.session.expire(offer)
    # Actions linked to an offer show its title.
    _commit(workshop, f"offer:{offer_id}", *(("actions", "actionsctl") if key == "title" else ()))
    return True


def _commit(workshop: Workshop, *regions: str) -> None:
    """Commit an offer change (the caller bumped the revision first) and push it.

    After closing, a change is a new outcome version, which the facilitators'
    Restitution panel lists.
    """
    closed = not workshop.is_open
    outcomes.refreeze_if_closed(workshop)
    db.session.commit()
    realtime.announce(workshop, *regions, *(("outcomectl",) if closed else ()))


def _conflict(workshop: Workshop, offer_id: int, key: str):
    offer = offer_now(workshop, offer_id)
    if offer is None:
        raise OfferError(_("Cette offre a été supprimée."))
    db.session.refresh(offer)
    current = section(offer, key)
    raise OfferConflict(
        _("%(name)s a modifié cette section pendant que vous écriviez. Voici le texte actuel ; "
          "le vôtre est conservé dans le champ : relisez, puis enregistrez à nouveau.",
          name=current.updated_by or _("Quelqu'un")), current)


def link_card(workshop: Workshop, who: Actor, offer: JointOffer, card_id: int, linked: bool) -> None:
    """Attach a card (a practice, a link, a priority...) to the offer, or detach it."""
    _require_writable(workshop, who)
    offer_id = offer.id
    touch(workshop)   # first: two people linking the same card queue here, then see each other's link
    db.session.expire(offer)
    card = db.session.get(Card, card_id) if 0 < card_id < 2**31 else None
    if card is None or card.workshop_id != workshop.id or (card.hidden and linked):
        db.session.rollback()
        raise OfferError(_("Cette carte n'existe pas dans cet atelier."))
    if db.session.get(JointOffer, offer_id) is None:
        db.session.rollback()
        raise OfferError(_("Cette offre a été supprimée."))
    if (card in offer.cards) == linked:
        db.session.rollback()
        return
    if linked:
        offer.cards.append(card)
    else:
        offer.cards.remove(card)
    _commit(workshop, f"offer:{offer.id}")


def delete(workshop: Workshop, who: Actor, offer: JointOffer) -> None:
    if not who.facilitator:
        abort(403)
    offer_id = offer.id
    touch(workshop)
    db.session.delete(offer)
    _commit(workshop, f"offer:{offer_id}", "actions", "actionsctl")


def priority_ranks(workshop: Workshop) -> dict[int, int]:
    """card id -> its rank among the workshop's priorities."""
    return dict(db.session.execute(
        db.select(Priority.card_id, Priority.rank)
        .where(Priority.workshop_id == workshop.id, Priority.card_id.is_not(None))).all())


def linkable_cards(workshop: Workshop) -> list[Card]:
    return list(db.session.scalars(
        db.select(Card).filter_by(workshop_id=workshop.id, hidden=False).order_by(Card.id)))


def _clean(text: str | None, limit: int, required: bool) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise OfferError(_("Donnez un titre à l'offre."))
    if len(text) > limit:
        raise OfferError(_("Ce texte est trop long (%(n)d caractères au plus).", n=limit))
    return text
