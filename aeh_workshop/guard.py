"""Guessing protection (wrong join codes and PINs, counted per client address), and
the refusal of writes while a scale-out instance has lost Redis (at the end).

Wrong codes and PINs:

Only failures count, and a right code is never refused, so a room of people
behind one venue address is not locked out by a few typos. The counts live in
the rate-limit store (Redis when REDIS_URL is set), shared by every process.
"""
import time

from flask import abort, current_app
from flask_limiter.util import get_remote_address
from limits import parse

from .extensions import limiter


def _budget():
    config = current_app.config
    return parse(config["JOIN_RATE_LIMIT"]), config.get("RATELIMIT_KEY_PREFIX") or "aeh", get_remote_address()


def has_budget() -> bool:
    """False once this address has used up its wrong guesses for now."""
    item, prefix, address = _budget()
    return _ask(lambda: limiter.limiter.test(item, prefix, "guesses", address))


def count_failure() -> None:
    """Count one wrong guess; a 429 once the budget is spent."""
    item, prefix, address = _budget()
    if not _ask(lambda: limiter.limiter.hit(item, prefix, "guesses", address)):
        abort(429)


def _ask(question) -> bool:
    """The store's answer; if the store (Redis) is down, let people in rather than fail."""
    try:
        return question()
    except Exception as exc:  # a storage outage must not turn joining into a 500
        current_app.logger.warning("rate-limit store unavailable, not counting: %s", exc)
        return True


def unknown_code():
    """An unknown workshop code: counted, then 404 (429 past the budget)."""
    count_failure()
    abort(404)


# ------------------------------------------------ writes need the message queue

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Writes that nobody else sees live: signing in and out only touch the session cookie.
NO_PUSH_ENDPOINTS = frozenset({"accounts.login_post", "accounts.logout"})
_redis_clients: dict = {}
_redis_seen: dict = {}   # url -> (monotonic time of the check, answered)


def redis_answers(url: str) -> bool:
    """Whether Redis at `url` answers a PING; one check per REDIS_HEALTH_TTL per process.

    Short timeouts: a Redis that has gone away must not hold a request for long.
    """
    import redis
    ttl = current_app.config.get("REDIS_HEALTH_TTL", 1.0)
    now = time.monotonic()
    seen = _redis_seen.get(url)
    if seen is not None and now - seen[0] < ttl:
        return seen[1]
    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients[url] = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=0)
    try:
        answered = bool(client.ping())
    except Exception as exc:  # down, refused, timed out: all the same to a write
        current_app.logger.warning("Redis at %s does not answer: %s", url, exc)
        answered = False
    _redis_seen[url] = (time.monotonic(), answered)
    return answered


def writes_need_redis() -> bool:
    """An instance with REDIS_URL is one of several (DESIGN.md §4.6, docs/deploy.md):
    its pushes reach the other processes' clients, and its own, only through Redis."""
    return bool(current_app.config.get("REDIS_URL"))


def refuse_writes_without_queue():
    """before_request: with Redis down, an unsafe request of a scale-out instance gets a
    503 and changes nothing, rather than a success the rest of the room would never see."""
    from flask import request
    if request.method in SAFE_METHODS or request.endpoint in NO_PUSH_ENDPOINTS or not writes_need_redis():
        return None
    if redis_answers(current_app.config["REDIS_URL"]):
        return None
    current_app.logger.warning("write refused: Redis is down (%s %s)", request.method, request.path)
    abort(503, description="redis")
