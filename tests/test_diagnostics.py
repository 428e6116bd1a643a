"""Company diagnostics: each company says what it already does and wants to do with
associations, by Rameau category, year after year. Two people of one company share
one diagnostic; a stale save is refused with the current answers, never applied."""
import re
from datetime import datetime

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Diagnostic, Facilitator, Organisation, Workshop
from conftest import pushes

BOULANGERIE = "Boulangerie Lyonnaise"


def blank(**answers):
    """A full form post: every field, most of them empty."""
    data = {f"{side}_{cat}": "" for side in ("does", "wants")
            for cat in ("mecenat", "practices", "economic", "innovation")}
    data.update({"territory": "", "version": 0})
    data.update(answers)
    return data


def version_of(html):
    return int(re.search(r'name="version"[^>]*value="(\d+)"', html).group(1))


def textarea(html, name):
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', html, re.S)
    return match.group(1) if match else None


@pytest.fixture
def make_diag_workshop(app, make_facilitator):
    """A live company-diagnostic workshop in its collect phase; returns (id, code)."""
    from aeh_workshop.workshops import service
    counter = iter(range(1, 100))

    def make(year=None, phase="collect", status="live", template="company_diagnostic"):
        with app.app_context():
            owner = db.session.get(Facilitator, make_facilitator(f"diag{next(counter)}@example.org"))
            w = service.create(owner, "Diagnostics Est lyonnais", "", template)
            w.status, w.phase = status, phase
            if year:
                w.created_at = datetime(year, 3, 12, 9, 0)
            db.session.commit()
            return w.id, w.join_code
    return make


@pytest.fixture
def room(app, make_diag_workshop, login, join_as):
    class Room:
        pass
    r = Room()
    r.id, r.code = make_diag_workshop(year=2025)
    with app.app_context():
        r.fac = login(app.test_client(), db.session.get(Workshop, r.id).owner_id)
    r.claire = join_as(r.code, "Claire Martin", BOULANGERIE, "company")
    r.hugo = join_as(r.code, "Hugo Bernard", BOULANGERIE, "company")
    r.nadia = join_as(r.code, "Nadia Haddad", "Tremplin Emploi Ain", "association")
    return r


def save(client, code, **answers):
    return client.post(f"/w/{code}/diagnostic", data=blank(**answers), htmx=True)


def rows(app, name=BOULANGERIE):
    with app.app_context():
        org = db.session.scalar(db.select(Organisation).filter_by(name=name))
        return {d.year: (d.does, d.wants, d.involve_employees, d.territory, d.version, d.respondent)
                for d in db.session.scalars(db.select(Diagnostic).filter_by(organisation_id=org.id))}


def test_a_company_fills_its_diagnostic(app, room):
    page = room.claire.get(f"/w/{room.code}").get_data(as_text=True)
    assert 'id="diagnostic"' in page and "Diagnostic 2025 — Boulangerie Lyonnaise" in page
    assert 'name="does_mecenat"' in page and 'name="wants_innovation"' in page and version_of(page) == 0
    resp = save(room.claire, room.code, does_mecenat="Dons d'invendus aux Restos du cœur",
                wants_economic="Acheter nos emballages à un ESAT", involve_employees="wished",
                territory="Bourg-en-Bresse")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Diagnostic enregistré." in html and "<html" not in html
    assert version_of(html) == 1
    assert rows(app) == {2025: ({"mecenat": "Dons d'invendus aux Restos du cœur"},
                                {"economic": "Acheter nos emballages à un ESAT"}, "wished", "Bourg-en-Bresse",
                                1, "Claire Martin")}
    # A colleague from the same company sees the same answers.
    page = room.hugo.get(f"/w/{room.code}").get_data(as_text=True)
    assert textarea(page, "does_mecenat") == "Dons d&#39;invendus aux Restos du cœur" and version_of(page) == 1
    # The facilitators' control room lists them, with the link to the history.
    control = room.fac.get(f"/workshops/{room.id}").get_data(as_text=True)
    assert "Diagnostics des entreprises — 2025" in control and "Acheter nos emballages à un ESAT" in control
    org_id = _org_id(app)
    assert f'href="/organisations/{org_id}/diagnostics"' in control


def _org_id(app, name=BOULANGERIE):
    with app.app_context():
        return db.session.scalar(db.select(Organisation.id).filter_by(name=name))


