"""Dot votes through HTTP: the rules, a participant's dots, who sees the tally, priorities.

Every test drives the app as its users do (facilitator panel, participant ballot,
projector, pushes) and checks what they see and what the `dot`, `vote` and
`priority` tables hold.
"""
import html
import re
from dataclasses import dataclass, field

import pytest
from jinja2 import BytecodeCache

from aeh_workshop.extensions import db
from aeh_workshop.models import Card, Cluster, Dot, Participant, Priority, Vote, Workshop
from conftest import pushes

# The room's cards: text -> kind. Only the third is an « Action ».
CARDS = {
    "Tutorat de jeunes en insertion": "idea",
    "Prêt de salles de réunion": "idea",
    "Journée solidaire inter-entreprises": "action",
    "Collecte de matériel informatique": "practice",
}
A, B, C, D = CARDS
# What only a tally shows: participants must see none of it while results are hidden.
TALLY_MARKERS = ('class="bars', "bar-row", "posée", "votant")


# ------------------------------------------------------------------- speed

class _CompiledTemplates(BytecodeCache):
    """Templates compiled once for this module, not once per test's app (each test builds
    a new app, so a new Jinja environment): it takes about a third off the run."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.code = self.code[bucket.key]

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.code


_COMPILED = _CompiledTemplates()


@pytest.fixture
def app(app):
    app.jinja_env.bytecode_cache = _COMPILED
    return app


# ----------------------------------------------------------------- helpers

def _page(resp) -> str:
    """The response's HTML with entities decoded, for comparing visible text."""
    return html.unescape(resp.get_data(as_text=True))


def _flat(text: str) -> str:
    """Whitespace collapsed, so a sentence split over template lines reads as one."""
    return " ".join(text.split())


def _text(page: str) -> str:
    """What a reader sees: the page without its tags, whitespace collapsed."""
    return _flat(re.sub(r"<[^>]+>", " ", page))


def _alert(resp) -> str | None:
    """The refusal a ballot answer shows (role="alert"), or None."""
    found = re.search(r'role="alert">(.*?)</p>', _page(resp), re.S)
    return found and _flat(found.group(1))


def _input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    value = tag and re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def _bars(page: str) -> list[tuple]:
    """Ranked bars as (card text, rank, shown as tied, dots, voters label), top first."""
    rows = []
    for tied, body in re.findall(r'<li class="bar-row( is-tied)?" id="\w+-\d+">(.*?)</li>', page, re.S):
        rank = int(re.search(r'class="rank"[^>]*>(\d+)', body).group(1))
        label = re.search(r'<span class="label">(.*?)</span>', body, re.S).group(1).strip()
        dots = int(re.search(r'<span class="score"><strong>(\d+)</strong>', body).group(1))
        voters = re.search(r"<small>([^<]*votant[^<]*)</small>", body).group(1)
        shown_tied = bool(tied) and "ex æquo" in body
        rows.append((label, rank, shown_tied, dots, voters))
    return rows


def _ballot_cards(page: str, cards: dict[str, int]) -> set[str]:
    """The card texts a ballot offers (each has a + button)."""
    ids = {int(i) for i in re.findall(r'id="add-(\d+)"', page)}
    return {text for text, cid in cards.items() if cid in ids}


@dataclass
class Room:
    """A live workshop, its logged-in facilitator and four cards; joins and votes for tests."""
    app: object
    code: str
    workshop_id: int
    fac: object
    cards: dict[str, int]
    join_as: object
    people: dict[str, object] = field(default_factory=dict)   # name -> that participant's browser
    vote_id: int | None = None

    def url(self, path: str = "") -> str:
        return f"/w/{self.code}{path}"

    def configure(self, client=None, **fields):
        data = {"title": "", "budget": 5, "cap": 3, "scope": "all", "results": "hidden", "screen": "tally"}
        data.update(fields)
        return (client or self.fac).post(self.url("/vote"), data=data, htmx=True)

    def open_vote(self, **fields) -> int:
        resp = self.configure(**fields)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        vote_id = int(re.search(r"/votes/(\d+)/status", resp.get_data(as_text=True)).group(1))
        self.set_status(vote_id, "open")
        return vote_id

    def set_status(self, vote_id: int, status: str):
        resp = self.fac.post(self.url(f"/votes/{vote_id}/status"), data={"status": status}, htmx=True)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp

    def display(self, vote_id: int, **fields):
        resp = self.fac.post(self.url(f"/votes/{vote_id}/display"), data=fields, htmx=True)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp

    def join(self, name: str, kind: str = "association", organisation: str | None = None):
        client = self.join_as(self.code, name=name, organisation=organisation or f"Structure de {name}", kind=kind)
        self.people[name] = client
        return client

    def put(self, who, vote_id: int, card: str, dots, **kwargs):
        """`who` sets their dots on a card (by its text) to `dots`, as the ballot's buttons do."""
        client = self.people[who] if isinstance(who, str) else who
        return client.post(self.url(f"/votes/{vote_id}/cards/{self.cards[card]}"),
                           data={"dots": dots}, htmx=kwargs.pop("htmx", True), **kwargs)

    def region(self, client, name: str):
        return client.get(self.url(f"/r/{name}"))

    # -- what the database holds

    def dots(self, vote_id: int) -> dict[tuple[str, str], int]:
        """{(participant name, card text): dots} for the vote."""
        with self.app.app_context():
            rows = db.session.execute(
                db.select(Participant.display_name, Card.text, Dot.dots)
                .join(Participant, Participant.id == Dot.participant_id).join(Card, Card.id == Dot.card_id)
                .where(Dot.vote_id == vote_id)).all()
            return {(name, text): n for name, text, n in rows}

    def votes(self) -> list[dict]:
        with self.app.app_context():
            return [{"status": v.status, "budget": v.budget, "cap": v.cap, "scope": v.scope,
                     "by_kind": v.by_kind, "kind_budgets": v.kind_budgets, "revealed": v.revealed}
                    for v in db.session.scalars(
                        db.select(Vote).filter_by(workshop_id=self.workshop_id).order_by(Vote.id))]

    def priorities(self) -> list[tuple[int, str, int]]:
        """[(rank, title, dots)] in rank order."""
        with self.app.app_context():
            return [(p.rank, p.title, p.dots) for p in db.session.scalars(
                db.select(Priority).filter_by(workshop_id=self.workshop_id).order_by(Priority.rank))]

    def priority_id(self, title: str) -> int:
        with self.app.app_context():
            return db.session.scalar(db.select(Priority.id).filter_by(workshop_id=self.workshop_id, title=title))

    def revision(self) -> int:
        with self.app.app_context():
            return db.session.get(Workshop, self.workshop_id).revision


