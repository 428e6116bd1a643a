"""Where the test run finds PostgreSQL and Redis (DATABASE_URL / REDIS_URL).

Without them the tests that need them skip, with the reason; under CI=true
they must run, so a missing service fails them instead.
"""
import os
import secrets
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_DEFAULT = "redis://127.0.0.1:6379/0"


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", PG_DEFAULT)
    if not url.startswith("postgres"):
        url = PG_DEFAULT
    try:
        import psycopg
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3).close()
    except Exception as exc:  # any failure to connect means "no PostgreSQL here"
        unavailable(f"PostgreSQL not reachable at {url}: {exc}")
    return url


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", REDIS_DEFAULT)
    try:
        import redis
        redis.Redis.from_url(url, socket_timeout=3).ping()
    except Exception as exc:  # any failure to connect means "no Redis here"
        unavailable(f"Redis not reachable at {url}: {exc}")
    return url


@contextmanager
def fresh_postgres_database(prefix: str = "aeh_test"):
    """A brand-new, empty PostgreSQL database on the test server; dropped afterwards."""
    import psycopg
    server = postgres_url().replace("+psycopg", "")
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    try:
        yield urlunsplit(("postgresql", parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def private_redis(workdir):
    """A redis-server of the test's own on a free loopback port, which the test may stop
    and start again (same port, same data): yields an object with .url, .stop(), .start().
    Skips (fails under CI=true) without the redis-server binary."""
    import shutil
    import subprocess
    import time

    import redis
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed (apt-get install redis-server)")
    from live_server import free_port

    class Private:
        def __init__(self):
            self.port = free_port()
            self.url = f"redis://127.0.0.1:{self.port}/0"
            self.proc = None

        def start(self):
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
                    return self
                except redis.RedisError:
                    time.sleep(0.05)
            self.stop()
            pytest.fail(f"redis-server did not start on port {self.port}")

        def stop(self):
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)

    server = Private().start()
    try:
        yield server
    finally:
        server.stop()