def test_next_year_starts_from_last_year_and_keeps_both(app, room, make_diag_workshop, join_as):
    save(room.claire, room.code, does_mecenat="Dons d'invendus", wants_economic="Achats à un ESAT",
         involve_employees="no", territory="Bourg-en-Bresse")
    _id, code_2026 = make_diag_workshop(year=2026)
    claire = join_as(code_2026, "Claire Martin", BOULANGERIE, "company")
    page = claire.get(f"/w/{code_2026}").get_data(as_text=True)
    assert "Prérempli avec votre diagnostic 2025 : mettez-le à jour pour 2026." in page
    assert textarea(page, "does_mecenat") == "Dons d&#39;invendus" and version_of(page) == 0
    assert re.search(r'value="no"[^>]*checked|checked[^>]*value="no"', page)
    resp = save(claire, code_2026, does_mecenat="Dons d'invendus", does_economic="Achats à un ESAT depuis mars",
                wants_innovation="Tester une tournée à vélo avec une association", involve_employees="yes",
                territory="Bourg-en-Bresse")
    assert resp.status_code == 200
    saved = rows(app)
    assert saved[2025] == ({"mecenat": "Dons d'invendus"}, {"economic": "Achats à un ESAT"}, "no",
                           "Bourg-en-Bresse", 1, "Claire Martin")          # last year's, untouched
    assert saved[2026][:4] == ({"mecenat": "Dons d'invendus", "economic": "Achats à un ESAT depuis mars"},
                               {"innovation": "Tester une tournée à vélo avec une association"}, "yes",
                               "Bourg-en-Bresse")
    # The 2025 workshop still shows 2025's answers.
    assert textarea(room.claire.get(f"/w/{room.code}").get_data(as_text=True), "wants_economic") == "Achats à un ESAT"


def test_a_stale_save_is_refused_with_the_current_answers_and_nothing_is_lost(app, room):
    """Claire and Hugo open the diagnostic; Claire saves first; Hugo's save, based on
    the version he loaded, is refused with her answers, and his stay in his form."""
    v_claire = version_of(room.claire.get(f"/w/{room.code}").get_data(as_text=True))
    v_hugo = version_of(room.hugo.get(f"/w/{room.code}").get_data(as_text=True))
    assert v_claire == v_hugo == 0
    assert save(room.claire, room.code, wants_mecenat="Mécénat de compétences", version=v_claire).status_code == 200
    stale = save(room.hugo, room.code, wants_mecenat="Prêter notre camion", version=v_hugo)
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Claire Martin a enregistré ce diagnostic pendant que vous écriviez" in html
    assert "Mécénat de compétences" in html                          # hers, shown
    assert textarea(html, "wants_mecenat") == "Prêter notre camion"  # his, kept
    assert rows(app)[2025][1] == {"mecenat": "Mécénat de compétences"}
    # Saving again from there is a deliberate choice.
    assert version_of(html) == 1
    merged = "Mécénat de compétences ; prêter notre camion"
    assert save(room.hugo, room.code, wants_mecenat=merged, version=version_of(html)).status_code == 200
    assert rows(app)[2025][1] == {"mecenat": merged} and rows(app)[2025][4:] == (2, "Hugo Bernard")


def test_two_first_saves_of_the_year_one_wins(app, room):
    assert save(room.claire, room.code, territory="Bourg-en-Bresse", version=0).status_code == 200
    resp = save(room.hugo, room.code, territory="Oyonnax", version=0)
    assert resp.status_code == 409 and "Bourg-en-Bresse" in resp.get_data(as_text=True)
    assert rows(app)[2025][3] == "Bourg-en-Bresse"


def test_an_association_cannot_post_a_diagnostic(app, room):
    page = room.nadia.get(f"/w/{room.code}").get_data(as_text=True)
    assert "Ce diagnostic est rempli par les entreprises présentes" in page and 'name="does_mecenat"' not in page
    resp = save(room.nadia, room.code, wants_mecenat="Au nom d'une entreprise")
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Diagnostic.id))) == 0


@pytest.mark.parametrize("answers,error", [
    ({"wants_mecenat": "é" * 2001}, "2000 caractères au plus"),
    ({"territory": "t" * 121}, "120 caractères au plus"),
    ({"involve_employees": "maybe"}, "choix valide"),
    ({"version": "abc"}, "rien n&#39;a été enregistré"),
])
def test_bad_input_is_refused_and_nothing_is_written(app, room, answers, error):
    resp = save(room.claire, room.code, does_mecenat="Un texte valable", **answers)
    assert resp.status_code == 422
    assert error in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Diagnostic.id))) == 0


@pytest.mark.parametrize("phase,status", [("welcome", "live"), ("closing", "live"), ("collect", "closed"),
                                          ("collect", "draft")])
def test_the_diagnostic_takes_answers_only_while_open(app, make_diag_workshop, join_as, phase, status):
    _id, code = make_diag_workshop(phase=phase, status=status)
    claire = join_as(code, "Claire Martin", BOULANGERIE, "company") if status != "closed" else None
    if claire is None:   # nobody joins a closed workshop: join first, then close
        _id, code = make_diag_workshop(phase=phase)
        claire = join_as(code, "Claire Martin", BOULANGERIE, "company")
        with app.app_context():
            db.session.get(Workshop, _id).status = "closed"
            db.session.commit()
    resp = save(claire, code, wants_mecenat="Trop tôt ou trop tard")
    assert resp.status_code == 409 and "pas ouvert en ce moment" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Diagnostic.id))) == 0


def test_a_closed_workshop_shows_the_answers_read_only(app, room):
    save(room.claire, room.code, does_practices="Nous recrutons avec Tremplin Emploi Ain")
    assert room.fac.post(f"/workshops/{room.id}/status", data={"status": "closed"}, htmx=True).status_code == 200
    page = room.claire.get(f"/w/{room.code}").get_data(as_text=True)
    readonly = page.split('class="diag-saved" data-when="over"', 1)[1].split("</div>", 1)[0]
    assert "Le diagnostic est clos" in readonly and "Nous recrutons avec Tremplin Emploi Ain" in readonly


