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


# ------------------------------------------------------------ faults (test_faults.py)

class ServerProcess:
    """A server on a fixed loopback port that a test can kill -9 and start again there,
    so that clients reconnect to the same address. `gunicorn=True` serves through
    deploy/gunicorn.conf.py instead of `python app.py`."""

    def __init__(self, workdir: Path, name: str = "server", gunicorn: bool = False, **settings):
        self.workdir, self.name, self.gunicorn = workdir, name, gunicorn
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PUBLIC_URL", "DATABASE_URL")}
        self.env.update(DATABASE_URL=f"sqlite:///{workdir / 'atelier.sqlite3'}",
                        SECRET_KEY="live-server-test-secret", PYTHONUNBUFFERED="1")
        self.env.update(settings)
        self.proc = None
        self.starts = 0

    def command(self) -> list[str]:
        if self.gunicorn:
            return [str(Path(sys.executable).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py",
                    "--no-control-socket", "--bind", f"127.0.0.1:{self.port}"]
        return [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port)]

    def start(self, timeout: float = STARTUP_TIMEOUT) -> "ServerProcess":
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n----- start {self.starts} -----\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        _wait_healthy(self.proc, self.base, self.log_path, timeout)
        return self

    def kill9(self) -> None:
        """SIGKILL, no goodbye: the process group, so a gunicorn worker dies with its master."""
        import signal
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def stop(self) -> None:
        """Stop it and everything it started: gunicorn quickly (SIGINT, not its 10 s graceful
        stop), then the whole process group, so no worker keeps the port or the database."""
        import signal
        if self.proc is None:
            return
        if self.gunicorn and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        _stop(self.proc)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def output(self) -> str:
        return _output(self.log_path)


class TcpProxy:
    """A TCP relay on a loopback port that the test can cut (every connection closed,
    nothing listening) and restore: a database or Redis that goes away and comes back."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener = None
        self._thread = None

    def up(self) -> "TcpProxy":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _accept(self, listener):
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=3)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
