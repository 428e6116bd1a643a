"""A workshop with something in every section of an outcome, for export and outcome tests.

Built on the demo workshop (French names and accents everywhere), plus a cluster,
priorities from its vote, a joint offer and an action plan.
"""
from datetime import date

from aeh_workshop.demo import create_demo
from aeh_workshop.extensions import db
from aeh_workshop.models import (Action, Card, Cluster, JointOffer, OfferSection, Participant, Vote,
                                 touch)
from aeh_workshop.votes import service as votes

OFFER_TITLE = "Parcours d'insertion « Cœur de Dombes »"
ACTION_TITLE = "Présenter l'offre commune au club d'entreprises de Bourg-en-Bresse"
DUE = date(2027, 1, 15)


def rich_workshop(password="mot-de-passe-démo"):
    """Create it (inside an app context); return the Workshop."""
    workshop, _user = create_demo(password)
    people = list(db.session.scalars(db.select(Participant).filter_by(workshop_id=workshop.id)
                                     .order_by(Participant.id)))
    cards = list(db.session.scalars(db.select(Card).filter_by(workshop_id=workshop.id).order_by(Card.id)))
    cluster = Cluster(workshop_id=workshop.id, name="Emploi & insertion", position=0)
    db.session.add(cluster)
    cards[0].cluster = cards[7].cluster = cluster
    vote = db.session.scalar(db.select(Vote).filter_by(workshop_id=workshop.id))
    vote.status, vote.revealed = "closed", True
    db.session.commit()
    votes.promote_top(workshop, vote, 3)
    priority = votes.priorities(workshop)[0]

    association = people[3]   # Nadia Haddad, Tremplin Emploi Ain
    offer = JointOffer(workshop_id=workshop.id, created_by_id=association.id)
    offer.sections = [
        OfferSection(key="title", text=OFFER_TITLE, updated_by=association.display_name),
        OfferSection(key="need", text="Des entreprises du bassin peinent à recruter ; des personnes éloignées "
                                      "de l'emploi cherchent une première expérience.", updated_by="Nadia"),
        OfferSection(key="territory", text="Dombes et Bresse (Ain)", updated_by="Nadia"),
        OfferSection(key="targets", text="PME de l'industrie et du soin, 20 à 250 salariés", updated_by="Nadia"),
        OfferSection(key="contact", text="Nadia Haddad — contact@tremplin-emploi-ain.fr", updated_by="Nadia"),
        OfferSection(key="ask:economic", text="Achats de prestations, périodes d'immersion, recrutement",
                     updated_by="Nadia"),
        OfferSection(key="ask:mecenat", text="Mécénat de compétences : parrainage par des salariés",
                     updated_by="Nadia"),
        OfferSection(key=f"brings:{association.organisation_id}",
                     text="Accompagnement socioprofessionnel et suivi en entreprise", updated_by="Nadia"),
        OfferSection(key=f"brings:{people[4].organisation_id}",
                     text="Chantiers de maraîchage biologique, paniers livrés", updated_by="Mathieu"),
    ]
    offer.cards = [cards[0], cards[5]]
    db.session.add(offer)
    db.session.flush()
    db.session.add_all([
        Action(workshop_id=workshop.id, title=ACTION_TITLE, owner_id=association.id, due_on=DUE,
               status="doing", step="prepare", offer_id=offer.id, validated=True),
        Action(workshop_id=workshop.id, title="Organiser une visite des Jardins de Cocagne pour les DRH",
               owner_name="Hélène Besson", owner_org="Imprimerie Bourg Graphic", due_on=date(2027, 2, 3),
               status="todo", step="manage", priority_id=priority.id, card_id=priority.card_id,
               validated=True),
        Action(workshop_id=workshop.id, title="Évaluer la première année du partenariat",
               owner_name="Élodie Marchand", owner_org="Mairie de Bourg-en-Bresse", status="todo",
               step="evaluate", proposed_by_id=people[5].id, validated=False),
    ])
    workshop.phase = "build"
    touch(workshop)
    db.session.commit()
    return workshop
