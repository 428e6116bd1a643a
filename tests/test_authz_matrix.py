"""Authorisation matrix generated from the URL map and the Socket.IO handlers.

Every rule of `app.url_map` (and every method it answers, HEAD/OPTIONS aside) is
asked by five viewers of workshop A:

    anonymous, pA (participant of A), pB (participant of B),
    fX (facilitator on no workshop), fA (facilitator owning A)

and must get the answer its access class says. An endpoint (or a socket event)
missing from ACCESS / SOCKET_EVENTS fails `test_every_endpoint_is_classified`
("classify this new endpoint"), so a new route cannot escape the matrix.

Expectations, per access class (ok = got past authorisation: 2xx, a 3xx that is
not the log-in page, or a 4xx validation answer 400/404/409/422 to a write with
empty data; refused = 401/403, or 302 to /login; "gone" = 404 for everybody):

    class        anonymous  pA        pB        fX        fA
    public       ok         ok        ok        ok        ok
    join         ok         ok        ok        ok        ok
    share        ok         ok        ok        ok        ok       (the secret link is the key)
    member       refused    ok        refused   refused   ok       (participant or facilitator of A)
    participant  refused    ok        refused   refused   refused  (participant of A only: ballot, dots, diagnostic)
    fac_a        refused    refused   refused   refused   ok       (facilitator of A)
    screen       refused    refused   refused   refused   ok       (facilitator of A, or the screen token)
    any_fac      refused    refused   refused   ok        ok       (any logged-in facilitator: map, matching, accounts)
    setup        gone       gone      gone      gone      gone     (one-time install page, closed once a facilitator exists)
    author       refused    ok        refused   refused   ok       (pA's own card / proposal; fA moderates any)
    not_author   refused    refused   refused   refused   ok       (someone else's card / action / offer deletion)
    nobody       refused    refused   refused   refused   refused  (a wrong screen key)
    not_author_or_404  as not_author, but pA may get 404 (another organisation's "brings" section)
    map_into_a   refused    refused   refused   noop      ok       (map -> A's vote / plan: fX gets an answer, A unchanged)
    self_only    noop       ok        noop      noop      noop     (leaving A: only pA's own departure writes)
    cross        no         no        no        no        no       (B's code with A's card/action/offer/vote ids:
                                                                   refused or 404, and nothing written)

pA joined A as a company (so the company diagnostic applies to them) and is the
author of one card and one action proposal of A; `card_id` and `action_id` are those.

A refused write must change nothing: the whole database content (every table)
is hashed before and after.
"""
import hashlib
import shutil
from urllib.parse import urlsplit

import pytest

from aeh_workshop import create_app
from aeh_workshop.extensions import db, limiter, socketio
from aeh_workshop.models import (Action, Card, Cluster, JointOffer, Participant, Priority, Vote,
                                 Workshop)
from conftest import PASSWORD, Client, config_for

VIEWERS = ("anonymous", "pA", "pB", "fX", "fA")
OK, REFUSED, GONE = "ok", "refused", "gone"

