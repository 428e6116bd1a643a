"""Socket limits: oversized messages close the socket, event floods are throttled.

- a message over 64 KB closes that socket; the server and the other sockets go on
  (checked over the real gevent server with a raw WebSocket client);
- more than 10 events a second from one socket: the excess is dropped, a socket
  that keeps it up is disconnected; normal use is never throttled.
"""
import json
import time

import pytest

from aeh_workshop import realtime
from live_server import Browser, Listener, cookie_header, first_facilitator, live_workshop, running_server

KB = 1024


# --------------------------------------------------------------- 64 KB cap

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("limits")) as base:
        yield base


@pytest.fixture(scope="module")
def room(server):
    """A live workshop and a participant who joined it over HTTP."""
    fac = first_facilitator(server)
    ws = live_workshop(fac, "Limites des sockets")
    person = Browser(server)
    person.get(f"/w/{ws['code']}")
    resp = person.post(f"/w/{ws['code']}/join", {"display_name": "Nadia Haddad",
                                                 "organisation": "Tremplin Emploi Ain", "kind": "association"})
    assert resp.status_code == 302, resp.text
    return {"code": ws["code"], "person": person}


def _raw_socket(server, room):
    """Engine.IO v4 over a WebSocket by hand, connected to the workshop's namespace."""
    import websocket
    url = server.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, cookie=cookie_header(room["person"].http), timeout=5)
    assert ws.recv().startswith("0")                     # Engine.IO open
    ws.send("40" + json.dumps({"workshop": room["code"]}))
    got = sorted([ws.recv(), ws.recv()])          # the hello may come before the connect's answer
    assert got[0].startswith("40") and got[1].startswith('42["hello"'), got
    return ws


def _closed(ws, timeout=5.0):
    """True once the server has closed this WebSocket (pings aside)."""
    import websocket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            opcode, _data = ws.recv_data(control_frame=True)
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return True
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return True
    return False


def test_a_message_over_64kb_closes_that_socket_only(server, room):
    import socketio
    bystander = Listener(socketio, server, room["person"], room["code"]).connect()
    abuser = _raw_socket(server, room)
    try:
        abuser.send("42" + json.dumps(["resync", "x" * (70 * KB)]))
        assert _closed(abuser), "a 70 KB message should close the socket"
        # The server is up, the other socket still works, and a new one connects.
        assert Browser(server).get("/healthz").status_code == 200
        assert bystander.client.connected
        assert bystander.client.call("resync", timeout=5)["rev"] >= 0
        again = _raw_socket(server, room)
        again.close()
    finally:
        abuser.close()
        bystander.close()


def test_a_message_under_the_cap_is_handled(server, room):
    ws = _raw_socket(server, room)
    try:
        ws.send("421" + json.dumps(["resync", "x" * (60 * KB)]))   # id 1: asks for an acknowledgement
        answer = ws.recv()
        assert answer.startswith("431") and '"rev"' in answer, answer
    finally:
        ws.close()


# ------------------------------------------------------------ event budget

@pytest.fixture
def participant_socket(app, make_workshop, join_as, socket_for):
    code = make_workshop()
    client = join_as(code)
    sock = socket_for(client, code)
    assert sock.is_connected()
    sock.get_received()
    return sock


def _answered(sock, n):
    """Send n resync requests at once; how many got the revision back."""
    answers = [sock.emit("resync", callback=True) for _ in range(n)]
    return sum(1 for a in answers if isinstance(a, dict) and "rev" in a)


def test_resync_answers_the_revision(participant_socket):
    answer = participant_socket.emit("resync", callback=True)
    assert set(answer) == {"rev", "now"} and answer["rev"] >= 1


def test_the_eleventh_event_within_a_second_is_dropped(participant_socket):
    assert _answered(participant_socket, 15) == 10
    assert participant_socket.is_connected()


def test_the_budget_refills(participant_socket):
    assert _answered(participant_socket, 10) == 10
    time.sleep(0.35)                      # 10 a second: three more tokens
    assert _answered(participant_socket, 5) == 3


def test_normal_use_is_never_throttled(participant_socket):
    answered = 0
    for _ in range(15):                   # a lively client: about 7 a second
        answered += _answered(participant_socket, 1)
        time.sleep(0.14)
    assert answered == 15
    assert participant_socket.is_connected()


def test_sustained_abuse_disconnects(participant_socket):
    for _ in range(realtime.EventBudget.STRIKES + 20):
        if not participant_socket.is_connected():
            break
        participant_socket.emit("resync")
    assert not participant_socket.is_connected()


def test_each_socket_has_its_own_budget(app, make_workshop, join_as, socket_for):
    code = make_workshop()
    first = socket_for(join_as(code), code)
    second = socket_for(join_as(code, name="Karim Benali"), code)
    assert _answered(first, 12) == 10
    assert _answered(second, 5) == 5


def test_the_budget_in_isolation():
    now = [1000.0]
    budget = realtime.EventBudget(clock=lambda: now[0])
    assert [budget.allow("a") for _ in range(11)] == [True] * 10 + [False]
    now[0] += 1.0
    assert all(budget.allow("a") for _ in range(10))
    verdicts = [budget.allow("a") for _ in range(realtime.EventBudget.STRIKES + 5)]
    assert False in verdicts and verdicts[-1] is None
    budget.forget("a")
    assert budget.allow("a") is True
