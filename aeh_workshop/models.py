"""Tables of AEH Atelier (DESIGN.md §5), as typed SQLAlchemy 2 models."""
from datetime import date, datetime, timezone
from typing import Optional

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Column, ForeignKey, JSON, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def hash_secret(secret: str) -> str:
    """Hash a password or a PIN with the configured method (cheap in tests only)."""
    return generate_password_hash(secret, method=current_app.config["PASSWORD_HASH_METHOD"])


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


co_facilitators = Table(
    "workshop_facilitator",
    db.metadata,
    Column("workshop_id", ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True),
    Column("facilitator_id", ForeignKey("facilitator.id", ondelete="CASCADE"), primary_key=True),
)


class Facilitator(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = hash_secret(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def label(self) -> str:
        return self.name or self.email


class Organisation(db.Model):
    """A company, association or public body; shared across workshops."""
    KEY_LENGTH = 480   # casefold() can lengthen a 160-character name (ß → ss)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)  # casefolded name
    kind: Mapped[str] = mapped_column(String(20), default="other")
    siren_rna: Mapped[Optional[str]] = mapped_column(String(20))
    territory: Mapped[Optional[str]] = mapped_column(String(120))


class Workshop(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(160))
    purpose: Mapped[str] = mapped_column(Text, default="")
    template: Mapped[str] = mapped_column(String(30), default="practice_exchange")
    join_code: Mapped[str] = mapped_column(String(12), unique=True)
    screen_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    phase: Mapped[str] = mapped_column(String(20), default="welcome")
    revision: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[Optional[datetime]] = mapped_column()
    # The phase timer: running until timer_ends_at, or paused with timer_left
    # seconds to go; it belongs to the phase it was started in.
    timer_phase: Mapped[Optional[str]] = mapped_column(String(20))
    timer_ends_at: Mapped[Optional[datetime]] = mapped_column()
    timer_left: Mapped[Optional[int]] = mapped_column()
    # The secret of the outcome page's share link, made when first shared.
    share_token: Mapped[Optional[str]] = mapped_column(String(64), unique=True, index=True)
    # The organisation this workshop is run for: its link cards feed that partnership map.
    structure_id: Mapped[Optional[int]] = mapped_column(ForeignKey("structure.id", ondelete="SET NULL"), index=True)

    owner: Mapped[Facilitator] = relationship()
    co_facilitators: Mapped[list[Facilitator]] = relationship(secondary=co_facilitators)
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan", order_by="Participant.id")
    clusters: Mapped[list["Cluster"]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan", order_by="Cluster.position")
    structure: Mapped[Optional["Structure"]] = relationship()

    def is_facilitated_by(self, user) -> bool:
        if not getattr(user, "is_authenticated", False) or not isinstance(user, Facilitator):
            return False
        return user.id == self.owner_id or user in self.co_facilitators

    @property
    def is_open(self) -> bool:
        return self.status != "closed"


class Participant(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(80))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[str] = mapped_column(String(20))
    pin_hash: Mapped[str] = mapped_column(String(255))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    workshop: Mapped[Workshop] = relationship(back_populates="participants")
    organisation: Mapped[Organisation] = relationship()


class Cluster(db.Model):
    """A named group of cards, made by facilitators during qualification."""
    __table_args__ = (UniqueConstraint("workshop_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)

    workshop: Mapped[Workshop] = relationship(back_populates="clusters")


class Card(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    partner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    category: Mapped[Optional[str]] = mapped_column(String(20))
    subtype: Mapped[Optional[str]] = mapped_column(String(80))
    direction: Mapped[Optional[str]] = mapped_column(String(30))
    link_status: Mapped[Optional[str]] = mapped_column(String(20))
    cluster_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cluster.id", ondelete="SET NULL"))
    hidden: Mapped[bool] = mapped_column(default=False)
    # The map entry this card stands for when map entries are put to a workshop's vote.
    map_entry_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("map_entry.id", ondelete="SET NULL", use_alter=True), index=True)  # map_entry names cards too
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[Optional[Participant]] = relationship()
    partner: Mapped[Optional[Organisation]] = relationship()
    cluster: Mapped[Optional[Cluster]] = relationship()


class Vote(db.Model):
    """A dot vote ("vote par gommettes") on some of a workshop's cards."""
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(160), default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")      # draft, open, closed
    budget: Mapped[int] = mapped_column(default=5)                        # dots per participant
    cap: Mapped[int] = mapped_column(default=3)                           # dots per card and participant
    scope: Mapped[str] = mapped_column(String(10), default="all")         # all, cluster, shortlist, actions
    cluster_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cluster.id", ondelete="SET NULL"))
    by_kind: Mapped[bool] = mapped_column(default=False)
    kind_budgets: Mapped[dict] = mapped_column(JSON, default=dict)        # {"company": 3, ...} when by_kind
    results: Mapped[str] = mapped_column(String(10), default="hidden")    # hidden (until revealed) or live
    revealed: Mapped[bool] = mapped_column(default=False)
    screen: Mapped[str] = mapped_column(String(10), default="count")      # projector: tally or count
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    cluster: Mapped[Optional[Cluster]] = relationship()
    shortlist: Mapped[list["VoteItem"]] = relationship(cascade="all, delete-orphan")


class VoteItem(db.Model):
    """A card on a vote's shortlist."""
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"), primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id", ondelete="CASCADE"), primary_key=True)


class Dot(db.Model):
    """A participant's dots on one card in one vote; totals are sums of these rows."""
    __table_args__ = (UniqueConstraint("vote_id", "participant_id", "card_id"),
                      CheckConstraint("dots > 0", name="dots_positive"))
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"))  # the unique index leads with it
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id", ondelete="CASCADE"), index=True)
    dots: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Priority(db.Model):
    """A ranked priority the workshop retained, usually from a vote's results."""
    __table_args__ = (UniqueConstraint("workshop_id", "card_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[Optional[int]] = mapped_column(ForeignKey("card.id", ondelete="SET NULL"))
    vote_id: Mapped[Optional[int]] = mapped_column(ForeignKey("vote.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)        # the card's text when it was retained
    dots: Mapped[Optional[int]] = mapped_column()   # its dots in that vote
    rank: Mapped[int] = mapped_column()

    card: Mapped[Optional[Card]] = relationship()
    vote: Mapped[Optional[Vote]] = relationship()


offer_card = Table(
    "offer_card",
    db.metadata,
    Column("offer_id", ForeignKey("joint_offer.id", ondelete="CASCADE"), primary_key=True),
    Column("card_id", ForeignKey("card.id", ondelete="CASCADE"), primary_key=True),
)


class JointOffer(db.Model):
    """An "offre commune": what associations propose together to companies.

    Its text lives in sections (title, need, asks by category, what each
    association brings...), each saved on its own with a version, so that
    several people can write one offer at once without overwriting each other.
    """
    __tablename__ = "joint_offer"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sections: Mapped[list["OfferSection"]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferSection.key")
    cards: Mapped[list[Card]] = relationship(secondary=offer_card, order_by="Card.id")

    def text(self, key: str) -> str:
        section = self.section(key)
        return section.text if section else ""

    def section(self, key: str) -> Optional["OfferSection"]:
        return next((s for s in self.sections if s.key == key), None)

    def sections_of(self, kind: str) -> list["OfferSection"]:
        """The "ask:..." or "brings:..." sections."""
        return [s for s in self.sections if s.key.startswith(kind + ":")]

    @property
    def title(self) -> str:
        return self.text("title")


class OfferSection(db.Model):
    """One section of a joint offer; `version` counts its saves (stale saves are refused)."""
    __tablename__ = "offer_section"
    offer_id: Mapped[int] = mapped_column(ForeignKey("joint_offer.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)   # title, need, ask:<category>, brings:<org id>
    text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    offer: Mapped[JointOffer] = relationship(back_populates="sections")


class Action(db.Model):
    """An item of the workshop's action plan: proposed by anyone, validated by a facilitator."""
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # The owner: a participant, or a free name and organisation.
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    owner_name: Mapped[str] = mapped_column(String(80), default="")
    owner_org: Mapped[str] = mapped_column(String(160), default="")
    due_on: Mapped[Optional[date]] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="todo")      # todo, doing, done
    step: Mapped[Optional[str]] = mapped_column(String(12))              # Le Rameau's step
    card_id: Mapped[Optional[int]] = mapped_column(ForeignKey("card.id", ondelete="SET NULL"))
    priority_id: Mapped[Optional[int]] = mapped_column(ForeignKey("priority.id", ondelete="SET NULL"))
    offer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("joint_offer.id", ondelete="SET NULL"))
    map_entry_id: Mapped[Optional[int]] = mapped_column(ForeignKey("map_entry.id", ondelete="SET NULL"), index=True)
    proposed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    validated: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[Optional[Participant]] = relationship(foreign_keys=[owner_id])
    proposed_by: Mapped[Optional[Participant]] = relationship(foreign_keys=[proposed_by_id])
    card: Mapped[Optional[Card]] = relationship()
    priority: Mapped[Optional[Priority]] = relationship()
    offer: Mapped[Optional[JointOffer]] = relationship()
    map_entry: Mapped[Optional["MapEntry"]] = relationship()

    @property
    def owner_label(self) -> str:
        if self.owner is not None:
            return self.owner.display_name
        return self.owner_name

    @property
    def owner_organisation(self) -> str:
        if self.owner is not None:
            return self.owner.organisation.name
        return self.owner_org


class Outcome(db.Model):
    """A frozen, versioned snapshot of what a workshop produced: what downloads render."""
    __table_args__ = (UniqueConstraint("workshop_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column()
    snapshot: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Structure(db.Model):
    """An organisation AEH accompanies: it keeps one partnership map across workshops."""
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    key: Mapped[str] = mapped_column(String(Organisation.KEY_LENGTH), unique=True)   # casefolded name
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped in every write to the map: concurrent merges and imports take turns on it.
    revision: Mapped[int] = mapped_column(default=0)

    entries: Mapped[list["MapEntry"]] = relationship(back_populates="structure", cascade="all, delete-orphan")


class MapEntry(db.Model):
    """One link between the structure and a partner, qualified with Le Rameau's grid."""
    __tablename__ = "map_entry"
    __table_args__ = (UniqueConstraint("structure_id", "source_card_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[Optional[str]] = mapped_column(String(20))
    subtype: Mapped[Optional[str]] = mapped_column(String(80))
    direction: Mapped[Optional[str]] = mapped_column(String(30))
    status: Mapped[Optional[str]] = mapped_column(String(20))           # active, past, wished
    holder: Mapped[str] = mapped_column(String(120), default="")        # who holds the link internally
    last_contact: Mapped[Optional[date]] = mapped_column()
    involvement: Mapped[Optional[str]] = mapped_column(String(10))      # employees involved: yes, no, wished
    notes: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[Optional[str]] = mapped_column(String(10))         # high, medium, low
    dots: Mapped[Optional[int]] = mapped_column()                       # its dots in the last vote on the map
    next_action: Mapped[str] = mapped_column(String(200), default="")
    # Where it came from: "manual", "import" (file and line) or "workshop" (the card).
    source: Mapped[str] = mapped_column(String(10), default="manual")
    source_label: Mapped[str] = mapped_column(String(300), default="")
    source_workshop_id: Mapped[Optional[int]] = mapped_column(ForeignKey("workshop.id", ondelete="SET NULL"))
    source_card_id: Mapped[Optional[int]] = mapped_column(ForeignKey("card.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    structure: Mapped[Structure] = relationship(back_populates="entries")
    partner: Mapped[Organisation] = relationship()
    source_workshop: Mapped[Optional[Workshop]] = relationship()


class PartnerMerge(db.Model):
    """A confirmed duplicate merge in one structure's map, kept so it can be undone.

    `moves` lists [entry id, partner id before] for every entry repointed; the
    merged organisations themselves are never deleted (workshops' cards and
    other maps may name them).
    """
    __tablename__ = "partner_merge"
    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    target_name_before: Mapped[str] = mapped_column(String(160))
    merged: Mapped[list] = mapped_column(JSON)        # [{"id": .., "name": ..}, ...]
    moves: Mapped[list] = mapped_column(JSON)         # [[entry_id, partner_id_before], ...]
    score: Mapped[Optional[float]] = mapped_column()
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    done_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[Optional[datetime]] = mapped_column()

    target: Mapped[Organisation] = relationship()


class PartnerDistinct(db.Model):
    """Two partners a facilitator said are different companies: never suggested again."""
    __tablename__ = "partner_distinct"
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)    # the lower id
    second_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Diagnostic(db.Model):
    """A company's diagnostic for one year: what it does, what it wants to do, by Rameau category."""
    __table_args__ = (UniqueConstraint("organisation_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    year: Mapped[int] = mapped_column()
    workshop_id: Mapped[Optional[int]] = mapped_column(ForeignKey("workshop.id", ondelete="SET NULL"))
    respondent: Mapped[str] = mapped_column(String(80), default="")
    does: Mapped[dict] = mapped_column(JSON, default=dict)       # {category: free text}
    wants: Mapped[dict] = mapped_column(JSON, default=dict)      # {category: free text}
    involve_employees: Mapped[Optional[str]] = mapped_column(String(10))   # yes, no, wished
    territory: Mapped[str] = mapped_column(String(120), default="")
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    workshop: Mapped[Optional[Workshop]] = relationship()


def touch(workshop: Workshop) -> None:
    """Bump the workshop's revision inside the caller's transaction."""
    from sqlalchemy import update
    db.session.execute(
        update(Workshop).where(Workshop.id == workshop.id).values(revision=Workshop.revision + 1))