def summary_numbers(html):
    """{category class: (does, wants)} from the projector's tiles."""
    tiles = re.findall(r'diag-tile cat-(\w+)">.*?does"><strong>(\d+)</strong>.*?wants"><strong>(\d+)</strong>',
                       html, re.S)
    return {cat: (int(d), int(w)) for cat, d, w in tiles}


def test_the_projector_counts_companies_per_category(app, room, join_as, socket_for):
    screen = room.fac.get(f"/w/{room.code}/screen").get_data(as_text=True)
    assert summary_numbers(screen) == {c: (0, 0) for c in ("mecenat", "practices", "economic", "innovation")}
    watcher = socket_for(room.fac, room.code)
    pushes(watcher)
    save(room.claire, room.code, does_mecenat="Dons", wants_economic="Achats", involve_employees="yes")
    pushed = "".join(p["html"] for p in pushes(watcher))
    assert 'hx-target="#diagsummary"' in pushed and 'hx-target="#diaglist"' in pushed
    assert summary_numbers(pushed)["mecenat"] == (1, 0)

    garage = join_as(room.code, "Léa Roux", "Garage du Centre", "company")
    save(garage, room.code, does_mecenat="Prêt de véhicules", wants_mecenat="Mécénat de compétences",
         wants_economic="Sous-traitance", involve_employees="wished")
    region = room.fac.get(f"/w/{room.code}/r/diagsummary").get_data(as_text=True)
    assert summary_numbers(region) == {"mecenat": (2, 1), "practices": (0, 0), "economic": (0, 2),
                                       "innovation": (0, 0)}
    assert "2 entreprises ont répondu" in region
    # Rendered without a viewer: the secret screen link gets the very same region.
    projector = app.test_client()
    with app.app_context():
        token = db.session.get(Workshop, room.id).screen_token
    projector.get(f"/w/{room.code}/screen?key={token}")
    assert projector.get(f"/w/{room.code}/r/diagsummary").get_data(as_text=True) == region
    # Participants do not get the facilitators' list or the projector's summary.
    assert room.nadia.get(f"/w/{room.code}/r/diaglist").status_code == 403


def test_a_save_pushes_nothing_to_another_workshop(app, room, make_diag_workshop, login, socket_for):
    other_id, other_code = make_diag_workshop()
    with app.app_context():
        fac = login(app.test_client(), db.session.get(Workshop, other_id).owner_id)
    watcher = socket_for(fac, other_code)
    pushes(watcher)
    save(room.claire, room.code, wants_mecenat="Mécénat de compétences")
    assert pushes(watcher) == []


def test_the_history_page_is_for_facilitators_and_shows_every_year(app, room, make_diag_workshop, join_as):
    save(room.claire, room.code, wants_mecenat="Mécénat de compétences en 2025")
    _id, code_2026 = make_diag_workshop(year=2026)
    save(join_as(code_2026, "Claire Martin", BOULANGERIE, "company"), code_2026,
         wants_mecenat="Mécénat de compétences en 2026")
    url = f"/organisations/{_org_id(app)}/diagnostics"
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    as_participant = room.claire.get(url)
    assert as_participant.status_code in (302, 403) and "2025" not in as_participant.get_data(as_text=True)
    page = room.fac.get(url).get_data(as_text=True)
    assert "Diagnostics de Boulangerie Lyonnaise" in page
    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    assert re.findall(r"<th scope=\"col\">(\d{4})</th>", head) == ["2025", "2026"]
    assert page.index("Mécénat de compétences en 2025") < page.index("Mécénat de compétences en 2026")
    assert room.fac.get("/organisations/999999/diagnostics").status_code == 404


def test_other_templates_show_no_diagnostic(app, make_diag_workshop, join_as, login):
    workshop_id, code = make_diag_workshop(template="practice_exchange")
    claire = join_as(code, "Claire Martin", BOULANGERIE, "company")
    assert 'id="diagnostic"' not in claire.get(f"/w/{code}").get_data(as_text=True)
    resp = save(claire, code, wants_mecenat="Ici ?")
    assert resp.status_code == 409
    with app.app_context():
        fac = login(app.test_client(), db.session.get(Workshop, workshop_id).owner_id)
        assert db.session.scalar(db.select(db.func.count(Diagnostic.id))) == 0
    assert "Diagnostics des entreprises" not in fac.get(f"/workshops/{workshop_id}").get_data(as_text=True)


def test_without_javascript_saving_redirects_to_the_page(app, room):
    resp = room.claire.post(f"/w/{room.code}/diagnostic", data=blank(wants_practices="Accueillir des stagiaires"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{room.code}#diagnostic")
    assert rows(app)[2025][1] == {"practices": "Accueillir des stagiaires"}
    page = room.claire.get(f"/w/{room.code}/diagnostic")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    fragment = room.claire.get(f"/w/{room.code}/diagnostic", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and 'id="diagnostic"' in fragment
