"""Real time (DESIGN.md §4): render once per audience, push, coalesce bursts.

Features register the regions they own; a service commits, then calls
`announce(workshop, *regions)`. The coalescer renders each changed region once
per audience and language and emits it as `<hx-partial>` HTML to that
audience's channel, at most once per REALTIME_COALESCE_MS per workshop.
Socket handlers only authenticate, join rooms and say the current revision.
"""
import threading
import time
from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, abort, current_app, g, make_response, request
from flask_babel import force_locale, get_locale
from flask_socketio import emit, join_room
from markupsafe import Markup
from sqlalchemy import inspect

from . import access, guard
from .config import LANGUAGES
from .extensions import db, socketio
from .models import Workshop

bp = Blueprint("realtime", __name__)


@dataclass(frozen=True)
class Region:
    """A piece of UI that pushes replace whole (`board`), or a keyed family
    (`card:<id>`) whose render gets the key and returns its own <hx-partial>s."""
    name: str          # for whole regions, also the id of the fragment's root element
    audience: str      # access.EVERYONE, access.SCREEN or access.FAC
    render: Callable[..., str]
    keyed: bool = False
    swap: str = "outerHTML"   # "outerMorph" keeps elements, so CSS transitions animate changes

    def push_html(self, workshop, key: str) -> str:
        if self.keyed:
            return self.render(workshop, key)
        return partial(self.name, self.render(workshop), self.swap)


def channel(workshop_id: int, audience: str, lang: str) -> str:
    suffix = "" if audience == access.EVERYONE else f":{audience}"
    return f"w:{workshop_id}{suffix}/{lang}"


def _everyone(channel_name: str) -> bool:
    """Whether a channel is a workshop's widest audience (`w:<id>/<lang>`)."""
    return channel_name.split("/", 1)[0].count(":") == 1


def partial(target_id: str, html: str, swap: str = "outerHTML", extra: str = "") -> str:
    """An <hx-partial> that htmx.swap applies to the element with that id."""
    return f'<hx-partial hx-target="#{target_id}" hx-swap="{swap}"{extra}>{html}</hx-partial>'


class Realtime:
    """Per-app registry and coalescer, kept in app.extensions["realtime"]."""

    def __init__(self, app):
        self.app = app
        self.regions: dict[str, Region] = {}
        self._lock = threading.Lock()
        self._pending: dict[int, set[str]] = {}
        self._last_flush: dict[int, float] = {}
        self._flushing: dict[int, threading.Lock] = {}   # one flush at a time per workshop
        self._sent = SentRevisions(app.config["REDIS_URL"])

    def register(self, name, audience, render, keyed=False, swap="outerHTML"):
        self.regions[name] = Region(name, audience, render, keyed, swap)

    def announce(self, workshop_id: int, regions) -> None:
        interval = self.app.config["REALTIME_COALESCE_MS"] / 1000
        with self._lock:
            scheduled = workshop_id in self._pending
            self._pending.setdefault(workshop_id, set()).update(regions)
            if scheduled:
                return
            wait = max(0.0, self._last_flush.get(workshop_id, 0) + interval - time.monotonic())
        if interval == 0:
            self.flush(workshop_id)
        else:
            socketio.start_background_task(self._flush_later, workshop_id, wait)

    def _flush_later(self, workshop_id: int, wait: float) -> None:
        socketio.sleep(wait)
        try:
            self.flush(workshop_id)
        except Exception:  # a lost push is repaired by resync, never fatal
            self.app.logger.exception("push for workshop %s failed", workshop_id)

    def flush(self, workshop_id: int) -> None:
        """Render every pending region once per audience and language; emit.

        Flushes of one workshop never overlap, so its pushes leave in revision order.
        """
        with self._lock:
            flushing = self._flushing.setdefault(workshop_id, threading.Lock())
        with flushing:
            with self._lock:
                names = self._pending.pop(workshop_id, set())
                self._last_flush[workshop_id] = time.monotonic()
            if not names:
                return
            with self.app.app_context(), self.app.test_request_context("/"):
                workshop = db.session.get(Workshop, workshop_id)
                if workshop is None:
                    return
                rev = workshop.revision
                # Read after the revision: a socket that joins a skipped channel from now on
                # reads its hello's revision after joining (on_connect), so it gets this
                # revision or a later one, and resyncs from that.
                heard = self._heard()
                messages = self._render(workshop, sorted(names), heard)
            # The small audiences first (projector, facilitators), then everyone: the
            # room of hundreds would otherwise queue ahead of the one screen the room watches.
            for ch, html in sorted(messages.items(), key=lambda item: _everyone(item[0])):
                since = self._sent.swap(ch, rev)
                socketio.emit("push", {"channel": ch, "rev": rev, "since": since, "html": html}, to=ch)

    def _heard(self):
        """Whether a channel has listeners, when this process alone knows (no message
        queue): then a region is not rendered for a language or audience nobody is in
        (most rooms use one language). With several processes, every channel is heard."""
        if self.app.config.get("REDIS_URL"):
            return lambda ch: True
        rooms = socketio.server.manager.rooms.get("/", {}) if socketio.server else {}
        return lambda ch: bool(rooms.get(ch))

    def _render(self, workshop, names, heard=lambda ch: True) -> dict[str, str]:
        g.realtime_memo = {}   # see once(): shared by every region and language of this flush
        messages: dict[str, list[str]] = {}
        for lang in LANGUAGES:
            with force_locale(lang):
                for announced in names:
                    name, _, key = announced.partition(":")
                    region = self.regions[name]
                    ch = channel(workshop.id, region.audience, lang)
                    if not heard(ch):
                        continue
                    messages.setdefault(ch, []).append(region.push_html(workshop, key))
        return {ch: "".join(parts) for ch, parts in messages.items()}


