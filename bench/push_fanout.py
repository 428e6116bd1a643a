"""Real-time fan-out benchmark: coalesced pushes vs. one push per write, side by side.

Starts two real servers (`python app.py`, gevent) on loopback ports, each on its
own SQLite file: the baseline with REALTIME_COALESCE_MS=0 (a push after every
write, what DESIGN.md §4 measured as the problem) and the shipped setting (100 ms).
For each, CLIENTS Socket.IO clients watch one workshop as projectors, and
WRITERS participants post CARDS cards as fast as they can. Printed per server:
push messages delivered, write throughput, and how long after the last write
every client had the final board, counted from the moment the last write was
sent (p50 / p95 / max).

    .venv/bin/python bench/push_fanout.py [--clients 30] [--cards 120] [--writers 4]
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: Path, coalesce_ms: int):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}", SECRET_KEY="bench",
               REALTIME_COALESCE_MS=str(coalesce_ms))
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=open(workdir / "server.log", "wb"),
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(base + "/healthz", timeout=1).ok:
                return proc, base
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start; see {workdir / 'server.log'}")


def token(session, url):
    return TOKEN.search(session.get(url).text).group(1)


def prepare(base):
    """Facilitator, a live workshop, its projector cookie; returns (code, workshop_id, cookie)."""
    fac = requests.Session()
    t = token(fac, base + "/setup")
    fac.post(base + "/setup", data={"name": "Bench", "email": "bench@aeh-atelier.fr", "password": "essai-de-charge-lyon",
                                    "confirm": "essai-de-charge-lyon", "locale": "fr", "csrf_token": t})
    t = token(fac, base + "/workshops/new")
    resp = fac.post(base + "/workshops/new", data={"title": "Banc d'essai", "purpose": "", "template":
                                                   "practice_exchange", "csrf_token": t})
    workshop_id = int(resp.url.rstrip("/").rsplit("/", 1)[1])
    page = fac.get(f"{base}/workshops/{workshop_id}").text
    code = re.search(r'class="code-big">(\w+)<', page).group(1)
    fac.post(f"{base}/workshops/{workshop_id}/status", data={"status": "live"},
             headers={"X-CSRFToken": token(fac, f"{base}/workshops/{workshop_id}")})
    screen_link = re.search(r'class="copy" value="([^"]+)"', page).group(1).replace("&amp;", "&")
    projector = requests.Session()
    projector.get(screen_link)
    cookie = "; ".join(f"{c.name}={c.value}" for c in projector.cookies)
    return code, cookie


def join(base, code, i):
    s = requests.Session()
    t = token(s, f"{base}/w/{code}")
    s.post(f"{base}/w/{code}/join", data={"display_name": f"Writer {i}", "organisation": f"Org {i}",
                                          "kind": "company", "csrf_token": t})
    s.headers["X-CSRFToken"] = token(s, f"{base}/w/{code}")
    s.headers["HX-Request"] = "true"
    return s


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(base, pid, clients, cards, writers):
    code, cookie = prepare(base)
    final_text = f"Carte finale {time.time()}"
    received = [0] * clients
    volume = [0] * clients
    seen_final = [None] * clients
    sockets = []
    for i in range(clients):
        sio = socketio.Client(reconnection=False)

        def on_push(msg, i=i):
            received[i] += 1
            volume[i] += len(msg["html"])
            if seen_final[i] is None and final_text in msg["html"]:
                seen_final[i] = time.monotonic()
        sio.on("push", on_push)
        sio.connect(base, headers={"Cookie": cookie}, auth={"workshop": code}, transports=["websocket"])
        sockets.append(sio)
    sessions = [join(base, code, i) for i in range(writers)]
    time.sleep(0.5)
    received[:] = [0] * clients
    volume[:] = [0] * clients

    per_writer = cards // writers
    statuses = []

    def write(s, w):
        for n in range(per_writer):
            statuses.append(s.post(f"{base}/w/{code}/cards", data={"kind": "idea", "text": f"Idée {w}-{n}"}).status_code)

    started, cpu_before = time.monotonic(), cpu_seconds(pid)
    threads = [threading.Thread(target=write, args=(s, w)) for w, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last_write = time.monotonic()
    final = sessions[0].post(f"{base}/w/{code}/cards", data={"kind": "idea", "text": final_text})
    assert final.status_code == 200, final.text[:300]
    writes_done = time.monotonic()
    deadline = last_write + 30
    while any(v is None for v in seen_final) and time.monotonic() < deadline:
        time.sleep(0.01)
    for sio in sockets:
        sio.disconnect()
    wall, cpu = time.monotonic() - started, cpu_seconds(pid) - cpu_before
    lags = sorted((v - last_write) * 1000 for v in seen_final if v is not None)
    missing = sum(v is None for v in seen_final)
    return {
        "writes": len(statuses) + 1, "write_errors": sum(s != 200 for s in statuses),
        "writes_per_s": (len(statuses) + 1) / (writes_done - started),
        "pushes": sum(received), "pushes_per_client": sum(received) / clients,
        "mb": sum(volume) / 1e6, "server_cpu": cpu / wall,
        "p50": statistics.median(lags) if lags else float("nan"),
        "p95": lags[int(0.95 * (len(lags) - 1))] if lags else float("nan"),
        "max": lags[-1] if lags else float("nan"), "missing": missing,
    }


def side_by_side(measure, baseline_label):
    """`measure(base_url, server_pid)` on a baseline server that pushes after every
    write (0 ms), then on the shipped setting (100 ms); each on its own SQLite file."""
    results = {}
    for label, coalesce in ((baseline_label, 0), ("coalesced (100 ms, shipped)", 100)):
        with tempfile.TemporaryDirectory() as tmp:
            proc, base = start_server(Path(tmp), coalesce)
            try:
                results[label] = measure(base, proc.pid)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--cards", type=int, default=120)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    results = side_by_side(lambda base, pid: run(base, pid, args.clients, args.cards, args.writers),
                           "baseline: push per write (0 ms)")
    print(f"\n{args.clients} projector clients, {args.cards} cards from {args.writers} writers, one workshop\n")
    header = (f"{'':34} {'writes/s':>9} {'pushes':>8} {'/client':>8} {'MB sent':>8} {'final p50':>10} "
              f"{'p95':>8} {'max':>8} {'missed':>7} {'errors':>7} {'server CPU':>11}")
    print(header)
    for label, r in results.items():
        print(f"{label:34} {r['writes_per_s']:9.1f} {r['pushes']:8d} {r['pushes_per_client']:8.1f} {r['mb']:8.1f} "
              f"{r['p50']:8.0f}ms {r['p95']:6.0f}ms {r['max']:6.0f}ms {r['missing']:7d} {r['write_errors']:7d} "
              f"{r['server_cpu']:10.0%}")
    print("\n'final': from sending the last write until each client had it; 'missed': not within 30 s;"
          "\n'server CPU': the server process's CPU time over wall time while writing and delivering"
          " (100% = one core; the clients share the machine).")


if __name__ == "__main__":
    main()
