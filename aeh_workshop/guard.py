"""Guessing protection: wrong join codes and wrong PINs, counted per client address.

Only failures count, and a right code is never refused, so a room of people
behind one venue address is not locked out by a few typos. The counts live in
the rate-limit store (Redis when REDIS_URL is set), shared by every process.
"""
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
