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