@pytest.fixture
def room(app, make_facilitator, make_workshop, login, join_as):
    """A live workshop with four cards (A, B, C, D) and its facilitator logged in; no vote yet."""
    fac_id = make_facilitator()
    code = make_workshop(owner_id=fac_id)
    with app.app_context():
        # The cards are laid out directly: posting them is test_board.py's business.
        workshop = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        cards = [Card(workshop_id=workshop.id, kind=kind, text=text) for text, kind in CARDS.items()]
        db.session.add_all(cards)
        db.session.commit()
        workshop_id, ids = workshop.id, {c.text: c.id for c in cards}
    return Room(app, code, workshop_id, login(app.test_client(), fac_id), ids, join_as)


@pytest.fixture
def voting(room):
    """`room` with an open vote on the default rules and one participant, Nadia (association)."""
    room.vote_id = room.open_vote()
    room.join("Nadia")
    return room


# ------------------------------------------------------------ 1. the rules

def test_a_new_vote_offers_five_dots_and_three_per_card(room):
    panel = _page(room.region(room.fac, "votectl"))
    assert (_input_value(panel, "budget"), _input_value(panel, "cap")) == ("5", "3")
    resp = room.configure(title="Nos priorités pour 2025")
    assert resp.status_code == 200 and "Vote enregistré." in _page(resp)
    assert room.votes() == [{"status": "draft", "budget": 5, "cap": 3, "scope": "all", "by_kind": False,
                             "kind_budgets": {}, "revealed": False}]
    vote_id = int(re.search(r"/votes/(\d+)/status", resp.get_data(as_text=True)).group(1))
    room.set_status(vote_id, "open")
    ballot = _text(_page(room.join("Nadia").get(room.url("/ballot"))))
    assert "Nos priorités pour 2025" in ballot
    assert "Il vous reste 5 gommettes sur 5 · au plus 3 par carte" in ballot


@pytest.mark.parametrize("fields,error", [
    ({"budget": 0}, "Entre 1 et 50."),
    ({"budget": 51}, "Entre 1 et 50."),
    ({"budget": 5, "cap": 0}, "Entre 1 et 50."),
    ({"budget": 5, "cap": 6}, "Pas plus que le nombre de gommettes par personne."),
    ({"budget": 2, "cap": 3}, "Pas plus que le nombre de gommettes par personne."),
    ({"by_kind": "y", "budget_company": 51}, "Entre 1 et 50."),
    ({"by_kind": "y", "budget_association": 0}, "Entre 1 et 50."),
], ids=["budget-0", "budget-51", "cap-0", "cap-over-budget", "cap-over-small-budget", "company-51",
        "association-0"])
def test_out_of_range_rules_are_refused_and_nothing_is_written(room, fields, error):
    resp = room.configure(**fields)
    assert resp.status_code == 422
    page = _page(resp)
    assert error in page and "Vérifiez les champs signalés." in page and "<html" not in page
    assert room.votes() == []


def test_rules_cannot_change_while_the_vote_is_open(room):
    room.open_vote()
    resp = room.configure(budget=10, cap=5)
    assert resp.status_code == 409
    assert "Le vote est ouvert : fermez-le avant d'en changer les règles." in _page(resp)
    assert [(v["status"], v["budget"], v["cap"]) for v in room.votes()] == [("open", 5, 3)]


