"""AEH Atelier entry point.

`python app.py [--host H] [--port P]` applies migrations and serves with gevent.
`flask --app app ...` finds create_app() here for the CLI commands.
"""
if __name__ == "__main__":  # gevent must patch the standard library before anything imports it
    from gevent import monkey
    monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402

from aeh_workshop import create_app  # noqa: E402

__all__ = ["create_app"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="AEH Atelier")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    args = parser.parse_args(argv)

    from aeh_workshop.cli import ensure_schema
    from aeh_workshop.network import lan_address
    from aeh_workshop.serving import serve

    app = create_app({"SOCKETIO_ASYNC_MODE": "gevent", "LISTEN_HOST": args.host})
    with app.app_context():
        ensure_schema()
    urls = [f"http://localhost:{args.port}/"]
    if args.host in ("0.0.0.0", "::"):
        lan = lan_address()
        if lan:
            urls.append(f"http://{lan}:{args.port}/  ← pour les participant·es / for participants")
    else:
        urls = [f"http://{args.host}:{args.port}/"]
    sys.stdout.write("AEH Atelier — ouvrez / open:\n  " + "\n  ".join(urls) + "\n")
    sys.stdout.flush()
    # socketio.run(log_output=False), with a WebSocket handler that refuses other sites' pages
    serve(app, args.host, args.port)


if __name__ == "__main__":
    main()
