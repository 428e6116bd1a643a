"""Dot-vote benchmark: the tally pushed once per coalescing window vs. once per vote, side by side.

Starts two real servers (`python app.py`, gevent), each on its own SQLite file:
the baseline pushes after every vote (REALTIME_COALESCE_MS=0), the shipped
setting coalesces (100 ms). For each, SCREENS Socket.IO clients watch the
workshop as projectors, and VOTERS participants each add VOTES dots one at a
time, as fast as they can, through the real HTTP flow (session cookie, CSRF).
Printed per server: votes/s, vote response time (p50 / p95), tally pushes per
projector and the highest number of pushes one projector got in any second,
how long after the last vote every projector showed the final total, and
server CPU.

    .venv/bin/python bench/vote_tally.py [--screens 20] [--voters 20] [--votes 25]
"""
import argparse
import re
import statistics
import threading
import time
from collections import Counter

import requests
import socketio

from push_fanout import cpu_seconds, join, prepare, side_by_side, token

COUNT = re.compile(r'tally-count"><strong>(\d+)</strong>')


def open_vote(base, code, budget):
    """As the facilitator (the first account): ideas to vote on, a vote with a large budget, opened."""
    fac = requests.Session()
    fac.post(base + "/login", data={"email": "bench@aeh-atelier.fr", "password": "essai-de-charge-lyon",
                                     "csrf_token": token(fac, base + "/login")})
    headers = {"X-CSRFToken": token(fac, base + "/workshops/"), "HX-Request": "true"}
    for n in range(8):
        fac.post(f"{base}/w/{code}/cards", data={"kind": "idea", "text": f"Piste {n}"}, headers=headers)
    resp = fac.post(f"{base}/w/{code}/vote", headers=headers,
                    data={"budget": budget, "cap": budget, "scope": "all", "results": "hidden", "screen": "tally"})
    vote_id = int(re.search(r"/votes/(\d+)/status", resp.text).group(1))
    fac.post(f"{base}/w/{code}/votes/{vote_id}/status", data={"status": "open"}, headers=headers)
    board = fac.get(f"{base}/w/{code}/r/board").text
    return vote_id, sorted({int(n) for n in re.findall(r'id="card-(\d+)"', board)})


def run(base, pid, screens, voters, votes):
    code, cookie = prepare(base)
    vote_id, cards = open_vote(base, code, budget=votes)
    total = voters * votes
    arrivals = [[] for _ in range(screens)]     # (time, dots shown) per projector
    done_at = [None] * screens
    sockets = []
    for i in range(screens):
        sio = socketio.Client(reconnection=False)

        def on_push(msg, i=i):
            match = COUNT.search(msg["html"])
            if match:
                now = time.monotonic()
                arrivals[i].append(now)
                if int(match.group(1)) == total and done_at[i] is None:
                    done_at[i] = now
        sio.on("push", on_push)
        sio.connect(base, headers={"Cookie": cookie}, auth={"workshop": code}, transports=["websocket"])
        sockets.append(sio)
    sessions = [join(base, code, i) for i in range(voters)]
    time.sleep(0.5)
    for a in arrivals:
        a.clear()

    latencies, statuses, lock = [], [], threading.Lock()

    def vote(s, w):
        mine = Counter()
        for n in range(votes):
            card = cards[(w + n) % len(cards)]
            mine[card] += 1
            sent = time.monotonic()
            resp = s.post(f"{base}/w/{code}/votes/{vote_id}/cards/{card}", data={"dots": mine[card]})
            with lock:
                latencies.append((time.monotonic() - sent) * 1000)
                statuses.append(resp.status_code)

    started, cpu_before = time.monotonic(), cpu_seconds(pid)
    threads = [threading.Thread(target=vote, args=(s, w)) for w, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last_vote = time.monotonic()
    while any(v is None for v in done_at) and time.monotonic() < last_vote + 30:
        time.sleep(0.01)
    wall, cpu = time.monotonic() - started, cpu_seconds(pid) - cpu_before
    for sio in sockets:
        sio.disconnect()
    lags = sorted((v - last_vote) * 1000 for v in done_at if v is not None)
    latencies.sort()
    busiest = max((max(Counter(int(t - started) for t in a).values(), default=0) for a in arrivals), default=0)
    return {
        "votes": len(statuses), "errors": sum(s != 200 for s in statuses),
        "votes_per_s": len(statuses) / (last_vote - started),
        "vote_p50": statistics.median(latencies), "vote_p95": latencies[int(0.95 * (len(latencies) - 1))],
        "pushes_per_screen": sum(len(a) for a in arrivals) / screens, "busiest_second": busiest,
        "final_p95": lags[int(0.95 * (len(lags) - 1))] if lags else float("nan"),
        "missed": sum(v is None for v in done_at), "server_cpu": cpu / wall,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=20)
    parser.add_argument("--voters", type=int, default=20)
    parser.add_argument("--votes", type=int, default=25, help="dots each voter adds, one request each")
    args = parser.parse_args()
    results = side_by_side(lambda base, pid: run(base, pid, args.screens, args.voters, args.votes),
                           "baseline: push per vote (0 ms)")
    print(f"\n{args.voters} voters × {args.votes} dots, {args.screens} projector clients, one workshop\n")
    print(f"{'':32} {'votes/s':>8} {'vote p50':>9} {'p95':>7} {'pushes/screen':>14} {'max/s':>6} "
          f"{'final p95':>10} {'missed':>7} {'errors':>7} {'server CPU':>11}")
    for label, r in results.items():
        print(f"{label:32} {r['votes_per_s']:8.1f} {r['vote_p50']:7.0f}ms {r['vote_p95']:5.0f}ms "
              f"{r['pushes_per_screen']:14.1f} {r['busiest_second']:6d} {r['final_p95']:8.0f}ms {r['missed']:7d} "
              f"{r['errors']:7d} {r['server_cpu']:10.0%}")
    print("\n'max/s': the most tally pushes one projector received in any one second (the rule: at most 10);"
          "\n'final p95': from the last vote's response until the projectors showed the final total"
          " (negative when the push beat the answer).")


if __name__ == "__main__":
    main()