# --------------------------------------------------- 2. budget and cap hold

def test_cap_and_budget_hold_and_dots_can_be_taken_back(voting):
    vid = voting.vote_id
    resp = voting.put("Nadia", vid, A, 3)
    assert resp.status_code == 200 and "Il vous reste 2 gommettes" in _page(resp)
    resp = voting.put("Nadia", vid, A, 4)
    assert (resp.status_code, _alert(resp)) == (409, "Au plus 3 gommettes par carte.")
    assert voting.dots(vid) == {("Nadia", A): 3}
    assert voting.put("Nadia", vid, B, 2).status_code == 200
    resp = voting.put("Nadia", vid, C, 1)
    assert (resp.status_code, _alert(resp)) == (
        409, "Pas assez de gommettes : il vous en reste 0 sur 5. Retirez-en d'une autre carte d'abord.")
    assert voting.dots(vid) == {("Nadia", A): 3, ("Nadia", B): 2}
    # Taking dots back: a lower N updates the row, N = 0 deletes it.
    resp = voting.put("Nadia", vid, A, 1)
    assert resp.status_code == 200 and "Il vous reste 2 gommettes" in _page(resp)
    assert voting.dots(vid) == {("Nadia", A): 1, ("Nadia", B): 2}
    assert voting.put("Nadia", vid, A, 0).status_code == 200
    assert voting.dots(vid) == {("Nadia", B): 2}
    ballot = _page(voting.people["Nadia"].get(voting.url("/ballot")))
    assert "Il vous reste 3 gommettes" in _text(ballot) and 'role="alert"' not in ballot


@pytest.mark.parametrize("first", [(C, 0), (B, 2)], ids=["onto-a-new-card", "onto-a-card-with-dots"])
def test_over_budget_message_counts_the_dots_really_left(voting, first):
    """With all 5 dots used (A 3, B 2), one more dot anywhere: "il vous en reste 0 sur 5"."""
    vid = voting.vote_id
    voting.put("Nadia", vid, A, 3)
    voting.put("Nadia", vid, B, 2)
    card, before = first
    resp = voting.put("Nadia", vid, card, before + 1)
    assert (resp.status_code, _alert(resp)) == (
        409, "Pas assez de gommettes : il vous en reste 0 sur 5. Retirez-en d'une autre carte d'abord.")
    assert "Il vous reste 0 gommette<" in _page(resp)      # what the ballot's head says (French: singular for 0)
    assert voting.dots(vid) == {("Nadia", A): 3, ("Nadia", B): 2}


def test_invalid_numbers_of_dots_are_refused(voting):
    voting.put("Nadia", voting.vote_id, A, 1)
    for dots in (-1, 51, "deux", ""):
        resp = voting.put("Nadia", voting.vote_id, A, dots)
        assert resp.status_code == 422, (dots, resp.status_code)
        assert _alert(resp), dots
    assert voting.dots(voting.vote_id) == {("Nadia", A): 1}


def test_without_htmx_a_refused_dot_comes_back_as_a_flash_on_the_page(voting):
    voting.put("Nadia", voting.vote_id, A, 3)
    resp = voting.put("Nadia", voting.vote_id, A, 4, htmx=False)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(voting.url() + "#votebox")
    page = _page(voting.people["Nadia"].get(voting.url()))
    assert "<html" in page and "Au plus 3 gommettes par carte." in page
    assert voting.dots(voting.vote_id) == {("Nadia", A): 3}


# ------------------------------------------------------------ 3. idempotent

def test_the_same_request_replayed_100_times_gives_one_state(voting, socket_for):
    vid, nadia = voting.vote_id, voting.people["Nadia"]
    watcher = socket_for(voting.fac, voting.code)
    watcher.get_received()
    before = voting.revision()
    token = nadia.csrf_token()
    statuses = {voting.put(nadia, vid, A, 2, headers={"X-CSRFToken": token}).status_code for _ in range(100)}
    assert statuses == {200}
    assert voting.dots(vid) == {("Nadia", A): 2}
    with voting.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Dot.id)).filter_by(vote_id=vid)) == 1
    assert voting.revision() == before + 1
    assert {m["rev"] for m in pushes(watcher)} == {before + 1}     # one change, one round of pushes
    assert "Il vous reste 3 gommettes" in _page(nadia.get(voting.url("/ballot")))


# ------------------------------------------------- 4. closed vote, who may vote

def test_closed_vote_refuses_dots_until_reopened(voting):
    vid = voting.vote_id
    voting.put("Nadia", vid, A, 1)
    voting.set_status(vid, "closed")
    for card, n in ((B, 1), (A, 0), (A, 2)):
        resp = voting.put("Nadia", vid, card, n)
        assert resp.status_code == 409
        assert "Le vote est fermé : votre choix n'a pas été enregistré." in _page(resp)
    assert voting.dots(vid) == {("Nadia", A): 1}
    assert "Le vote est clos. Merci pour vos gommettes !" in _page(voting.people["Nadia"].get(voting.url("/ballot")))
    voting.set_status(vid, "open")
    assert voting.put("Nadia", vid, B, 2).status_code == 200
    assert voting.dots(vid) == {("Nadia", A): 1, ("Nadia", B): 2}
    assert [v["status"] for v in voting.votes()] == ["open"]


