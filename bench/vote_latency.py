"""Open-loop vote latency: "vote sent → projector shows it", app vs. a bare baseline.

Starts the app (`python app.py`, gevent, fresh SQLite file) and a bare
Flask-SocketIO gevent server with the same coalescing interval
(bench/_baseline_server.py), each pinned to one core while this generator and
the projector run on the other (where taskset allows). On each: PARTICIPANTS
join through the real HTTP flow (join page, CSRF token, join form, own cookie)
and keep a raw Engine.IO WebSocket open that only counts frames; one projector,
a real python-socketio client in its own process, watches the screen audience.

Then, alternating baseline and app for --rounds rounds, VOTES votes are sent
over DURATION seconds, open loop: vote k's send time is fixed in advance
(start + k·DURATION/VOTES) and its latency counts from that time, however late
the generator or the server is. Each vote adds one dot (a participant's dots on
a card = previous + 1, `POST /w/<code>/votes/<id>/cards/<id>` with HX-Request
and the CSRF header). The projector reports every tally push; the i-th
successful vote of a phase is shown when the projector's total reaches the
phase's starting total + i. Latency = that moment − the vote's intended send
time.

lost_votes: successful votes the projector never showed (10 s after the last
send) + dots missing from the database at the end. errors: votes that got no
2xx answer. server_cpu_s: the app's CPU seconds during its measured phases.

    .venv/bin/python bench/vote_latency.py --participants 500 --votes 500 --duration 5 --json
    .venv/bin/python bench/vote_latency.py --quick --json      # 20 participants, 20 votes, 2 s
"""
import argparse
import asyncio
import json
import sys
import time

from _load import profile as spy
from _load import (Browser, Projector, RawSocket, Server, app_dots, baseline_dots, bounded, loadavg, pin_self,
                   pinning, prepare_app, prepare_baseline, raise_fd_limit, source_address, stats_ms)


