"""Redis as the shared rate-limit store and health dependency (DESIGN.md §4.6)."""
import secrets

from aeh_workshop import create_app
from conftest import Client, config_for
from services import redis_url


def _app(migrated_db, tmp_path, url, prefix):
    import shutil
    path = tmp_path / f"{secrets.token_hex(3)}.sqlite3"
    shutil.copy(migrated_db, path)
    app = create_app(config_for(f"sqlite:///{path}", REDIS_URL=url, RATELIMIT_STORAGE_URI=url,
                                RATELIMIT_KEY_PREFIX=prefix, JOIN_RATE_LIMIT="5 per minute"))
    app.test_client_class = Client
    return app


def test_healthz_checks_redis(migrated_db, tmp_path):
    app = _app(migrated_db, tmp_path, redis_url(), f"t{secrets.token_hex(4)}")
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_join_rate_limit_is_shared_by_every_server_process(migrated_db, tmp_path):
    """Two app instances (two processes behind the proxy) count the same wrong attempts."""
    url, prefix = redis_url(), f"t{secrets.token_hex(4)}"
    first, second = _app(migrated_db, tmp_path, url, prefix), _app(migrated_db, tmp_path, url, prefix)
    for _ in range(3):
        assert first.test_client().post("/join", data={"code": "ZZZZ999"}).status_code == 404
    for _ in range(2):
        assert second.test_client().post("/join", data={"code": "ZZZZ999"}).status_code == 404
    resp = second.test_client().post("/join", data={"code": "ZZZZ999"})
    assert resp.status_code == 429
    assert first.test_client().get("/w/ZZZZ999").status_code == 429
