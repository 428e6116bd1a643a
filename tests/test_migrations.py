"""Upgrading a database that holds a real workshop, from the first migration to
the latest, on SQLite and PostgreSQL: every row survives, and the app reads it.

(On SQLite, a constraint change rebuilds its table; with foreign keys on, that
once deleted every participant and card. migrations/env.py turns them off for
the migration and checks them afterwards.)
"""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from aeh_workshop import create_app
from aeh_workshop.extensions import db
from conftest import config_for
from services import fresh_postgres_database

FIRST = "b33d2232c8a8"
ROWS = {
    "facilitator": "INSERT INTO facilitator (id, email, name, password_hash, locale, created_at) "
                   "VALUES (1, 'camille@example.org', 'Camille', 'x', 'fr', '2026-11-01 09:00:00')",
    "organisation": "INSERT INTO organisation (id, name, key, kind) "
                    "VALUES (1, 'Tremplin Emploi Ain', 'tremplin emploi ain', 'association')",
    "workshop": "INSERT INTO workshop (id, title, purpose, template, join_code, screen_token, status, phase, "
                "revision, owner_id, created_at) VALUES (1, 'Coopérations de l''Ain', 'Échanger', "
                "'practice_exchange', 'ABCDEF2', 'secret', 'live', 'collect', 3, 1, '2026-11-01 09:00:00')",
    "participant": "INSERT INTO participant (id, workshop_id, display_name, organisation_id, kind, pin_hash, "
                   "joined_at) VALUES (1, 1, 'Nadia Haddad', 1, 'association', 'x', '2026-11-01 09:05:00')",
    "card": "INSERT INTO card (id, workshop_id, author_id, kind, text, hidden, created_at, updated_at) "
            "VALUES (1, 1, 1, 'practice', 'Mécénat de compétences', false, '2026-11-01 09:10:00', "
            "'2026-11-01 09:10:00')",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        with fresh_postgres_database("aeh_migrate") as url:
            yield url.replace("postgresql://", "postgresql+psycopg://")


def test_upgrading_a_database_with_a_workshop_keeps_every_row(database_url):
    app = create_app(config_for(database_url))
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision=FIRST)
        with db.engine.begin() as conn:
            for sql in ROWS.values():
                conn.execute(text(sql))
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            counts = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in ROWS}
            title, revision = conn.execute(text("SELECT title, revision FROM workshop")).one()
            card = conn.execute(text("SELECT text, author_id FROM card")).one()
        assert counts == dict.fromkeys(ROWS, 1)
        assert (title, revision) == ("Coopérations de l'Ain", 3)
        assert tuple(card) == ("Mécénat de compétences", 1)
        db.engine.dispose()
    # The app reads the upgraded data: the participant's page data and an outcome snapshot.
    with app.app_context():
        from aeh_workshop.models import Workshop
        from aeh_workshop.outcomes import snapshot
        snap = snapshot.build(db.session.get(Workshop, 1), provisional=True)
        assert snap["participants"] == [{"name": "Nadia Haddad", "organisation": "Tremplin Emploi Ain",
                                         "kind": "association"}]
        assert [c["text"] for c in snap["cards"]] == ["Mécénat de compétences"]
        db.session.remove()
        # And back down to the first schema, still holding the workshop.
        downgrade(directory=directory, revision=FIRST)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM card")).scalar() == 1
        db.engine.dispose()