EXPECT = {
    "public":      dict(anonymous=OK, pA=OK, pB=OK, fX=OK, fA=OK),
    "join":        dict(anonymous=OK, pA=OK, pB=OK, fX=OK, fA=OK),
    "share":       dict(anonymous=OK, pA=OK, pB=OK, fX=OK, fA=OK),
    "member":      dict(anonymous=REFUSED, pA=OK, pB=REFUSED, fX=REFUSED, fA=OK),
    "participant": dict(anonymous=REFUSED, pA=OK, pB=REFUSED, fX=REFUSED, fA=REFUSED),
    "fac_a":       dict(anonymous=REFUSED, pA=REFUSED, pB=REFUSED, fX=REFUSED, fA=OK),
    "screen":      dict(anonymous=REFUSED, pA=REFUSED, pB=REFUSED, fX=REFUSED, fA=OK),
    "any_fac":     dict(anonymous=REFUSED, pA=REFUSED, pB=REFUSED, fX=OK, fA=OK),
    "setup":       dict(anonymous=GONE, pA=GONE, pB=GONE, fX=GONE, fA=GONE),
    "author":      dict(anonymous=REFUSED, pA=OK, pB=REFUSED, fX=REFUSED, fA=OK),
    "not_author":  dict(anonymous=REFUSED, pA=REFUSED, pB=REFUSED, fX=REFUSED, fA=OK),
    "nobody":      dict(anonymous=REFUSED, pA=REFUSED, pB=REFUSED, fX=REFUSED, fA=REFUSED),
    # a map tool that writes into a workshop: any facilitator may ask, only A's may write into A
    "map_into_a":  dict(anonymous=REFUSED, pA=REFUSED, pB=REFUSED, fX="noop", fA=OK),
    # B's URL aimed at A's objects: nobody gets through (refused, or 404 for B's own members)
    "not_author_or_404": dict(anonymous=REFUSED, pA=(REFUSED, GONE), pB=REFUSED, fX=REFUSED, fA=OK),
    "cross":       {v: (REFUSED, GONE) for v in ("anonymous", "pA", "pB", "fX", "fA")},
    # leaving: only one's own departure; anyone else gets an answer and changes nothing
    "self_only":   dict(anonymous="noop", pA=OK, pB="noop", fX="noop", fA="noop"),
}

# endpoint -> access class. Every endpoint of the app must be here.
ACCESS = {
    # public pages
    "core.index": "public", "core.healthz": "public", "core.privacy": "public",
    "accounts.login_page": "public", "accounts.login_post": "public",
    "offers.close_editor": "public",          # an empty, static fragment (cancel button of the editor)
    # install
    "accounts.setup": "setup", "accounts.setup_post": "setup",
    # accounts
    "accounts.logout": "any_fac",
    "accounts.new_facilitator": "any_fac", "accounts.create_facilitator": "any_fac",
    # joining
    "participants.join_by_code": "join", "participants.page": "join",
    "participants.join": "join", "participants.rejoin": "join",
    "participants.leave": "self_only",
    # workshop members (participant or facilitator of A)
    "board.composer": "member", "board.create": "member",
    "offers.create": "member", "offers.edit_section": "member", "offers.save_section": "member",
    "offers.link_form": "member", "offers.link": "member", "offers.unlink": "member",
    "actions.form": "member", "actions.create": "member",
    "actions.status": "member",              # empty form: 422 first; the owner check is a variant below
    # one's own card / proposal (or a facilitator of A)
    "board.edit": "author", "board.update": "author", "board.delete": "author",
    "actions.edit": "author", "actions.update": "author", "actions.withdraw": "author",
    "offers.delete": "not_author",          # facilitators of A only (service.delete), inside a member route
    "realtime.region": "member",              # name=board (everyone's region); other audiences: see below
    # participants of A only
    "votes.ballot": "participant", "votes.set_dots": "participant",
    "diagnostics.form": "participant", "diagnostics.save": "participant",
    # facilitators of A
    "board.hide": "fac_a", "board.restore": "fac_a", "board.assign": "fac_a",
    "board.add_cluster": "fac_a", "board.delete_cluster": "fac_a",
    "votes.configure": "fac_a", "votes.status": "fac_a", "votes.display": "fac_a", "votes.promote": "fac_a",
    "votes.move_priority": "fac_a", "votes.remove_priority": "fac_a",
    "workshops.show": "fac_a", "workshops.edit": "fac_a", "workshops.update": "fac_a",
    "workshops.phase": "fac_a", "workshops.status": "fac_a", "workshops.add_facilitator": "fac_a",
    "workshops.timer": "fac_a",
    "actions.fac_form": "fac_a", "actions.fac_create": "fac_a", "actions.fac_edit": "fac_a",
    "actions.fac_update": "fac_a", "actions.validate": "fac_a", "actions.fac_status": "fac_a",
    "actions.delete": "fac_a",
    "outcomes.page": "fac_a", "outcomes.version": "fac_a", "outcomes.download": "fac_a",
    "outcomes.share": "fac_a", "outcomes.share_box": "fac_a",
    "partners.promote": "fac_a",
    "screen.show": "screen",
    # the secret share link
    "outcomes.shared": "share", "outcomes.shared_version": "share", "outcomes.shared_download": "share",
    # any logged-in facilitator (the AEH team's shared tools)
    "workshops.index": "any_fac", "workshops.new": "any_fac", "workshops.create": "any_fac",
    "diagnostics.history": "any_fac", "diagnostics.matching_page": "any_fac",
    "diagnostics.matching_download": "any_fac",
    "partners.index": "any_fac", "partners.create": "any_fac", "partners.show": "any_fac",
    "partners.matrix": "any_fac", "partners.partner": "any_fac", "partners.download": "any_fac",
    "partners.new_entry": "any_fac", "partners.add_entry": "any_fac", "partners.edit_entry": "any_fac",
    "partners.update_entry": "any_fac", "partners.delete_entry": "any_fac", "partners.to_action": "any_fac",
    "partners.put_to_vote": "any_fac", "partners.apply_vote": "any_fac",
    "partners.upload_page": "any_fac", "partners.upload": "any_fac",
    "partners.preview": "any_fac", "partners.confirm": "any_fac",
    "partners.duplicates": "any_fac", "partners.keep_apart": "any_fac", "partners.merge": "any_fac",
    "partners.undo": "any_fac",
}

