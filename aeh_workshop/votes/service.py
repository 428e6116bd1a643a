"""Dot votes: settings, opening and closing, a participant's dots, results, priorities.

The rule that matters: "my dots on this card = N" is checked and written in one
transaction that holds the participant's lock, so a retry never adds a dot and
concurrent requests never overspend the budget or the cap. Totals are always
summed from the `dot` rows.
"""
from dataclasses import dataclass, field, replace

from flask import abort
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from .. import realtime
from ..extensions import db
from ..models import Card, Cluster, Dot, Participant, Priority, Vote, VoteItem, Workshop, touch

GROUPS = ("company", "association", "other")
MAX_DOTS = 50

# Regions that show the tally; those that show the vote's state; and what
# display changes (reveal, live or hidden, projector mode) redraw. Only the
# vote's rules and status change ballots: each `votebox` push makes every
# participant fetch their own.
TALLY_REGIONS = ("screentally", "facresults")
STATE_REGIONS = ("votectl", "votebox", "results", "screentally", "facresults", "priorities")
DISPLAY_REGIONS = ("votectl", "results", "screentally", "facresults", "priorities")


class VoteError(ValueError):
    """A refused change, with the message to show."""


def group_of(kind: str) -> str:
    """Results are split three ways: companies, associations, everyone else."""
    return kind if kind in ("company", "association") else "other"


def current(workshop: Workshop) -> Vote | None:
    """The workshop's latest vote (earlier ones keep their dots and results)."""
    return db.session.scalar(db.select(Vote).filter_by(workshop_id=workshop.id).order_by(Vote.id.desc()).limit(1))


def vote_or_404(workshop: Workshop, vote_id: int) -> Vote:
    vote = db.session.get(Vote, vote_id)
    if vote is None or vote.workshop_id != workshop.id:
        abort(404)
    return vote


def budget_for(vote: Vote, kind: str) -> int:
    if vote.by_kind:
        return int((vote.kind_budgets or {}).get(group_of(kind), vote.budget))
    return vote.budget


def cap_for(vote: Vote, kind: str) -> int:
    return min(vote.cap, budget_for(vote, kind))


def results_public(vote: Vote | None) -> bool:
    """Whether participants may see the tally: live results, or revealed ones."""
    return vote is not None and (vote.results == "live" or vote.revealed)


# ---------------------------------------------------------------- settings

@dataclass
class Settings:
    title: str = ""
    budget: int = 5
    cap: int = 3
    scope: str = "all"
    cluster_id: int | None = None
    shortlist: list[int] = field(default_factory=list)
    by_kind: bool = False
    kind_budgets: dict[str, int] = field(default_factory=dict)
    results: str = "hidden"
    screen: str = "count"


def settings_of(vote: Vote | None) -> Settings:
    if vote is None:
        return Settings()
    return Settings(vote.title, vote.budget, vote.cap, vote.scope, vote.cluster_id,
                    [item.card_id for item in vote.shortlist], vote.by_kind, dict(vote.kind_budgets or {}),
                    vote.results, vote.screen)


def _check_settings(workshop: Workshop, s: Settings) -> None:
    if not 1 <= s.budget <= MAX_DOTS:
        raise VoteError(_("Le nombre de gommettes doit être entre 1 et %(max)d.", max=MAX_DOTS))
    if not 1 <= s.cap <= s.budget:
        raise VoteError(_("Le plafond par carte doit être entre 1 et le nombre de gommettes (%(n)d).", n=s.budget))
    if s.by_kind and any(not 1 <= s.kind_budgets.get(g, s.budget) <= MAX_DOTS for g in GROUPS):
        raise VoteError(_("Chaque budget doit être entre 1 et %(max)d gommettes.", max=MAX_DOTS))
    if s.scope == "cluster":
        cluster = db.session.get(Cluster, s.cluster_id) if s.cluster_id else None
        if cluster is None or cluster.workshop_id != workshop.id:
            raise VoteError(_("Choisissez le regroupement soumis au vote."))
    if s.scope == "shortlist":
        found = db.session.scalars(db.select(Card.id).where(
            Card.workshop_id == workshop.id, Card.id.in_(s.shortlist or [0]), Card.hidden.is_(False))).all()
        if not found or len(set(found)) != len(set(s.shortlist)):
            raise VoteError(_("Cochez au moins une carte visible de cet atelier pour la présélection."))


