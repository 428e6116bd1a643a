"""The real server for end-to-end tests: `python app.py` on a free loopback port.

Used by test_live_server.py (Socket.IO clients) and test_browser.py (Chromium).
The server gets its own SQLite file and secret key; REDIS_URL and PUBLIC_URL
are removed from its environment so it runs alone, as `make run` does.
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
STARTUP_TIMEOUT = 20.0


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _output(log_path: Path) -> str:
    try:
        return log_path.read_text(errors="replace")
    except OSError:
        return "(no output)"


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server by its pid; kill it if it does not stop."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextmanager
def running_server(workdir: Path, timeout: float = STARTUP_TIMEOUT, name: str = "server", **settings):
    """Start the app in `workdir` (database and log), yield its base URL, stop it.

    `settings` are extra environment variables (REDIS_URL=..., DATABASE_URL=...).
    """
    port = free_port()
    log_path = workdir / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PUBLIC_URL", "DATABASE_URL")}
    env.update(DATABASE_URL=f"sqlite:///{workdir / 'atelier.sqlite3'}",
               SECRET_KEY="live-server-test-secret", PYTHONUNBUFFERED="1")
    env.update(settings)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, base, log_path, timeout)
        yield base
    finally:
        _stop(proc)


def _wait_healthy(proc, base, log_path, timeout):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited with code {proc.returncode} before answering /healthz:\n"
                        f"{_output(log_path)}", pytrace=False)
        try:
            resp = requests.get(f"{base}/healthz", timeout=1)
            if resp.status_code == 200:
                return
            last_error = f"HTTP {resp.status_code}: {resp.text[:200]}"
        except requests.RequestException as exc:
            last_error = repr(exc)
        time.sleep(0.1)
    _stop(proc)
    pytest.fail(f"app.py did not answer {base}/healthz within {timeout:.0f} s "
                f"(last error: {last_error}); its output:\n{_output(log_path)}", pytrace=False)


def csrf_token(html: str) -> str:
    """The token base.html puts on <body> for htmx (hx-headers:inherited)."""
    match = TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def cookie_header(session: requests.Session) -> str:
    """A browser's Cookie header for this session's cookies."""
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


class Browser:
    """A requests session that sends the page's CSRF token on writes, like htmx does."""

    def __init__(self, base):
        self.base = base
        self.http = requests.Session()
        self.token = None

    def get(self, path, **kw):
        resp = self.http.get(self.base + path, timeout=5, **kw)
        if "X-CSRFToken" in resp.text:
            self.token = csrf_token(resp.text)
        return resp

    def post(self, path, data, htmx=False, **kw):
        if self.token is None:
            self.get("/login")
        headers = {"X-CSRFToken": self.token}
        if htmx:
            headers.update({"HX-Request": "true", "HX-Request-Type": "partial"})
        return self.http.post(self.base + path, data=data, headers=headers, timeout=5,
                              allow_redirects=False, **kw)


class Listener:
    """A Socket.IO client watching one workshop; records pushes with their arrival time."""

    def __init__(self, socketio, base, browser, code):
        self.base, self.code = base, code
        self.cookie = cookie_header(browser.http) if browser else ""
        self.client = socketio.Client(reconnection=False)
        self.hello = threading.Event()
        self.pushes = []   # (monotonic arrival time, payload)
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.client.on("hello", lambda msg: self.hello.set())
        self.client.on("push", self._on_push)

    def _on_push(self, msg):
        with self.arrived:
            self.pushes.append((time.monotonic(), msg))
            self.arrived.notify_all()

    def connect(self):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.client.connect(self.base, headers=headers, auth={"workshop": self.code},
                            transports=["websocket"], wait_timeout=5)
        assert self.hello.wait(5), f"no hello from the server for {self.code}"
        return self

    def clear(self):
        with self.lock:
            self.pushes.clear()

    def received(self):
        with self.lock:
            return [msg for _t, msg in self.pushes]

    def wait_for(self, text, timeout):
        """Arrival time of the first push whose HTML holds `text`, or None."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for arrival, msg in self.pushes:
                    if text in msg["html"]:
                        return arrival
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(left)

    def close(self):
        try:
            self.client.disconnect()
        except Exception:  # already gone
            pass


PASSWORD = "motdepasse-solide"


def first_facilitator(base: str, email: str = "camille@example.org", name: str = "Camille Martin") -> Browser:
    """A fresh server's first account, created over HTTP on the setup page, logged in."""
    fac = Browser(base)
    assert fac.get("/").url.endswith("/setup")
    resp = fac.post("/setup", {"name": name, "email": email, "password": PASSWORD,
                               "confirm": PASSWORD, "locale": "fr"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/workshops/"), resp.text
    return fac


def live_workshop(fac: Browser, title: str) -> dict:
    """A new workshop, opened: its id, join code and secret screen link (from the control room)."""
    fac.get("/workshops/new")
    resp = fac.post("/workshops/new", {"title": title, "purpose": "Partager nos pratiques",
                                       "template": "practice_exchange"})
    assert resp.status_code == 302, resp.text
    workshop_id = int(re.search(r"/workshops/(\d+)$", resp.headers["Location"]).group(1))
    resp = fac.post(f"/workshops/{workshop_id}/status", {"status": "live"}, htmx=True)
    assert resp.status_code == 200 and "Clore l" in resp.text, resp.text
    page = fac.get(f"/workshops/{workshop_id}").text
    code = re.search(r'<p class="code-big">\s*([A-Z0-9]+)\s*</p>', page).group(1)
    link = re.search(r'<input readonly class="copy" value="([^"]+)"', page).group(1)
    return {"id": workshop_id, "code": code, "screen_link": link.replace("&amp;", "&")}


@contextmanager
def server_on(database: str, workdir: Path, prefix: str = "aeh_live"):
    """The app on "sqlite" (its embedded default) or "postgresql" (a fresh database on
    the test server), and a way to read that database directly: yields (base, query)."""
    if database == "sqlite":
        import sqlite3
        with running_server(workdir) as base:
            def query(sql):
                with sqlite3.connect(workdir / "atelier.sqlite3") as conn:
                    return conn.execute(sql).fetchall()
            yield base, query
    else:
        import psycopg
        from services import fresh_postgres_database
        with fresh_postgres_database(prefix) as url, running_server(workdir, DATABASE_URL=url) as base:
            def query(sql):
                with psycopg.connect(url) as conn:
                    return conn.execute(sql).fetchall()
            yield base, query
