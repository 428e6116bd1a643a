"""AEH Atelier: live workshops where companies and associations work together."""
from pathlib import Path

from flask import Flask, Request, abort, current_app, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import config, headers, realtime
from .extensions import babel, csrf, db, limiter, login, migrate, same_site_origin, socketio

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config=None):
    """Build the app: config, extensions, blueprints, socket handlers, CLI."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.request_class = UploadAwareRequest
    config.load(app, test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx: the client's address (rate limits) and scheme come from X-Forwarded-*.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)
    realtime.init_app(app)
    headers.init_app(app)
    _sqlite_pragmas(app)

    from .accounts import routes as accounts
    from .actions import routes as actions
    from .board import routes as board
    from .core import routes as core
    from .diagnostics import routes as diagnostics
    from .offers import routes as offers
    from .outcomes import routes as outcomes
    from .partners import routes as partners
    from .participants import routes as participants
    from .screen import routes as screen
    from .votes import routes as votes
    from .workshops import routes as workshops
    for module in (core, accounts, workshops, participants, board, votes, offers, actions, outcomes,
                   partners, diagnostics, screen):
        app.register_blueprint(module.bp)
    app.register_blueprint(realtime.bp)

    # Socket handlers are registered on import (realtime above), before init_app.
    # Flask-SocketIO keeps the previous app's queue manager across init_app calls;
    # drop it so an app without REDIS_URL never inherits one (several apps per test run).
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"],
                      message_queue=app.config["REDIS_URL"],
                      # A socket sending a message over 64 KB is closed (clients send only small events).
                      max_http_buffer_size=64 * 1024,
                      # A page of another site may not open a socket with the visitor's cookies.
                      cors_allowed_origins=same_site_origin(app.config["PUBLIC_URL"],
                                                            app.config["TRUSTED_PROXIES"]))
    realtime.refuse_reserved_events(socketio.server)
    app.before_request(_forms_only)
    app.before_request(_remember_language)
    app.context_processor(_template_globals)
    from . import vocab
    # Also for macros called from Python (get_template_attribute), which get no context.
    app.jinja_env.globals.update(vocab=vocab, LANGUAGES=config.LANGUAGES,
                                 region_attrs=realtime.region_attrs, render_region=realtime.render_region)

    from . import cli
    cli.init_app(app)
    return app


class UploadAwareRequest(Request):
    """Bodies are small (MAX_CONTENT_LENGTH: forms only); a view that takes a file
    says how much with a `max_upload` attribute. Decided before anything reads the
    body (the CSRF check reads the form first)."""

    @property
    def max_content_length(self) -> int | None:
        view = current_app.view_functions.get(self.endpoint) if self.endpoint else None
        return getattr(view, "max_upload", None) or super().max_content_length

    def _load_form_data(self) -> None:
        super()._load_form_data()
        # A multipart part without a name comes as the key None, on which Flask-WTF's CSRF
        # check calls .endswith(): a 500 on any POST. Such parts are dropped.
        for name in ("form", "files"):
            data = self.__dict__.get(name)
            if data is not None and None in data:
                self.__dict__[name] = type(data)((k, v) for k, v in data.items(multi=True) if k is not None)


class IdConverter(IntegerConverter):
    """A database id in a URL: a positive 32-bit integer, anything else is a 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**31 - 1)


def _select_locale():
    """The session's choice, else the facilitator's own language, else French."""
    if not has_request_context():
        return config.LANGUAGES[0]
    if session.get("lang"):
        return session["lang"]
    if getattr(current_user, "is_authenticated", False):
        return current_user.locale
    return config.LANGUAGES[0]


def _forms_only():
    """Every write of the app is a form: a JSON body is refused before any view runs (Flask-WTF
    would otherwise parse it when a view builds a blank form after its write, and a broken one
    turned a done write into a 400)."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.is_json:
        abort(415)


def _remember_language():
    """`?lang=en` switches the language and the choice is kept in the session."""
    lang = request.args.get("lang")
    if lang in config.LANGUAGES:
        session["lang"] = lang
        session.permanent = True   # kept after the browser closes, like a participant's identity


def _template_globals():
    from flask_babel import get_locale
    return {"lang": str(get_locale() or "fr")}


def _sqlite_pragmas(app):
    """WAL and foreign keys for the embedded SQLite database."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    def on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    with app.app_context():
        event.listen(db.engine, "connect", on_connect)