def configure(workshop: Workshop, vote: Vote | None, s: Settings) -> Vote:
    """Save a vote's settings: a new vote, or the current one while it is still a draft."""
    if workshop.status == "closed":
        raise VoteError(_("L'atelier est clos."))
    _check_settings(workshop, s)
    if vote is None or vote.status == "closed":
        vote = Vote(workshop_id=workshop.id)
        db.session.add(vote)
    elif vote.status == "open":
        raise VoteError(_("Le vote est ouvert : fermez-le avant d'en changer les règles."))
    vote.title = s.title.strip()
    vote.budget, vote.cap, vote.scope, vote.by_kind = s.budget, s.cap, s.scope, s.by_kind
    vote.cluster_id = s.cluster_id if s.scope == "cluster" else None
    vote.kind_budgets = {g: int(s.kind_budgets.get(g, s.budget)) for g in GROUPS} if s.by_kind else {}
    vote.results, vote.screen = s.results, s.screen
    vote.shortlist = [VoteItem(card_id=cid) for cid in dict.fromkeys(s.shortlist)] if s.scope == "shortlist" else []
    _commit_state(workshop)
    return vote


def set_display(workshop: Workshop, vote: Vote, results: str | None = None, screen: str | None = None,
                revealed: bool | None = None) -> None:
    """What participants and the projector see: may change at any time (a draft has nothing to reveal)."""
    if revealed and vote.status == "draft":
        raise VoteError(_("Le vote n'a pas encore eu lieu : rien à révéler."))
    if results is not None:
        vote.results = results
    if screen is not None:
        vote.screen = screen
    if revealed is not None:
        vote.revealed = revealed
    _commit_state(workshop, DISPLAY_REGIONS)


def set_status(workshop: Workshop, vote: Vote, status: str) -> None:
    """Open a draft, close an open vote, reopen a closed one."""
    allowed = {"draft": {"open"}, "open": {"closed"}, "closed": {"open"}}
    if status not in allowed[vote.status]:
        raise VoteError(_("Ce changement n'est pas possible."))
    if status == "open" and workshop.status != "live":
        raise VoteError(_("Ouvrez d'abord l'atelier."))
    if status == "open" and current(workshop).id != vote.id:
        raise VoteError(_("Seul le dernier vote peut être rouvert."))
    vote.status = status
    if status == "open":
        vote.revealed = False   # a reveal was for the closed vote, not for a run-off
    _commit_state(workshop)


def _commit_state(workshop: Workshop, regions=STATE_REGIONS) -> None:
    touch(workshop)
    db.session.commit()
    realtime.announce(workshop, *regions)


def regions_for_card_change(workshop: Workshop) -> tuple[str, ...]:
    """What a card posted, edited, hidden or deleted also redraws: the tally of a
    vote that has run, and while it is open the ballots (a new card can be voted on)."""
    vote = current(workshop)
    if vote is None or vote.status == "draft":
        return ()
    return TALLY_REGIONS + ("results",) + (("votebox",) if vote.status == "open" else ())


# ------------------------------------------------------------------ voting

def votable_query(vote: Vote):
    """The cards open to this vote, as a query."""
    query = db.select(Card).where(Card.workshop_id == vote.workshop_id, Card.hidden.is_(False))
    if vote.scope == "cluster":   # its cluster deleted since: nothing left to vote on
        query = query.where(Card.cluster_id == vote.cluster_id if vote.cluster_id else db.false())
    elif vote.scope == "shortlist":
        query = query.where(Card.id.in_(db.select(VoteItem.card_id).filter_by(vote_id=vote.id)))
    elif vote.scope == "actions":
        query = query.where(Card.kind == "action")
    return query


def votable_cards(vote: Vote) -> list[Card]:
    query = votable_query(vote).order_by(Card.id).options(joinedload(Card.partner))
    return list(db.session.scalars(query))


def card_now(card_id: int) -> Card | None:
    """The card as the database holds it now (None once deleted), not as this session last saw it."""
    return db.session.scalar(db.select(Card).filter_by(id=card_id).execution_options(populate_existing=True))


