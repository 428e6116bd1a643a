"""The board: posting, qualifying with Le Rameau's grid, editing, moderation, clusters."""
import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Card, Cluster, Workshop
from conftest import post_card


def _cards(app, code):
    with app.app_context():
        w = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        return [{"id": c.id, "text": c.text, "kind": c.kind, "category": c.category, "subtype": c.subtype,
                 "direction": c.direction, "link_status": c.link_status, "hidden": c.hidden,
                 "partner": c.partner.name if c.partner else None, "cluster": c.cluster.name if c.cluster else None,
                 "author": c.author.display_name if c.author else None}
                for c in db.session.scalars(db.select(Card).filter_by(workshop_id=w.id).order_by(Card.id))]


@pytest.fixture
def live(app, make_facilitator, make_workshop, join_as, login, workshop_of):
    fac = make_facilitator()
    code = make_workshop(owner_id=fac)
    return {"code": code, "id": workshop_of(code).id, "participant": join_as(code),
            "fac": login(app.test_client(), fac)}


def test_post_a_qualified_link(app, live):
    resp = post_card(live["participant"], live["code"], kind="link", text="Stages d'immersion pour nos salariés",
                     partner="Groupe Ainvest", category="economic", subtype="parcours d'insertion",
                     direction="company_to_association", link_status="active")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Carte publiée." in html and 'id="composer"' in html and "<html" not in html
    board = live["participant"].get(f"/w/{live['code']}/r/board").get_data(as_text=True)
    assert "Coopération économique · parcours d&#39;insertion" in board
    assert _cards(app, live["code"]) == [{
        "id": 1, "text": "Stages d'immersion pour nos salariés", "kind": "link", "category": "economic",
        "subtype": "parcours d'insertion", "direction": "company_to_association", "link_status": "active",
        "hidden": False, "partner": "Groupe Ainvest", "cluster": None, "author": "Nadia Haddad"}]


@pytest.mark.parametrize("fields,error", [
    ({"text": ""}, "Écrivez quelques mots."),
    ({"text": "   "}, "Écrivez quelques mots."),
    ({"text": "x" * 501}, "500 caractères au plus."),
    ({"kind": "rumour"}, "choix valide"),
    ({"category": "charity"}, "choix valide"),
    ({"direction": "sideways"}, "choix valide"),
    ({"partner": "p" * 161}, "160"),
])
def test_bad_card_input_is_refused_and_nothing_is_written(app, live, fields, error):
    resp = post_card(live["participant"], live["code"], **fields)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert error in html and "<html" not in html
    assert _cards(app, live["code"]) == []


def test_text_at_the_limit_is_accepted(app, live):
    assert post_card(live["participant"], live["code"], text="é" * 500).status_code == 200


def test_author_edits_and_deletes_own_card(app, live):
    post_card(live["participant"], live["code"], text="Première version")
    card_id = _cards(app, live["code"])[0]["id"]
    form = live["participant"].get(f"/w/{live['code']}/cards/{card_id}/edit", htmx=True).get_data(as_text=True)
    assert "Première version" in form and "Modifier la carte" in form
    resp = live["participant"].post(f"/w/{live['code']}/cards/{card_id}", htmx=True,
                                    data={"kind": "wish", "text": "Seconde version", "category": "mecenat",
                                          "subtype": "en nature"})
    assert resp.status_code == 200 and "Carte modifiée." in resp.get_data(as_text=True)
    card = _cards(app, live["code"])[0]
    assert (card["text"], card["kind"], card["category"], card["subtype"]) == ("Seconde version", "wish", "mecenat", "en nature")
    resp = live["participant"].post(f"/w/{live['code']}/cards/{card_id}/delete", htmx=True)
    assert resp.status_code == 200 and _cards(app, live["code"]) == []


def test_editing_a_link_card_keeps_its_partner(app, live):
    """The edit form shows the partner's name (not the Organisation object), so saving the
    form unchanged keeps the link with the same partner."""
    post_card(live["participant"], live["code"], kind="link", text="Mécénat de compétences",
              partner="Boulangeries Moreau")
    card_id = _cards(app, live["code"])[0]["id"]
    form = live["participant"].get(f"/w/{live['code']}/cards/{card_id}/edit", htmx=True).get_data(as_text=True)
    assert 'value="Boulangeries Moreau"' in form and "Organisation" not in form
    resp = live["participant"].post(f"/w/{live['code']}/cards/{card_id}", htmx=True,
                                    data={"kind": "link", "text": "Mécénat de compétences, depuis 2022",
                                          "partner": "Boulangeries Moreau"})
    assert resp.status_code == 200
    assert _cards(app, live["code"])[0]["partner"] == "Boulangeries Moreau"


