"""Limits against abuse (the issue): bodies over 64 KB get a 413, more than 10 wrong
join codes a minute from one address get a 429; the partnership map's import still
takes its 5 MB file."""
import io

import pytest

from conftest import post_card

KB = 1024


def test_the_limits_are_the_issues_numbers(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * KB
    assert app.config["JOIN_RATE_LIMIT"] == "10 per minute"


@pytest.fixture
def participant(make_workshop, join_as):
    code = make_workshop()
    return code, join_as(code)


def test_a_body_just_under_64_kb_is_read(participant):
    code, client = participant
    # Well-formed but too long for a card: read and refused by the form, not by the size limit.
    resp = post_card(client, code, text="x" * (60 * KB))
    assert resp.status_code == 422


@pytest.mark.parametrize("size", [64 * KB + 1, 300 * KB, 5 * 1024 * KB])
def test_a_body_over_64_kb_is_refused_with_a_413(app, participant, size):
    from aeh_workshop.extensions import db
    from aeh_workshop.models import Card
    code, client = participant
    resp = client.post(f"/w/{code}/cards", data={"kind": "idea", "text": "x" * size}, htmx=True)
    assert resp.status_code == 413
    assert "trop volumineux" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Card.id))) == 0


def test_the_413_speaks_english_too(participant):
    code, client = participant
    client.get(f"/w/{code}?lang=en")
    resp = client.post(f"/w/{code}/cards", data={"kind": "idea", "text": "x" * (65 * KB)})
    assert resp.status_code == 413
    assert "too large" in resp.get_data(as_text=True).lower()


def test_a_raw_body_over_64_kb_is_refused_before_the_view(client):
    """No form, no CSRF token: the size is checked first, whatever the content."""
    resp = client.post("/join", data=b"z" * (64 * KB + 1), content_type="application/octet-stream", csrf=False)
    assert resp.status_code == 413


def test_the_map_import_keeps_its_5_mb(app, client, make_facilitator, login):
    """UploadAwareRequest: the one route with `max_upload` takes more than 64 KB."""
    takers = {name: view.max_upload for name, view in app.view_functions.items() if getattr(view, "max_upload", None)}
    assert list(takers.values()) == [5 * 1024 * KB], takers     # one route only, the map's import
    login(client, make_facilitator())
    # Over 64 KB: past the size check, to the import view (which finds no such map).
    resp = client.post("/structures/999999/import",
                       data={"file": (io.BytesIO(b"a;b\n" * (40 * KB)), "liens.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 404
    resp = client.post("/structures/999999/import",
                       data={"file": (io.BytesIO(b"x" * (6 * 1024 * KB)), "gros.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 413


def test_ten_wrong_codes_a_minute_then_429(app, make_workshop):
    code = make_workshop()
    client = app.test_client()
    statuses = [client.post("/join", data={"code": "ZZZZ999"}).status_code for _ in range(11)]
    assert statuses == [404] * 10 + [429]
    resp = client.get("/w/QQQQ111")
    assert resp.status_code == 429 and "Trop de tentatives" in resp.get_data(as_text=True)
    # A right code still gets in from the same address; another address has its own budget.
    assert client.post("/join", data={"code": code}).status_code == 302
    other = app.test_client()
    assert other.post("/join", data={"code": "ZZZZ999"},
                      environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 404


def test_the_budget_comes_back_after_a_minute(app, monkeypatch):
    """A fixed window of one minute: the eleventh wrong code waits for the next minute."""
    import time as real_time
    client = app.test_client()
    now = [real_time.time()]
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: now[0])
    for _ in range(10):
        assert client.get("/w/ZZZZ999").status_code == 404
    assert client.get("/w/ZZZZ999").status_code == 429
    now[0] += 61
    assert client.get("/w/ZZZZ999").status_code == 404
