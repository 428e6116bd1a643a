"""The Socket.IO handshake refuses a page of another site (cross-site WebSocket hijacking:
evil.example opening our socket with the visitor's cookies); this site's own pages,
PUBLIC_URL behind a proxy, and clients that send no Origin (not browsers) get through.

Against the real server (`python app.py`, gevent, both transports) and, for the
settings that need a proxy, through the app's WSGI stack with the test client.
"""
import shutil
import threading

import pytest
import requests

from live_server import cookie_header, first_facilitator, live_workshop, running_server
from test_live_server import socketio_client  # noqa: F401  (fixture: python-socketio + websocket-client)

EVIL = "http://evil.example"
HANDSHAKE = "/socket.io/?EIO=4&transport="


@pytest.fixture(scope="module")
def live(tmp_path_factory, socketio_client):  # noqa: F811
    """A server with a facilitator logged in over HTTP and a live workshop."""
    with running_server(tmp_path_factory.mktemp("origin")) as base:
        fac = first_facilitator(base)
        workshop = live_workshop(fac, "Atelier d'une seule origine")
        yield {"base": base, "cookie": cookie_header(fac.http), "code": workshop["code"]}


def _say_hello(socketio_client, live, transport, origin) -> bool:  # noqa: F811
    """Connect as the facilitator's browser would, from `origin`: True once the server says
    hello, False when the connection fails. How it fails depends on the transport (an HTTP
    400 for polling; over WebSocket, gevent-websocket has already switched protocols when the
    app refuses, so the socket closes before engine.io's first packet and the client raises
    its own error): each test compares with the same cookie from the site's own page."""
    headers = {"Cookie": live["cookie"]}
    if origin and transport == "polling":
        headers["Origin"] = origin
    # websocket-client writes its own Origin header (the server's address) unless told otherwise.
    client = socketio_client.Client(reconnection=False, websocket_extra_options=(
        {"origin": origin} if origin else {"suppress_origin": True}))
    hello = threading.Event()
    client.on("hello", lambda _msg: hello.set())
    try:
        client.connect(live["base"], headers=headers, auth={"workshop": live["code"]},
                       transports=[transport], wait_timeout=5)
        return hello.wait(5)
    except (socketio_client.exceptions.ConnectionError, ValueError):
        return False
    finally:
        client.eio.disconnect(abort=True)   # without waiting for a long poll to come back


@pytest.mark.server
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_another_sites_page_cannot_open_the_socket_with_our_cookies(live, socketio_client, transport):  # noqa: F811
    for origin in (EVIL, "null", live["base"].replace("127.0.0.1", "127.0.0.1.evil.example"),
                   live["base"].rsplit(":", 1)[0] + ":1"):   # the same host, another port
        assert not _say_hello(socketio_client, live, transport, origin), origin
    # The very same cookie and workshop from the site's own page, or with no Origin at all.
    assert _say_hello(socketio_client, live, transport, live["base"])
    assert _say_hello(socketio_client, live, transport, None)


@pytest.mark.server
def test_the_refusal_is_the_handshake_itself(live):
    """Refused before any engine.io session exists: a plain 400 for polling; over WebSocket
    nothing is ever sent on the socket, which the server closes at once."""
    import websocket
    resp = requests.get(live["base"] + HANDSHAKE + "polling", headers={"Origin": EVIL, "Cookie": live["cookie"]},
                        timeout=5)
    assert resp.status_code == 400 and "Not an accepted origin" in resp.text
    assert "Access-Control-Allow-Origin" not in resp.headers
    ok = requests.get(live["base"] + HANDSHAKE + "polling", headers={"Origin": live["base"]}, timeout=5)
    assert ok.status_code == 200 and '"sid"' in ok.text
    assert ok.headers["Access-Control-Allow-Origin"] == live["base"]

    url = live["base"].replace("http://", "ws://") + HANDSHAKE + "websocket"
    try:
        foreign = websocket.create_connection(url, origin=EVIL, cookie=live["cookie"], timeout=5)
    except websocket.WebSocketBadStatusException as refused:
        assert refused.value.status_code == 400
    else:
        # gevent-websocket (python app.py, gunicorn's worker) switches protocols before the app
        # runs; the app's refusal then closes the socket before engine.io's first packet.
        try:
            first = foreign.recv()
        except websocket.WebSocketConnectionClosedException:
            first = ""
        finally:
            foreign.close()
        assert first == "", f"a socket from {EVIL} was opened: {first!r}"
    ws = websocket.create_connection(url, origin=live["base"], timeout=5)
    try:
        assert ws.recv().startswith('0{"sid"')   # engine.io's open packet
    finally:
        ws.close()


# --------------------------------------------------------------------------- behind a proxy

@pytest.fixture
def app_with(migrated_db, tmp_path):
    """An app with extra settings (PUBLIC_URL, TRUSTED_PROXIES) on its own database copy."""
    from aeh_workshop import create_app
    from conftest import config_for
    path = tmp_path / "proxy.sqlite3"
    shutil.copy(migrated_db, path)
    return lambda **settings: create_app(config_for(f"sqlite:///{path}", **settings))


def _handshake(app, origin, **headers) -> int:
    if origin:
        headers["Origin"] = origin
    return app.test_client().get(HANDSHAKE + "polling", headers=headers).status_code


def test_public_url_is_this_site_too(app_with):
    """nginx in front, PUBLIC_URL=https://atelier.example.org: the browser's Origin is the
    public address while the app sees the proxy's request."""
    app = app_with(PUBLIC_URL="https://atelier.example.org/")
    assert _handshake(app, "https://atelier.example.org") == 200
    assert _handshake(app, "https://ATELIER.example.org:443") == 200
    assert _handshake(app, "http://localhost") == 200          # the Host the request came to
    assert _handshake(app, "http://atelier.example.org") == 400  # not over plain HTTP
    assert _handshake(app, "https://atelier.example.org.evil.example") == 400
    assert _handshake(app, EVIL) == 400
    assert _handshake(app, None) == 200


def test_forwarded_headers_count_only_from_a_trusted_proxy(app_with):
    """engine.io's own default believes X-Forwarded-Host from anyone; here only TRUSTED_PROXIES."""
    spoofed = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
    assert _handshake(app_with(), EVIL, **spoofed) == 400
    proxied = app_with(TRUSTED_PROXIES=1)
    assert _handshake(proxied, "https://atelier.example.org",
                      **{"X-Forwarded-Host": "atelier.example.org", "X-Forwarded-Proto": "https"}) == 200
    # Only the value our one proxy wrote (the last) counts, not one the client put before it.
    assert _handshake(proxied, EVIL, **{"X-Forwarded-Host": "evil.example, atelier.example.org",
                                        "X-Forwarded-Proto": "http, https"}) == 400
