"""The Socket.IO handshake refuses a page of another site (cross-site WebSocket hijacking:
evil.example opening our socket with the visitor's cookies); this site's own pages,
PUBLIC_URL behind a proxy, and clients that send no Origin (not browsers) get through.

Against the real server (`python app.py` and gunicorn with deploy/gunicorn.conf.py, both
gevent-websocket, both transports) and, for the settings that need a proxy, through the
app's WSGI stack with the test client.
"""
import shutil
import threading

import pytest
import requests

from live_server import ServerProcess, cookie_header, first_facilitator, live_workshop, running_server
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


def _foreign_origins(base: str) -> list[str]:
    """Pages that are not this site: another site, a sandboxed page, a look-alike host, the
    same host on another port."""
    return [EVIL, "null", base.replace("127.0.0.1", "127.0.0.1.evil.example"), base.rsplit(":", 1)[0] + ":1"]


def _say_hello(socketio_client, live, transport, origin) -> bool:  # noqa: F811
    """Connect as the facilitator's browser would, from `origin`: True once the server says
    hello, False when the connection fails (an HTTP 400 for polling, 403 for a WebSocket):
    each test compares with the same cookie from the site's own page."""
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
    for origin in _foreign_origins(live["base"]):
        assert not _say_hello(socketio_client, live, transport, origin), origin
    # The very same cookie and workshop from the site's own page, or with no Origin at all.
    assert _say_hello(socketio_client, live, transport, live["base"])
    assert _say_hello(socketio_client, live, transport, None)


def _refused(url: str, **options) -> str:
    """A raw WebSocket handshake (websocket-client) that must get an HTTP 403, not the 101:
    the refusal's text."""
    import websocket
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=5, **options).close()
    assert refused.value.status_code == 403, options
    assert "sec-websocket-accept" not in refused.value.resp_headers   # never switched protocols
    return (refused.value.resp_body or b"").decode()


def _opens(url: str, **options) -> bool:
    """A raw WebSocket handshake that must switch protocols: True once engine.io's open packet
    arrives on it."""
    import websocket
    ws = websocket.create_connection(url, timeout=5, **options)
    try:
        return ws.recv().startswith('0{"sid"')
    finally:
        ws.close()


def _websocket_refused_before_the_101(base: str, cookie: str) -> None:
    """A WebSocket from another site's page gets an HTTP 403 and no socket, even with the
    visitor's cookie; the site's own page, and a client that sends no Origin, get engine.io's
    open packet on the same URL."""
    url = base.replace("http://", "ws://") + HANDSHAKE + "websocket"
    for origin in _foreign_origins(base):
        text = _refused(url, origin=origin, cookie=cookie)
        assert "Origine refusée" in text and "Origin not allowed" in text, (origin, text)
    assert _opens(url, origin=base, cookie=cookie)
    assert _opens(url, suppress_origin=True, cookie=cookie)


@pytest.mark.server
def test_the_refusal_is_the_handshake_itself(live):
    """Refused before any engine.io session exists: a plain 400 for polling, and a 403 instead
    of "101 Switching Protocols" for a WebSocket (aeh_workshop/serving.py)."""
    resp = requests.get(live["base"] + HANDSHAKE + "polling", headers={"Origin": EVIL, "Cookie": live["cookie"]},
                        timeout=5)
    assert resp.status_code == 400 and "Not an accepted origin" in resp.text
    assert "Access-Control-Allow-Origin" not in resp.headers
    ok = requests.get(live["base"] + HANDSHAKE + "polling", headers={"Origin": live["base"]}, timeout=5)
    assert ok.status_code == 200 and '"sid"' in ok.text
    assert ok.headers["Access-Control-Allow-Origin"] == live["base"]
    _websocket_refused_before_the_101(live["base"], live["cookie"])


@pytest.mark.server
def test_gunicorn_refuses_another_sites_websocket_too(tmp_path, socketio_client):  # noqa: F811
    """deploy/gunicorn.conf.py's worker uses the same handler: a 403 before the 101, while
    the site's own page still gets its WebSocket and its workshop's hello."""
    server = ServerProcess(tmp_path, name="gunicorn", gunicorn=True).start()
    try:
        fac = first_facilitator(server.base)
        workshop = live_workshop(fac, "Atelier sous gunicorn, d'une seule origine")
        _websocket_refused_before_the_101(server.base, cookie_header(fac.http))
        live = {"base": server.base, "cookie": cookie_header(fac.http), "code": workshop["code"]}
        assert not _say_hello(socketio_client, live, "websocket", EVIL)
        assert _say_hello(socketio_client, live, "websocket", server.base)
    finally:
        server.stop()


# --------------------------------------------------------------------------- behind a proxy

@pytest.mark.server
def test_behind_a_proxy_the_websocket_check_is_the_apps(tmp_path):
    """PUBLIC_URL and TRUSTED_PROXIES reach the WebSocket handler's check too: nginx's upgrade
    from the public page switches protocols, other pages get the 403."""
    public = "https://atelier.example.org"
    with running_server(tmp_path, PUBLIC_URL=public + "/", TRUSTED_PROXIES="1") as base:
        url = base.replace("http://", "ws://") + HANDSHAKE + "websocket"
        assert _opens(url, origin=public)
        assert _opens(url, origin="https://salle.example.org",      # the Host nginx was asked for
                      header=["X-Forwarded-Host: salle.example.org", "X-Forwarded-Proto: https"])
        _refused(url, origin="http://atelier.example.org")           # not over plain HTTP
        _refused(url, origin=EVIL)
        # Only the value our one proxy wrote (the last) counts, not one the client put before it.
        _refused(url, origin=EVIL, header=["X-Forwarded-Host: evil.example, atelier.example.org",
                                           "X-Forwarded-Proto: http, https"])


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