class SentRevisions:
    """The revision of the last push on each channel, so the next push can say
    `since` and clients spot a gap. Kept in Redis when several processes push."""

    TTL = 24 * 3600

    def __init__(self, redis_url: str | None):
        self._local: dict[str, int] = {}
        self._lock = threading.Lock()
        self._redis = None
        if redis_url:
            import redis
            self._redis = redis.Redis.from_url(redis_url)

    # Never moves backwards: processes may emit a workshop's pushes out of order;
    # the client then sees since > rev and resyncs.
    RAISE = """
    local previous = tonumber(redis.call('GET', KEYS[1]) or '0')
    if tonumber(ARGV[1]) > previous then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
    return previous
    """

    def swap(self, channel_name: str, rev: int) -> int:
        """Record `rev` as the channel's last push (if newer); return the one before."""
        if self._redis is not None:
            return int(self._redis.eval(self.RAISE, 1, f"aeh:sent:{channel_name}", rev, self.TTL))
        with self._lock:
            previous = self._local.get(channel_name, 0)
            self._local[channel_name] = max(previous, rev)
            return previous


def init_app(app) -> None:
    app.extensions["realtime"] = Realtime(app)


RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "disconnecting"})


def refuse_reserved_events(server) -> None:
    """The Socket.IO protocol forbids a client to emit "connect" or "disconnect", but
    python-socketio would dispatch `42["disconnect"]` to on_disconnect (forgetting the
    socket's workshop and event budget while it stays connected) and `42["connect"]` to
    on_connect (a query and a hello each time, unthrottled). Such events are dropped."""
    handle = server._handle_event

    def _handle_event(eio_sid, namespace, id, data):
        if data and data[0] in RESERVED_EVENTS:
            return None
        return handle(eio_sid, namespace, id, data)

    server._handle_event = _handle_event


def register_region(app, name: str, audience: str, render, swap: str = "outerHTML") -> None:
    """A region re-rendered whole: render(workshop) -> HTML whose root has id=name."""
    app.extensions["realtime"].register(name, audience, render, swap=swap)


def register_family(app, name: str, audience: str, render) -> None:
    """Keyed pushes announced as "name:key": render(workshop, key) -> <hx-partial>s."""
    app.extensions["realtime"].register(name, audience, render, keyed=True)


def announce(workshop: Workshop, *regions: str) -> None:
    """The one door: call after the commit with the regions that changed."""
    # The identity key, not workshop.id: after a commit, reading an attribute
    # would open a new transaction (and hold a connection) just for the id.
    workshop_id = inspect(workshop).identity[0]
    current_app.extensions["realtime"].announce(workshop_id, regions)


def once(key, compute):
    """Compute a value once per flush, for all the regions and languages that show it
    (say, a vote's tally). Outside a flush, just compute it."""
    memo = g.get("realtime_memo")
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def render_region(workshop: Workshop, name: str) -> Markup:
    """A region's HTML inside a page: the same render as its pushes and resyncs."""
    return Markup(current_app.extensions["realtime"].regions[name].render(workshop))


