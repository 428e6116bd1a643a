"""DESIGN.md §4.6: several server processes share PostgreSQL and Redis; a push
from any process reaches every client, whichever process it is connected to."""
from urllib.parse import urlsplit

import pytest

from live_server import Browser, Listener, first_facilitator, live_workshop, running_server
from services import fresh_postgres_database, redis_url

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def shared_database():
    """A fresh PostgreSQL database for the two processes."""
    with fresh_postgres_database("aeh_scale") as url:
        yield url


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, shared_database):
    import socketio  # noqa: F401  (the client; skip-free: requirements-dev installs it)
    settings = {"DATABASE_URL": shared_database, "REDIS_URL": redis_url()}
    workdir = tmp_path_factory.mktemp("scale")
    with running_server(workdir, name="first", **settings) as first, \
            running_server(workdir, name="second", **settings) as second:
        yield first, second


@pytest.fixture(scope="module")
def facilitator(two_servers):
    """The shared database's first account, logged in on the first process."""
    return first_facilitator(two_servers[0])


def test_a_write_on_one_process_reaches_a_client_of_the_other(two_servers, facilitator):
    import socketio
    first, second = two_servers
    workshop = live_workshop(facilitator, "Comité de pilotage")
    code, screen_link = workshop["code"], workshop["screen_link"]

    projector = Browser(second)     # the projector talks to the second process only
    link = urlsplit(screen_link)
    assert projector.get(f"{link.path}?{link.query}").status_code == 200
    listener = Listener(socketio, second, projector, code).connect()
    try:
        participant = Browser(first)   # the participant to the first one
        participant.get(f"/w/{code}")
        participant.post(f"/w/{code}/join", {"display_name": "Karim", "organisation": "Groupe Ainvest",
                                             "kind": "company"})
        resp = participant.post(f"/w/{code}/cards", {"kind": "link", "text": "Porté par le premier processus"},
                                htmx=True)
        assert resp.status_code == 200
        assert listener.wait_for("Porté par le premier processus", timeout=3) is not None, listener.received()
        # And the board a resync fetches from the second process agrees.
        assert "Porté par le premier processus" in projector.get(f"/w/{code}/r/board").text
    finally:
        listener.close()


def test_a_vote_on_one_process_shows_on_a_projector_of_the_other(two_servers, facilitator):
    """The issue's scale-out check: a participant on instance A votes, the projector
    connected to instance B shows it."""
    import re

    import socketio
    first, second = two_servers
    fac = facilitator
    workshop = live_workshop(fac, "Vote sur deux processus")
    code = workshop["code"]
    assert fac.post(f"/w/{code}/cards", {"kind": "idea", "text": "Une recyclerie commune"}, htmx=True).status_code == 200
    resp = fac.post(f"/w/{code}/vote", {"budget": 3, "cap": 3, "scope": "all", "results": "live",
                                        "screen": "tally"}, htmx=True)
    vote_id = int(re.search(r"/votes/(\d+)/status", resp.text).group(1))
    assert fac.post(f"/w/{code}/votes/{vote_id}/status", {"status": "open"}, htmx=True).status_code == 200

    projector = Browser(second)
    link = urlsplit(workshop["screen_link"])
    assert projector.get(f"{link.path}?{link.query}").status_code == 200
    listener = Listener(socketio, second, projector, code).connect()
    try:
        participant = Browser(first)
        participant.get(f"/w/{code}")
        participant.post(f"/w/{code}/join", {"display_name": "Karim", "organisation": "Groupe Ainvest",
                                             "kind": "company"})
        card_id = re.search(r'id="add-(\d+)"', participant.get(f"/w/{code}/ballot").text).group(1)
        resp = participant.post(f"/w/{code}/votes/{vote_id}/cards/{card_id}", {"dots": 2}, htmx=True)
        assert resp.status_code == 200
        assert listener.wait_for('tally-count"><strong>2</strong>', timeout=3) is not None, listener.received()
    finally:
        listener.close()
