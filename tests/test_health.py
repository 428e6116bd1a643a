"""GET /healthz for load balancers and a first check after install."""
from aeh_workshop import create_app
from conftest import config_for


def test_healthy(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok"}


def test_database_down_is_named(tmp_path):
    app = create_app(config_for(f"sqlite:///{tmp_path}/missing-dir/db.sqlite3"))
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "down", "database": "down", "down": ["database"]}


def test_redis_down_is_named(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["redis"] == "down" and body["database"] == "ok" and body["down"] == ["redis"]


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    from flask import Flask
    from aeh_workshop import config
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first, second = Flask("a", instance_path=str(tmp_path)), Flask("b", instance_path=str(tmp_path))
    config.load(first)
    config.load(second)
    key_file = tmp_path / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) == 64
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_configured_secret_key_wins(tmp_path, monkeypatch):
    from flask import Flask
    from aeh_workshop import config
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = Flask("c", instance_path=str(tmp_path))
    config.load(app)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