def test_a_json_body_is_refused_before_any_write(app, live):
    """Found by the fuzzing: deleting a cluster with a broken JSON body deleted it, then failed
    with a 400 while building the blank form. A JSON body is refused before the view runs."""
    assert live["fac"].post(f"/w/{live['code']}/clusters", data={"name": "Emploi"}, htmx=True).status_code == 200
    with app.app_context():
        from aeh_workshop.models import Cluster
        cluster_id = db.session.scalar(db.select(Cluster.id))
    resp = live["fac"].post(f"/w/{live['code']}/clusters/{cluster_id}/delete", data=b"text=%ZZ",
                            content_type="application/json", htmx=True)
    assert resp.status_code == 415 and "Seuls les formulaires" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Cluster, cluster_id) is not None


def test_facilitator_edits_any_card(app, live):
    post_card(live["participant"], live["code"], text="Avec une faute d'ortografe")
    card_id = _cards(app, live["code"])[0]["id"]
    resp = live["fac"].post(f"/w/{live['code']}/cards/{card_id}", htmx=True,
                            data={"kind": "practice", "text": "Avec une faute d'orthographe corrigée"})
    assert resp.status_code == 200 and "Carte modifiée." in resp.get_data(as_text=True)
    assert _cards(app, live["code"])[0]["text"] == "Avec une faute d'orthographe corrigée"
    assert _cards(app, live["code"])[0]["author"] == "Nadia Haddad"


def test_facilitator_can_post_in_the_room_name(app, live):
    assert post_card(live["fac"], live["code"], text="Témoignage recueilli à l'oral").status_code == 200
    assert _cards(app, live["code"])[0]["author"] is None


def test_hidden_cards_vanish_for_participants_and_projector_until_restored(app, live):
    post_card(live["participant"], live["code"], text="Propos à modérer")
    card_id = _cards(app, live["code"])[0]["id"]
    resp = live["fac"].post(f"/w/{live['code']}/cards/{card_id}/hide", htmx=True)
    assert "is-hidden" in resp.get_data(as_text=True) and "Rétablir" in resp.get_data(as_text=True)
    assert _cards(app, live["code"])[0]["hidden"] is True
    assert "Propos à modérer" not in live["participant"].get(f"/w/{live['code']}").get_data(as_text=True)
    assert "Propos à modérer" not in live["fac"].get(f"/w/{live['code']}/screen").get_data(as_text=True)
    assert "Propos à modérer" in live["fac"].get(f"/workshops/{live['id']}").get_data(as_text=True)
    live["fac"].post(f"/w/{live['code']}/cards/{card_id}/restore", htmx=True)
    assert "Propos à modérer" in live["participant"].get(f"/w/{live['code']}").get_data(as_text=True)


def test_clusters_group_cards(app, live):
    post_card(live["participant"], live["code"], text="Don de mobilier")
    post_card(live["participant"], live["code"], text="Recrutement de salariés")
    first, second = (c["id"] for c in _cards(app, live["code"]))
    resp = live["fac"].post(f"/w/{live['code']}/clusters", data={"name": "Mécénat en nature"}, htmx=True)
    assert resp.status_code == 200 and "Mécénat en nature" in resp.get_data(as_text=True)
    with app.app_context():
        cluster_id = db.session.scalar(db.select(Cluster.id))
    resp = live["fac"].post(f"/w/{live['code']}/cards/{first}/cluster", data={"cluster": str(cluster_id)}, htmx=True)
    assert resp.status_code == 200
    assert [c["cluster"] for c in _cards(app, live["code"])] == ["Mécénat en nature", None]
    board = live["participant"].get(f"/w/{live['code']}/r/board").get_data(as_text=True)
    assert board.index("Mécénat en nature") < board.index("Don de mobilier") < board.index("Sans regroupement") \
        < board.index("Recrutement de salariés")
    # Same name twice is refused; deleting a cluster keeps its cards.
    assert live["fac"].post(f"/w/{live['code']}/clusters", data={"name": "mécénat EN nature"}, htmx=True).status_code == 422
    live["fac"].post(f"/w/{live['code']}/clusters/{cluster_id}/delete", htmx=True)
    assert [c["cluster"] for c in _cards(app, live["code"])] == [None, None]


