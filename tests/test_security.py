"""Safety from day one: who may do what, escaping, CSRF, cookies, rate limits."""
import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Card, Workshop
from conftest import post_card


@pytest.fixture
def world(app, make_facilitator, make_workshop, join_as, login):
    """Workshop A (with a card) and B, each with a facilitator and a participant."""
    fac_a, fac_b = make_facilitator("a@example.org"), make_facilitator("b@example.org")
    code_a, code_b = make_workshop(owner_id=fac_a), make_workshop(owner_id=fac_b)
    part_a, part_b = join_as(code_a), join_as(code_b, name="Karim Benali")
    assert post_card(part_a, code_a, text="Carte de A").status_code == 200
    with app.app_context():
        a = db.session.scalar(db.select(Workshop).filter_by(join_code=code_a))
        card_id = db.session.scalar(db.select(Card.id).filter_by(workshop_id=a.id))
        ids = {"a": a.id, "card": card_id}
    viewers = {
        "anonymous": app.test_client(),
        "participant_a": part_a,
        "participant_b": part_b,
        "facilitator_a": login(app.test_client(), fac_a),
        "facilitator_b": login(app.test_client(), fac_b),
    }
    return {"code": code_a, "other": code_b, "viewers": viewers, **ids}


FAC_ONLY = [
    ("GET", "/workshops/{a}", {}),
    ("GET", "/workshops/{a}/edit", {}),
    ("POST", "/workshops/{a}/phase", {"phase": "qualify"}),
    ("POST", "/workshops/{a}/status", {"status": "closed"}),
    ("POST", "/workshops/{a}/facilitators", {"email": "b@example.org"}),
    ("POST", "/w/{code}/cards/{card}/hide", {}),
    ("POST", "/w/{code}/clusters", {"name": "Insertion"}),
    ("GET", "/w/{code}/screen", {}),
]


def _call(client, method, url, data):
    return client.open(url, method=method, data=data, htmx=method == "POST")


@pytest.mark.parametrize("method,url,data", FAC_ONLY)
@pytest.mark.parametrize("viewer,expected", [
    ("anonymous", 302), ("participant_a", 403), ("participant_b", 403), ("facilitator_b", 403),
    ("facilitator_a", 200),
])
def test_facilitator_routes(world, method, url, data, viewer, expected):
    resp = _call(world["viewers"][viewer], method, url.format(**world), data)
    if expected == 302 and method == "POST":
        # An htmx write sends the whole page to the login form, not the form into a fragment.
        assert resp.status_code == 401 and "/login?next=" in resp.headers["HX-Redirect"]
        return
    assert resp.status_code == expected
    if expected == 302:
        assert "/login" in resp.headers["Location"]
    if expected == 403:
        assert "Carte de A" not in resp.get_data(as_text=True)


PARTICIPANT_ROUTES = [
    ("GET", "/w/{code}/composer", {}),
    ("GET", "/w/{code}/r/board", {}),
    ("POST", "/w/{code}/cards", {"kind": "idea", "text": "Une idée"}),
]


@pytest.mark.parametrize("method,url,data", PARTICIPANT_ROUTES)
@pytest.mark.parametrize("viewer,expected", [
    ("anonymous", 403), ("participant_b", 403), ("facilitator_b", 403),
    ("participant_a", 200), ("facilitator_a", 200),
])
def test_workshop_member_routes(world, method, url, data, viewer, expected):
    resp = _call(world["viewers"][viewer], method, url.format(**world), data)
    assert resp.status_code == expected
    if expected == 403:
        assert "Carte de A" not in resp.get_data(as_text=True)


def test_refused_writes_change_nothing(app, world):
    for viewer in ("anonymous", "participant_b", "facilitator_b"):
        _call(world["viewers"][viewer], "POST", f"/w/{world['code']}/cards", {"kind": "idea", "text": "Intrus"})
        _call(world["viewers"][viewer], "POST", f"/workshops/{world['a']}/status", {"status": "closed"})
    with app.app_context():
        assert db.session.scalar(db.select(Card).filter_by(text="Intrus")) is None
        assert db.session.get(Workshop, world["a"]).status == "live"


def test_participant_cannot_edit_or_delete_someone_elses_card(app, world, join_as):
    other = join_as(world["code"], name="Sophie Lefèvre", organisation="Clinique du Val de Saône", kind="company")
    url = f"/w/{world['code']}/cards/{world['card']}"
    assert other.post(url, data={"kind": "idea", "text": "Réécrit"}, htmx=True).status_code == 403
    assert other.post(url + "/delete", htmx=True).status_code == 403
    assert other.get(url + "/edit", htmx=True).status_code == 403
    with app.app_context():
        assert db.session.get(Card, world["card"]).text == "Carte de A"


def test_card_of_another_workshop_is_not_found(world):
    # Workshop B's participant aims at A's card through B's own URL.
    resp = world["viewers"]["participant_b"].post(
        f"/w/{world['other']}/cards/{world['card']}/delete", htmx=True)
    assert resp.status_code == 404