def test_a_participant_of_another_workshop_cannot_vote(voting, make_workshop, join_as):
    stranger = join_as(make_workshop(), name="Karim Benali")
    resp = voting.put(stranger, voting.vote_id, A, 1)
    assert resp.status_code == 403
    assert voting.put(stranger, voting.vote_id, A, 1, htmx=False).status_code == 403
    assert voting.dots(voting.vote_id) == {}


def test_a_facilitator_who_has_not_joined_cannot_vote(voting):
    assert voting.put(voting.fac, voting.vote_id, A, 1).status_code == 403
    assert voting.dots(voting.vote_id) == {}


FACILITATOR_ONLY = [
    ("post", "/vote", {"budget": 9, "cap": 2, "scope": "all", "results": "hidden", "screen": "tally"}),
    ("post", "/votes/{vote}/status", {"status": "closed"}),
    ("post", "/votes/{vote}/display", {"revealed": "1"}),
    ("post", "/votes/{vote}/display", {"results": "live"}),
    ("post", "/votes/{vote}/priorities", {"top": 3}),
    ("post", "/priorities/{priority}/move", {"offset": 1}),
    ("post", "/priorities/{priority}/delete", {}),
    ("get", "/r/votectl", None),
    ("get", "/r/facresults", None),
    ("get", "/r/prioctl", None),
    ("get", "/r/screentally", None),
]


def test_participants_cannot_use_the_facilitator_controls(voting):
    vid = voting.vote_id
    voting.put("Nadia", vid, A, 2)
    voting.put("Nadia", vid, B, 1)
    assert voting.fac.post(voting.url(f"/votes/{vid}/priorities"), data={"top": 1}, htmx=True).status_code == 200
    nadia = voting.people["Nadia"]
    for method, path, data in FACILITATOR_ONLY:
        url = voting.url(path.format(vote=vid, priority=voting.priority_id(A)))
        resp = nadia.post(url, data=data, htmx=True) if method == "post" else nadia.get(url, htmx=True)
        assert resp.status_code in (302, 401, 403), (path, data, resp.status_code)
        if resp.status_code == 302:
            assert "/login" in resp.headers["Location"], path
        page = _page(resp)
        assert A not in page and 'class="bars' not in page, path
    assert [(v["status"], v["budget"], v["revealed"]) for v in voting.votes()] == [("open", 5, False)]
    assert voting.priorities() == [(1, A, 2)]


def test_another_facilitator_gets_403_on_the_controls(voting, make_facilitator, login, app):
    other = login(app.test_client(), make_facilitator("autre@example.org", "Paul Autre"))
    assert voting.configure(client=other, budget=9).status_code == 403
    assert other.post(voting.url(f"/votes/{voting.vote_id}/status"), data={"status": "closed"},
                      htmx=True).status_code == 403
    assert voting.region(other, "facresults").status_code == 403
    assert [(v["status"], v["budget"]) for v in voting.votes()] == [("open", 5)]


# ------------------------------------------------------------------ 5. scopes

def _make_cluster(room, name: str, cards: list[str]) -> int:
    assert room.fac.post(room.url("/clusters"), data={"name": name}, htmx=True).status_code == 200
    with room.app.app_context():
        cluster_id = db.session.scalar(db.select(Cluster.id).filter_by(workshop_id=room.workshop_id, name=name))
    for card in cards:
        resp = room.fac.post(room.url(f"/cards/{room.cards[card]}/cluster"), data={"cluster": str(cluster_id)},
                             htmx=True)
        assert resp.status_code == 200
    return cluster_id


def _cluster_rules(room):
    return {"scope": "cluster", "cluster": _make_cluster(room, "Emploi et insertion", [A, B])}


def _shortlist_rules(room):
    return {"scope": "shortlist", "shortlist": [room.cards[B], room.cards[D]]}


def _actions_rules(room):
    return {"scope": "actions"}


@pytest.mark.parametrize("rules,votable", [
    (_cluster_rules, {A, B}),
    (_shortlist_rules, {B, D}),
    (_actions_rules, {C}),
], ids=["cluster", "shortlist", "actions"])
def test_scope_decides_which_cards_are_votable(room, rules, votable):
    vid = room.open_vote(**rules(room))
    room.join("Nadia")
    assert _ballot_cards(_page(room.people["Nadia"].get(room.url("/ballot"))), room.cards) == votable
    for card in CARDS:
        resp = room.put("Nadia", vid, card, 1)
        if card in votable:
            assert resp.status_code == 200, card
        else:
            assert resp.status_code == 409, card
            assert "Cette carte n'est pas soumise au vote." in _page(resp)
    assert room.dots(vid) == {("Nadia", card): 1 for card in votable}