def my_dots(vote: Vote, participant_id: int) -> dict[int, int]:
    rows = db.session.execute(db.select(Dot.card_id, Dot.dots).filter_by(vote_id=vote.id, participant_id=participant_id))
    return dict(rows.all())


def _lock(workshop: Workshop, vote: Vote, participant: Participant, card_id: int) -> tuple[Vote, Workshop]:
    """Serialise this participant's ballot and freeze the vote's and workshop's state.

    PostgreSQL: the participant's row FOR NO KEY UPDATE (one ballot write at a
    time per person), the vote's FOR SHARE (it cannot close meanwhile), the
    card's FOR KEY SHARE (it cannot be deleted meanwhile). SQLite
    has one writer at a time: the revision bump is this transaction's first
    statement, so the write lock is held before anything is read.
    Returns the vote and workshop re-read under the lock.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        if db.session.execute(db.select(Participant.id).filter_by(id=participant.id)
                              .with_for_update(key_share=True)).first() is None:
            raise VoteError(_("Vous avez quitté l'atelier."))    # left meanwhile, from another device
        db.session.execute(db.select(Vote.id).filter_by(id=vote.id).with_for_update(read=True))
        # The dot row's foreign key will share-lock the card: take that lock now,
        # before the workshop's, in the order a card's deletion takes them.
        db.session.execute(db.select(Card.id).filter_by(id=card_id).with_for_update(read=True, key_share=True))
    touch(workshop)
    if db.session.get_bind().dialect.name != "postgresql" and \
            db.session.scalar(db.select(Participant.id).filter_by(id=participant.id)) is None:
        raise VoteError(_("Vous avez quitté l'atelier."))        # (SQLite: now under the write lock)
    fresh = db.session.scalar(db.select(Vote).filter_by(id=vote.id).execution_options(populate_existing=True))
    state = db.session.scalar(db.select(Workshop).filter_by(id=workshop.id).execution_options(populate_existing=True))
    return fresh, state


def set_dots(workshop: Workshop, vote: Vote, participant: Participant, card_id: int, dots: int) -> bool:
    """Make this participant's dots on the card equal `dots`; True if anything changed.

    Idempotent: the same request again changes nothing (and pushes nothing).
    """
    return place(workshop, vote, participant, card_id, dots)[0]


def place(workshop: Workshop, vote: Vote, participant: Participant, card_id: int, dots: int,
          keep_loaded: bool = False) -> tuple[bool, "Ballot"]:
    """set_dots, and the participant's ballot counts as this transaction left them.

    `keep_loaded`: the commit leaves the objects this request loaded as they are
    (the vote and workshop were re-read under the lock), so the answer that
    follows renders without reading them again.
    """
    if not 0 <= dots <= MAX_DOTS:
        raise VoteError(_("Nombre de gommettes invalide."))
    try:
        vote, state = _lock(workshop, vote, participant, card_id)
        if state.status != "live" or vote.status != "open":
            raise VoteError(_("Le vote est fermé : votre choix n'a pas été enregistré."))
        rows = {row.card_id: row for row in db.session.scalars(
            db.select(Dot).filter_by(vote_id=vote.id, participant_id=participant.id))}
        before = rows[card_id].dots if card_id in rows else 0
        mine = {cid: row.dots for cid, row in rows.items()}
        counts = Ballot(vote, [], mine, budget_for(vote, participant.kind), cap_for(vote, participant.kind))
        if dots == before:
            db.session.rollback()   # nothing to do: no revision bump, no push
            return False, counts
        if dots > before:
            _check_increase(vote, participant, card_id, dots, used=sum(r.dots for r in rows.values()), before=before)
        row = rows.get(card_id)
        if dots == 0:
            db.session.delete(row)
        elif row is None:
            db.session.add(Dot(vote_id=vote.id, participant_id=participant.id, card_id=card_id, dots=dots))
        else:
            row.dots = dots
        if dots:
            mine[card_id] = dots
        else:
            mine.pop(card_id, None)
        public = results_public(vote)   # read before the commit expires it
        _commit(keep_loaded)
    except VoteError:
        db.session.rollback()
        raise
    regions = TALLY_REGIONS + (("results",) if public else ())
    realtime.announce(workshop, *regions)
    return True, counts


def _commit(keep_loaded: bool) -> None:
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = expire and not keep_loaded
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _check_increase(vote: Vote, participant: Participant, card_id: int, dots: int, used: int, before: int) -> None:
    """Adding dots (from `before` to `dots` on this card, `used` in all so far):
    the card must be open to the vote, within the cap and the budget."""
    votable = db.session.scalar(votable_query(vote).with_only_columns(Card.id).where(Card.id == card_id))
    if votable is None:
        raise VoteError(_("Cette carte n'est pas soumise au vote."))
    cap = cap_for(vote, participant.kind)
    if dots > cap:
        raise VoteError(_("Au plus %(n)d gommettes par carte.", n=cap))
    budget = budget_for(vote, participant.kind)
    if used - before + dots > budget:
        left = budget - used
        raise VoteError(_("Pas assez de gommettes : il vous en reste %(left)d sur %(budget)d. "
                          "Retirez-en d'une autre carte d'abord.", left=max(0, left), budget=budget))


@dataclass
class Ballot:
    """What one participant sees: the votable cards, their dots, what is left."""
    vote: Vote
    cards: list[Card]
    mine: dict[int, int]
    budget: int
    cap: int

    @property
    def used(self) -> int:
        return sum(self.mine.values())

    @property
    def left(self) -> int:
        return max(0, self.budget - self.used)


def ballot(vote: Vote, participant: Participant, cards: bool = True) -> Ballot:
    """The participant's ballot; without its cards when only the counts are needed."""
    mine = my_dots(vote, participant.id)
    budget, cap = budget_for(vote, participant.kind), cap_for(vote, participant.kind)
    if not cards:
        return Ballot(vote, [], mine, budget, cap)
    cards = votable_cards(vote)
    shown = {c.id for c in cards}
    # Dots on a card that left the vote (hidden, moved) can still be taken back.
    extra = [cid for cid in mine if cid not in shown]
    if extra:
        cards += list(db.session.scalars(db.select(Card).where(Card.id.in_(extra)).order_by(Card.id)))
    return Ballot(vote, cards, mine, budget, cap)


