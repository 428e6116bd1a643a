"""Fixtures: an app on a fresh SQLite file (migrated once, copied per test),
clients that send the CSRF token like htmx does, and small factories."""
import re
import shutil
import tempfile

import pytest
from flask.testing import FlaskClient

from aeh_workshop import create_app
from aeh_workshop.extensions import db, socketio
from aeh_workshop.models import Facilitator, Workshop

TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
PASSWORD = "motdepasse-solide"


class Client(FlaskClient):
    """A test client that sends the CSRF header on writes, as base.html makes htmx do."""

    def open(self, *args, csrf=True, htmx=False, **kwargs):
        method = kwargs.get("method", "GET")
        headers = dict(kwargs.pop("headers", None) or {})
        if htmx:
            headers.setdefault("HX-Request", "true")
            headers.setdefault("HX-Request-Type", "partial")
        if csrf and method not in ("GET", "HEAD", "OPTIONS") and "X-CSRFToken" not in headers:
            headers["X-CSRFToken"] = self.csrf_token()
        return super().open(*args, headers=headers, **kwargs)

    def csrf_token(self) -> str:
        page = super().open("/login", method="GET").get_data(as_text=True)
        return TOKEN.search(page).group(1)


# Map files uploaded by the tests: out of the checkout's instance/ folder.
TEST_IMPORTS = tempfile.mkdtemp(prefix="aeh-test-imports-")


def config_for(db_uri, **extra):
    return {"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": db_uri,
            "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://", "REALTIME_COALESCE_MS": 0,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "IMPORT_DIR": TEST_IMPORTS, **extra}


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """An SQLite file with every migration applied, made once per test run."""
    from flask_migrate import upgrade
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    app = create_app(config_for(f"sqlite:///{path}"))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return path


@pytest.fixture
def app(migrated_db, tmp_path):
    path = tmp_path / "atelier.sqlite3"
    shutil.copy(migrated_db, path)
    app = create_app(config_for(f"sqlite:///{path}", EXPORT_CACHE_DIR=str(tmp_path / "exports")))
    app.test_client_class = Client
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def new_client(app):
    """Another browser: its own cookies."""
    return app.test_client


@pytest.fixture
def make_facilitator(app):
    def make(email="anim@example.org", name="Camille Animation"):
        from aeh_workshop.accounts.service import create_facilitator
        with app.app_context():
            user = create_facilitator(email, PASSWORD, name)
            return user.id
    return make


@pytest.fixture
def login(app):
    def do(client, facilitator_id):
        with app.app_context():
            email = db.session.get(Facilitator, facilitator_id).email
        resp = client.post("/login", data={"email": email, "password": PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return client
    return do


@pytest.fixture
def make_workshop(app, make_facilitator):
    """A workshop (live by default) owned by a new facilitator; returns its code."""
    counter = iter(range(1, 1000))

    def make(status="live", owner_id=None, title="Échange de pratiques entreprises–associations"):
        from aeh_workshop.workshops import service
        with app.app_context():
            owner = db.session.get(Facilitator, owner_id or make_facilitator(f"owner{next(counter)}@example.org"))
            workshop = service.create(owner, title, "Partager nos pratiques", "practice_exchange")
            workshop.status = status
            db.session.commit()
            return workshop.join_code
    return make


@pytest.fixture
def workshop_of(app):
    """Load a workshop by code (detached; read its columns)."""
    def get(code):
        with app.app_context():
            w = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
            db.session.expunge(w)
            return w
    return get


@pytest.fixture
def join_as(app):
    """Join a workshop through the join form with a fresh browser; returns the client."""
    def join(code, name="Nadia Haddad", organisation="Tremplin Emploi Ain", kind="association", client=None):
        client = client or app.test_client()
        resp = client.post(f"/w/{code}/join", data={"display_name": name, "organisation": organisation, "kind": kind})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return client
    return join


@pytest.fixture
def socket_for(app):
    """A Socket.IO test client sharing a browser's cookies, watching a workshop."""
    def connect(client, code):
        return socketio.test_client(app, flask_test_client=client, auth={"workshop": code})
    return connect


def post_card(client, code, text="Nous accueillons des salariés en parcours d'insertion", **fields):
    data = {"kind": "practice", "text": text, "partner": "", "category": "", "subtype": "",
            "direction": "", "link_status": ""}
    data.update(fields)
    return client.post(f"/w/{code}/cards", data=data, htmx=True)


def pushes(socket_client):
    """The push messages a socket client received (and clears them)."""
    return [m["args"][0] for m in socket_client.get_received() if m["name"] == "push"]