def test_a_draft_shortlist_can_be_changed_before_opening(room):
    assert room.configure(scope="shortlist", shortlist=[room.cards[A], room.cards[B]]).status_code == 200
    resp = room.configure(scope="shortlist", shortlist=[room.cards[B], room.cards[C]])   # B stays, A goes
    assert resp.status_code == 200, resp.get_data(as_text=True)
    vid = int(re.search(r"/votes/(\d+)/status", resp.get_data(as_text=True)).group(1))
    room.set_status(vid, "open")
    room.join("Nadia")
    assert _ballot_cards(_page(room.people["Nadia"].get(room.url("/ballot"))), room.cards) == {B, C}
    assert len(room.votes()) == 1


def test_hidden_cards_are_not_votable(room):
    assert room.fac.post(room.url(f"/cards/{room.cards[B]}/hide"), htmx=True).status_code == 200
    vid = room.open_vote()
    room.join("Nadia")
    assert _ballot_cards(_page(room.people["Nadia"].get(room.url("/ballot"))), room.cards) == {A, C, D}
    resp = room.put("Nadia", vid, B, 1)
    assert resp.status_code == 409 and "Cette carte n'est pas soumise au vote." in _page(resp)
    assert room.dots(vid) == {}


def test_a_card_hidden_during_the_vote_leaves_the_results_and_its_dots_can_be_taken_back(voting):
    vid = voting.vote_id
    voting.put("Nadia", vid, A, 1)
    voting.put("Nadia", vid, B, 2)
    voting.fac.post(voting.url(f"/cards/{voting.cards[B]}/hide"), htmx=True)
    assert voting.put("Nadia", vid, B, 3).status_code == 409
    assert B not in _page(voting.region(voting.fac, "facresults"))
    assert voting.put("Nadia", vid, B, 0).status_code == 200
    assert voting.dots(vid) == {("Nadia", A): 1}


def test_the_headline_counts_only_the_dots_the_bars_show(voting):
    vid = voting.vote_id
    voting.put("Nadia", vid, A, 1)
    voting.put("Nadia", vid, B, 2)
    voting.fac.post(voting.url(f"/cards/{voting.cards[B]}/hide"), htmx=True)
    results = _text(_page(voting.region(voting.fac, "facresults")))
    assert "1 gommette posée · 1 votant·e" in results
    assert [(label, dots) for label, _rank, _tied, dots, _voters in _bars(_page(voting.region(voting.fac, "facresults")))
            if dots] == [(A, 1)]


@pytest.mark.parametrize("rules,error", [
    ({"scope": "cluster", "cluster": 0}, "Choisissez le regroupement soumis au vote."),
    ({"scope": "shortlist"}, "Cochez au moins une carte visible de cet atelier pour la présélection."),
], ids=["cluster-missing", "shortlist-empty"])
def test_a_scope_without_its_cards_is_refused(room, rules, error):
    resp = room.configure(**rules)
    assert resp.status_code == 409 and error in _page(resp)
    assert room.votes() == []


def test_a_shortlist_with_a_hidden_card_is_refused(room):
    room.fac.post(room.url(f"/cards/{room.cards[B]}/hide"), htmx=True)
    resp = room.configure(scope="shortlist", shortlist=[room.cards[A], room.cards[B]])
    assert resp.status_code == 409
    assert "Cochez au moins une carte visible de cet atelier pour la présélection." in _page(resp)
    assert room.votes() == []


# ------------------------------------------------------------ 6. by kind

def test_budgets_by_kind_hold_and_results_split_by_kind(room):
    vid = room.open_vote(by_kind="y", budget_company=2, budget_association=4)
    assert room.votes()[0]["kind_budgets"] == {"company": 2, "association": 4, "other": 5}
    room.join("Julien", kind="company", organisation="Groupe Ainvest")
    room.join("Nadia", kind="association")
    room.join("Élise", kind="public", organisation="Mairie de Bourg")
    assert "Il vous reste 2 gommettes sur 2 · au plus 2 par carte" in \
        _text(_page(room.people["Julien"].get(room.url("/ballot"))))

    assert room.put("Julien", vid, A, 3).status_code == 409          # the cap shrinks to the budget
    assert room.put("Julien", vid, A, 2).status_code == 200
    resp = room.put("Julien", vid, B, 1)
    assert resp.status_code == 409 and "il vous en reste 0 sur 2" in _page(resp)
    assert room.put("Nadia", vid, A, 1).status_code == 200
    assert room.put("Nadia", vid, B, 3).status_code == 200
    resp = room.put("Nadia", vid, C, 1)
    assert resp.status_code == 409 and "il vous en reste 0 sur 4" in _page(resp)
    assert room.put("Élise", vid, C, 3).status_code == 200
    assert room.put("Élise", vid, D, 2).status_code == 200            # "other": the general budget, 5
    assert room.dots(vid) == {("Julien", A): 2, ("Nadia", A): 1, ("Nadia", B): 3, ("Élise", C): 3, ("Élise", D): 2}

    results = _flat(_page(room.region(room.fac, "facresults")))
    assert "11 gommettes posées · 3 votant·es · Entreprises 2 · Associations 4 · Autres 5" in results
    assert "Entreprises 2 · Associations 1 · Autres 0" in results      # the split of card A's bar
    for group, first in (("Entreprises", A), ("Associations", B), ("Autres", C)):
        section = results.split(f"<h3>{group}</h3>")[1].split("</ol>")[0]
        assert re.search(rf"<strong>1\.</strong> {re.escape(first)}", section), (group, section)


