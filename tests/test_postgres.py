"""The same migrations and writes on PostgreSQL (the scale-out database)."""
import threading

import pytest

from aeh_workshop import create_app
from aeh_workshop.extensions import db
from aeh_workshop.models import Card, Workshop
from conftest import Client, config_for, post_card
from services import fresh_postgres_database


def at_once(calls):
    """Run the calls in threads released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n):
        barrier.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def pg_app():
    """An app on a brand-new PostgreSQL database, migrated with Alembic, dropped afterwards."""
    from flask_migrate import upgrade
    with fresh_postgres_database() as url:
        app = create_app(config_for(url.replace("postgresql://", "postgresql+psycopg://", 1)))
        app.test_client_class = Client
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
        yield app
        with app.app_context():
            db.engine.dispose()


def test_processes_starting_together_migrate_once(pg_app):
    """Two servers starting at once on an empty database: one migrates, the other waits."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    url = str(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    with pg_app.app_context():
        db.session.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        db.engine.dispose()
    script = ("from app import create_app; from aeh_workshop.cli import ensure_schema; "
              "app = create_app(); ctx = app.app_context(); ctx.push(); ensure_schema()")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x"}
    env.pop("REDIS_URL", None)
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum("Running upgrade" in out for out in outputs) == 1, outputs


def test_migrations_match_the_models_on_postgres(pg_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    with pg_app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_workshop_flow_on_postgres(pg_app):
    from aeh_workshop.accounts.service import create_facilitator
    from aeh_workshop.workshops import service
    with pg_app.app_context():
        owner = create_facilitator("pg@example.org", "motdepasse-solide")
        w = service.create(owner, "Atelier sur PostgreSQL", "", "partnership_map")
        w.status = "live"
        db.session.commit()
        code, wid = w.join_code, w.id
    participant = pg_app.test_client()
    resp = participant.post(f"/w/{code}/join", data={"display_name": "Élodie", "organisation": "Mairie",
                                                      "kind": "public"})
    assert resp.status_code == 302
    assert post_card(participant, code, text="Coopération économique : sous-traitance", kind="link",
                     category="economic", subtype="sous-traitance").status_code == 200
    board = participant.get(f"/w/{code}/r/board").get_data(as_text=True)
    assert "sous-traitance" in board
    with pg_app.app_context():
        assert db.session.scalar(db.select(Card.subtype)) == "sous-traitance"
        assert db.session.get(Workshop, wid).revision == 2   # the join, then the card


def test_concurrent_writes_each_bump_the_revision(pg_app):
    """Twenty participants posting at the same instant: twenty cards, revision +20."""
    from aeh_workshop.accounts.service import create_facilitator
    from aeh_workshop.workshops import service
    with pg_app.app_context():
        w = service.create(create_facilitator("c@example.org", "motdepasse-solide"), "Rafale", "", "practice_exchange")
        w.status = "live"
        db.session.commit()
        code, wid = w.join_code, w.id
    clients = []
    for i in range(20):
        c = pg_app.test_client()
        c.post(f"/w/{code}/join", data={"display_name": f"P{i}", "organisation": f"Org {i}", "kind": "company"})
        c.csrf_token_value = c.csrf_token()
        clients.append(c)
    with pg_app.app_context():
        start = db.session.get(Workshop, wid).revision
    statuses = at_once([lambda c=c, i=i: c.post(
        f"/w/{code}/cards", data={"kind": "idea", "text": f"Idée {i}"},
        headers={"X-CSRFToken": c.csrf_token_value, "HX-Request": "true"}).status_code
        for i, c in enumerate(clients)])
    assert statuses == [200] * 20
    with pg_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Card.id))) == 20
        assert db.session.get(Workshop, wid).revision == start + 20


def test_people_naming_the_same_new_organisation_at_once(pg_app):
    """Fifteen people of one new organisation join at the same instant: all in, one organisation."""
    from aeh_workshop.accounts.service import create_facilitator
    from aeh_workshop.models import Organisation, Participant
    from aeh_workshop.workshops import service
    with pg_app.app_context():
        w = service.create(create_facilitator("o@example.org", "motdepasse-solide"), "Ruée", "", "practice_exchange")
        w.status = "live"
        db.session.commit()
        code = w.join_code
    clients = [pg_app.test_client() for _ in range(15)]
    tokens = [c.csrf_token() for c in clients]
    statuses = at_once([lambda c=c, t=t, i=i: c.post(
        f"/w/{code}/join", data={"display_name": f"P{i}", "organisation": "Nouvelle Structure",
                                 "kind": "association"}, headers={"X-CSRFToken": t}).status_code
        for i, (c, t) in enumerate(zip(clients, tokens))])
    assert statuses == [302] * 15
    with pg_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Participant.id))) == 15
        assert db.session.scalar(db.select(db.func.count(Organisation.id))) == 1


