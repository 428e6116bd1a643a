"""Shared pieces of the open-loop load benchmarks (vote_latency.py, join_storm.py).

Light clients on asyncio streams, no extra dependency: a small HTTP/1.1 client
with keep-alive and a cookie jar per participant, and a raw Engine.IO v4
WebSocket client that only answers pings and counts frames. The projector is a
real python-socketio client in its own process (`_projector.py`). Servers run
as subprocesses, pinned to another core than the load generator where the
machine allows it.
"""
import asyncio
import base64
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
PASSWORD = "essai-de-charge-lyon"


# ------------------------------------------------------------------ machine

def cores():
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return []


def pinning():
    """(server cpu, generator cpu) when there are two cores to share and taskset exists, else None."""
    cpus = cores()
    if len(cpus) >= 2 and Path("/usr/bin/taskset").exists():
        return cpus[-1], cpus[0]
    return None


def pin_self(cpu):
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def loadavg():
    return os.getloadavg()[0]


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stats_ms(values):
    """p50/p95/p99/max of latencies given in seconds, in ms (rounded)."""
    out = {}
    for name, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99), ("max_ms", 1.0)):
        v = percentile(values, q)
        out[name] = None if v is None else round(v * 1000, 1)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ servers

class Server:
    """`python app.py` (or the bare baseline) on a fresh SQLite file in a temp dir."""

    def __init__(self, kind, coalesce_ms=100, cpu=None, extra_env=None):
        self.kind = kind
        self.tmp = tempfile.TemporaryDirectory(prefix=f"aeh-bench-{kind}-")
        self.dir = Path(self.tmp.name)
        self.db_path = self.dir / "bench.sqlite3"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "PUBLIC_URL")}
        env.update(DATABASE_URL=f"sqlite:///{self.db_path}", SECRET_KEY="bench-secret",
                   REALTIME_COALESCE_MS=str(coalesce_ms), PYTHONUNBUFFERED="1")
        env.update(extra_env or {})
        script = "app.py" if kind == "app" else str(BENCH / "_baseline_server.py")
        cmd = [sys.executable, script, "--host", "127.0.0.1", "--port", str(self.port)]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu)] + cmd
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid   # taskset execs the server: same pid
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            try:
                if requests.get(self.base + "/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"{kind} server did not start:\n{(self.dir / 'server.log').read_text()[-3000:]}")

    def cpu(self):
        return cpu_seconds(self.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        self.tmp.cleanup()


def _token(session, url):
    return TOKEN.search(session.get(url, timeout=10).text).group(1)


def prepare_app(base, cards=8, results="live", screen="tally", open_vote=True):
    """Through the app's own HTTP flow: the first facilitator, a live workshop,
    CARDS cards, an open vote (50 dots, 50 per card) unless open_vote is false.
    Returns a dict with the join code, vote id, card ids and the projector's cookie."""
    fac = requests.Session()
    t = _token(fac, base + "/setup")
    r = fac.post(base + "/setup", data={"name": "Banc", "email": "bench@aeh-atelier.fr", "password": PASSWORD,
                                        "confirm": PASSWORD, "locale": "fr", "csrf_token": t}, timeout=10)
    assert r.ok, r.text[:300]
    t = _token(fac, base + "/workshops/new")
    r = fac.post(base + "/workshops/new", data={"title": "Banc d'essai", "purpose": "",
                                                "template": "practice_exchange", "csrf_token": t}, timeout=10)
    workshop_id = int(r.url.rstrip("/").rsplit("/", 1)[1])
    page = fac.get(f"{base}/workshops/{workshop_id}", timeout=10).text
    code = re.search(r'class="code-big">\s*(\w+)\s*<', page).group(1)
    screen_link = re.search(r'class="copy" value="([^"]+)"', page).group(1).replace("&amp;", "&")
    headers = {"X-CSRFToken": TOKEN.search(page).group(1), "HX-Request": "true"}
    r = fac.post(f"{base}/workshops/{workshop_id}/status", data={"status": "live"}, headers=headers, timeout=10)
    assert r.ok, r.text[:300]
    for n in range(cards):
        fac.post(f"{base}/w/{code}/cards", data={"kind": "idea", "text": f"Piste {n}"}, headers=headers, timeout=10)
    vote_id = None
    if open_vote:
        r = fac.post(f"{base}/w/{code}/vote", headers=headers, timeout=10,
                     data={"budget": 50, "cap": 50, "scope": "all", "results": results, "screen": screen})
        vote_id = int(re.search(r"/votes/(\d+)/status", r.text).group(1))
        r = fac.post(f"{base}/w/{code}/votes/{vote_id}/status", data={"status": "open"}, headers=headers,
                     timeout=10)
        assert r.ok, r.text[:300]
    board = fac.get(f"{base}/w/{code}/r/board", timeout=10).text
    card_ids = sorted({int(n) for n in re.findall(r'id="card-(\d+)"', board)})
    assert len(card_ids) == cards, board[:500]
    projector = requests.Session()
    projector.get(base + "/w/" + screen_link.split("/w/", 1)[1], timeout=10)
    cookie = "; ".join(f"{c.name}={c.value}" for c in projector.cookies)
    return {"code": code, "workshop_id": workshop_id, "vote_id": vote_id, "cards": card_ids,
            "projector_cookie": cookie}


def prepare_baseline(base, cards=8):
    """The bare server has one workshop, one vote and CARDS cards; the projector key is "screen"."""
    info = requests.get(base + f"/setup?cards={cards}", timeout=10).json()
    projector = requests.Session()
    projector.get(f"{base}/w/{info['code']}/screen?key=screen", timeout=10)
    info["projector_cookie"] = "; ".join(f"{c.name}={c.value}" for c in projector.cookies)
    return info


def app_dots(db_path, vote_id):
    """{(display_name, card_id): dots} as the app's database holds them."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT p.display_name, d.card_id, d.dots FROM dot d JOIN participant p "
                            "ON p.id = d.participant_id WHERE d.vote_id = ?", (vote_id,)).fetchall()
    return {(name, card): dots for name, card, dots in rows}


def baseline_dots(base):
    return {(name, int(card)): dots for name, card, dots in requests.get(base + "/dots", timeout=10).json()}


# --------------------------------------------------------------- HTTP client

class HttpError(Exception):
    pass


class Browser:
    """One person's cookies and keep-alive connections to one server."""

    def __init__(self, host, port, name, source=None):
        self.host, self.port, self.name, self.source = host, port, name, source
        self.cookies = {}
        self.token = None
        self._idle = []

    async def _conn(self):
        if self._idle:
            return self._idle.pop()
        return await asyncio.open_connection(self.host, self.port,
                                             local_addr=(self.source, 0) if self.source else None)

    async def request(self, method, path, form=None, headers=None, timeout=30.0):
        """(status, headers dict (lower-case), body bytes); raises on a broken connection."""
        body = b""
        if form is not None:
            from urllib.parse import urlencode
            body = urlencode(form).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/html"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        for attempt in (0, 1):
            reused = bool(self._idle)
            reader, writer = await self._conn()
            try:
                writer.write(raw)
                status, hdrs, data, keep = await asyncio.wait_for(self._read(reader), timeout)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                writer.close()
                if reused and attempt == 0:   # the server closed an idle connection: retry once
                    continue
                raise HttpError(repr(exc)) from exc
            except BaseException:
                writer.close()
                raise
            if keep:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return status, hdrs, data

    async def _read(self, reader):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        hdrs = {}
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(":")
            k, v = k.strip().lower(), v.strip()
            if k == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            hdrs[k] = v
        if "content-length" in hdrs:
            data = await reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            data = b"".join(parts)
        else:
            data = await reader.read()
            return int(status), hdrs, data, False
        keep = version == "HTTP/1.1" and hdrs.get("connection", "").lower() != "close"
        return int(status), hdrs, data, keep

    async def get_page(self, path):
        status, hdrs, data = await self.request("GET", path)
        if status == 200:
            m = TOKEN.search(data.decode("utf-8", "replace"))
            if m:
                self.token = m.group(1)
        return status, data

    async def join(self, code, kind="company"):
        """The real join: the page (CSRF token, session cookie), the form, the redirect to one's page."""
        status, _ = await self.get_page(f"/w/{code}")
        if status != 200 or not self.token:
            raise HttpError(f"join page: {status}")
        status, hdrs, data = await self.request(
            "POST", f"/w/{code}/join",
            form={"display_name": self.name, "organisation": f"Org {self.name}", "kind": kind,
                  "csrf_token": self.token})
        if status != 302:
            raise HttpError(f"join: {status} {data[:200]!r}")
        status, data = await self.get_page(f"/w/{code}")
        if status != 200:
            raise HttpError(f"participant page: {status}")

    async def vote(self, code, vote_id, card_id, dots):
        status, _hdrs, _data = await self.request(
            "POST", f"/w/{code}/votes/{vote_id}/cards/{card_id}", form={"dots": dots},
            headers={"X-CSRFToken": self.token, "HX-Request": "true"})
        return status

    def close(self):
        for _r, w in self._idle:
            w.close()
        self._idle.clear()


# ----------------------------------------------------- raw Engine.IO socket

class RawSocket:
    """Engine.IO v4 over a WebSocket, by hand: answers pings, counts frames and bytes."""

    def __init__(self, host, port, cookie_header, code, source=None):
        self.host, self.port, self.cookie, self.code, self.source = host, port, cookie_header, code, source
        self.frames = 0
        self.bytes = 0
        self.pushes = 0
        self.hello_at = None
        self.connected = asyncio.Event()
        self.closed = False
        self.refused = False
        self.writer = None
        self._task = None

    async def open(self, timeout=30.0):
        reader, writer = await asyncio.open_connection(self.host, self.port,
                                                       local_addr=(self.source, 0) if self.source else None)
        self.writer = writer
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nCookie: {self.cookie}\r\n\r\n")
        writer.write(req.encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            writer.close()
            raise HttpError(f"websocket upgrade refused: {head[:100]!r}")
        self._task = asyncio.ensure_future(self._run(reader))
        await asyncio.wait_for(self.connected.wait(), timeout)

    def send_text(self, text):
        self.send_frame(text.encode())

    def send_frame(self, payload, opcode=1):
        n = len(payload)
        if n < 126:
            header = bytes([0x80 | opcode, 0x80 | n])
        elif n < 65536:
            header = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
        else:
            header = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        m = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        masked = (int.from_bytes(payload, "big") ^ m).to_bytes(n, "big") if n else b""
        self.writer.write(header + mask + masked)

    async def _run(self, reader):
        try:
            while True:
                h = await reader.readexactly(2)
                opcode, n = h[0] & 0x0F, h[1] & 0x7F
                if n == 126:
                    n = int.from_bytes(await reader.readexactly(2), "big")
                elif n == 127:
                    n = int.from_bytes(await reader.readexactly(8), "big")
                payload = await reader.readexactly(n)
                self.frames += 1
                self.bytes += n
                if opcode == 8:
                    break
                if opcode == 9:
                    self.send_frame(payload, opcode=10)
                    continue
                self._packet(payload)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed = True
            self.connected.set()
            self.writer.close()

    def _packet(self, payload):
        kind = payload[:1]
        if kind == b"0":        # Engine.IO open: connect the Socket.IO namespace
            self.send_text("40" + json.dumps({"workshop": self.code}))
        elif kind == b"2":      # ping
            self.send_text("3")
        elif payload.startswith(b"40"):
            pass
        elif payload.startswith(b"44"):
            self.refused = True
            self.connected.set()
        elif payload.startswith(b'42["hello"'):
            self.hello_at = time.monotonic()
            self.connected.set()
        elif payload.startswith(b'42["push"'):
            self.pushes += 1

    def close(self):
        if self.writer is not None and not self.closed:
            try:
                self.send_frame(b"", opcode=8)
            except Exception:
                pass
            self.writer.close()
        if self._task is not None:
            self._task.cancel()


# ------------------------------------------------------------- projector

class Projector:
    """bench/_projector.py in its own process: a real python-socketio client on the
    screen audience. Reports (monotonic time, dots total) for every tally push."""

    def __init__(self, base, cookie, code, cpu=None):
        cmd = [sys.executable, str(BENCH / "_projector.py"), base, code, cookie]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu)] + cmd
        self.cmd = cmd
        self.seen = []          # (time, total)
        self.ready = None
        self.proc = None

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(*self.cmd, stdout=asyncio.subprocess.PIPE,
                                                         stdin=asyncio.subprocess.PIPE)
        self.ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.ensure_future(self._read())
        await asyncio.wait_for(self.ready, 30)

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                if not self.ready.done():
                    self.ready.set_exception(HttpError("projector exited"))
                return
            parts = line.split()
            if parts[0] == b"hello":
                if not self.ready.done():
                    self.ready.set_result(None)
            elif parts[0] == b"tally":
                self.seen.append((float(parts[1]), int(parts[2])))

    def latest(self):
        return self.seen[-1][1] if self.seen else 0

    def first_at_least(self, total, after=0.0):
        for t, n in self.seen:
            if n >= total and t >= after:
                return t
        return None

    async def wait_for(self, total, timeout):
        deadline = time.monotonic() + timeout
        while self.latest() < total and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.latest() >= total

    async def stop(self):
        if self.proc and self.proc.returncode is None:
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def bounded(coros, limit):
    """Run coroutines with at most LIMIT in flight; results in order (exceptions returned)."""
    sem = asyncio.Semaphore(limit)

    async def one(c):
        async with sem:
            return await c
    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


def source_address(i):
    """A loopback source address of its own for participant i (127.1.x.y): each phone
    has its address, as on a venue's network without NAT; per-address limits apply as usual."""
    return f"127.1.{i // 250}.{i % 250 + 1}" if sys.platform.startswith("linux") else None


def profile(pid, folder, seconds, name="server"):
    """py-spy (pip install py-spy; not a requirement) on a server, as folded stacks in FOLDER."""
    import shutil
    Path(folder).mkdir(parents=True, exist_ok=True)
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return asyncio.create_subprocess_exec(exe, "record", "-r", "250", "--format", "raw",
                                          "-o", str(Path(folder) / f"{name}.folded"), "-d", str(int(seconds + 1)),
                                          "-p", str(pid), stdout=asyncio.subprocess.DEVNULL,
                                          stderr=asyncio.subprocess.DEVNULL)


def raise_fd_limit():
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass
