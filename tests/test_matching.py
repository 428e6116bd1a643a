"""Matching company wishes (their diagnostics) with the associations' joint offers."""
import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook

from aeh_workshop.extensions import db
from aeh_workshop.models import (Diagnostic, Facilitator, JointOffer, OfferSection, Organisation, Participant,
                                 Workshop)

OFFER_BOURG = "Parcours d'insertion « Cœur de Bresse »"
OFFER_INNOVATION = "Laboratoire d'innovation sociale"
OFFER_LYON = "Mécénat de compétences lyonnais"


def organisation(name, kind, territory=None):
    org = Organisation(name=name, key=name.casefold(), kind=kind, territory=territory)
    db.session.add(org)
    db.session.flush()
    return org


def offer(workshop, title, asks, territory="", brings=()):
    o = JointOffer(workshop_id=workshop.id)
    o.sections = [OfferSection(key="title", text=title)]
    o.sections += [OfferSection(key=f"ask:{c}", text=f"Ce que nous demandons : {c}") for c in asks]
    if territory:
        o.sections.append(OfferSection(key="territory", text=territory))
    o.sections += [OfferSection(key=f"brings:{org.id}", text="Notre savoir-faire") for org in brings]
    db.session.add(o)
    return o


@pytest.fixture
def world(app, make_facilitator, login):
    """A company wanting mécénat and economic cooperation in Bourg-en-Bresse, three offers."""
    fac_id = make_facilitator("anim-rencontre@example.org")
    with app.app_context():
        owner = db.session.get(Facilitator, fac_id)
        offers_ws = Workshop(title="Offre commune des associations", template="joint_offer", join_code="OFFRE22",
                             screen_token="s-offres", owner=owner, status="closed")
        db.session.add(offers_ws)
        db.session.flush()
        tremplin = organisation("Tremplin Emploi Ain", "association")
        jardins = organisation("Les Jardins de Cocagne", "association")
        labo = organisation("=HYPERLIEN(\"http://x\")", "association")    # a name a spreadsheet would run
        company = organisation("Boulangerie Lyonnaise", "company", territory="Lyon 7e")
        db.session.add(Diagnostic(organisation_id=company.id, year=2026, territory="Bourg-en-Bresse (Ain)",
                                  does={"practices": "Accueil de stagiaires"},
                                  wants={"mecenat": "Dons d'invendus", "economic": "Acheter à un ESAT"}))
        offer(offers_ws, OFFER_LYON, ["mecenat"], "Lyon", brings=[jardins])
        offer(offers_ws, OFFER_INNOVATION, ["innovation"], "Bourg-en-Bresse", brings=[labo])
        offer(offers_ws, OFFER_BOURG, ["mecenat", "economic"], "bourg en bresse", brings=[tremplin, jardins])
        offer(offers_ws, "", ["mecenat", "economic"], "Bourg-en-Bresse")          # untitled: not proposed
        db.session.commit()
        ids = {"company": company.id, "workshop": offers_ws.id}
    return {"fac": login(app.test_client(), fac_id), **ids}


def test_matching_ranks_the_obvious_pair_first(app, world):
    from aeh_workshop.diagnostics import matching
    with app.app_context(), app.test_request_context():
        pairs = matching.pairs()
        titles = [p.offer.title for p in pairs]
        assert titles == [OFFER_BOURG, OFFER_LYON]                  # the innovation-only offer is absent
        best, other = pairs
        assert best.shared == ("mecenat", "economic") and best.territory == "same"
        assert other.shared == ("mecenat",) and other.territory == "other"
        assert best.score > other.score
        assert best.offer.associations == ("Les Jardins de Cocagne", "Tremplin Emploi Ain")
        assert any("Même territoire" in r for r in best.reasons)


def test_an_offer_without_territory_is_neutral(app, world):
    from aeh_workshop.diagnostics import matching
    assert matching.compare_territories("Bourg-en-Bresse", "") == "unknown"
    assert matching.compare_territories("BOURG EN BRESSE", "Bourg-en-Bresse") == "same"
    assert matching.compare_territories("Vénissieux", "venissieux et alentours") == "same"
    assert matching.compare_territories("Lyon", "Bourg-en-Bresse") == "other"
    with app.app_context():
        w = db.session.get(Workshop, world["workshop"])
        offer(w, "Sans territoire", ["mecenat"])
        db.session.commit()
    with app.app_context(), app.test_request_context():
        titles = [p.offer.title for p in matching.pairs()]
    # Same categories as the Lyon offer, no known territory: ranked above a different territory.
    assert titles == [OFFER_BOURG, "Sans territoire", OFFER_LYON]