@pytest.mark.parametrize("text", [
    '<script>alert("x")</script>',
    '<button hx-get="/workshops/" hx-trigger="load">piège</button>',
    '<img src=x onerror=alert(1)>',
])
def test_user_text_is_escaped_everywhere(app, world, text):
    part = world["viewers"]["participant_a"]
    post_card(part, world["code"], text=text, partner=text)
    pages = [
        part.get(f"/w/{world['code']}").get_data(as_text=True),
        world["viewers"]["facilitator_a"].get(f"/w/{world['code']}/screen").get_data(as_text=True),
        world["viewers"]["facilitator_a"].get(f"/workshops/{world['a']}").get_data(as_text=True),
    ]
    for html in pages:
        assert text not in html
        assert text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in html


def test_display_names_are_escaped(app, make_workshop, join_as, make_facilitator, login):
    fac = make_facilitator()
    code = make_workshop(owner_id=fac)
    join_as(code, name='<i hx-get="/">Eve</i>', organisation="<b>Org</b>")
    with app.app_context():
        workshop_id = db.session.scalar(db.select(Workshop.id).filter_by(join_code=code))
    html = login(app.test_client(), fac).get(f"/workshops/{workshop_id}").get_data(as_text=True)
    assert '<i hx-get="/">' not in html and "&lt;i hx-get=&#34;/&#34;&gt;Eve&lt;/i&gt;" in html
    assert "&lt;b&gt;Org&lt;/b&gt;" in html


def test_write_without_csrf_token_is_refused(app, world):
    part = world["viewers"]["participant_a"]
    resp = part.post(f"/w/{world['code']}/cards", data={"kind": "idea", "text": "Sans jeton"}, csrf=False)
    assert resp.status_code == 400
    assert "session a expiré" in resp.get_data(as_text=True)
    resp = part.post(f"/w/{world['code']}/cards", data={"kind": "idea", "text": "Faux jeton"},
                     headers={"X-CSRFToken": "forged"}, htmx=True)
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Card.id)).where(Card.text.in_(["Sans jeton", "Faux jeton"]))) == 0


def test_htmx_error_goes_to_the_flash_area(world):
    resp = world["viewers"]["participant_a"].post(
        f"/w/{world['code']}/cards", data={"kind": "idea", "text": "x"}, csrf=False, htmx=True)
    assert resp.status_code == 400
    assert resp.headers["HX-Retarget"] == "#flash"
    assert "<html" not in resp.get_data(as_text=True)


