"""Security headers on every kind of response: a CSP whose scripts need this
response's nonce (no inline script, no eval), no framing (the projector too), no
MIME sniffing, a Referrer-Policy; no inline event handler in any page."""
import re

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Workshop


@pytest.fixture
def pages(app, client, make_facilitator, login, make_workshop, join_as):
    """One of each kind of page, as the viewer who may see it: (label, client, url)."""
    from aeh_workshop.partners import service
    fid = make_facilitator()
    code = make_workshop(owner_id=fid)
    with app.app_context():
        w = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        wid, screen = w.id, w.screen_token
        structure_id = service.create_structure("Tremplin Emploi Ain").id
    participant = join_as(code)
    anonymous = app.test_client()
    login(client, fid)
    return [("home", anonymous, "/"), ("login", anonymous, "/login"), ("privacy", anonymous, "/privacy"),
            ("404", anonymous, "/w/ZZZZZZZ9/nope"), ("workshops", client, "/workshops/"),
            ("control room", client, f"/workshops/{wid}"), ("participant", participant, f"/w/{code}"),
            ("projector", anonymous, f"/w/{code}/screen?key={screen}"),
            ("outcome", client, f"/workshops/{wid}/outcome"), ("map", client, f"/structures/{structure_id}"),
            ("download", client, f"/workshops/{wid}/outcome/current/download/csv"),
            ("health", anonymous, "/healthz")]


def _csp(resp) -> dict[str, str]:
    policy = resp.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


def test_every_kind_of_response_carries_the_headers(pages):
    nonces = set()
    for label, viewer, url in pages:
        resp = viewer.get(url)
        assert resp.status_code < 500, label
        csp = _csp(resp)
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"], label
        nonce = re.search(r"'nonce-([^']+)'", csp["script-src"]).group(1)
        nonces.add(nonce)
        assert csp["frame-ancestors"] == "frame-ancestors 'none'", label
        assert csp["object-src"] == "object-src 'none'", label
        assert resp.headers["X-Content-Type-Options"] == "nosniff", label
        assert resp.headers["X-Frame-Options"] == "DENY", label
        assert resp.headers["Referrer-Policy"] in ("same-origin", "no-referrer"), label
        if resp.mimetype == "text/html":
            html = resp.get_data(as_text=True)
            scripts = re.findall(r"<script\b[^>]*>", html)
            assert all(f'nonce="{nonce}"' in tag for tag in scripts), (label, scripts)
            assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), label       # no inline handlers
            assert "javascript:" not in html, label
    assert len(nonces) == len(pages)       # a fresh nonce for every response


def test_a_view_that_chose_its_referrer_policy_keeps_it(app, client, make_facilitator, login, make_workshop):
    fid = make_facilitator()
    code = make_workshop(owner_id=fid, status="closed")
    with app.app_context():
        wid = db.session.scalar(db.select(Workshop.id).filter_by(join_code=code))
    login(client, fid)
    resp = client.post(f"/workshops/{wid}/outcome/share", htmx=True)
    token = re.search(r"/o/([A-Za-z0-9_-]+)", resp.get_data(as_text=True))
    assert resp.status_code == 200 and token, resp.get_data(as_text=True)
    shared = app.test_client().get(f"/o/{token.group(1)}")
    assert shared.headers["Referrer-Policy"] == "no-referrer"


def test_cookies_are_secure_when_served_over_https(migrated_db, tmp_path):
    import shutil

    from aeh_workshop import create_app
    from conftest import config_for
    path = tmp_path / "https.sqlite3"
    shutil.copy(migrated_db, path)
    app = create_app(config_for(f"sqlite:///{path}", PUBLIC_URL="https://atelier.example.org"))
    resp = app.test_client().get("/?lang=en")
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.engine.dispose()
