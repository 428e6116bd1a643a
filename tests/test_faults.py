"""Surviving faults (the issue), against real servers and real Socket.IO clients.

- gunicorn with deploy/gunicorn.conf.py serves HTTP and WebSocket.
- kill -9 in the middle of a vote, start again: every acknowledged dot is stored,
  clients reconnect by themselves and resync within 10 s, the projector shows
  exactly the database's totals.
- A participant offline (socket gone) while the room votes converges on reconnect;
  the vote they retried is stored once.
- Redis down: an instance on its own keeps working; instances that share the work
  (REDIS_URL) answer writes with a 503 and converge once Redis is back.
- Database down: 503 with a message, /healthz says so; back to normal afterwards.
"""
import re
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from live_server import (Browser, Listener, ServerProcess, TcpProxy, cookie_header, first_facilitator,
                         live_workshop, running_server)
from services import fresh_postgres_database, private_redis, unavailable

pytestmark = pytest.mark.server

RESYNC_BUDGET = 10.0     # seconds, from the issue
CARDS, VOTERS = 6, 8


@pytest.fixture(scope="module")
def socketio_client():
    try:
        import socketio
        import websocket  # noqa: F401
    except ImportError as exc:
        unavailable(f"python-socketio client with websocket-client is needed: {exc}")
    return socketio


# ------------------------------------------------------------------ helpers

def _open_vote(fac: Browser, code: str, budget: int, cap: int, results: str = "hidden") -> int:
    data = {"budget": budget, "cap": cap, "scope": "all", "results": results, "screen": "tally"}
    resp = fac.post(f"/w/{code}/vote", data, htmx=True)
    assert resp.status_code == 200, resp.text
    vote_id = int(re.search(r"/votes/(\d+)/status", resp.text).group(1))
    resp = fac.post(f"/w/{code}/votes/{vote_id}/status", {"status": "open"}, htmx=True)
    assert resp.status_code == 200, resp.text
    return vote_id


def _join(base: str, code: str, name: str, kind: str = "association") -> Browser:
    person = Browser(base)
    person.get(f"/w/{code}/join")
    resp = person.post(f"/w/{code}/join", {"display_name": name, "organisation": f"Structure {name}", "kind": kind})
    assert resp.status_code == 302, resp.text
    return person


def _vote_room(base: str, voters: int, results: str = "hidden"):
    fac = first_facilitator(base)
    workshop = live_workshop(fac, "Vote et pannes")
    code = workshop["code"]
    for n in range(CARDS):
        assert fac.post(f"/w/{code}/cards", {"kind": "idea", "text": f"Piste {n + 1}"}, htmx=True).status_code == 200
    vote_id = _open_vote(fac, code, budget=CARDS, cap=1, results=results)
    people = [_join(base, code, f"Votant {n}", "company" if n % 2 else "association") for n in range(voters)]
    ballot = people[0].get(f"/w/{code}/ballot").text
    card_ids = [int(c) for c in re.findall(r'id="add-(\d+)"', ballot)]
    assert len(card_ids) == CARDS
    return fac, workshop, vote_id, card_ids, people


def _projector(base: str, workshop: dict) -> Browser:
    projector = Browser(base)
    link = urlsplit(workshop["screen_link"])
    assert projector.get(f"{link.path}?{link.query}").status_code == 200
    return projector


def _totals(html: str) -> dict:
    """Dots placed, voters, and each card's dots, as a tally region shows them."""
    count = re.search(r'tally-count"><strong>(\d+)</strong>.*?<strong>(\d+)</strong>', html, re.S)
    rows = {int(cid): int(n) for cid, n in
            re.findall(r'id="(?:scr|res|fac)-(\d+)".*?<span class="score"><strong>(\d+)</strong>', html, re.S)}
    return {"dots": int(count.group(1)) if count else None, "voters": int(count.group(2)) if count else None,
            "cards": {cid: n for cid, n in rows.items() if n}}


def _db_totals(query, vote_id: int) -> dict:
    rows = query(f"SELECT card_id, SUM(dots) FROM dot WHERE vote_id = {vote_id} GROUP BY card_id")
    voters = query(f"SELECT COUNT(DISTINCT participant_id) FROM dot WHERE vote_id = {vote_id}")[0][0]
    cards = {int(cid): int(n) for cid, n in rows}
    return {"dots": sum(cards.values()), "voters": int(voters), "cards": cards}