# ----------------------------------------------------------------- 7. results

def test_results_rank_with_ties_dots_and_voters(room):
    vid = room.open_vote()
    for name, kind in (("Nadia", "association"), ("Julien", "company"), ("Élise", "other")):
        room.join(name, kind=kind)
    # A 3 (two voters), B 3 (one), C 1, D none.
    for who, card, n in (("Nadia", A, 2), ("Julien", A, 1), ("Élise", B, 3), ("Nadia", C, 1)):
        assert room.put(who, vid, card, n).status_code == 200
    page = _page(room.region(room.fac, "facresults"))
    bars = _bars(page)
    assert bars[:3] == [(A, 1, True, 3, "2 votant·es"), (B, 1, True, 3, "1 votant·e"), (C, 3, False, 1, "1 votant·e")]
    assert [(label, rank, tied, dots) for label, rank, tied, dots, _v in bars[3:]] == [(D, 4, False, 0)]
    with room.app.app_context():
        stored = db.session.scalar(db.select(db.func.sum(Dot.dots)).filter_by(vote_id=vid))
    assert stored == sum(b[3] for b in bars) == 7
    assert "7 gommettes posées · 3 votant·es" in _flat(page)


# ------------------------------------------------ 8. who sees the tally, when

def _projector(room, app):
    projector = app.test_client()
    with app.app_context():
        key = db.session.get(Workshop, room.workshop_id).screen_token
    assert projector.get(room.url(f"/screen?key={key}")).status_code == 302
    return projector


def _assert_no_tally(text: str, where: str):
    for marker in TALLY_MARKERS:
        assert marker not in text, (where, marker)


def test_hidden_results_reach_no_participant(room, app, socket_for, make_workshop, join_as):
    nadia = room.join("Nadia")
    room.join("Julien", kind="company")
    projector = _projector(room, app)
    other_code = make_workshop()
    sockets = {"nadia": socket_for(nadia, room.code), "fac": socket_for(room.fac, room.code),
               "screen": socket_for(projector, room.code),
               "elsewhere": socket_for(join_as(other_code, name="Karim"), other_code)}
    for s in sockets.values():
        s.get_received()

    vid = room.open_vote()
    room.put("Nadia", vid, A, 2)
    room.put("Julien", vid, A, 3)
    room.put("Julien", vid, B, 1)
    room.display(vid, screen="count")
    room.display(vid, screen="tally")
    got = {name: pushes(s) for name, s in sockets.items()}

    assert got["nadia"], "the participant heard nothing at all: the check below would prove nothing"
    for message in got["nadia"]:
        _assert_no_tally(message["html"], "push")
        assert A not in message["html"] and B not in message["html"]
    assert got["elsewhere"] == []
    assert any('class="bars' in m["html"] and A in m["html"] and "6 gommettes posées" in _flat(m["html"])
               for m in got["fac"])
    assert any('id="screentally"' in m["html"] and 'class="bars' in m["html"] and A in m["html"]
               for m in got["screen"])
    page = _page(nadia.get(room.url()))
    _assert_no_tally(page, "participant page")
    results = _page(room.region(nadia, "results"))
    _assert_no_tally(results, "results region")
    assert A not in results and not re.search(r"\d", _text(results))
    assert "Les résultats restent masqués jusqu'à ce que l'animation les révèle." in results
    assert _bars(_page(room.region(projector, "screentally")))[0][:4] == (A, 1, False, 5)

    # Closing without revealing keeps them hidden; revealing shows the ranked bars.
    room.set_status(vid, "closed")
    _assert_no_tally(_page(room.region(nadia, "results")), "results after close")
    assert all(marker not in m["html"] for m in pushes(sockets["nadia"]) for marker in TALLY_MARKERS)
    room.display(vid, revealed="1")
    revealed = _page(room.region(nadia, "results"))
    assert "Résultats du vote" in revealed
    assert [b[:4] for b in _bars(revealed)[:2]] == [(A, 1, False, 5), (B, 2, False, 1)]
    assert any('class="bars' in m["html"] and A in m["html"] for m in pushes(sockets["nadia"]))