class Target:
    """One server under test, its participants, their sockets, its projector."""

    def __init__(self, kind, server, info):
        self.kind, self.server, self.info = kind, server, info
        self.people = []        # Browser, each with .dots {card: n} (what the database should hold)
        self.sockets = []
        self.projector = None
        self.phases = []
        self.profile = None     # a folder: py-spy records the server during each phase

    async def populate(self, n, gen_cpu, concurrency=16):
        host, port = "127.0.0.1", self.server.port
        self.people = [Browser(host, port, f"P{i:04d}", source_address(i)) for i in range(n)]
        started = time.monotonic()
        outcomes = await bounded([p.join(self.info["code"]) for p in self.people], concurrency)
        failed = [o for o in outcomes if isinstance(o, Exception)]
        if failed:
            raise SystemExit(f"{self.kind}: {len(failed)} joins failed, first: {failed[0]!r}")
        joined = time.monotonic() - started
        for p in self.people:
            p.dots = {}
        self.sockets = [RawSocket(host, port, "; ".join(f"{k}={v}" for k, v in p.cookies.items()),
                                  self.info["code"], p.source) for p in self.people]
        outcomes = await bounded([s.open() for s in self.sockets], 50)
        failed = [o for o in outcomes if isinstance(o, Exception)] + [s for s in self.sockets if s.refused]
        if failed:
            raise SystemExit(f"{self.kind}: {len(failed)} sockets failed, first: {failed[0]!r}")
        self.projector = Projector(self.server.base, self.info["projector_cookie"], self.info["code"], gen_cpu)
        await self.projector.start()
        return joined

    async def phase(self, votes, duration, offset, drain=10.0):
        code, vote_id, cards = self.info["code"], self.info["vote_id"], self.info["cards"]
        n = len(self.people)
        await asyncio.sleep(1.0)                      # let the joins' pushes settle
        start_total = self.projector.latest()
        frames_before = sum(s.frames for s in self.sockets)
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.2
        cpu0 = self.server.cpu()
        spy = await profile(self, duration + 2) if self.profile else None
        sent = [None] * votes                          # (intended, answered, status)

        async def one(k):
            intended = t0 + k * duration / votes
            delay = intended - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            person = self.people[(offset + k) % n]
            card = cards[((offset + k) // n + k) % len(cards)]
            dots = person.dots.get(card, 0) + 1
            person.dots[card] = dots                   # what the database should hold if it succeeds
            try:
                status = await person.vote(code, vote_id, card, dots)
            except Exception:   # noqa: BLE001 - counted as an error
                status = 0
            if not 200 <= status < 300:
                person.dots[card] = dots - 1
            sent[k] = (intended, loop.time(), status)

        await asyncio.gather(*(one(k) for k in range(votes)))
        ok = [k for k in range(votes) if 200 <= sent[k][2] < 300]
        await self.projector.wait_for(start_total + len(ok), drain)
        cpu = self.server.cpu() - cpu0
        wall = loop.time() - t0
        if spy is not None:
            await spy.wait()
        latencies, unseen = [], 0
        for i, k in enumerate(ok):
            shown = self.projector.first_at_least(start_total + i + 1)
            if shown is None:
                unseen += 1
            else:
                latencies.append(shown - sent[k][0])
        result = {"votes": votes, "ok": len(ok), "errors": votes - len(ok), "unseen": unseen,
                  "latencies": latencies, "responses": [s[1] - s[0] for s in sent],
                  "cpu_s": cpu, "wall_s": wall,
                  "frames_per_socket": (sum(s.frames for s in self.sockets) - frames_before) / max(1, n),
                  "sockets_closed": sum(s.closed for s in self.sockets)}
        self.phases.append(result)
        return result

    def missing_dots(self):
        held = (app_dots(self.server.db_path, self.info["vote_id"]) if self.kind == "app"
                else baseline_dots(self.server.base))
        expected = {(p.name, card): n for p in self.people for card, n in p.dots.items() if n}
        # Both ways: a dot acknowledged but not stored, and a dot stored that no answer acknowledged.
        return sum(abs(expected.get(key, 0) - held.get(key, 0)) for key in set(expected) | set(held))

    async def close(self):
        if self.projector:
            await self.projector.stop()
        for s in self.sockets:
            s.close()
        for p in self.people:
            p.close()


def profile(target, seconds):
    return spy(target.server.pid, target.profile, seconds, f"{target.kind}-{len(target.phases) + 1}")


def summary(target):
    phases = target.phases
    latencies = [x for ph in phases for x in ph["latencies"]]
    responses = [x for ph in phases for x in ph["responses"]]
    out = stats_ms(latencies)
    answered = stats_ms(responses)
    out["response_p50_ms"], out["response_p95_ms"] = answered["p50_ms"], answered["p95_ms"]
    out.update(votes=sum(ph["votes"] for ph in phases), errors=sum(ph["errors"] for ph in phases),
               unseen=sum(ph["unseen"] for ph in phases), server_cpu_s=round(sum(ph["cpu_s"] for ph in phases), 2),
               server_cpu_share=round(sum(ph["cpu_s"] for ph in phases) / max(1e-9, sum(ph["wall_s"] for ph in phases)), 2),
               frames_per_socket=round(sum(ph["frames_per_socket"] for ph in phases) / len(phases), 1),
               sockets_closed=max(ph["sockets_closed"] for ph in phases),
               per_round_p95_ms=[stats_ms(ph["latencies"])["p95_ms"] for ph in phases])
    return out


async def run(args):
    raise_fd_limit()
    pins = pinning()
    server_cpu, gen_cpu = pins if pins else (None, None)
    pin_self(gen_cpu)
    load_before = loadavg()
    targets = {}
    try:
        for kind in ("baseline", "app"):
            server = Server(kind, args.coalesce_ms, server_cpu)
            info = prepare_app(server.base, args.cards, args.results) if kind == "app" else \
                prepare_baseline(server.base, args.cards)
            targets[kind] = Target(kind, server, info)
            targets[kind].profile = args.profile
        join_s = {}
        for kind, target in targets.items():
            join_s[kind] = round(await target.populate(args.participants, gen_cpu), 1)
        offset = 0
        for r in range(args.rounds):
            for kind in ("baseline", "app") if r % 2 == 0 else ("app", "baseline"):
                res = await targets[kind].phase(args.votes, args.duration, offset)
                if not args.json:
                    print(f"round {r + 1} {kind:8}: p95 {stats_ms(res['latencies'])['p95_ms']} ms, "
                          f"{res['errors']} errors, {res['unseen']} unseen, cpu {res['cpu_s']:.2f} s",
                          file=sys.stderr)
            offset += args.votes
        missing = {kind: t.missing_dots() for kind, t in targets.items()}
        app, base = summary(targets["app"]), summary(targets["baseline"])
        report = {
            "participants": args.participants, "votes": args.votes, "duration_s": args.duration,
            "rounds": args.rounds, "coalesce_ms": args.coalesce_ms, "results": args.results,
            "p50_ms": app["p50_ms"], "p95_ms": app["p95_ms"], "p99_ms": app["p99_ms"], "max_ms": app["max_ms"],
            "lost_votes": app["unseen"] + missing["app"], "errors": app["errors"],
            "server_cpu_s": app["server_cpu_s"],
            "baseline_p95_ms": base["p95_ms"],
            "ratio_p95": round(app["p95_ms"] / base["p95_ms"], 2) if app["p95_ms"] and base["p95_ms"] else None,
            "app": app, "baseline": dict(base, lost_votes=base["unseen"] + missing["baseline"]),
            "join_setup_s": join_s,
            "pinned": {"server_cpu": server_cpu, "generator_cpu": gen_cpu} if pins else None,
            "load_1min_before": round(load_before, 2), "load_1min_after": round(loadavg(), 2),
        }
        return report
    finally:
        for t in targets.values():
            await t.close()
            t.server.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--votes", type=int, default=100)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds over which the votes are sent")
    parser.add_argument("--rounds", type=int, default=2, help="phases per server, alternating baseline and app")
    parser.add_argument("--cards", type=int, default=8)
    parser.add_argument("--coalesce-ms", type=int, default=100)
    parser.add_argument("--results", choices=("live", "hidden"), default="live",
                        help="live: every participant gets the results push too (the heavier case)")
    parser.add_argument("--quick", action="store_true", help="20 participants, 20 votes over 2 s, 1 round")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--profile", metavar="DIR", help="record each phase's server with py-spy into DIR")
    args = parser.parse_args(argv)
    if args.quick:
        args.participants, args.votes, args.duration, args.rounds = 20, 20, 2.0, 1
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