class Screen:
    """A page's live region as a browser keeps it (static/js/app.js): pushes applied in
    revision order, a fresh GET of the region on every (re)connect. Reconnects by itself
    with socket.io-client's default delays (1 s, up to 5 s, randomised by half)."""

    def __init__(self, socketio, base: str, browser: Browser, code: str, region: str):
        self.base, self.browser, self.code, self.region = base, browser, code, region
        self.client = socketio.Client(reconnection=True, reconnection_attempts=0, reconnection_delay=1,
                                      reconnection_delay_max=5, randomization_factor=0.5)
        self.lock = threading.Condition()
        self.rev, self.html = -1, ""
        self.resyncs = []          # monotonic times of completed resyncs
        self.client.on("hello", self._on_hello)
        self.client.on("push", self._on_push)
        self.pattern = re.compile(rf'<hx-partial hx-target="#{region}"[^>]*>(.*?)</hx-partial>', re.S)

    def connect(self):
        self.client.connect(self.base, headers={"Cookie": cookie_header(self.browser.http)},
                            auth={"workshop": self.code}, transports=["websocket"], wait_timeout=5)
        assert self.wait_resyncs(1, 5), "no first resync"
        return self

    def _on_hello(self, _msg):
        # Resync in the background, as the browser's fetches are (never block the socket's thread).
        threading.Thread(target=self._resync, daemon=True).start()

    def _resync(self):
        for _attempt in range(20):
            try:
                resp = self.browser.http.get(f"{self.base}/w/{self.code}/r/{self.region}", timeout=3)
            except requests.RequestException:
                time.sleep(0.2)
                continue
            if resp.status_code == 200:
                self._apply(int(resp.headers["X-Revision"]), resp.text)
                with self.lock:
                    self.resyncs.append(time.monotonic())
                    self.lock.notify_all()
                return
            time.sleep(0.2)

    def _on_push(self, msg):
        match = self.pattern.search(msg["html"])
        if match:
            self._apply(msg["rev"], match.group(1))

    def _apply(self, rev, html):
        with self.lock:
            if rev >= self.rev:
                self.rev, self.html = rev, html
            self.lock.notify_all()

    def wait_resyncs(self, n: int, timeout: float) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: len(self.resyncs) >= n, timeout)

    def wait_totals(self, expected: dict, timeout: float) -> dict:
        """What the region shows once it equals `expected` (only the keys given), or at the timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                shown = {k: v for k, v in _totals(self.html).items() if k in expected}
                left = deadline - time.monotonic()
                if shown == expected or left <= 0:
                    return shown
                self.lock.wait(min(left, 0.2))

    def close(self):
        try:
            self.client.disconnect()
        except Exception:  # already gone
            pass


# ------------------------------------------------------------------ gunicorn

def test_gunicorn_serves_http_and_websocket_with_the_deploy_config(tmp_path, socketio_client):
    """deploy/gunicorn.conf.py: one gevent-websocket worker, migrations at start."""
    server = ServerProcess(tmp_path, name="gunicorn", gunicorn=True)
    server.start()
    try:
        assert requests.get(f"{server.base}/healthz", timeout=3).json() == {"status": "ok", "database": "ok"}
        fac = first_facilitator(server.base)          # the schema was migrated by the worker's hook
        workshop = live_workshop(fac, "Atelier sous gunicorn")
        listener = Listener(socketio_client, server.base, _projector(server.base, workshop),
                            workshop["code"]).connect()    # a WebSocket, not long-polling
        try:
            assert listener.client.transport() == "websocket"
            resp = fac.post(f"/w/{workshop['code']}/cards", {"kind": "idea", "text": "Servi par gunicorn"}, htmx=True)
            assert resp.status_code == 200
            assert listener.wait_for("Servi par gunicorn", timeout=3) is not None
        finally:
            listener.close()
        log = server.output()
        assert "GeventWebSocketWorker" in log and "AEH Atelier ready" in log, log
    finally:
        server.stop()


# ------------------------------------------------------------------ kill -9

@pytest.fixture
def pg_server(tmp_path):
    import psycopg
    with fresh_postgres_database("aeh_faults") as url:
        server = ServerProcess(tmp_path, DATABASE_URL=url)

        def query(sql):
            with psycopg.connect(url) as conn:
                return conn.execute(sql).fetchall()
        try:
            yield server.start(), query
        finally:
            server.stop()


def test_kill_9_in_the_middle_of_a_vote(pg_server, socketio_client):
    server, query = pg_server
    base = server.base
    fac, workshop, vote_id, card_ids, people = _vote_room(base, VOTERS)
    code = workshop["code"]
    ids = dict(query(f"SELECT display_name, id FROM participant WHERE workshop_id = {workshop['id']}"))
    projector = Screen(socketio_client, base, _projector(base, workshop), code, "screentally").connect()
    participant_screen = Screen(socketio_client, base, people[0], code, "votebox").connect()

    acked, retried, lock = set(), [], threading.Lock()
    halfway = threading.Event()
    errors = []

    def vote(index, person):
        pid = ids[f"Votant {index}"]
        for card_id in card_ids:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    resp = person.post(f"/w/{code}/votes/{vote_id}/cards/{card_id}", {"dots": 1}, htmx=True)
                except requests.RequestException:
                    with lock:
                        retried.append((pid, card_id))
                    time.sleep(0.2)
                    continue
                if resp.status_code == 200:
                    with lock:
                        acked.add((pid, card_id))
                        if len(acked) >= VOTERS * CARDS // 3:
                            halfway.set()
                    break
                if resp.status_code >= 500:   # the server starting again
                    time.sleep(0.2)
                    continue
                errors.append((resp.status_code, resp.text[:300]))
                return
            time.sleep(0.15)   # people click, they do not hammer: the kill lands mid-vote

    threads = [threading.Thread(target=vote, args=(i, p)) for i, p in enumerate(people)]
    for t in threads:
        t.start()
    try:
        assert halfway.wait(30), "the vote did not get going"
        server.kill9()
        killed_at = time.monotonic()
        # While it is down: every dot that got a success answer is in the database.
        with lock:
            acknowledged = set(acked)
        stored = {(p, c): d for p, c, d in query(f"SELECT participant_id, card_id, dots FROM dot WHERE vote_id = {vote_id}")}
        assert acknowledged <= set(stored), acknowledged - set(stored)
        assert 0 < len(acknowledged) < VOTERS * CARDS
        resyncs = (len(projector.resyncs), len(participant_screen.resyncs))

        server.start()
        back_at = time.monotonic()
        # Clients come back by themselves and fetch their regions again.
        assert projector.wait_resyncs(resyncs[0] + 1, RESYNC_BUDGET), "the projector did not resync"
        assert participant_screen.wait_resyncs(resyncs[1] + 1, RESYNC_BUDGET), "the participant did not resync"
        took = max(projector.resyncs[-1], participant_screen.resyncs[-1]) - back_at
        assert took <= RESYNC_BUDGET
        print(f"\nserver down {back_at - killed_at:.1f} s; clients resynced {took:.1f} s after it was back")
    finally:
        for t in threads:
            t.join(90)
    assert not errors, errors

    # Every dot once: the retried requests did not add any.
    stored = query(f"SELECT participant_id, card_id, dots FROM dot WHERE vote_id = {vote_id}")
    assert sorted((p, c) for p, c, _d in stored) == sorted((ids[f"Votant {i}"], c)
                                                           for i in range(VOTERS) for c in card_ids)
    assert {d for _p, _c, d in stored} == {1}
    assert retried, "no request was cut by the kill"
    # The projector shows exactly the database's totals.
    expected = _db_totals(query, vote_id)
    assert expected["dots"] == VOTERS * CARDS
    assert projector.wait_totals(expected, 5) == expected
    projector.close()
    participant_screen.close()


# ------------------------------------------------------------------ offline participant

def test_an_offline_participant_converges_and_a_retried_vote_counts_once(tmp_path, socketio_client):
    import sqlite3
    with running_server(tmp_path) as base:
        def query(sql):
            with sqlite3.connect(tmp_path / "atelier.sqlite3") as conn:
                return conn.execute(sql).fetchall()

        fac, workshop, vote_id, card_ids, people = _vote_room(base, 4, results="live")
        code = workshop["code"]
        laptop, others = people[0], people[1:]
        screen = Screen(socketio_client, base, laptop, code, "results").connect()
        screen.close()                                  # lid closed: no socket, no pushes

        for person in others:                           # the room votes meanwhile
            for card_id in card_ids[:3]:
                assert person.post(f"/w/{code}/votes/{vote_id}/cards/{card_id}", {"dots": 1},
                                   htmx=True).status_code == 200
        missed = _db_totals(query, vote_id)["cards"]
        assert missed and _totals(screen.html)["cards"] != missed          # what the closed laptop still shows is stale

        # The laptop's vote reached the server but its answer was lost; on waking it retries.
        url = f"/w/{code}/votes/{vote_id}/cards/{card_ids[0]}"
        assert laptop.post(url, {"dots": 1}, htmx=True).status_code == 200
        after_first = (_db_totals(query, vote_id), query(f"SELECT revision FROM workshop WHERE id = {workshop['id']}"))
        resp = laptop.post(url, {"dots": 1}, htmx=True)
        assert resp.status_code == 200
        after_retry = (_db_totals(query, vote_id), query(f"SELECT revision FROM workshop WHERE id = {workshop['id']}"))
        assert after_retry == after_first               # same total, no new revision
        pid = query(f"SELECT id FROM participant WHERE display_name = 'Votant 0' AND workshop_id = {workshop['id']}")[0][0]
        assert query(f"SELECT dots FROM dot WHERE participant_id = {pid} AND card_id = {card_ids[0]}") == [(1,)]

        # Lid open: a new socket, a resync, and the page shows the database's totals.
        screen = Screen(socketio_client, base, laptop, code, "results")
        started = time.monotonic()
        screen.connect()
        expected = {"cards": _db_totals(query, vote_id)["cards"]}   # participants' results: the bars
        assert screen.wait_totals(expected, RESYNC_BUDGET) == expected
        assert time.monotonic() - started < RESYNC_BUDGET
        ballot = laptop.get(f"/w/{code}/ballot").text
        assert re.search(rf'id="add-{card_ids[0]}"', ballot)
        # And from now on it follows the room live.
        assert others[0].post(f"/w/{code}/votes/{vote_id}/cards/{card_ids[4]}", {"dots": 1},
                              htmx=True).status_code == 200
        expected = {"cards": _db_totals(query, vote_id)["cards"]}
        assert screen.wait_totals(expected, 3) == expected
        screen.close()


# ------------------------------------------------------------------ Redis down

def test_the_write_guard_in_process(app, make_workshop, join_as, make_facilitator):
    """The rule itself (guard.refuse_writes_without_queue): with REDIS_URL set and Redis
    not answering, unsafe requests get a 503 before any view runs; reads and signing in
    do not; the answer is remembered for about a second, so a burst costs one ping."""
    from aeh_workshop import guard
    from conftest import PASSWORD, post_card
    code = make_workshop()
    person = join_as(code)
    make_facilitator("anim@example.org")
    url = "redis://127.0.0.1:1/0"     # nothing listens there
    app.config.update(REDIS_URL=url, REDIS_HEALTH_TTL=30)
    guard._redis_seen.pop(url, None)
    resp = post_card(person, code, text="Refusée")
    assert resp.status_code == 503 and resp.headers["HX-Retarget"] == "#flash"
    checked_at, answered = guard._redis_seen[url]
    assert answered is False
    for _ in range(4):
        assert post_card(person, code, text="Refusée").status_code == 503
    assert guard._redis_seen[url][0] == checked_at          # one ping for the whole burst
    assert person.get(f"/w/{code}").status_code == 200
    login = app.test_client().post("/login", data={"email": "anim@example.org", "password": PASSWORD})
    assert login.status_code == 302
    resp = person.post(f"/w/{code}/cards?lang=en", data={"kind": "idea", "text": "x"})
    assert resp.status_code == 503
    # Without REDIS_URL (one instance), the same write goes through.
    app.config["REDIS_URL"] = None
    assert post_card(person, code, text="Acceptée").status_code == 200
    guard._redis_seen.pop(url, None)


def _card_post(browser: Browser, code: str, text: str):
    return browser.post(f"/w/{code}/cards", {"kind": "idea", "text": text}, htmx=True)


def test_redis_down_one_instance_works_several_refuse_writes_then_converge(tmp_path, socketio_client):
    import psycopg
    with private_redis(tmp_path) as redis_server, fresh_postgres_database("aeh_redis_down") as url:
        shared = {"DATABASE_URL": url, "REDIS_URL": redis_server.url}
        first = ServerProcess(tmp_path, name="first", **shared).start()
        second = ServerProcess(tmp_path, name="second", **shared).start()
        alone_dir = tmp_path / "alone"
        alone_dir.mkdir()
        alone = ServerProcess(alone_dir, name="alone").start()       # no REDIS_URL: on its own
        listener = None
        try:
            fac = first_facilitator(first.base)
            workshop = live_workshop(fac, "Redis en panne")
            code = workshop["code"]
            person = _join(first.base, code, "Inès")
            projector = _projector(second.base, workshop)
            listener = Listener(socketio_client, second.base, projector, code).connect()
            solo_fac = first_facilitator(alone.base)
            solo = live_workshop(solo_fac, "Seul")

            redis_server.stop()
            time.sleep(1.2)     # past the instances' one-second cache of Redis's health

            # On its own: business as usual.
            assert _card_post(solo_fac, solo["code"], "Toujours possible").status_code == 200
            assert requests.get(f"{alone.base}/healthz", timeout=3).status_code == 200

            # Several: reading works, writing is refused with a clear 503, and nothing is written.
            for server in (first, second):
                health = requests.get(f"{server.base}/healthz", timeout=5)
                assert health.status_code == 503 and health.json()["down"] == ["redis"], health.text
            assert person.get(f"/w/{code}").status_code == 200
            started = time.monotonic()
            resp = _card_post(person, code, "Perdue ?")
            assert time.monotonic() - started < 2
            assert resp.status_code == 503 and resp.headers["Retry-After"]
            assert "n&#39;a pas été enregistrée" in resp.text and resp.headers["HX-Retarget"] == "#flash"
            person.get(f"/w/{code}?lang=en")
            resp = _card_post(person, code, "Lost?")
            assert resp.status_code == 503 and "your action was not saved" in resp.text
            resp = fac.post(f"/workshops/{workshop['id']}/phase", {"phase": "vote"}, htmx=True)
            assert resp.status_code == 503
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT COUNT(*) FROM card WHERE text IN ('Perdue ?', 'Lost?')").fetchone() == (0,)
                assert conn.execute(f"SELECT phase FROM workshop WHERE id = {workshop['id']}").fetchone() != ("vote",)

            # Redis back: writes succeed again, and pushes cross between the instances once more.
            redis_server.start()
            back = time.monotonic()
            deadline = back + 30
            arrived = None
            n = 0
            while arrived is None and time.monotonic() < deadline:
                n += 1
                resp = _card_post(person, code, f"Après le retour {n}")
                if resp.status_code == 200:
                    arrived = listener.wait_for(f"Après le retour {n}", timeout=1)
                else:
                    assert resp.status_code == 503
                    time.sleep(0.5)
            assert arrived is not None, (listener.received(), second.output()[-2000:])
            print(f"\npushes crossed again {arrived - back:.1f} s after Redis came back")
            assert requests.get(f"{second.base}/healthz", timeout=3).status_code == 200
            board_first = person.get(f"/w/{code}/r/board").text
            board_second = projector.get(f"/w/{code}/r/board").text
            for k in range(1, n + 1):
                assert (f"Après le retour {k}" in board_first) == (f"Après le retour {k}" in board_second)
        finally:
            if listener is not None:
                listener.close()
            for server in (first, second, alone):
                server.stop()


# ------------------------------------------------------------------ database down

def test_database_down_answers_503_and_healthz_says_so(tmp_path):
    """PostgreSQL behind a relay the test cuts: every connection dropped, nothing listening."""
    with fresh_postgres_database("aeh_db_down") as db_url:
        parts = urlsplit(db_url)
        proxy = TcpProxy(parts.hostname, parts.port or 5432).up()
        through = db_url.replace(parts.netloc, parts.netloc.replace(
            f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname, f"127.0.0.1:{proxy.port}"))
        assert f":{proxy.port}/" in through
        server = ServerProcess(tmp_path, DATABASE_URL=through).start()
        try:
            fac = first_facilitator(server.base)
            workshop = live_workshop(fac, "Base en panne")
            code = workshop["code"]
            person = _join(server.base, code, "Karim")

            proxy.down()
            health = requests.get(f"{server.base}/healthz", timeout=5)
            assert health.status_code == 503
            assert health.json() == {"status": "down", "database": "down", "down": ["database"]}
            resp = _card_post(person, code, "Pendant la panne")
            assert resp.status_code == 503 and "base de données ne répond pas" in resp.text
            assert resp.headers["HX-Retarget"] == "#flash"
            page = person.get(f"/w/{code}")
            assert page.status_code == 503 and "rien n&#39;a été enregistré" in page.text
            assert requests.get(f"{server.base}/w/{code}?lang=en", timeout=5).status_code == 503

            proxy.up()
            health = requests.get(f"{server.base}/healthz", timeout=5)
            assert health.status_code == 200, health.text
            assert _card_post(person, code, "Après la panne").status_code == 200
            assert "Après la panne" in person.get(f"/w/{code}/r/board").text
            assert "Pendant la panne" not in person.get(f"/w/{code}/r/board").text
        finally:
            server.stop()
            proxy.down()
