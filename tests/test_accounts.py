"""First start, facilitator accounts, log in and out, the command line."""
import re

from aeh_workshop.extensions import db
from aeh_workshop.models import Card, Dot, Facilitator, Vote, Workshop
from conftest import PASSWORD


def _setup_data(**over):
    data = {"name": "Camille", "email": "camille@aeh.fr", "password": PASSWORD, "confirm": PASSWORD,
            "locale": "fr"}
    data.update(over)
    return data


def test_fresh_install_leads_to_setup_once(app, client):
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/setup")
    resp = client.post("/setup", data=_setup_data())
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/workshops/")
    assert "Mes ateliers" in client.get("/workshops/").get_data(as_text=True)   # logged in
    with app.app_context():
        user = db.session.scalar(db.select(Facilitator))
        assert user.email == "camille@aeh.fr" and user.password_hash != PASSWORD and user.check_password(PASSWORD)
    assert client.get("/setup").status_code == 404
    assert app.test_client().post("/setup", data=_setup_data(email="intrus@x.fr")).status_code == 404
    assert 'name="code"' in app.test_client().get("/").get_data(as_text=True)


def test_setup_validates(app, client):
    resp = client.post("/setup", data=_setup_data(password="court", confirm="court"))
    assert resp.status_code == 422 and "Au moins 12 caractères" in resp.get_data(as_text=True)
    resp = client.post("/setup", data=_setup_data(confirm="autrechose"))
    assert resp.status_code == 422 and "diffèrent" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Facilitator.id))) == 0


def test_login_logout(app, client, make_facilitator):
    make_facilitator("anim@example.org")
    resp = client.post("/login", data={"email": "anim@example.org", "password": "mauvais"})
    assert resp.status_code == 422 and "Adresse ou mot de passe incorrect" in resp.get_data(as_text=True)
    assert client.get("/workshops/").status_code == 302
    resp = client.post("/login?next=/workshops/new", data={"email": "ANIM@example.org", "password": PASSWORD})
    assert resp.headers["Location"].endswith("/workshops/new")
    assert client.get("/workshops/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/workshops/").status_code == 302


def test_login_does_not_follow_foreign_next(client, make_facilitator):
    make_facilitator("anim@example.org")
    resp = client.post("/login?next=//evil.example.org/", data={"email": "anim@example.org", "password": PASSWORD})
    assert resp.headers["Location"].endswith("/workshops/")


def test_facilitator_opens_an_account_for_a_colleague(app, client, make_facilitator, login):
    login(client, make_facilitator())
    resp = client.post("/facilitators/new", data=_setup_data(email="helene@aeh.fr"))
    assert resp.status_code == 302
    resp = client.post("/facilitators/new", data=_setup_data(email="helene@aeh.fr"))
    assert resp.status_code == 422 and "existe déjà" in resp.get_data(as_text=True)


def test_cli_creates_a_facilitator(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["facilitator", "create", "cli@aeh.fr", "--name", "Léa", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "cli@aeh.fr" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(Facilitator).filter_by(email="cli@aeh.fr")).name == "Léa"
    again = runner.invoke(args=["facilitator", "create", "cli@aeh.fr", "--password", PASSWORD])
    assert again.exit_code != 0 and "existe déjà" in again.output
    short = runner.invoke(args=["facilitator", "create", "x@aeh.fr", "--password", "court"])
    assert short.exit_code != 0
    bad = runner.invoke(args=["facilitator", "create", "pas-une-adresse", "--password", PASSWORD])
    assert bad.exit_code != 0 and "invalide" in bad.output


def test_cli_prompts_for_the_password(app):
    result = app.test_cli_runner().invoke(args=["facilitator", "create", "prompt@aeh.fr"],
                                          input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output


def test_demo_command(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    code = re.search(r"join code: (\w+)", result.output).group(1)
    password = re.search(r"/login\s+(\S+) / (\S+)", result.output)
    with app.app_context():
        workshop = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        assert workshop.status == "live" and len(workshop.participants) >= 4
        kinds = {p.kind for p in workshop.participants}
        assert {"company", "association"} <= kinds
        categories = set(db.session.scalars(db.select(Card.category).filter_by(workshop_id=workshop.id)))
        assert categories >= {"mecenat", "practices", "economic", "innovation"}
        # A vote under way, within its rules: at most 5 dots a person and 3 a card.
        vote = db.session.scalar(db.select(Vote).filter_by(workshop_id=workshop.id))
        assert vote.status == "open" and vote.by_kind
        per_person = db.session.execute(db.select(Dot.participant_id, db.func.sum(Dot.dots), db.func.max(Dot.dots))
                                        .filter_by(vote_id=vote.id).group_by(Dot.participant_id)).all()
        assert len(per_person) >= 4 and all(total <= 5 and most <= 3 for _p, total, most in per_person)
    client = app.test_client()
    resp = client.post("/login", data={"email": password.group(1), "password": password.group(2)})
    assert resp.status_code == 302
    assert "Entreprises et associations" in client.get("/workshops/").get_data(as_text=True)
