"""Action plans through HTTP: participants propose, facilitators validate, edit and follow them.

Each test drives the app as its users do (participant page, control room,
projector, pushes) and checks what they see and what the `action` table holds.
"""
import html
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Action, Card, JointOffer, OfferSection, Participant, Priority, Workshop
from aeh_workshop.outcomes import service as outcomes
from conftest import pushes

TITLE = "Présenter l'offre commune au club d'entreprises de Bourg"


# ----------------------------------------------------------------- helpers

def _page(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _text(page: str) -> str:
    """What a reader sees: the page without its tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _section(page: str, region: str) -> str:
    """One region's HTML out of a page."""
    found = re.search(rf'<section id="{region}".*?</section>', page, re.S)
    assert found, f"no #{region} in the page"
    return found.group(0)


def _pushed(socket) -> list[str]:
    """The HTML of the pushes a socket received, entities decoded."""
    return [html.unescape(m["html"]) for m in pushes(socket)]


def _errors(resp) -> list[str]:
    return [" ".join(e.split()) for e in re.findall(r'<small class="error"[^>]*>(.*?)</small>', _page(resp), re.S)]


@dataclass
class Links:
    card: int
    hidden_card: int
    priority: int
    offer: int


@dataclass
class Plan:
    """A live workshop with a card, a priority and an offer; its facilitator logged in."""
    app: object
    code: str
    workshop_id: int
    fac: object
    join_as: object
    links: Links
    other: Links                     # another workshop's card, priority and offer
    other_code: str
    people: dict = field(default_factory=dict)

    def join(self, name="Nadia Haddad", organisation="Tremplin Emploi Ain", kind="association"):
        client = self.join_as(self.code, name=name, organisation=organisation, kind=kind)
        self.people[name] = client
        return client

    # -- participants
    def propose(self, client, htmx=True, **fields):
        data = {"title": TITLE, "owner": "", "owner_name": "", "owner_org": "", "due_on": "", "step": "",
                "card": "", "priority": "", "offer": ""}
        data.update(fields)
        return client.post(f"/w/{self.code}/actions", data=data, htmx=htmx)

    # -- facilitators
    def fac_url(self, path=""):
        return f"/workshops/{self.workshop_id}/actions{path}"

    def create(self, client=None, htmx=True, **fields):
        data = {"title": TITLE, "owner": "", "owner_name": "", "owner_org": "", "due_on": "", "step": "",
                "status": "todo", "card": "", "priority": "", "offer": ""}
        data.update(fields)
        return (client or self.fac).post(self.fac_url(), data=data, htmx=htmx)

    def update(self, action_id, client=None, **fields):
        data = {"title": TITLE, "owner": "", "owner_name": "", "owner_org": "", "due_on": "", "step": "",
                "status": "todo", "card": "", "priority": "", "offer": ""}
        data.update(fields)
        return (client or self.fac).post(self.fac_url(f"/{action_id}"), data=data, htmx=True)

    def validate(self, action_id, client=None):
        return (client or self.fac).post(self.fac_url(f"/{action_id}/validate"), htmx=True)

    def region(self, client, name):
        return _page(client.get(f"/w/{self.code}/r/{name}"))

    def set_phase(self, phase):
        resp = self.fac.post(f"/workshops/{self.workshop_id}/phase", data={"phase": phase}, htmx=True)
        assert resp.status_code == 200, resp.get_data(as_text=True)

    # -- what the database holds
    def actions(self) -> list[dict]:
        with self.app.app_context():
            return [{"id": a.id, "title": a.title, "owner": a.owner.display_name if a.owner else None,
                     "owner_name": a.owner_name, "owner_org": a.owner_org, "due_on": a.due_on,
                     "status": a.status, "step": a.step, "card": a.card_id, "priority": a.priority_id,
                     "offer": a.offer_id, "validated": a.validated,
                     "proposed_by": a.proposed_by.display_name if a.proposed_by else None}
                    for a in db.session.scalars(db.select(Action).filter_by(workshop_id=self.workshop_id)
                                                .order_by(Action.id))]

    def only(self) -> dict:
        rows = self.actions()
        assert len(rows) == 1, rows
        return rows[0]

    def participant_id(self, name) -> int:
        with self.app.app_context():
            return db.session.scalar(db.select(Participant.id).filter_by(workshop_id=self.workshop_id,
                                                                         display_name=name))


def _furnish(workshop_id: int, tag: str) -> Links:
    """A visible card, a hidden one, a priority and an offer in that workshop."""
    card = Card(workshop_id=workshop_id, kind="idea", text=f"Tutorat de jeunes en insertion {tag}")
    hidden = Card(workshop_id=workshop_id, kind="idea", text=f"Carte masquée {tag}", hidden=True)
    db.session.add_all([card, hidden])
    db.session.flush()
    priority = Priority(workshop_id=workshop_id, card_id=card.id, title=card.text, rank=1, dots=4)
    offer = JointOffer(workshop_id=workshop_id, sections=[OfferSection(key="title", text=f"Offre Cœur de Dombes {tag}")])
    db.session.add_all([priority, offer])
    db.session.flush()
    return Links(card.id, hidden.id, priority.id, offer.id)


@pytest.fixture
def plan(app, make_facilitator, make_workshop, login, join_as):
    fac_id = make_facilitator()
    code = make_workshop(owner_id=fac_id)
    other_code = make_workshop()
    with app.app_context():
        workshop = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        other = db.session.scalar(db.select(Workshop).filter_by(join_code=other_code))
        links, other_links = _furnish(workshop.id, "ici"), _furnish(other.id, "ailleurs")
        db.session.commit()
        workshop_id = workshop.id
    return Plan(app, code, workshop_id, login(app.test_client(), fac_id), join_as, links, other_links, other_code)


# ------------------------------------------------------- propose, validate

def test_a_participant_proposal_awaits_validation(plan):
    nadia = plan.join()
    resp = plan.propose(nadia, owner="me", due_on="2027-01-15", step="prepare")
    assert resp.status_code == 200
    assert "Proposition envoyée" in _page(resp)
    assert 'id="action-form"' in _page(resp)    # a fresh form comes back, ready for the next one
    row = plan.only()
    assert row["validated"] is False and row["proposed_by"] == "Nadia Haddad" and row["owner"] == "Nadia Haddad"
    assert row["due_on"] == date(2027, 1, 15) and row["step"] == "prepare"
    # Facilitators see it to validate; it is not in the validated plan.
    ctl = plan.region(plan.fac, "actionsctl")
    assert "Propositions des participant·es" in ctl and TITLE in ctl and "/validate" in ctl
    assert "action-table" not in ctl
    # Everyone sees it marked as a proposal, apart from the plan.
    mine = plan.region(nadia, "actions")
    assert "Aucune action n'est encore validée." in mine
    proposal = re.search(r'<ol class="action-list proposals">.*?</ol>', mine, re.S).group(0)
    assert "proposition" in proposal and TITLE in proposal
    # Never on the projector.
    plan.set_phase("build")
    assert TITLE not in plan.region(plan.fac, "screenactions")


def test_validating_puts_the_proposal_in_the_plan(plan):
    nadia = plan.join()
    plan.propose(nadia)
    resp = plan.validate(plan.only()["id"])
    assert resp.status_code == 200
    assert plan.only()["validated"] is True
    table = re.search(r'<table class="action-table">.*?</table>', _page(resp), re.S).group(0)
    assert TITLE in table
    assert "Propositions des participant·es" not in _page(resp)
    everyone = plan.region(nadia, "actions")
    assert TITLE in everyone and "Propositions en attente" not in everyone


def test_a_facilitators_action_goes_straight_into_the_plan(plan):
    resp = plan.create(title="Visiter les Jardins de Cocagne", owner_name="Hélène Besson",
                       owner_org="Imprimerie Bourg Graphic", owner="other")
    assert resp.status_code == 200 and "Action ajoutée au plan." in _page(resp)
    row = plan.only()
    assert row["validated"] is True and row["proposed_by"] is None
    assert (row["owner"], row["owner_name"], row["owner_org"]) == (None, "Hélène Besson", "Imprimerie Bourg Graphic")
    assert "Hélène Besson · Imprimerie Bourg Graphic" in _text(plan.region(plan.fac, "actionsctl"))


def test_validation_is_pushed_to_participants_facilitators_and_projector(plan, socket_for, join_as):
    nadia = plan.join()
    plan.propose(nadia)
    plan.set_phase("build")
    watcher = socket_for(plan.join("Paul Girard", "Groupe Ainvest", "company"), plan.code)
    fac = socket_for(plan.fac, plan.code)
    stranger = socket_for(join_as(plan.other_code, name="Zoé Autre"), plan.other_code)
    for s in (watcher, fac, stranger):
        s.get_received()
    plan.validate(plan.only()["id"])
    seen = _pushed(watcher)
    assert any('id="actions"' in h and TITLE in h and "Propositions en attente" not in h for h in seen)
    assert all('id="actionsctl"' not in h for h in seen)     # facilitators' controls stay theirs
    fac_seen = _pushed(fac)
    assert any('id="actionsctl"' in h and "action-table" in h for h in fac_seen)
    assert any('id="screenactions"' in h and TITLE in h for h in fac_seen)
    assert pushes(stranger) == []


def test_pushed_regions_are_the_same_for_every_viewer_and_carry_no_csrf_field(plan, socket_for):
    nadia, paul = plan.join(), plan.join("Paul Girard", "Groupe Ainvest", "company")
    plan.propose(nadia, owner="me")
    assert plan.region(nadia, "actions") == plan.region(paul, "actions")
    fac = socket_for(plan.fac, plan.code)
    fac.get_received()
    plan.validate(plan.only()["id"])
    regions = _pushed(fac)
    assert regions and all('name="csrf_token"' not in h for h in regions)


# ------------------------------------------------------------------- edits

def test_the_facilitator_edits_every_field(plan):
    nadia = plan.join()
    plan.create()
    action_id = plan.only()["id"]
    nadia_id = plan.participant_id("Nadia Haddad")
    # The edit form comes filled in, into the form's place.
    form = _page(plan.fac.get(plan.fac_url(f"/{action_id}/edit"), htmx=True))
    assert form.startswith('<form id="action-form"') and f'value="{TITLE}"' in form
    resp = plan.update(action_id, title="Organiser une visite des Jardins", owner=str(nadia_id),
                       due_on="2027-03-01", step="contract", status="doing", card=plan.links.card,
                       priority=plan.links.priority, offer=plan.links.offer)
    assert resp.status_code == 200 and "Action modifiée." in _page(resp)
    row = plan.only()
    assert row == {**row, "title": "Organiser une visite des Jardins", "owner": "Nadia Haddad", "owner_name": "",
                   "due_on": date(2027, 3, 1), "step": "contract", "status": "doing", "card": plan.links.card,
                   "priority": plan.links.priority, "offer": plan.links.offer, "validated": True}
    shown = _text(plan.region(nadia, "actions"))
    assert "Organiser une visite des Jardins" in shown and "En cours" in shown and "Contractualiser" in shown
    assert "Priorité n° 1" in shown and "Offre commune : Offre Cœur de Dombes ici" in shown
    assert "1 mars 2027" in shown


@pytest.mark.parametrize("status, label", [("doing", "En cours"), ("done", "Fait"), ("todo", "À faire")])
def test_the_facilitator_changes_the_status(plan, status, label):
    plan.create(status="doing" if status == "todo" else "todo")
    action_id = plan.only()["id"]
    resp = plan.fac.post(plan.fac_url(f"/{action_id}/status"), data={"status": status}, htmx=True)
    assert resp.status_code == 200 and plan.only()["status"] == status
    assert re.search(rf'<option value="{status}" selected>{label}</option>', _page(resp))
    assert f'st-{status}"' in plan.region(plan.fac, "actions") and label in _text(plan.region(plan.fac, "actions"))


def test_an_unknown_status_is_refused(plan):
    plan.create()
    resp = plan.fac.post(plan.fac_url(f"/{plan.only()['id']}/status"), data={"status": "lost"}, htmx=True)
    assert resp.status_code == 422 and "Statut inconnu." in _page(resp)
    assert plan.only()["status"] == "todo"


def test_the_owner_updates_the_status_of_their_own_action(plan):
    nadia = plan.join()
    paul = plan.join("Paul Girard", "Groupe Ainvest", "company")
    plan.create(owner=str(plan.participant_id("Nadia Haddad")))
    action_id = plan.only()["id"]
    # The owner's status menu is in everyone's region, shown to the owner by the page's CSS.
    page = _page(nadia.get(f"/w/{plan.code}"))
    assert f'[data-owner="{plan.participant_id("Nadia Haddad")}"] .owner-ctl' in page
    assert f'id="my-status-{action_id}"' in page
    resp = nadia.post(f"/w/{plan.code}/actions/{action_id}/status", data={"status": "doing"}, htmx=True)
    assert resp.status_code == 200 and plan.only()["status"] == "doing"
    assert resp.get_data(as_text=True).startswith('<section id="actions"')
    # Someone else may not.
    assert paul.post(f"/w/{plan.code}/actions/{action_id}/status", data={"status": "done"},
                     htmx=True).status_code == 403
    assert plan.only()["status"] == "doing"


def test_an_owner_cannot_set_the_status_of_an_unvalidated_proposal(plan):
    nadia = plan.join()
    plan.propose(nadia, owner="me")
    resp = nadia.post(f"/w/{plan.code}/actions/{plan.only()['id']}/status", data={"status": "done"}, htmx=True)
    assert resp.status_code == 409 and "pas encore validée" in _page(resp)
    assert plan.only()["status"] == "todo"


def test_a_participant_edits_and_withdraws_their_own_proposal(plan):
    nadia = plan.join()
    plan.propose(nadia)
    action_id = plan.only()["id"]
    form = _page(nadia.get(f"/w/{plan.code}/actions/{action_id}/edit", htmx=True))
    assert "Modifier ma proposition" in form and f'value="{TITLE}"' in form
    resp = nadia.post(f"/w/{plan.code}/actions/{action_id}",
                      data={"title": "Visiter une entreprise d'insertion", "owner": "me", "due_on": "2027-05-02"},
                      htmx=True)
    assert resp.status_code == 200
    assert plan.only() == {**plan.only(), "title": "Visiter une entreprise d'insertion", "owner": "Nadia Haddad",
                           "due_on": date(2027, 5, 2), "validated": False}
    resp = nadia.post(f"/w/{plan.code}/actions/{action_id}/delete", htmx=True)
    assert resp.status_code == 200 and plan.actions() == []
    assert "Visiter une entreprise" not in _page(resp)


def test_a_validated_proposal_can_no_longer_be_changed_by_its_author(plan):
    nadia = plan.join()
    plan.propose(nadia)
    action_id = plan.only()["id"]
    plan.validate(action_id)
    resp = nadia.post(f"/w/{plan.code}/actions/{action_id}", data={"title": "Autre chose", "owner": ""}, htmx=True)
    assert resp.status_code == 409 and "seule l'animation" in _page(resp)
    assert 'value="Autre chose"' in _page(resp)    # what was typed stays in the form
    assert nadia.post(f"/w/{plan.code}/actions/{action_id}/delete", htmx=True).status_code == 409
    assert plan.only()["title"] == TITLE


def test_an_action_deleted_while_being_edited_keeps_what_was_typed(plan):
    plan.create()
    action_id = plan.only()["id"]
    assert plan.fac.post(plan.fac_url(f"/{action_id}/delete"), htmx=True).status_code == 200
    resp = plan.update(action_id, title="Mon texte soigneusement tapé")
    assert resp.status_code == 409 and "supprimée entre-temps" in _page(resp)
    assert 'value="Mon texte soigneusement tapé"' in _page(resp)
    assert f'action="{plan.fac_url()}"' in _page(resp)     # saving it again creates it anew
    assert plan.actions() == []


# ------------------------------------------------------------------ owners

def test_owner_is_the_participant_themselves(plan):
    nadia = plan.join()
    plan.propose(nadia, owner="me", owner_name="ignored", owner_org="ignored")
    row = plan.only()
    assert (row["owner"], row["owner_name"], row["owner_org"]) == ("Nadia Haddad", "", "")
    assert "Nadia Haddad · Tremplin Emploi Ain" in _text(plan.region(nadia, "actions"))


def test_owner_is_a_free_name_and_organisation(plan):
    nadia = plan.join()
    plan.propose(nadia, owner="other", owner_name="  Élodie   Marchand ", owner_org="Mairie de Bourg-en-Bresse")
    row = plan.only()
    assert (row["owner"], row["owner_name"], row["owner_org"]) == (None, "Élodie Marchand", "Mairie de Bourg-en-Bresse")
    assert "Élodie Marchand · Mairie de Bourg-en-Bresse" in _text(plan.region(nadia, "actions"))


def test_nobody_yet_leaves_the_owner_empty(plan):
    nadia = plan.join()
    plan.propose(nadia, owner="", owner_name="Quelqu'un")
    row = plan.only()
    assert (row["owner"], row["owner_name"]) == (None, "")
    assert "porteur·se à désigner" in plan.region(nadia, "actions")


def test_another_person_needs_a_name(plan):
    nadia = plan.join()
    resp = plan.propose(nadia, owner="other", owner_org="Mairie de Bourg-en-Bresse")
    assert resp.status_code == 422
    assert "Indiquez le nom de la personne qui porte l'action." in _errors(resp)
    assert 'value="Mairie de Bourg-en-Bresse"' in _page(resp)
    assert plan.actions() == []


def test_a_participant_cannot_name_another_participant_as_owner(plan):
    nadia = plan.join()
    plan.join("Paul Girard", "Groupe Ainvest", "company")
    resp = plan.propose(nadia, owner=str(plan.participant_id("Paul Girard")))
    assert resp.status_code == 422 and "Porteur·se inconnu·e." in _errors(resp)
    assert plan.actions() == []


def test_a_facilitator_cannot_name_another_workshops_participant(plan, join_as, app):
    join_as(plan.other_code, name="Zoé Autre")
    with app.app_context():
        zoe = db.session.scalar(db.select(Participant.id).filter_by(display_name="Zoé Autre"))
    resp = plan.create(owner=str(zoe))
    assert resp.status_code == 422 and "Porteur·se inconnu·e." in _errors(resp)
    assert plan.actions() == []


# --------------------------------------------------------------- due dates

@pytest.mark.parametrize("typed, stored", [("2027-01-15", date(2027, 1, 15)), ("15/01/2027", date(2027, 1, 15)),
                                           ("", None)], ids=["iso", "french", "none"])
def test_due_dates_are_read(plan, typed, stored):
    plan.create(due_on=typed)
    assert plan.only()["due_on"] == stored


@pytest.mark.parametrize("typed, message", [
    ("2027-02-30", "Date invalide"), ("demain", "Date invalide"), ("2027-13-01", "Date invalide"),
    ("1850-06-01", "Choisissez une date entre 2000 et 2100."), ("9999-12-31", "Choisissez une date entre 2000 et 2100."),
])
def test_bad_due_dates_are_refused_and_nothing_is_written(plan, typed, message):
    nadia = plan.join()
    resp = plan.propose(nadia, due_on=typed)
    assert resp.status_code == 422
    assert any(message in e for e in _errors(resp)), _errors(resp)
    assert f'value="{TITLE}"' in _page(resp)          # the rest of what was typed is kept
    assert plan.actions() == []


def test_the_due_date_is_a_date_input(plan):
    page = _page(plan.fac.get(f"/workshops/{plan.workshop_id}"))
    assert re.search(r'<input[^>]*id="due_on"[^>]*type="date"', page)


def test_a_past_due_date_is_allowed_and_shown_late_until_done(plan):
    past = (date.today() - timedelta(days=3)).isoformat()
    plan.create(due_on=past)
    action_id = plan.only()["id"]
    assert "en retard" in _text(plan.region(plan.fac, "actionsctl"))
    assert "en retard" in _text(plan.region(plan.fac, "actions"))
    plan.fac.post(plan.fac_url(f"/{action_id}/status"), data={"status": "done"}, htmx=True)
    assert "en retard" not in _text(plan.region(plan.fac, "actions"))


def test_the_plan_is_sorted_by_due_date(plan):
    for title, due in [("Sans date", ""), ("En mars", "2027-03-01"), ("En janvier", "2027-01-10")]:
        plan.create(title=title, due_on=due)
    shown = _text(plan.region(plan.fac, "actions"))
    assert shown.index("En janvier") < shown.index("En mars") < shown.index("Sans date")


# ------------------------------------------------------------------- links

@pytest.mark.parametrize("link", ["card", "priority", "offer"])
def test_links_to_another_workshop_are_refused(plan, link):
    nadia = plan.join()
    resp = plan.propose(nadia, **{link: getattr(plan.other, link)})
    assert resp.status_code == 422
    assert any("n'appartient pas à cet atelier" in e for e in _errors(resp)), _errors(resp)
    assert plan.actions() == []
    assert plan.create(**{link: getattr(plan.other, link)}).status_code == 422
    assert plan.actions() == []


@pytest.mark.parametrize("value", ["999999", str(10**20), "abc", "-3", "²", "٣"])
def test_unknown_link_ids_are_refused_not_a_500(plan, value):
    resp = plan.create(card=value, priority=value, offer=value)
    assert resp.status_code == 422 and plan.actions() == []


def test_a_hidden_card_cannot_be_linked(plan):
    nadia = plan.join()
    resp = plan.propose(nadia, card=plan.links.hidden_card)
    assert resp.status_code == 422
    assert any("masquée" in e for e in _errors(resp)) and plan.actions() == []
    # The form never offers it (the moderation board still shows it to facilitators).
    page = _page(plan.fac.get(f"/workshops/{plan.workshop_id}"))
    form = re.search(r'<form id="action-form".*?</form>', page, re.S).group(0)
    assert "Tutorat de jeunes en insertion ici" in form and "Carte masquée ici" not in form


def test_links_of_this_workshop_are_offered_and_shown(plan):
    nadia = plan.join()
    form = _page(nadia.get(f"/w/{plan.code}"))
    assert "Tutorat de jeunes en insertion ici" in form and "Offre Cœur de Dombes ici" in form
    assert "ailleurs" not in form
    plan.propose(nadia, offer=plan.links.offer, card=plan.links.card)
    assert "Offre commune : Offre Cœur de Dombes ici" in _text(plan.region(nadia, "actions"))


# ---------------------------------------------------------- bad input, who

@pytest.mark.parametrize("title, message", [("", "Donnez un titre à l'action."), ("   ", "Donnez un titre à l'action."),
                                            ("x" * 201, "200 caractères au plus.")])
def test_a_title_is_required_and_short(plan, title, message):
    nadia = plan.join()
    resp = plan.propose(nadia, title=title)
    assert resp.status_code == 422 and message in _errors(resp)
    assert plan.actions() == []


def test_a_participant_cannot_touch_someone_elses_proposal(plan):
    nadia = plan.join()
    paul = plan.join("Paul Girard", "Groupe Ainvest", "company")
    plan.propose(nadia)
    action_id = plan.only()["id"]
    assert paul.get(f"/w/{plan.code}/actions/{action_id}/edit", htmx=True).status_code == 403
    assert paul.post(f"/w/{plan.code}/actions/{action_id}", data={"title": "Piraté"}, htmx=True).status_code == 403
    assert paul.post(f"/w/{plan.code}/actions/{action_id}/delete", htmx=True).status_code == 403
    assert plan.only()["title"] == TITLE


def test_participants_cannot_validate_edit_or_delete_as_facilitators(plan):
    nadia = plan.join()
    plan.propose(nadia)
    action_id = plan.only()["id"]
    for path in (f"/{action_id}/validate", f"/{action_id}/delete", f"/{action_id}"):
        resp = nadia.post(plan.fac_url(path), data={"title": "Piraté", "status": "done"}, htmx=True)
        assert resp.status_code == 403
    assert plan.only() == {**plan.only(), "title": TITLE, "validated": False}


def test_another_facilitator_is_refused(plan, make_facilitator, login, app):
    plan.create()
    other = login(app.test_client(), make_facilitator("autre@example.org"))
    action_id = plan.only()["id"]
    assert other.post(plan.fac_url(f"/{action_id}/delete"), htmx=True).status_code == 403
    assert other.post(plan.fac_url(f"/{action_id}/status"), data={"status": "done"}, htmx=True).status_code == 403
    assert plan.create(client=other).status_code == 403
    assert plan.only()["status"] == "todo" and len(plan.actions()) == 1


def test_anonymous_visitors_are_refused(plan, app):
    stranger = app.test_client()
    assert plan.propose(stranger).status_code == 403
    assert stranger.get(f"/w/{plan.code}/r/actions").status_code == 403
    assert stranger.get(f"/w/{plan.code}/r/actionsctl").status_code == 403
    # Sent to log in: a redirect for a page, a 401 for htmx.
    resp = plan.create(client=stranger, htmx=False)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert plan.create(client=stranger).status_code == 401
    assert plan.actions() == []


def test_participants_see_no_controls_region(plan):
    nadia = plan.join()
    assert nadia.get(f"/w/{plan.code}/r/actionsctl").status_code == 403
    assert nadia.get(f"/w/{plan.code}/r/screenactions").status_code == 403


# ------------------------------------------------------------------ closed

def _close(plan):
    resp = plan.fac.post(f"/workshops/{plan.workshop_id}/status", data={"status": "closed"}, htmx=True)
    assert resp.status_code == 200, resp.get_data(as_text=True)


def test_a_closed_workshop_refuses_participants_proposals(plan):
    nadia = plan.join()
    _close(plan)
    resp = plan.propose(nadia)
    assert resp.status_code == 409 and "L'atelier est clos" in _page(resp)
    assert f'value="{TITLE}"' in _page(resp)
    assert plan.actions() == []


def test_a_draft_workshop_refuses_participants_proposals(plan, app):
    nadia = plan.join()
    with app.app_context():
        db.session.get(Workshop, plan.workshop_id).status = "draft"
        db.session.commit()
    resp = plan.propose(nadia)
    assert resp.status_code == 409 and "pas encore commencé" in _page(resp)
    assert plan.actions() == []


def test_an_edit_after_closing_makes_a_new_outcome_version(plan, app):
    plan.create()
    action_id = plan.only()["id"]
    _close(plan)

    def versions():
        with app.app_context():
            workshop = db.session.get(Workshop, plan.workshop_id)
            return [(o.version, [a["title"] for a in o.snapshot["actions"]]) for o in outcomes.versions(workshop)]
    assert versions() == [(1, [TITLE])]
    resp = plan.update(action_id, title="Titre revu après la clôture", status="done")
    assert resp.status_code == 200
    assert versions() == [(2, ["Titre revu après la clôture"]), (1, [TITLE])]
    # A status change, a validation and a deletion too; a change to nothing makes no version.
    plan.fac.post(plan.fac_url(f"/{action_id}/status"), data={"status": "doing"}, htmx=True)
    plan.fac.post(plan.fac_url(f"/{action_id}/status"), data={"status": "doing"}, htmx=True)
    assert [v for v, _ in versions()] == [3, 2, 1]


# ---------------------------------------------------------------- projector

def test_the_projector_shows_the_validated_plan_in_the_build_phase(plan):
    nadia = plan.join()
    plan.create(title="Action validée pour le mur", owner_name="Hélène Besson", owner_org="Imprimerie",
                owner="other", due_on="2027-01-15")
    plan.propose(nadia, title="Simple proposition")
    screen = _page(plan.fac.get(f"/w/{plan.code}/screen"))
    assert 'id="screenactions"' in screen and "Action validée pour le mur" not in screen   # collect phase
    plan.set_phase("build")
    screen = _section(_page(plan.fac.get(f"/w/{plan.code}/screen")), "screenactions")
    assert "active" in screen
    shown = _text(screen)
    assert "Action validée pour le mur" in shown and "Hélène Besson · Imprimerie" in shown
    assert "15 janv. 2027" in shown and "À faire" in shown
    assert "Simple proposition" not in shown


def test_the_phase_change_pushes_the_projectors_plan(plan, socket_for):
    plan.create(title="Action validée pour le mur")
    screen = socket_for(plan.fac, plan.code)
    screen.get_received()
    plan.set_phase("build")
    assert any('id="screenactions"' in h and "Action validée pour le mur" in h for h in _pushed(screen))


# ------------------------------------------------------------- pages, no JS

def test_without_javascript_a_proposal_redirects_back_with_a_message(plan):
    nadia = plan.join()
    resp = plan.propose(nadia, htmx=False)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{plan.code}#actions")
    page = _page(nadia.get(f"/w/{plan.code}"))
    assert "Proposition envoyée" in page and TITLE in page
    assert plan.only()["validated"] is False


def test_without_javascript_an_invalid_form_comes_back_as_a_page(plan):
    nadia = plan.join()
    resp = plan.propose(nadia, htmx=False, due_on="31/02/2027")
    assert resp.status_code == 422 and "<html" in _page(resp) and "Date invalide" in _page(resp)
    assert plan.actions() == []


def test_the_edit_form_is_a_page_or_a_fragment(plan):
    plan.create()
    url = plan.fac_url(f"/{plan.only()['id']}/edit")
    assert "<html" in _page(plan.fac.get(url))
    fragment = plan.fac.get(url, htmx=True)
    assert "<html" not in _page(fragment) and "HX-Request" in fragment.headers.get("Vary", "")


def test_the_pages_include_the_plan_and_the_form(plan):
    nadia = plan.join()
    page = _page(nadia.get(f"/w/{plan.code}"))
    assert 'id="actions"' in page and 'id="action-form"' in page and "Proposer une action" in page
    assert 'name="csrf_token"' not in _section(page, "actions")
    control = _page(plan.fac.get(f"/workshops/{plan.workshop_id}"))
    assert 'id="actionsctl"' in control and "Ajouter une action au plan" in control
    # The form sits outside the pushed region, so a push never wipes what is being typed.
    ctl = _section(control, "actionsctl")
    assert 'id="action-form"' not in ctl


@pytest.mark.parametrize("value", ["²", "٣"])
def test_an_owner_given_in_other_digits_is_refused_not_a_500(plan, value):
    nadia = plan.join()
    assert plan.propose(nadia, owner=value).status_code == 422
    assert plan.create(owner=value).status_code == 422
    assert plan.actions() == []


def test_saving_the_facilitators_form_keeps_a_status_its_owner_changed_meanwhile(plan):
    """The facilitator opens the form (status « à faire »); the owner marks the action done;
    the facilitator saves a new date without touching the status: done stays done."""
    nadia = plan.join()
    plan.create(owner=str(plan.participant_id("Nadia Haddad")))
    action_id = plan.only()["id"]
    form = _page(plan.fac.get(plan.fac_url(f"/{action_id}/edit"), htmx=True))
    assert re.search(r'name="status_was"[^>]*value="todo"', form)
    assert nadia.post(f"/w/{plan.code}/actions/{action_id}/status", data={"status": "done"},
                      htmx=True).status_code == 200
    resp = plan.update(action_id, owner=str(plan.participant_id("Nadia Haddad")), due_on="2027-04-01",
                       status="todo", status_was="todo")
    assert resp.status_code == 200
    assert plan.only()["status"] == "done" and plan.only()["due_on"] == date(2027, 4, 1)
    # Changing it in the form is a decision, and wins.
    plan.update(action_id, owner=str(plan.participant_id("Nadia Haddad")), status="doing", status_was="done")
    assert plan.only()["status"] == "doing"


def test_an_author_cannot_save_over_a_proposal_validated_a_moment_before(plan, app):
    """The check reads the proposal after taking the workshop's write lock."""
    from aeh_workshop.actions import service
    from aeh_workshop.models import Action, Participant, Workshop
    nadia = plan.join()
    plan.propose(nadia)
    action_id = plan.only()["id"]
    with app.app_context():
        workshop = db.session.get(Workshop, plan.workshop_id)
        stale = db.session.get(Action, action_id)
        author = db.session.scalar(db.select(Participant).filter_by(display_name="Nadia Haddad"))
        assert stale.validated is False                       # what the author's request read...
        plan.validate(action_id)                              # ...before the facilitator validated it
        with pytest.raises(service.ActionError, match="validée"):
            service.edit(workshop, service.Actor(author, False), stale, service.Fields(title="Trop tard"))
    assert plan.only()["title"] == TITLE and plan.only()["validated"] is True
