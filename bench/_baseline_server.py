"""The baseline for vote_latency.py: a bare Flask-SocketIO gevent server doing the
least the app's vote flow does, with the same coalescing interval.

A join page with a CSRF token, a join that sets a signed session cookie, a vote
route that checks the token and sets "my dots on this card = N" in memory, and
the same coalescer as aeh_workshop/realtime.py (one push per audience at most
every REALTIME_COALESCE_MS): the projector audience gets the tally count, every
participant the same push as the app's live results, padded to a similar size
(BASELINE_PUSH_BYTES). No database, no templates: what is left is Flask,
Flask-SocketIO, gevent and the network, so app ÷ baseline is the app's own cost.

    python bench/_baseline_server.py --host 127.0.0.1 --port 5001
"""
if __name__ == "__main__":
    from gevent import monkey
    monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from flask import Flask, abort, jsonify, redirect, request, session  # noqa: E402
from flask_socketio import SocketIO, emit, join_room  # noqa: E402

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "baseline")
socketio = SocketIO()
CODE = "BASE42"
STATE = {"cards": [], "dots": {}, "rev": 0, "names": {}}
PAD = int(os.environ.get("BASELINE_PUSH_BYTES", "3000"))
INTERVAL = int(os.environ.get("REALTIME_COALESCE_MS", "100")) / 1000
_lock = threading.Lock()
_pending = {"scheduled": False, "last": 0.0}


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/setup")
def setup():
    STATE["cards"] = list(range(1, int(request.args.get("cards", 8)) + 1))
    return jsonify(code=CODE, vote_id=1, cards=STATE["cards"])


def _token():
    if "csrf" not in session:
        session["csrf"] = secrets.token_hex(16)
    return session["csrf"]


@app.get("/w/<code>")
def page(code):
    return f'<body hx-headers:inherited=\'{{"X-CSRFToken": "{_token()}"}}\'><main>{CODE}</main></body>'


@app.get("/w/<code>/screen")
def screen(code):
    if request.args.get("key") != "screen":
        abort(403)
    session["screen"] = True
    return "screen"


@app.post("/w/<code>/join")
def join(code):
    if request.form.get("csrf_token") != session.get("csrf"):
        abort(400)
    session["participant"] = request.form["display_name"]
    return redirect(f"/w/{code}")


@app.post("/w/<code>/votes/<int:vote_id>/cards/<int:card_id>")
def vote(code, vote_id, card_id):
    if request.headers.get("X-CSRFToken") != session.get("csrf") or "participant" not in session:
        abort(403)
    dots = int(request.form["dots"])
    with _lock:
        STATE["dots"][(session["participant"], card_id)] = dots
        STATE["rev"] += 1
    announce()
    return f'<hx-partial hx-target="#ballot-head">{dots}</hx-partial>'


@app.get("/dots")
def dots():
    return jsonify([[name, card, n] for (name, card), n in STATE["dots"].items()])


def announce():
    with _lock:
        if _pending["scheduled"]:
            return
        _pending["scheduled"] = True
        wait = max(0.0, _pending["last"] + INTERVAL - time.monotonic())
    socketio.start_background_task(_flush_later, wait)


def _flush_later(wait):
    socketio.sleep(wait)
    with _lock:
        _pending["scheduled"] = False
        _pending["last"] = time.monotonic()
        total, rev = sum(STATE["dots"].values()), STATE["rev"]
    tally = f'<p class="tally-count"><strong>{total}</strong> gommettes posées</p>'
    socketio.emit("push", {"channel": "screen", "rev": rev, "since": rev - 1, "html": tally.ljust(PAD)},
                  to="screen")
    socketio.emit("push", {"channel": "all", "rev": rev, "since": rev - 1, "html": tally.ljust(PAD)}, to="all")


@socketio.on("connect")
def connect(auth=None):
    if not isinstance(auth, dict) or auth.get("workshop") != CODE:
        return False
    if session.get("screen"):
        join_room("screen")
    elif session.get("participant"):
        join_room("all")
    else:
        return False
    emit("hello", {"rev": STATE["rev"], "now": int(time.time() * 1000)})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    args = parser.parse_args()
    socketio.init_app(app, async_mode="gevent")
    socketio.run(app, host=args.host, port=args.port, log_output=False)


if __name__ == "__main__":
    main()