def test_session_cookie_is_httponly_and_lax(app, make_workshop, join_as):
    code = make_workshop()
    client = app.test_client()
    resp = client.post(f"/w/{code}/join", data={"display_name": "Inès", "organisation": "Restos", "kind": "association"},
                       )
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_join_codes_are_rate_limited_per_ip(app, make_workshop):
    code = make_workshop()
    client = app.test_client()
    limit = int(app.config["JOIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert client.post("/join", data={"code": "ZZZZZZZ"}).status_code == 404
    resp = client.post("/join", data={"code": "ZZZZZZZ"})
    assert resp.status_code == 429
    assert "Trop de tentatives" in resp.get_data(as_text=True)
    assert client.get("/w/QQQQQQQ").status_code == 429   # the same budget covers the link form
    # Another address is not affected.
    other = app.test_client()
    resp = other.post("/join", data={"code": code}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert resp.status_code == 302


def test_right_codes_do_not_use_the_budget(app, make_workshop):
    code = make_workshop()
    client = app.test_client()
    limit = int(app.config["JOIN_RATE_LIMIT"].split()[0])
    for _ in range(limit + 5):
        assert client.post("/join", data={"code": code.lower()}).status_code == 302


def test_rate_limit_message_in_english(app):
    client = app.test_client()
    limit = int(app.config["JOIN_RATE_LIMIT"].split()[0])
    for _ in range(limit + 1):
        resp = client.get("/w/QQQQQQQ?lang=en")
    assert resp.status_code == 429
    assert "Too many attempts" in resp.get_data(as_text=True)


def test_behind_a_proxy_the_limit_counts_each_client(migrated_db, tmp_path):
    """With TRUSTED_PROXIES=1 two clients behind nginx have their own budgets."""
    import shutil
    from aeh_workshop import create_app
    from conftest import Client, config_for
    path = tmp_path / "p.sqlite3"
    shutil.copy(migrated_db, path)
    app = create_app(config_for(f"sqlite:///{path}", TRUSTED_PROXIES=1, JOIN_RATE_LIMIT="3 per minute"))
    app.test_client_class = Client
    client = app.test_client()
    for _ in range(3):
        client.post("/join", data={"code": "ZZZZ999"}, headers={"X-Forwarded-For": "203.0.113.5"})
    assert client.post("/join", data={"code": "ZZZZ999"}, headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert client.post("/join", data={"code": "ZZZZ999"}, headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 404


def test_wrong_method_and_oversized_posts_get_a_clear_page(app, world):
    part = world["viewers"]["participant_a"]
    resp = part.get(f"/w/{world['code']}/cards")
    assert resp.status_code == 405 and "Cette adresse ne permet pas cette action" in resp.get_data(as_text=True)
    resp = part.post(f"/w/{world['code']}/cards", data={"kind": "idea", "text": "x" * 300_000}, htmx=True)
    assert resp.status_code == 413 and "trop volumineux" in resp.get_data(as_text=True)


@pytest.mark.parametrize("query", ["next=/%09/evil.example", "next=/%5Cevil.example", "next=https://evil.example/",
                                   "next=//evil.example", "next=/%0A/evil.example", "next=javascript:alert(1)"])
def test_login_never_leads_off_site(client, make_facilitator, query):
    from conftest import PASSWORD
    make_facilitator("anim@example.org")
    resp = client.post("/login?" + query, data={"email": "anim@example.org", "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/workshops/"


@pytest.mark.parametrize("url", [
    "/workshops/99999999999999999999999", "/workshops/0", "/w/{code}/cards/99999999999/edit",
    "/w/{code}/cards/-1/edit", "/w/{code}/clusters/99999999999999/delete",
])
def test_out_of_range_ids_are_not_found(world, url):
    client = world["viewers"]["facilitator_a"]
    method = "POST" if url.endswith("delete") else "GET"
    resp = client.open(url.format(**world), method=method, htmx=method == "POST")
    assert resp.status_code == 404


@pytest.mark.parametrize("value", ["²", "9" * 30, "abc", "-1"])
def test_odd_cluster_ids_are_refused(app, world, value):
    resp = world["viewers"]["facilitator_a"].post(
        f"/w/{world['code']}/cards/{world['card']}/cluster", data={"cluster": value}, htmx=True)
    assert resp.status_code == 422


def test_a_known_code_is_never_refused_for_someone_elses_typos(app, world):
    """A room behind one address: after a burst of wrong codes, people already in keep working."""
    limit = int(app.config["JOIN_RATE_LIMIT"].split()[0])
    stranger = app.test_client()
    for _ in range(limit + 2):
        stranger.get("/w/ZZZZ999")
    participant = world["viewers"]["participant_a"]
    assert participant.get(f"/w/{world['code']}").status_code == 200
    assert post_card(participant, world["code"], text="Toujours là").status_code == 200
    assert app.test_client().post("/join", data={"code": world["code"]}).status_code == 302


@pytest.mark.parametrize("probe", ["/w/ZZZZ999/r/board", "/w/ZZZZ999/composer", "/w/ZZZZ999/screen"])
def test_every_code_keyed_route_counts_wrong_codes(app, probe):
    client = app.test_client()
    limit = int(app.config["JOIN_RATE_LIMIT"].split()[0])
    statuses = [client.get(probe).status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [404] * limit and statuses[-1] == 429


def test_wrong_pins_are_limited(app, make_workshop, join_as):
    code = make_workshop()
    join_as(code, name="Karim")
    phone = app.test_client()
    limit = int(app.config["JOIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert phone.post(f"/w/{code}/rejoin", data={"display_name": "Karim", "pin": "123456"}).status_code == 422
    assert phone.post(f"/w/{code}/rejoin", data={"display_name": "Karim", "pin": "123456"}).status_code == 429


def test_logging_in_is_rate_limited(client, make_facilitator):
    make_facilitator("anim@example.org")
    statuses = [client.post("/login", data={"email": "anim@example.org", "password": "faux"}).status_code
                for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_remember_me_only_when_asked_and_logout_forgets_everything(app, make_facilitator, make_workshop, workshop_of):
    from conftest import PASSWORD
    fac = make_facilitator("anim@example.org")
    code = make_workshop(owner_id=fac)
    client = app.test_client()
    client.get(f"/w/{code}/screen?key={workshop_of(code).screen_token}")
    resp = client.post("/login", data={"email": "anim@example.org", "password": PASSWORD})
    assert not any(v.startswith("remember_token=") for k, v in resp.headers.items() if k == "Set-Cookie")
    client.post("/logout")
    assert client.get(f"/w/{code}/screen").status_code == 302     # screen access gone too
    resp = client.post("/login", data={"email": "anim@example.org", "password": PASSWORD, "remember": "y"})
    assert any(v.startswith("remember_token=") for k, v in resp.headers.items() if k == "Set-Cookie")
    # Logging out really logs out, remember-me cookie included; the language stays.
    client.get("/workshops/?lang=en")
    client.post("/logout")
    assert client.get("/workshops/").status_code == 302
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)


def test_a_rate_limit_store_outage_lets_people_in(app, make_workshop, join_as, caplog):
    """Redis down: wrong codes are not counted (logged), and nobody gets a 500."""
    from aeh_workshop.extensions import limiter
    code = make_workshop()
    join_as(code, name="Karim")

    class Down:
        def hit(self, *a, **k):
            raise ConnectionError("redis down")
        test = hit

    real = limiter._limiter
    limiter._limiter = Down()
    try:
        client = app.test_client()
        assert client.get("/w/ZZZZ999").status_code == 404
        assert client.post(f"/w/{code}/rejoin", data={"display_name": "Karim", "pin": "000000"}).status_code == 422
    finally:
        limiter._limiter = real
    assert "rate-limit store unavailable" in caplog.text