def test_cluster_of_another_workshop_is_refused(app, live, make_workshop, make_facilitator, login, workshop_of):
    post_card(live["participant"], live["code"], text="Carte")
    card_id = _cards(app, live["code"])[0]["id"]
    with app.app_context():
        other = db.session.get(Workshop, workshop_of(make_workshop()).id)
        cluster = Cluster(workshop=other, name="Ailleurs")
        db.session.add(cluster)
        db.session.commit()
        cluster_id = cluster.id
    resp = live["fac"].post(f"/w/{live['code']}/cards/{card_id}/cluster", data={"cluster": str(cluster_id)}, htmx=True)
    assert resp.status_code == 422 and "Regroupement inconnu" in resp.get_data(as_text=True)
    assert _cards(app, live["code"])[0]["cluster"] is None


@pytest.mark.parametrize("status,message", [("draft", "pas encore commencé"), ("closed", "L&#39;atelier est clos")])
def test_board_is_read_only_outside_a_live_workshop(app, make_workshop, join_as, status, message):
    code = make_workshop(status="live")
    participant = join_as(code)
    post_card(participant, code, text="Avant")
    with app.app_context():
        w = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        w.status = status
        db.session.commit()
    resp = post_card(participant, code, text="Pendant")
    assert resp.status_code == 409 and message in resp.get_data(as_text=True)
    card_id = _cards(app, code)[0]["id"]
    assert participant.post(f"/w/{code}/cards/{card_id}/delete", htmx=True).status_code == 409
    assert [c["text"] for c in _cards(app, code)] == ["Avant"]


def test_board_groups_by_kind_before_clusters_exist(app, live):
    for kind, text in [("wish", "Une envie"), ("practice", "Une pratique"), ("idea", "Une idée"), ("link", "Un lien")]:
        post_card(live["participant"], live["code"], kind=kind, text=text)
    board = live["participant"].get(f"/w/{live['code']}/r/board").get_data(as_text=True)
    assert board.index("Une pratique") < board.index("Un lien") < board.index("Une envie") < board.index("Une idée")


def test_only_own_cards_offer_edit_buttons(app, live, join_as):
    post_card(live["participant"], live["code"], text="La mienne")
    mine = _cards(app, live["code"])[0]["id"]
    other = join_as(live["code"], name="Sophie")
    html = live["participant"].get(f"/w/{live['code']}").get_data(as_text=True)
    # The pushed board is the same for all; this viewer's own style reveals their buttons.
    assert '.card[data-author="1"] .own { display: flex; }' in html
    assert f'data-author="1"' in html and f"/cards/{mine}/edit" in html
    assert '.card[data-author="2"]' in other.get(f"/w/{live['code']}").get_data(as_text=True)


class TestWithoutJavaScript:
    """The composer is a real form: it works as a plain post and a plain link too."""

    def test_plain_post_redirects_back_with_a_message(self, app, live):
        resp = live["participant"].post(f"/w/{live['code']}/cards", data={"kind": "idea", "text": "Sans JS"})
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{live['code']}")
        assert "Carte publiée." in live["participant"].get(f"/w/{live['code']}").get_data(as_text=True)

    def test_plain_invalid_post_gets_a_whole_page(self, app, live):
        resp = live["participant"].post(f"/w/{live['code']}/cards", data={"kind": "idea", "text": ""})
        assert resp.status_code == 422 and "<html" in resp.get_data(as_text=True)

    def test_edit_link_is_page_or_fragment(self, app, live):
        post_card(live["participant"], live["code"], text="À modifier")
        url = f"/w/{live['code']}/cards/{_cards(app, live['code'])[0]['id']}/edit"
        page = live["participant"].get(url)
        fragment = live["participant"].get(url, htmx=True)
        assert "<html" in page.get_data(as_text=True) and "À modifier" in page.get_data(as_text=True)
        assert "<html" not in fragment.get_data(as_text=True) and "À modifier" in fragment.get_data(as_text=True)
        assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
        boosted = live["participant"].get(url, headers={"HX-Request": "true", "HX-Boosted": "true"})
        assert "<html" in boosted.get_data(as_text=True)
        restore = live["participant"].get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
        assert "<html" in restore.get_data(as_text=True)


def test_a_closed_workshop_refuses_moderation_and_clusters(app, live, workshop_of):
    post_card(live["participant"], live["code"], text="Figée")
    with app.app_context():
        w = db.session.get(Workshop, live["id"])
        w.status = "closed"
        db.session.commit()
    assert live["fac"].post(f"/w/{live['code']}/cards/1/hide", htmx=True).status_code == 409
    assert live["fac"].post(f"/w/{live['code']}/clusters", data={"name": "Tardif"}, htmx=True).status_code == 422
    assert _cards(app, live["code"])[0]["hidden"] is False
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Cluster.id))) == 0