def test_live_results_show_participants_the_tally_during_the_vote(room, socket_for):
    nadia = room.join("Nadia")
    socket = socket_for(nadia, room.code)
    vid = room.open_vote(results="live")
    socket.get_received()
    room.put("Nadia", vid, C, 2)
    got = pushes(socket)
    assert any('id="results"' in m["html"] and C in m["html"] and 'class="bars' in m["html"] for m in got)
    live = _page(room.region(nadia, "results"))
    assert "Résultats en direct" in live and "2 gommettes posées · 1 votant·e" in _flat(live)
    assert _bars(live)[0] == (C, 1, False, 2, "1 votant·e")


# ------------------------------------------------------- 9. projector, count

def test_projector_in_count_mode_shows_only_the_number_until_revealed(room, app):
    projector = _projector(room, app)
    vid = room.open_vote(screen="count")
    room.join("Nadia")
    room.put("Nadia", vid, A, 2)
    room.put("Nadia", vid, D, 1)
    screen = _page(room.region(projector, "screentally"))
    assert "3 gommettes posées · 1 votant·e" in _text(screen)
    assert "Les résultats seront révélés à la fin du vote." in screen
    assert 'class="bars' not in screen and A not in screen and D not in screen
    assert 'class="bars' in _page(room.region(room.fac, "facresults"))      # the facilitator still sees them
    room.display(vid, revealed="1")
    screen = _page(room.region(projector, "screentally"))
    assert [b[:4] for b in _bars(screen)][:2] == [(A, 1, False, 2), (D, 2, False, 1)]


# ------------------------------------------------------------ 10. priorities

def _promote(room, vote_id, **data):
    return room.fac.post(room.url(f"/votes/{vote_id}/priorities"), data=data, htmx=True)


def test_priorities_keep_ties_at_the_cut_and_can_be_reordered(room):
    vid = room.open_vote()
    room.join("Nadia")
    room.join("Julien", kind="company")
    for who, card, n in (("Nadia", A, 3), ("Nadia", B, 2), ("Julien", C, 2), ("Julien", D, 1)):
        assert room.put(who, vid, card, n).status_code == 200
    resp = _promote(room, vid, top=2)
    assert resp.status_code == 200 and _page(resp).count(">priorité<") == 3
    assert room.priorities() == [(1, A, 3), (2, B, 2), (3, C, 2)]
    assert _promote(room, vid, top=2).status_code == 200                      # again: no duplicates
    assert room.priorities() == [(1, A, 3), (2, B, 2), (3, C, 2)]

    resp = room.fac.post(room.url(f"/priorities/{room.priority_id(C)}/move"), data={"offset": -1}, htmx=True)
    assert resp.status_code == 200 and 'id="prioctl"' in resp.get_data(as_text=True)
    assert room.priorities() == [(1, A, 3), (2, C, 2), (3, B, 2)]
    room.fac.post(room.url(f"/priorities/{room.priority_id(A)}/move"), data={"offset": -1}, htmx=True)
    assert room.priorities() == [(1, A, 3), (2, C, 2), (3, B, 2)]              # the first cannot go higher
    resp = room.fac.post(room.url(f"/priorities/{room.priority_id(A)}/delete"), htmx=True)
    assert resp.status_code == 200 and A not in _page(resp)
    assert room.priorities() == [(1, C, 2), (2, B, 2)]

    # Results are still hidden: participants see none of these priorities (their order is the ranking)...
    shown = _page(room.region(room.people["Nadia"], "priorities"))
    assert C not in shown and B not in shown and "prio-rank" not in shown
    # ...until the facilitators reveal the results: then in order, with their dots.
    room.set_status(vid, "closed")
    room.display(vid, revealed="1")
    shown = _page(room.region(room.people["Nadia"], "priorities"))
    assert re.findall(r'<span class="prio-rank">(\d+)</span> <span class="prio-text">([^<]+)</span>', shown) == \
        [("1", C), ("2", B)]
    assert "2 gommettes" in _text(_page(room.region(room.people["Nadia"], "priorities")))


def test_closing_the_workshop_closes_its_vote(voting, socket_for):
    vid = voting.vote_id
    assert voting.put("Nadia", vid, A, 1).status_code == 200
    socket = socket_for(voting.people["Nadia"], voting.code)
    socket.get_received()
    resp = voting.fac.post(f"/workshops/{voting.workshop_id}/status", data={"status": "closed"}, htmx=True)
    assert resp.status_code == 200
    assert [v["status"] for v in voting.votes()] == ["closed"]
    assert any("Le vote est clos" in m["html"] for m in pushes(socket))
    resp = voting.put("Nadia", vid, B, 1)
    assert resp.status_code == 409 and voting.dots(vid) == {("Nadia", A): 1}


def test_a_single_card_can_be_retained_and_an_empty_vote_retains_nothing(room):
    vid = room.open_vote()
    room.join("Nadia")
    resp = _promote(room, vid, top=3)
    assert resp.status_code == 409 and "Aucune carte n'a encore reçu de gommette." in _page(resp)
    room.put("Nadia", vid, D, 1)
    assert _promote(room, vid, card=room.cards[D]).status_code == 200
    assert room.priorities() == [(1, D, 1)]


# ---------------------------------------------------------------- 11. English