# Allowed viewers who legitimately get a 404 (the object named by the URL does not
# exist for them, after authorisation): a bogus import token, no pending merge,
# a workshop that is not a diagnostic one.
ALLOWED_404 = {"partners.preview", "partners.confirm", "partners.undo", "diagnostics.form", "diagnostics.save"}

# Extra variants of one endpoint, with their own class and, for writes, a VALID form
# (so a refused viewer really tries to change something):
# (endpoint, method, url-params override (names of world ids), query, data, class)
VARIANTS = [
    ("realtime.region", "GET", {"name": "modboard"}, "", {}, "fac_a"),        # a facilitators' region
    ("realtime.region", "GET", {"name": "screentally"}, "", {}, "fac_a"),     # a projector region
    ("realtime.region", "GET", {"name": "count"}, "", {}, "member"),
    ("screen.show", "GET", {}, "?key=wrong", {}, "nobody"),
    ("board.edit", "GET", {"card_id": "other_card_id"}, "", {}, "not_author"),
    ("board.update", "POST", {"card_id": "other_card_id"}, "", {"kind": "idea", "text": "Réécrite"}, "not_author"),
    ("board.delete", "POST", {"card_id": "other_card_id"}, "", {}, "not_author"),
    ("actions.edit", "GET", {"action_id": "other_action_id"}, "", {}, "not_author"),
    ("actions.withdraw", "POST", {"action_id": "other_action_id"}, "", {}, "not_author"),
    ("actions.status", "POST", {"action_id": "other_action_id"}, "", {"status": "done"}, "not_author"),
    ("board.create", "POST", {}, "", {"kind": "idea", "text": "Une idée d'intrus"}, "member"),
    ("board.hide", "POST", {}, "", {}, "fac_a"),
    ("votes.set_dots", "POST", {}, "", {"dots": "1"}, "participant"),
    ("workshops.status", "POST", {}, "", {"status": "closed"}, "fac_a"),
    ("workshops.phase", "POST", {}, "", {"phase": "qualify"}, "fac_a"),
    ("workshops.add_facilitator", "POST", {}, "", {"email": "x@example.org"}, "fac_a"),
    ("outcomes.share", "POST", {}, "", {}, "fac_a"),
    ("offers.save_section", "POST", {}, "", {"text": "Réécrit", "version": "1"}, "member"),
    ("partners.delete_entry", "POST", {}, "", {}, "any_fac"),
    ("partners.create", "POST", {}, "", {"name": "Structure intruse"}, "any_fac"),
    ("participants.page", "GET", {"code": "other_code"}, "", {}, "join"),
    ("screen.show", "GET", {}, "?key={screen_token}", {}, "public"),   # the projector's secret link
    ("board.update", "POST", {"code": "other_code"}, "", {"kind": "idea", "text": "Détournée"}, "cross"),
    ("board.delete", "POST", {"code": "other_code"}, "", {}, "cross"),
    ("board.edit", "GET", {"code": "other_code"}, "", {}, "cross"),
    ("actions.withdraw", "POST", {"code": "other_code"}, "", {}, "cross"),
    ("actions.update", "POST", {"code": "other_code"}, "", {"title": "Détournée", "owner": ""}, "cross"),
    ("actions.status", "POST", {"code": "other_code", "action_id": "other_action_id"}, "",
     {"status": "done"}, "cross"),
    ("offers.save_section", "POST", {"code": "other_code"}, "", {"text": "Détourné", "version": "1"}, "cross"),
    ("offers.edit_section", "GET", {"code": "other_code"}, "", {}, "cross"),
    ("offers.link", "POST", {"code": "other_code"}, "", {"cards": "1"}, "cross"),
    ("offers.unlink", "POST", {"code": "other_code"}, "", {}, "cross"),
    ("votes.set_dots", "POST", {"code": "other_code"}, "", {"dots": "1"}, "cross"),
    # another organisation's "what we bring" section of A's offer (it exists: the demo wrote it)
    ("offers.edit_section", "GET", {"key": "other_brings"}, "", {}, "not_author_or_404"),
    ("offers.save_section", "POST", {"key": "other_brings"}, "", {"text": "Usurpé", "version": "1"},
     "not_author_or_404"),
    # the map's tools aimed at workshop A
    ("partners.put_to_vote", "POST", {}, "", {"workshop": "{workshop_id}", "entries": "{entry_id}"}, "map_into_a"),
    ("partners.apply_vote", "POST", {}, "", {"workshop": "{workshop_id}"}, "map_into_a"),
    ("partners.to_action", "POST", {}, "", {"workshop": "{workshop_id}"}, "map_into_a"),
    ("diagnostics.matching_page", "GET", {}, "?workshop={workshop_id}", {}, "fac_a"),
    ("diagnostics.matching_download", "GET", {}, "?workshop={workshop_id}", {}, "fac_a"),
]