def test_the_matching_page_ranks_per_company(app, world):
    page = world["fac"].get("/matching")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Boulangerie Lyonnaise" in html
    bourg = html.index("Parcours d&#39;insertion « Cœur de Bresse »")
    assert bourg < html.index("Mécénat de compétences lyonnais")
    assert OFFER_INNOVATION not in html
    assert 'href="/matching.xlsx"' in html and 'href="/matching.csv"' in html


def test_the_matching_page_is_for_facilitators(app, world):
    resp = app.test_client().get("/matching")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert app.test_client().get("/matching.csv").status_code == 302


def test_the_csv_download_contains_the_pairs_and_runs_no_formula(app, world):
    resp = world["fac"].get("/matching.csv")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    header, first = rows[0], dict(zip(rows[0], rows[1]))
    assert header[:5] == ["Entreprise", "Envies (diagnostic)", "Année du diagnostic", "Territoire de l'entreprise",
                          "Offre commune"]
    assert first["Entreprise"] == "Boulangerie Lyonnaise" and first["Offre commune"] == OFFER_BOURG
    assert first["Catégories en commun"] == "Mécénat, Coopération économique"
    assert first["Associations"] == "Les Jardins de Cocagne, Tremplin Emploi Ain"
    assert [r[4] for r in rows[1:]] == [OFFER_BOURG, OFFER_LYON]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_xlsx_download_in_english(app, world):
    resp = world["fac"].get("/matching.xlsx?lang=en")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values[0]
    assert header[0] == "Company" and "Joint offer" in header and "Score" in header
    first = dict(zip(header, values[1]))
    assert first["Company"] == "Boulangerie Lyonnaise" and first["Joint offer"] == OFFER_BOURG
    assert isinstance(first["Score"], int) and first["Score"] > dict(zip(header, values[2]))["Score"]
    assert len(values) == 3


def test_a_formula_in_a_name_is_neutralised(app, world):
    """The company now wants only innovation: the one offer proposed is brought by an
    association whose name starts with "="."""
    with app.app_context():
        diagnostic = db.session.scalar(db.select(Diagnostic).filter_by(organisation_id=world["company"]))
        diagnostic.wants = {"innovation": "Une expérimentation"}
        db.session.commit()
    rows = list(csv.reader(io.StringIO(world["fac"].get("/matching.csv").get_data().decode("utf-8-sig"))))
    assert [r[4] for r in rows[1:]] == [OFFER_INNOVATION]
    assert rows[1][5] == "'=HYPERLIEN(\"http://x\")"
    sheet = load_workbook(io.BytesIO(world["fac"].get("/matching.xlsx").get_data())).active
    assert sheet.cell(row=2, column=6).value == "'=HYPERLIEN(\"http://x\")"


def test_the_year_filter_and_a_meetup_restrict_companies(app, world, make_facilitator, login):
    with app.app_context():
        garage = organisation("Garage du Centre", "company")
        db.session.add(Diagnostic(organisation_id=garage.id, year=2025, wants={"mecenat": "Prêter des véhicules"}))
        owner = db.session.get(Facilitator, db.session.get(Workshop, world["workshop"]).owner_id)
        meetup = Workshop(title="Rencontre", template="meetup", join_code="RENCON2", screen_token="s-rencontre",
                          owner=owner, status="live", created_at=datetime(2026, 5, 1))
        db.session.add(meetup)
        db.session.flush()
        db.session.add(Participant(workshop_id=meetup.id, display_name="Léa", organisation_id=garage.id,
                                   kind="company", pin_hash="x"))
        db.session.commit()
        meetup_id = meetup.id
    fac = world["fac"]
    assert "Garage du Centre" in fac.get("/matching").get_data(as_text=True)
    only_2026 = fac.get("/matching?year=2026").get_data(as_text=True)
    assert "Garage du Centre" not in only_2026 and "Boulangerie Lyonnaise" in only_2026
    in_meetup = fac.get(f"/matching?workshop={meetup_id}").get_data(as_text=True)
    assert "Garage du Centre" in in_meetup and "Boulangerie Lyonnaise" not in in_meetup
    for bad in ("year=1999", "year=abc", "workshop=abc", "workshop=0"):
        resp = fac.get(f"/matching?{bad}")
        assert resp.status_code == 422 and 'class="error"' in resp.get_data(as_text=True), bad
    assert fac.get("/matching?workshop=999999").status_code == 404
    # The meetup's control room links to it.
    control = fac.get(f"/workshops/{meetup_id}").get_data(as_text=True)
    assert re.search(rf'href="/matching\?workshop={meetup_id}"', control)
    # Another facilitator cannot list that workshop's companies.
    stranger = login(app.test_client(), make_facilitator("autre@example.org"))
    assert stranger.get(f"/matching?workshop={meetup_id}").status_code == 403
