"""Facilitator login: the session renewed at login, remember-me cookies that go when they
should, the rate limit, and password rules that a password manager satisfies."""
import html
import secrets
import string
import unicodedata
from html.parser import HTMLParser

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Facilitator
from conftest import PASSWORD

PLANTED = {"planted": "valeur d'un tiers", "participants": {"1": 42}, "screens": [1], "pin": "123456"}


def _facilitators(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(Facilitator.email).order_by(Facilitator.id)))


def _session(client) -> dict:
    with client.session_transaction() as sess:
        return dict(sess)


def _setup(client, password, email="camille@aeh.fr", name="Camille Durand", confirm=None, url="/setup"):
    return client.post(url, data={"name": name, "email": email, "password": password,
                                  "confirm": password if confirm is None else confirm, "locale": "fr"})


# --------------------------------------------------------------------------- the session

def test_login_starts_a_new_session_keeping_only_the_language(app, client, make_facilitator):
    make_facilitator("anim@example.org")
    client.get("/login?lang=en")
    with client.session_transaction() as sess:
        sess.update(PLANTED)
    before = client.get_cookie("session").value
    old_token = _session(client)["csrf_token"]
    resp = client.post("/login", data={"email": "anim@example.org", "password": PASSWORD})
    assert resp.status_code == 302
    after = _session(client)
    assert not set(PLANTED) & set(after) and "csrf_token" not in after, after
    assert after["lang"] == "en" and after["_user_id"]
    assert client.get_cookie("session").value != before
    assert client.csrf_token() != old_token
    assert "Mes ateliers" not in client.get("/workshops/").get_data(as_text=True)   # in English now
    assert client.get("/workshops/").status_code == 200


def test_first_run_setup_starts_a_new_session(app, client):
    client.get("/setup")
    with client.session_transaction() as sess:
        sess.update(PLANTED)
    before = client.get_cookie("session").value
    resp = _setup(client, "une phrase de passe solide")
    assert resp.status_code == 302
    after = _session(client)
    assert not set(PLANTED) & set(after) and after["_user_id"]
    assert client.get_cookie("session").value != before
    assert client.get("/workshops/").status_code == 200


def _set_cookies(resp, name):
    return [v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith(name + "=")]


