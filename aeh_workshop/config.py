"""Defaults, then the environment, then the test config: the last word wins."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

LANGUAGES = ("fr", "en")


def _secret_key(instance_path: str) -> str:
    """Read the instance's secret key, generating it once on first start.

    Written to a temporary file then linked into place, so two processes
    starting together agree on one key and nobody ever reads a half-written one.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)          # fails if another process got there first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def load(app, test_config=None):
    """Fill app.config: defaults, environment variables, then test_config."""
    instance = Path(app.instance_path)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'atelier.sqlite3'}",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        REDIS_URL=None,
        PUBLIC_URL=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=60 * 60 * 24 * 30,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        # gevent when the standard library is already patched for it (`python app.py` says so
        # itself; gunicorn's gevent worker patches before it loads the app), threads otherwise.
        SOCKETIO_ASYNC_MODE="gevent" if _gevent_patched() else "threading",
        REALTIME_COALESCE_MS=100,
        JOIN_RATE_LIMIT="10 per minute",      # wrong codes and PINs per address
        JOIN_CREATE_LIMIT="600 per minute",   # new participants per address: a whole room behind one NAT
        LOGIN_RATE_LIMIT="10 per minute",     # facilitator log-in attempts per address
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,        # the store (Redis) down: log, do not turn logging in into a 500
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,   # ...and meanwhile count per process, not not at all
        CARD_TEXT_MAX=500,
        MAX_CONTENT_LENGTH=64 * 1024,   # forms only; a view that takes a file says so (max_upload)
        # When several processes share the work (REDIS_URL set), a write's push travels through
        # Redis: with Redis down, writes get a 503 instead of a success nobody else would see.
        # How long one Redis check is trusted (seconds): one ping per process per second at most.
        REDIS_HEALTH_TTL=1.0,
        PASSWORD_HASH_METHOD="scrypt",
        TRUSTED_PROXIES=0,
        EXPORT_CACHE_DIR=str(instance / "exports"),   # frozen versions' downloads, rendered once
        IMPORT_DIR=str(instance / "imports"),         # map files uploaded, waiting for confirmation (a day at most)
        # `flask --app app purge` anonymises the participants of workshops closed longer ago.
        RETENTION_DAYS=365,
        # Flask-Login's default is a year: a remember-me cookie left on a shared computer lasts a month.
        REMEMBER_COOKIE_DURATION=timedelta(days=30),
    )
    env = os.environ
    if env.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(env["DATABASE_URL"])
    for key in ("REDIS_URL", "SECRET_KEY", "PUBLIC_URL", "EXPORT_CACHE_DIR", "IMPORT_DIR"):
        if env.get(key):
            app.config[key] = env[key]
    for key in ("REALTIME_COALESCE_MS", "TRUSTED_PROXIES", "RETENTION_DAYS"):
        if env.get(key):
            app.config[key] = int(env[key])
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://"
    )
    if str(app.config.get("PUBLIC_URL") or "").startswith("https://"):
        # Served over HTTPS (behind nginx): cookies never travel in clear.
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


def _normalise_db_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