def region_attrs(workshop: Workshop, name: str) -> Markup:
    """Attributes of a region's root element: its id and where to resync it."""
    from flask import url_for
    src = url_for("realtime.region", code=workshop.join_code, name=name)
    return Markup(f'id="{name}" data-region data-src="{src}"')


@bp.get("/w/<code>/r/<name>")
def region(code, name):
    """One region's current HTML, for resync after a reconnect or a gap."""
    workshop = db.session.scalar(db.select(Workshop).filter_by(join_code=code.upper()))
    if workshop is None:
        guard.unknown_code()
    reg = current_app.extensions["realtime"].regions.get(name)
    if reg is None or reg.keyed:
        abort(404)
    if reg.audience not in access.audiences(workshop):
        abort(403)
    resp = make_response(reg.render(workshop))
    resp.headers["X-Revision"] = str(workshop.revision)
    resp.cache_control.no_store = True
    return resp


class EventBudget:
    """A token bucket per socket: RATE events a second, bursts of as many.

    Past the budget an event is dropped unanswered; each dropped event is a
    strike, strikes fade at one a second, and a socket that piles up STRIKES
    of them (about five seconds at twice the rate) is disconnected.
    """

    RATE = 10.0
    STRIKES = 50

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._sockets: dict[str, list[float]] = {}   # sid -> [tokens, strikes, last time]

    def allow(self, sid: str) -> bool | None:
        """True: handle it; False: drop it; None: drop it and disconnect the socket."""
        now = self._clock()
        state = self._sockets.get(sid)
        if state is None:
            state = self._sockets[sid] = [self.RATE, 0.0, now]
        tokens, strikes, last = state
        elapsed = now - last
        tokens = min(self.RATE, tokens + elapsed * self.RATE)
        strikes = max(0.0, strikes - elapsed)
        if tokens >= 1:
            state[:] = [tokens - 1, strikes, now]
            return True
        state[:] = [tokens, strikes + 1, now]
        return None if strikes + 1 > self.STRIKES else False

    def forget(self, sid: str) -> None:
        self._sockets.pop(sid, None)


budget = EventBudget()
_workshop_of: dict[str, int] = {}   # sid -> the workshop its connect joined


def throttled(handler):
    """For every socket event but connect: over budget, drop it (and cut off an abuser)."""
    from functools import wraps
    from flask_socketio import disconnect

    @wraps(handler)
    def wrapper(*args, **kwargs):
        verdict = budget.allow(request.sid)
        if verdict is None:
            current_app.logger.warning("socket %s disconnected: too many events", request.sid)
            disconnect()
            return None
        if not verdict:
            return None
        return handler(*args, **kwargs)
    return wrapper


@socketio.on("connect")
def on_connect(auth=None):
    """Join the rooms this session may hear, for the workshop the page shows."""
    asked = auth.get("workshop") if isinstance(auth, dict) else None
    code = str(asked or request.args.get("workshop") or "").upper()
    workshop = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
    if workshop is None:
        return False
    rooms = access.audiences(workshop)
    if not rooms:
        return False
    lang = str(get_locale())  # the same choice as the pages this socket belongs to
    for audience in rooms:
        join_room(channel(workshop.id, audience, lang))
    _workshop_of[request.sid] = workshop.id
    # The revision read after joining, in a new read (SQLite's snapshot would be the
    # old one): a push flushed before the join, or a channel skipped because nobody
    # was in it yet, shows as a gap and the client resyncs.
    db.session.rollback()
    db.session.refresh(workshop)
    # The server's clock too, so that every screen's countdown agrees to the second.
    emit("hello", _hello(workshop))


def _hello(workshop: Workshop) -> dict:
    return {"rev": workshop.revision, "now": int(time.time() * 1000)}


@socketio.on("resync")
@throttled
def on_resync(_data=None):
    """Where are we? The workshop's revision and the server's clock (as the
    connect's hello), answered as the event's acknowledgement. Reads only."""
    workshop_id = _workshop_of.get(request.sid)
    workshop = db.session.get(Workshop, workshop_id) if workshop_id is not None else None
    if workshop is None:
        return {"error": "unknown"}
    return _hello(workshop)


@socketio.on("disconnect")
def on_disconnect(*_reason):
    budget.forget(request.sid)
    _workshop_of.pop(request.sid, None)