def test_logout_deletes_the_remember_me_cookie(app, client, make_facilitator):
    make_facilitator("anim@example.org")
    client.post("/login", data={"email": "anim@example.org", "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token")
    assert remember is not None
    resp = client.post("/logout")
    assert _set_cookies(resp, "remember_token") and "1970" in _set_cookies(resp, "remember_token")[0]
    assert client.get_cookie("remember_token") is None
    assert client.get("/workshops/").status_code == 302


def test_logging_in_without_remember_me_drops_an_older_remember_me_cookie(app, client, make_facilitator):
    """A shared computer: A ticked "remember me" once; B logs in after, without it. When B's
    browser session ends, the computer must not open A's account."""
    make_facilitator("a@example.org")
    make_facilitator("b@example.org")
    client.post("/login", data={"email": "a@example.org", "password": PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")   # A's browser closed, the computer stays on
    assert client.post("/login", data={"email": "b@example.org", "password": PASSWORD}).status_code == 302
    assert client.get_cookie("remember_token") is None
    client.delete_cookie("session")   # B's browser closed
    assert client.get("/workshops/").status_code == 302


def test_once_limited_even_the_right_password_is_refused(app, client, make_facilitator):
    make_facilitator("anim@example.org")
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert client.post("/login", data={"email": "anim@example.org", "password": "devine-encore-une-fois"}
                           ).status_code == 422
    resp = client.post("/login", data={"email": "anim@example.org", "password": PASSWORD})
    assert resp.status_code == 429
    assert "_user_id" not in _session(client)
    assert client.get("/workshops/").status_code == 302


# --------------------------------------------------------------------------- password rules

@pytest.mark.parametrize("password, message", [
    ("court", "Au moins 12 caractères."),
    ("onze-signes", "Au moins 12 caractères."),                        # 11
    ("x" * 10 + "é" * 119, "128 caractères au plus"),                   # 129
    ("motdepasse123", "fait partie des plus courants"),
    ("Mot de passe 123 !", "fait partie des plus courants"),            # case, spaces, punctuation
    ("password1234", "fait partie des plus courants"),
    ("azertyuiop123", "fait partie des plus courants"),
    ("aaaaaaaaaaaaaaaa", "fait partie des plus courants"),
    ("cdurand@aeh.fr", "ne doit pas contenir l'adresse e-mail du compte"),
    ("mon-adresse-CDurand@aeh.fr", "ne doit pas contenir l'adresse e-mail du compte"),
    ("cdurand-2024-atelier", "ne doit pas contenir l'adresse e-mail du compte"),   # the part before @
    ("Camille Durand", "ne doit pas contenir le nom indiqué"),
    ("je-suis-camilledurand", "ne doit pas contenir le nom indiqué"),
])
def test_setup_refuses_weak_passwords_and_writes_nothing(app, client, password, message):
    resp = _setup(client, password, email="cdurand@aeh.fr", name="Camille Durand")
    assert resp.status_code == 422
    assert message in html.unescape(resp.get_data(as_text=True))
    assert _facilitators(app) == []


@pytest.mark.parametrize("password", [
    "".join(secrets.choice(string.ascii_letters + string.digits + string.punctuation) for _ in range(64)),
    "Le café du marché ouvre à 7 h ☕",
    "douze-signes",                                   # 12: the minimum
    ("Été à Noël ! " * 10)[:128],                     # 128 characters, more bytes: the maximum
    "  espaces au début et à la fin  ",
    "motdepasse-solide",                              # the tests' own password stays valid
])
def test_setup_accepts_what_a_password_manager_or_a_person_chooses(app, client, password):
    resp = _setup(client, password)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert _facilitators(app) == ["camille@aeh.fr"]
    client.post("/logout")
    assert client.post("/login", data={"email": "camille@aeh.fr", "password": password}).status_code == 302


def test_an_accented_passphrase_logs_in_however_the_keyboard_composes_it(app, client):
    """« é » typed as one character (NFC) or as e + accent (NFD): the same password."""
    phrase = "Le café du marché ouvre à 7 h"
    assert _setup(client, unicodedata.normalize("NFC", phrase)).status_code == 302
    client.post("/logout")
    resp = client.post("/login", data={"email": "camille@aeh.fr", "password": unicodedata.normalize("NFD", phrase)})
    assert resp.status_code == 302


def test_a_refused_password_keeps_what_was_typed_elsewhere(app, client):
    resp = _setup(client, "motdepasse123", name="Camille Durand")
    page = resp.get_data(as_text=True)
    assert 'value="Camille Durand"' in page and 'value="camille@aeh.fr"' in page
    assert 'value="motdepasse123"' not in page   # never sent back


def test_a_colleagues_account_follows_the_same_rules(app, client, make_facilitator, login):
    login(client, make_facilitator("anim@example.org"))
    resp = _setup(client, "hélène", email="helene.martin@aeh.fr", name="Hélène Martin",
                  url="/facilitators/new")
    assert resp.status_code == 422 and "Au moins 12 caractères." in resp.get_data(as_text=True)
    resp = _setup(client, "helene.martin@aeh.fr", email="helene.martin@aeh.fr", name="Hélène Martin",
                  url="/facilitators/new")
    assert resp.status_code == 422 and "adresse e-mail" in resp.get_data(as_text=True)
    assert _facilitators(app) == ["anim@example.org"]
    resp = _setup(client, "trois pommes vertes sur la table", email="helene.martin@aeh.fr", name="Hélène Martin",
                  url="/facilitators/new")
    assert resp.status_code == 302
    assert _facilitators(app) == ["anim@example.org", "helene.martin@aeh.fr"]


def test_logging_in_is_not_held_to_the_new_rules(app, client):
    """An account made before the rules (8 characters then) still logs in."""
    from aeh_workshop.accounts.service import create_facilitator
    with app.app_context():
        create_facilitator("ancien@example.org", "ancien8c")
    assert client.post("/login", data={"email": "ancien@example.org", "password": "ancien8c"}).status_code == 302


class _Inputs(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.by_name = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.by_name[attrs["name"]] = attrs


def test_forms_tell_password_managers_what_to_do(app, client, make_facilitator, login):
    setup = _Inputs(client.get("/setup").get_data(as_text=True)).by_name
    for name in ("password", "confirm"):
        assert setup[name]["autocomplete"] == "new-password"
        assert (setup[name]["minlength"], setup[name]["maxlength"]) == ("12", "128")
        assert setup[name]["passwordrules"] == "minlength: 12; maxlength: 128;"
    assert setup["email"]["autocomplete"] == "username"
    make_facilitator("anim@example.org")
    page = _Inputs(client.get("/login").get_data(as_text=True)).by_name
    assert page["email"]["autocomplete"] == "username"
    assert page["password"]["autocomplete"] == "current-password"
    assert "maxlength" not in page["password"] and "minlength" not in page["password"]
    login(client, make_facilitator("b@example.org"))
    new = _Inputs(client.get("/facilitators/new").get_data(as_text=True)).by_name
    assert new["password"]["autocomplete"] == "new-password" and new["password"]["minlength"] == "12"
    assert new["email"]["autocomplete"] != "username"   # a colleague's address, not one's own login


@pytest.mark.parametrize("password, message", [
    ("motdepasse", "Au moins 12 caractères."),
    ("azertyuiop123", "fait partie des plus courants"),
    ("cli@aeh.fr-2025", "adresse e-mail"),
    ("x" * 200, "128 caractères au plus"),
])
def test_the_command_line_applies_the_same_rules(app, password, message):
    result = app.test_cli_runner().invoke(args=["facilitator", "create", "cli@aeh.fr", "--password", password])
    assert result.exit_code != 0 and message in result.output
    assert _facilitators(app) == []


def test_the_command_line_accepts_a_passphrase(app):
    result = app.test_cli_runner().invoke(args=["facilitator", "create", "cli@aeh.fr", "--name", "Léa",
                                                "--password", "Léa aime les passerelles ☕"])
    assert result.exit_code == 0, result.output
    assert _facilitators(app) == ["cli@aeh.fr"]


def test_a_generated_passphrase_may_happen_to_contain_a_short_address():
    """Diceware-style passphrases hold common words: « info » or « anne » inside one is no
    weakness, while a password made mostly of the address's name is refused."""
    from aeh_workshop.accounts.passwords import problem
    from aeh_workshop import create_app
    from conftest import config_for
    app = create_app(config_for("sqlite://"))
    with app.test_request_context():
        assert problem("marble-info-cactus-orbit", "info@tremplin.fr") is None
        assert problem("Channel.Tulip.Orbit.Radio", "anne@example.org") is None
        assert problem("camille-2026!", "camille@example.org") is not None
        assert problem("Camille@Example.org!", "camille@example.org") is not None