def test_the_partnership_map_on_postgresql(pg_app):
    """Import (all or nothing), suggestions, a merge and its undo, the table and the partner
    page: the same on PostgreSQL as on SQLite."""
    from pathlib import Path
    from aeh_workshop.models import MapEntry
    from aeh_workshop.partners import decisions, importer, merges, service
    sample = Path(__file__).resolve().parent / "data" / "partner-links-sample.csv"
    with pg_app.app_context(), pg_app.test_request_context():
        structure = service.create_structure("Tremplin Emploi Ain")
        sheet = importer.read(sample.read_bytes(), sample.name)
        service.import_rows(structure, importer.parse(sheet, importer.guess(sheet.headers)), sample.name)
        assert db.session.scalar(db.select(db.func.count(MapEntry.id))) == 31
        groups = merges.suggestions(structure)
        assert len(groups) == 6
        before = dict(db.session.execute(db.select(MapEntry.id, MapEntry.partner_id)).all())
        group = next(g for g in groups if "EV Dombes" in g.names)
        record = merges.merge(structure, group.ids, group.ids[0], group.score)
        assert len(service.entries(structure, service.Filters(partner_id=group.ids[0]))) == 5
        assert decisions.partner_view(structure, group.ids[0]).aliases == [{"id": group.ids[1], "name": "EV Dombes"}]
        assert len(service.entries(structure, service.Filters(q="PLASTURGIE"))) == 3
        merges.undo(structure, record.id)
        assert dict(db.session.execute(db.select(MapEntry.id, MapEntry.partner_id)).all()) == before


def test_leaving_and_purging_on_postgresql(pg_app):
    """Leaving relies on the database's ON DELETE rules (dots go, actions lose their owner); the
    purge anonymises a long-closed workshop: both on PostgreSQL too."""
    from datetime import timedelta

    from aeh_workshop.accounts.service import create_facilitator
    from aeh_workshop.models import Action, Dot, Outcome, Participant, Vote, utcnow
    from aeh_workshop.workshops import service
    with pg_app.app_context():
        owner = create_facilitator("pg@example.org", "motdepasse-solide")
        running, old = (service.create(owner, title, "", "practice_exchange") for title in ("En cours", "Ancien"))
        running.status = old.status = "live"
        db.session.commit()
        ids = {"running": (running.join_code, running.id), "old": (old.join_code, old.id)}
    people = {}
    for label, (code, _wid) in ids.items():
        people[label] = pg_app.test_client()
        assert people[label].post(f"/w/{code}/join", data={"display_name": f"Élodie {label}", "organisation": "Mairie",
                                                           "kind": "public"}).status_code == 302
        assert post_card(people[label], code, text=f"Carte {label}").status_code == 200
    with pg_app.app_context():
        code, wid = ids["running"]
        elodie = db.session.scalar(db.select(Participant).filter_by(workshop_id=wid))
        card = db.session.scalar(db.select(Card).filter_by(workshop_id=wid))
        vote = Vote(workshop_id=wid, status="open")
        db.session.add(vote)
        db.session.flush()
        db.session.add_all([Dot(vote_id=vote.id, participant_id=elodie.id, card_id=card.id, dots=2),
                            Action(workshop_id=wid, title="Suivre", owner_id=elodie.id, validated=True)])
        db.session.commit()
    assert people["running"].post(f"/w/{ids['running'][0]}/leave").status_code == 302
    with pg_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Participant.id)).filter_by(workshop_id=wid)) == 0
        assert db.session.scalar(db.select(db.func.count(Dot.id))) == 0
        assert db.session.scalar(db.select(Action.owner_id).filter_by(workshop_id=wid)) is None
        old = db.session.get(Workshop, ids["old"][1])
        service.set_status(old, "closed")
        old.closed_at = utcnow() - timedelta(days=400)
        db.session.commit()
    result = pg_app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "anonymised: 1" in result.output, result.output
    with pg_app.app_context():
        assert db.session.scalar(db.select(Participant.display_name).filter_by(workshop_id=ids["old"][1])) == ""
        snapshot = db.session.scalar(db.select(Outcome.snapshot).filter_by(workshop_id=ids["old"][1]))
        assert "Élodie" not in str(snapshot) and "Carte old" in str(snapshot)
