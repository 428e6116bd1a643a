"""Flask extensions, created unbound; create_app() binds them to an app."""
from urllib.parse import urlsplit

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that later migrations can alter them on SQLite too.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)
socketio = SocketIO()
csrf = CSRFProtect()
login = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def same_site_origin(public_url: str | None, trusted_proxies: int = 0):
    """The Socket.IO handshake check (engine.io's cors_allowed_origins): a page of this
    site may open a socket, a page of another site may not, even with the visitor's cookies.

    This site is the address the request came to (Host), PUBLIC_URL behind a reverse
    proxy, and X-Forwarded-Proto/Host only from TRUSTED_PROXIES (engine.io's own default
    believes them from anyone). A handshake without Origin (not a browser) is not checked.
    """
    public = _origin(*_scheme_host(public_url)) if public_url else None

    def allowed(origin, environ) -> bool:
        if not origin:
            return True
        ours = {public, _origin(environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", ""))}
        if trusted_proxies:
            ours.add(_origin(_forwarded(environ, "HTTP_X_FORWARDED_PROTO", trusted_proxies)
                             or environ.get("wsgi.url_scheme", "http"),
                             _forwarded(environ, "HTTP_X_FORWARDED_HOST", trusted_proxies)
                             or environ.get("HTTP_HOST", "")))
        return _origin(*_scheme_host(origin)) in ours - {None}

    return allowed


def _scheme_host(url: str) -> tuple[str, str]:
    parts = urlsplit(url.strip())
    return parts.scheme, parts.netloc


def _origin(scheme: str, host: str) -> str | None:
    """scheme://host[:port], lower case, without the scheme's default port."""
    scheme, host = scheme.lower(), host.lower()
    if not scheme or not host:
        return None
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


def _forwarded(environ, key: str, trusted: int) -> str:
    """The value the n-th trusted proxy from us wrote, as ProxyFix reads it."""
    values = [v.strip() for v in environ.get(key, "").split(",") if v.strip()]
    return values[-trusted] if len(values) >= trusted else ""