# ----------------------------------------------------------------- results

@dataclass
class Row:
    card: Card
    dots: int = 0
    voters: int = 0
    groups: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    rank: int = 0
    tied: bool = False


@dataclass
class Results:
    vote: Vote
    rows: list[Row]              # ranked by total dots
    dots: int                    # dots placed in all
    voters: int                  # people who placed at least one
    group_dots: dict[str, int]
    group_rows: dict[str, list[Row]]  # each group's own ranking (by_kind votes)

    @property
    def top(self) -> int:
        return max((r.dots for r in self.rows), default=0)


def _rank(rows: list[Row], key) -> list[Row]:
    """Competition ranking (1, 2, 2, 4): equal dots share a rank and are marked tied."""
    ordered = sorted(rows, key=lambda r: (-key(r), r.card.id))
    values = [key(r) for r in ordered]
    ranked: list[Row] = []
    for i, (row, value) in enumerate(zip(ordered, values)):
        same_before = i > 0 and values[i - 1] == value
        same_after = i + 1 < len(values) and values[i + 1] == value
        rank = ranked[-1].rank if same_before else i + 1
        ranked.append(replace(row, rank=rank, tied=value > 0 and (same_before or same_after)))
    return ranked


def results(vote: Vote) -> Results:
    """The tally, summed from the stored dots (hidden cards left out)."""
    query = (db.select(Dot.card_id, Participant.kind, db.func.sum(Dot.dots), db.func.count(Dot.id))
             .join(Participant, Participant.id == Dot.participant_id)
             .filter(Dot.vote_id == vote.id).group_by(Dot.card_id, Participant.kind))
    by_card: dict[int, Row] = {c.id: Row(c) for c in votable_cards(vote)}
    tallied = db.session.execute(query).all()
    missing = {cid for cid, *_ in tallied} - set(by_card)
    if missing:
        for card in db.session.scalars(db.select(Card).where(Card.id.in_(missing), Card.hidden.is_(False))):
            by_card[card.id] = Row(card)
    group_dots = dict.fromkeys(GROUPS, 0)
    for card_id, kind, dots, voters in tallied:
        row = by_card.get(card_id)
        if row is None:   # a hidden card
            continue
        group_dots[group_of(kind)] += int(dots)
        row.dots += int(dots)
        row.voters += int(voters)
        row.groups[group_of(kind)] += int(dots)
    # The headline counts what the bars show: dots on hidden cards are left out.
    totals = db.session.execute(
        db.select(db.func.coalesce(db.func.sum(Dot.dots), 0), db.func.count(db.distinct(Dot.participant_id)))
        .join(Card, Card.id == Dot.card_id).where(Dot.vote_id == vote.id, Card.hidden.is_(False))).one()
    rows = list(by_card.values())
    group_rows = {g: _rank(rows, lambda r, g=g: r.groups[g]) for g in GROUPS} if vote.by_kind else {}
    return Results(vote, _rank(rows, lambda r: r.dots), int(totals[0]), int(totals[1]), group_dots, group_rows)


# -------------------------------------------------------------- priorities

def priorities(workshop: Workshop) -> list[Priority]:
    return list(db.session.scalars(db.select(Priority).filter_by(workshop_id=workshop.id).order_by(Priority.rank)))


def promote_top(workshop: Workshop, vote: Vote, n: int) -> int:
    """Retain the top n results as priorities (cards tied at the cut come too); how many were added."""
    _check_open(workshop)
    if not 1 <= n <= 50:
        raise VoteError(_("Indiquez un nombre entre 1 et 50."))
    chosen = [r for r in results(vote).rows if r.dots > 0 and r.rank <= n]
    if not chosen:
        raise VoteError(_("Aucune carte n'a encore reçu de gommette."))
    return _add_priorities(workshop, vote, chosen)


def promote_card(workshop: Workshop, vote: Vote, card_id: int) -> int:
    _check_open(workshop)
    row = next((r for r in results(vote).rows if r.card.id == card_id), None)
    if row is None:
        raise VoteError(_("Cette carte n'est pas dans les résultats."))
    return _add_priorities(workshop, vote, [row])


def _add_priorities(workshop: Workshop, vote: Vote, rows: list[Row]) -> int:
    touch(workshop)   # first: two facilitators retaining at once take turns (no duplicate)
    existing = priorities(workshop)
    taken = {p.card_id for p in existing}
    rank = len(existing)
    added = 0
    for row in rows:
        if row.card.id in taken:
            continue
        rank += 1
        added += 1
        db.session.add(Priority(workshop_id=workshop.id, card_id=row.card.id, vote_id=vote.id,
                                title=row.card.text, dots=row.dots, rank=rank))
    _commit_priorities(workshop)
    return added


def move_priority(workshop: Workshop, priority_id: int, offset: int) -> None:
    """Move a priority up (-1) or down (+1) the ranking."""
    _check_open(workshop)
    touch(workshop)
    ranked = priorities(workshop)
    index = next((i for i, p in enumerate(ranked) if p.id == priority_id), None)
    if index is None:
        abort(404)
    other = index + offset
    if 0 <= other < len(ranked):
        ranked[index], ranked[other] = ranked[other], ranked[index]
        _renumber(ranked)
    _commit_priorities(workshop)


def remove_priority(workshop: Workshop, priority_id: int) -> None:
    _check_open(workshop)
    touch(workshop)
    ranked = priorities(workshop)
    target = next((p for p in ranked if p.id == priority_id), None)
    if target is None:
        abort(404)
    db.session.delete(target)
    _renumber([p for p in ranked if p is not target])
    _commit_priorities(workshop)


def _renumber(ranked: list[Priority]) -> None:
    for i, p in enumerate(ranked, start=1):
        p.rank = i


def _check_open(workshop: Workshop) -> None:
    if workshop.status == "closed":
        raise VoteError(_("L'atelier est clos."))


def _commit_priorities(workshop: Workshop) -> None:
    """Commit (the caller bumped the revision first), then redraw the priorities."""
    db.session.commit()
    # Actions show which priority they serve: their labels follow.
    realtime.announce(workshop, "priorities", "prioctl", "facresults", "actions", "actionsctl")