def test_refusals_are_in_the_participants_language(voting):
    nadia = voting.people["Nadia"]
    assert 'lang="en"' in nadia.get(voting.url("?lang=en")).get_data(as_text=True)
    vid = voting.vote_id
    voting.put(nadia, vid, A, 3)
    resp = voting.put(nadia, vid, A, 4)
    assert (resp.status_code, _alert(resp)) == (409, "At most 3 dots per card.")
    voting.put(nadia, vid, B, 2)
    resp = voting.put(nadia, vid, C, 1)
    assert (resp.status_code, _alert(resp)) == (
        409, "Not enough dots: you have 0 of 5 left. Take some off another card first.")
    assert voting.dots(vid) == {("Nadia", A): 3, ("Nadia", B): 2}


# ------------------------------------------------ found in review, kept fixed

def test_the_pushed_vote_panel_carries_no_csrf_field_of_its_own(voting, socket_for):
    """The panel is rendered once for every facilitator: a hidden CSRF field in it would
    be minted for no one's session and win over the browser's header on the next save."""
    socket = socket_for(voting.fac, voting.code)
    socket.get_received()
    voting.set_status(voting.vote_id, "closed")
    panels = [m["html"] for m in pushes(socket) if 'id="votectl"' in m["html"]]
    assert panels and all('name="csrf_token"' not in html for html in panels)
    # Preparing the next vote from that pushed panel works (htmx sends the header).
    assert voting.configure(budget=4).status_code == 200
    assert voting.configure(budget=6, cap=2).status_code == 200
    assert [(v["status"], v["budget"]) for v in voting.votes()] == [("closed", 5), ("draft", 6)]


def test_a_vote_on_a_deleted_cluster_offers_nothing(room):
    cluster_id = _make_cluster(room, "Emploi", [A, B])
    vid = room.open_vote(scope="cluster", cluster=cluster_id)
    room.join("Nadia")
    assert room.fac.post(room.url(f"/clusters/{cluster_id}/delete"), htmx=True).status_code == 200
    assert _ballot_cards(_page(room.people["Nadia"].get(room.url("/ballot"))), room.cards) == set()
    assert room.put("Nadia", vid, D, 1).status_code == 409
    assert room.dots(vid) == {}


@pytest.mark.parametrize("fields", [{"scope": "shortlist", "shortlist": [10**20]},
                                    {"scope": "cluster", "cluster": 10**20}], ids=["shortlist", "cluster"])
def test_ids_beyond_the_database_are_refused_not_a_500(room, fields):
    resp = room.configure(**fields)
    assert resp.status_code == 422 and room.votes() == []


def test_hiding_a_card_during_the_vote_takes_it_off_the_tally_live(voting, socket_for):
    voting.put("Nadia", voting.vote_id, B, 2)
    socket = socket_for(voting.fac, voting.code)
    socket.get_received()
    assert voting.fac.post(voting.url(f"/cards/{voting.cards[B]}/hide"), htmx=True).status_code == 200
    tallies = [re.search(r'<section id="facresults".*?</section>', m["html"], re.S).group(0)
               for m in pushes(socket) if 'id="facresults"' in m["html"]]
    assert tallies and B not in html.unescape(tallies[-1]) and A in html.unescape(tallies[-1])


def test_reopening_hides_revealed_results_again_and_drafts_have_nothing_to_reveal(voting):
    voting.set_status(voting.vote_id, "closed")
    voting.display(voting.vote_id, revealed="1")
    assert 'class="bars' in _page(voting.region(voting.people["Nadia"], "results"))
    voting.set_status(voting.vote_id, "open")                    # a run-off
    assert 'class="bars' not in _page(voting.region(voting.people["Nadia"], "results"))
    voting.set_status(voting.vote_id, "closed")
    assert voting.configure(budget=3).status_code == 200        # a new draft
    draft = len(voting.votes())
    resp = voting.fac.post(voting.url(f"/votes/{draft}/display"), data={"revealed": "1"}, htmx=True)
    assert resp.status_code == 409 and not voting.votes()[-1]["revealed"]


def test_display_changes_do_not_make_every_ballot_reload(voting, socket_for):
    socket = socket_for(voting.people["Nadia"], voting.code)
    socket.get_received()
    voting.display(voting.vote_id, results="live")
    received = pushes(socket)
    assert received and not any('id="votebox"' in m["html"] for m in received)


def test_by_default_the_projector_shows_only_the_count(room):
    """Results are hidden by default, and participants see the wall too."""
    page = _page(room.fac.get(f"/workshops/{room.workshop_id}"))
    checked = re.findall(r'<input[^>]*name="(results|screen)"[^>]*>', page)
    assert checked == ["results", "results", "screen", "screen"]
    assert re.search(r'<input[^>]*checked[^>]*value="count"|<input[^>]*value="count"[^>]*checked', page)
    assert re.search(r'<input[^>]*checked[^>]*value="hidden"|<input[^>]*value="hidden"[^>]*checked', page)