# Socket events (namespace "/") -> what a viewer of A may do with them.
SOCKET_EVENTS = {"connect": "member", "disconnect": "member", "resync": "member"}

SKIP_ENDPOINTS = {"static"}


# --------------------------------------------------------------------------- world

@pytest.fixture(scope="module")
def world(migrated_db, tmp_path_factory):
    """Built once for the module: an app on its own SQLite file, a pristine copy of it
    to restore after any write that changed something, and each viewer's cookies."""
    from aeh_workshop.accounts.service import create_facilitator
    from aeh_workshop.demo import DEMO_EMAIL
    from aeh_workshop.outcomes import service as outcomes
    from aeh_workshop.partners import service as partners
    from aeh_workshop.workshops import service as workshops
    from outcome_data import rich_workshop

    folder = tmp_path_factory.mktemp("authz")
    path, pristine = folder / "atelier.sqlite3", folder / "pristine.sqlite3"
    shutil.copy(migrated_db, path)
    app = create_app(config_for(f"sqlite:///{path}", EXPORT_CACHE_DIR=str(folder / "exports")))
    app.test_client_class = Client
    ids = {}
    with app.app_context():
        a = rich_workshop(PASSWORD)            # owner: the demo facilitator (fA)
        vote = db.session.scalar(db.select(Vote).filter_by(workshop_id=a.id))
        vote.status = "open"
        structure = partners.create_structure("Tremplin Emploi Ain")
        a.structure_id = structure.id
        db.session.commit()
        entry = partners.add_entry(structure, "Clinique du Val de Saône", {}, "company")
        outcomes.freeze(a)
        a.share_token = "partage-secret-de-l-atelier-a"
        db.session.commit()
        fb = create_facilitator("b@example.org", PASSWORD, "Animation B")
        b = workshops.create(fb, "Atelier B", "Autre atelier", "practice_exchange")
        b.status = "live"
        fx = create_facilitator("x@example.org", PASSWORD, "Animation X")
        db.session.commit()
        ids.update(
            code=a.join_code, workshop_id=a.id, other_code=b.join_code, other_id=b.id,
            vote_id=vote.id,
            cluster_id=db.session.scalar(db.select(Cluster.id).filter_by(workshop_id=a.id)),
            priority_id=db.session.scalar(db.select(Priority.id).filter_by(workshop_id=a.id)),
            offer_id=db.session.scalar(db.select(JointOffer.id).filter_by(workshop_id=a.id)),
            other_card_id=db.session.scalar(db.select(Card.id).filter_by(workshop_id=a.id).order_by(Card.id)),
            other_action_id=db.session.scalar(db.select(Action.id).filter_by(workshop_id=a.id, validated=True)
                                              .where(Action.owner_id.is_not(None))),
            structure_id=structure.id, entry_id=entry.id, partner_id=entry.partner_id,
            organisation_id=entry.partner_id, merge_id=1, token=a.share_token, version=1,
            which="current", key="title",
            other_brings=next(sec.key for sec in db.session.get(JointOffer, db.session.scalar(
                db.select(JointOffer.id).filter_by(workshop_id=a.id))).sections if sec.key.startswith("brings:")), name="board", screen_token=a.screen_token,
            demo_email=DEMO_EMAIL, fx_email=fx.email,
        )
        db.session.remove()
        db.engine.dispose()

    def login(email):
        client = app.test_client()
        resp = client.post("/login", data={"email": email, "password": PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return client

    def join(code, name):
        client = app.test_client()
        resp = client.post(f"/w/{code}/join", data={"display_name": name, "organisation": f"Entreprise de {name}",
                                                      "kind": "company"})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return client

    clients = {"anonymous": app.test_client(), "pA": join(ids["code"], "Inès Participante"),
               "pB": join(ids["other_code"], "Karim Ailleurs"),
               "fX": login(ids["fx_email"]), "fA": login(ids["demo_email"])}
    with app.app_context():   # pA's own card and action proposal in A
        pa = db.session.scalar(db.select(Participant).filter_by(workshop_id=ids["workshop_id"],
                                                                 display_name="Inès Participante"))
        card = Card(workshop_id=ids["workshop_id"], author=pa, kind="idea", text="La carte d'Inès")
        action = Action(workshop_id=ids["workshop_id"], title="La proposition d'Inès", proposed_by_id=pa.id,
                        owner_id=pa.id, status="todo", validated=False)
        db.session.add_all([card, action])
        db.session.commit()
        ids.update(card_id=card.id, action_id=action.id)
    viewers = {}
    for name, client in clients.items():
        token = client.csrf_token()
        cookie = client.get_cookie("session")
        viewers[name] = {"session": cookie.value if cookie else None, "csrf": token}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.copy(path, pristine)
    yield {"app": app, "ids": ids, "viewers": viewers, "path": path, "pristine": pristine}
    with app.app_context():
        db.engine.dispose()


def _client(world, viewer):
    """A fresh browser holding this viewer's cookies (so a logout or a join in one case
    does not leak into the next)."""
    client = world["app"].test_client()
    value = world["viewers"][viewer]["session"]
    if value:
        client.set_cookie("session", value)
    return client


def fingerprint(app) -> str:
    """Every row of every table, hashed: a refused write must not move it."""
    digest = hashlib.sha256()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = db.session.execute(db.select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{rows!r}".encode())
        db.session.remove()
    return digest.hexdigest()


def _restore(world):
    app = world["app"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    for suffix in ("-wal", "-shm", "-journal"):
        extra = world["path"].with_name(world["path"].name + suffix)
        if extra.exists():
            extra.unlink()
    shutil.copy(world["pristine"], world["path"])


# --------------------------------------------------------------------------- cases

def _rules():
    from aeh_workshop import create_app as make
    app = make(config_for("sqlite://"))
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return sorted(found)


RULES = _rules()
CASES = [(endpoint, method, {}, "", {}, ACCESS.get(endpoint)) for endpoint, method, _rule in RULES] + VARIANTS


def _url(world, endpoint, overrides, query):
    from flask import url_for
    ids = world["ids"]
    app = world["app"]
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {}
    for arg in rule.arguments:
        if arg in overrides:
            values[arg] = ids.get(overrides[arg], overrides[arg])
        elif arg == "fmt":
            values[arg] = "csv" if endpoint == "diagnostics.matching_download" else "xlsx"
        elif arg == "token" and endpoint.startswith("partners."):
            values[arg] = "A" * 22                   # a pending import that does not exist
        else:
            assert arg in ids, f"no value for URL parameter <{arg}> of {endpoint}: add it to the world"
            values[arg] = ids[arg]
    with app.test_request_context():
        return url_for(endpoint, **values) + query.format(**ids)


def _verdict(resp) -> str:
    status = resp.status_code
    location = resp.headers.get("Location", "") or resp.headers.get("HX-Redirect", "")
    if status in (401, 403) or (300 <= status < 400 and urlsplit(location).path == "/login"):
        return REFUSED
    if status == 404:
        return GONE
    return OK


def test_every_endpoint_is_classified():
    missing = sorted({endpoint for endpoint, _m, _r in RULES} - set(ACCESS))
    assert not missing, f"classify this new endpoint in tests/test_authz_matrix.py ACCESS: {missing}"
    stale = sorted(set(ACCESS) - {endpoint for endpoint, _m, _r in RULES})
    assert not stale, f"ACCESS names endpoints that no longer exist: {stale}"


def test_every_socket_event_is_classified():
    handlers = set(socketio.server.handlers.get("/", {})) if socketio.server else set()
    handlers |= {name for name, _h, ns in socketio.handlers if ns in ("/", None)}
    missing = sorted(handlers - set(SOCKET_EVENTS))
    assert not missing, f"classify this new socket event in tests/test_authz_matrix.py SOCKET_EVENTS: {missing}"


def _params():
    for endpoint, method, overrides, query, data, klass in CASES:
        for viewer in VIEWERS:
            marks = []
            extra = "-".join(f"{k}={v}" for k, v in overrides.items()) + query + ("-data" if data else "")
            yield pytest.param(endpoint, method, overrides, query, data, klass, viewer, marks=marks,
                               id=f"{endpoint}-{method}{'-' + extra if extra else ''}-{viewer}")


@pytest.mark.parametrize("endpoint,method,overrides,query,data,klass,viewer", list(_params()))
def test_matrix(world, endpoint, method, overrides, query, data, klass, viewer):
    if klass is None:
        pytest.fail(f"classify this new endpoint: {endpoint} ({method}) is not in ACCESS")
    app = world["app"]
    expected = EXPECT[klass][viewer]
    url = _url(world, endpoint, overrides, query)
    client = _client(world, viewer)
    limiter.reset()
    write = method not in ("GET", "HEAD", "OPTIONS")
    before = fingerprint(app) if write else None
    data = {k: (v.format(**world["ids"]) if isinstance(v, str) else v) for k, v in data.items()}
    headers = {"X-CSRFToken": world["viewers"][viewer]["csrf"]} if write else {}
    try:
        resp = client.open(url, method=method, data=data, headers=headers, htmx=write)
        status = resp.status_code
        assert status < 500, f"{method} {url} as {viewer}: {status}"
        got = _verdict(resp)
        if klass == "cross" and status == 409:
            got = GONE    # the action form's "deleted while you were editing" answer: A's action is not in B
        if got == GONE and expected == OK and (write or endpoint in ALLOWED_404):
            got = OK                              # past authorisation; the object/the form is what is missing
        where = f"{method} {url} as {viewer} ({klass}): {status} {resp.headers.get('Location', '')}"
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if expected == "noop":          # any answer but a crash; what matters is that nothing was written
            allowed = (OK, REFUSED, GONE, "noop")
            assert fingerprint(app) == before, f"a write this viewer may not make changed the database: {where}"
        assert got in allowed, f"expected {expected}, got {got}: {where}"
        if write and OK not in allowed:
            assert fingerprint(app) == before, f"a refused write changed the database: {where}"
        if OK not in allowed:
            body = resp.get_data(as_text=True)
            assert "Parcours d'insertion" not in body and "Cœur de Dombes" not in body, \
                f"a refusal shows workshop A's data: {where}"
    finally:
        if write and fingerprint(app) != before:
            _restore(world)


def test_the_fingerprint_sees_a_write_and_the_restore_undoes_it(world):
    """Self-check of the two tools the matrix relies on."""
    app, ids = world["app"], world["ids"]
    before = fingerprint(app)
    client = _client(world, "pA")
    resp = client.post(f"/w/{ids['code']}/cards", data={"kind": "idea", "text": "Témoin"}, htmx=True,
                       headers={"X-CSRFToken": world["viewers"]["pA"]["csrf"]})
    assert resp.status_code == 200
    assert fingerprint(app) != before
    _restore(world)
    assert fingerprint(app) == before


# --------------------------------------------------------------------------- sockets

def _socket(world, viewer, code):
    client = _client(world, viewer)
    return socketio.test_client(world["app"], flask_test_client=client, auth={"workshop": code})


@pytest.mark.parametrize("viewer", VIEWERS)
def test_socket_connect_and_events(world, viewer):
    ids = world["ids"]
    expected = EXPECT[SOCKET_EVENTS["connect"]][viewer]
    sock = _socket(world, viewer, ids["code"])
    try:
        assert sock.is_connected() == (expected == OK), f"{viewer} connecting to A"
        if not sock.is_connected():
            return
        hello = [m for m in sock.get_received() if m["name"] == "hello"]
        assert hello and set(hello[0]["args"][0]) == {"rev", "now"}
        for event in sorted(SOCKET_EVENTS):
            if event in ("connect", "disconnect"):
                continue
            answer = sock.emit(event, {"workshop": ids["other_code"]}, callback=True)
            # Always about the workshop the server chose at connect, whatever the client says.
            assert set(answer) == {"rev", "now"}, (event, answer)
        sock.emit("no-such-event", {"workshop": ids["other_code"]})   # ignored
        assert sock.is_connected()
        leaked = [m for m in sock.get_received() if m["name"] not in ("hello", "push")]
        assert not leaked, leaked
    finally:
        if sock.is_connected():
            sock.disconnect()


@pytest.mark.parametrize("viewer", ["pB", "fX", "anonymous"])
def test_socket_of_another_workshop_hears_nothing_of_a(world, viewer):
    """pB on B's own socket: a resync answers with B, never A (anonymous and fX are refused)."""
    ids = world["ids"]
    sock = _socket(world, viewer, ids["other_code"])
    try:
        if viewer != "pB":
            assert not sock.is_connected()
            return
        assert sock.is_connected()
        answer = sock.emit("resync", {"workshop": ids["code"]}, callback=True)
        with world["app"].app_context():
            b_rev = db.session.get(Workshop, ids["other_id"]).revision
            db.session.remove()
        assert answer["rev"] == b_rev
    finally:
        if sock.is_connected():
            sock.disconnect()
