"""Open-loop join storm: JOINS people join one live workshop within DURATION seconds.

Starts the app (`python app.py`, gevent, fresh SQLite file, pinned to one core;
this generator on the other where taskset allows), a facilitator and a live
workshop with 8 cards made through its HTTP flow (`--during-vote`: with a dot
vote open too, so every participant page carries a ballot), and a projector (python-socketio client in
its own process) on the screen. Join i has an intended start time fixed in
advance (start + i·DURATION/JOINS); from then the person, on a light client of
their own (own cookie, own loopback address): opens the join page (CSRF token),
posts the join form, follows the redirect to their page, then opens a raw
Engine.IO WebSocket and waits for the server's hello. Everyone who already
joined keeps their socket open and hears the headcount pushes.

join latency: intended start → participant page received (the person sees their
page); socket latency: intended start → hello on their socket.

    .venv/bin/python bench/join_storm.py --joins 500 --duration 10 --json
    .venv/bin/python bench/join_storm.py --quick --json     # 50 joins in 2 s
"""
import argparse
import asyncio
import json

from _load import (Browser, Projector, RawSocket, Server, loadavg, pin_self, pinning, prepare_app, profile,
                   raise_fd_limit, source_address, stats_ms)


async def storm(args):
    raise_fd_limit()
    pins = pinning()
    server_cpu, gen_cpu = pins if pins else (None, None)
    pin_self(gen_cpu)
    load_before = loadavg()
    server = Server("app", args.coalesce_ms, server_cpu)
    people, sockets, projector = [], [], None
    try:
        info = prepare_app(server.base, cards=8, open_vote=args.during_vote)
        projector = Projector(server.base, info["projector_cookie"], info["code"], gen_cpu)
        await projector.start()
        await asyncio.sleep(0.5)
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.2
        cpu0 = server.cpu()
        spy = await profile(server.pid, args.profile, args.duration + 3) if args.profile else None
        joined, hello, failures = [None] * args.joins, [None] * args.joins, []

        async def one(i):
            intended = t0 + i * args.duration / args.joins
            delay = intended - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            person = Browser("127.0.0.1", server.port, f"J{i:04d}", source_address(i))
            people.append(person)
            try:
                await person.join(info["code"], kind=("company", "association", "other")[i % 3])
                joined[i] = loop.time() - intended
                sock = RawSocket("127.0.0.1", server.port,
                                 "; ".join(f"{k}={v}" for k, v in person.cookies.items()), info["code"], person.source)
                sockets.append(sock)
                await sock.open()
                if sock.refused or sock.hello_at is None:
                    raise RuntimeError("socket refused")
                hello[i] = sock.hello_at - intended
            except Exception as exc:   # noqa: BLE001 - counted
                failures.append(repr(exc))

        await asyncio.gather(*(one(i) for i in range(args.joins)))
        wall = loop.time() - t0
        cpu = server.cpu() - cpu0
        await asyncio.sleep(1.0)
        if spy is not None:
            await spy.wait()
        ok = [x for x in joined if x is not None]
        socket_ok = [x for x in hello if x is not None]
        report = {"joins": args.joins, "duration_s": args.duration, "during_vote": args.during_vote,
                  "joined": len(ok),
                  "errors": len(failures), "first_error": failures[0] if failures else None}
        report.update({f"join_{k}": v for k, v in stats_ms(ok).items()})
        report.update({f"socket_{k}": v for k, v in stats_ms(socket_ok).items()})
        report.update(server_cpu_s=round(cpu, 2), wall_s=round(wall, 2),
                      sockets_open=sum(not s.closed for s in sockets),
                      headcount_pushes_per_socket=round(sum(s.pushes for s in sockets) / max(1, len(sockets)), 1),
                      pinned={"server_cpu": server_cpu, "generator_cpu": gen_cpu} if pins else None,
                      load_1min_before=round(load_before, 2), load_1min_after=round(loadavg(), 2))
        return report
    finally:
        if projector:
            await projector.stop()
        for s in sockets:
            s.close()
        for p in people:
            p.close()
        server.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=500)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds over which the joins start")
    parser.add_argument("--coalesce-ms", type=int, default=100)
    parser.add_argument("--during-vote", action="store_true",
                        help="with a dot vote open (every page then carries a ballot); default: the opening phase")
    parser.add_argument("--quick", action="store_true", help="50 joins in 2 s")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--profile", metavar="DIR", help="record the server with py-spy into DIR")
    args = parser.parse_args(argv)
    if args.quick:
        args.joins, args.duration = 50, 2.0
    report = asyncio.run(storm(args))
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
