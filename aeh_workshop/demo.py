"""A realistic demo workshop in French (`flask --app app demo`)."""
import secrets

from .accounts import service as accounts
from .extensions import db
from .models import Card, Dot, Participant, Vote, touch
from .participants.service import hash_pin, organisation
from .workshops import service as workshops

DEMO_EMAIL = "demo@aeh-atelier.fr"

PEOPLE = [
    ("Sophie Lefèvre", "Clinique du Val de Saône", "company"),
    ("Karim Benali", "Groupe Ainvest", "company"),
    ("Hélène Besson", "Imprimerie Bourg Graphic", "company"),
    ("Nadia Haddad", "Tremplin Emploi Ain", "association"),
    ("Mathieu Perrin", "Les Jardins de Cocagne de la Dombes", "association"),
    ("Élodie Marchand", "Mairie de Bourg-en-Bresse", "public"),
]

CARDS = [
    # (author index, kind, text, partner, category, subtype, direction, status)
    (3, "link", "Groupe Ainvest accueille nos salariés en parcours pour des périodes d'immersion.",
     "Groupe Ainvest", "economic", "parcours d'insertion", "company_to_association", "active"),
    (4, "link", "Don de l'Imprimerie Bourg Graphic pour l'achat d'un véhicule de livraison des paniers.",
     "Imprimerie Bourg Graphic", "mecenat", "financier", "company_to_association", "past"),
    (0, "practice", "Nos équipes ont été sensibilisées au handicap par une association locale : "
     "trois recrutements ont suivi.", "Tremplin Emploi Ain", "practices", "handicap",
     "association_to_company", "active"),
    (1, "practice", "Mécénat de compétences : deux jours par an offerts à chaque salarié volontaire.",
     None, "mecenat", "compétences", "company_to_association", "active"),
    (4, "idea", "Étudier ensemble une recyclerie sur le territoire, avec la mairie.",
     "Mairie de Bourg-en-Bresse", "innovation", "diagnostic partagé", "mutual", "wished"),
    (2, "wish", "Acheter nos prestations d'entretien d'espaces verts auprès d'une structure d'insertion.",
     "Les Jardins de Cocagne de la Dombes", "economic", "fournisseur", "association_to_company", "wished"),
    (5, "wish", "Réunir chaque année entreprises et associations du bassin pour une rencontre.",
     None, "innovation", "co-construction", "mutual", "wished"),
    (3, "link", "La Clinique du Val de Saône a recruté des salariés sortis de parcours.",
     "Clinique du Val de Saône", "economic", "recrutement", "company_to_association", "past"),
]

# Each person's dots so far: (card index, dots), within 5 dots and 3 per card.
DOTS = [
    [(5, 2), (6, 2), (3, 1)],
    [(0, 3), (4, 2)],
    [(5, 3), (6, 1)],
    [(4, 2), (5, 2), (6, 1)],
    [(4, 3), (5, 1), (0, 1)],
    [(6, 3), (4, 1)],
]


def create_demo(password: str):
    """Create (or refresh) the demo facilitator and a new demo workshop."""
    user = accounts.find_by_email(DEMO_EMAIL)
    if user is None:
        user = accounts.create_facilitator(DEMO_EMAIL, password, "Animation AEH")
    else:
        user.set_password(password)
        db.session.commit()
    workshop = workshops.create(
        user, "Entreprises et associations de l'Ain : nos coopérations",
        "Partager nos pratiques, recenser nos liens existants et choisir ensemble les "
        "partenariats à développer.", "partnership_map")
    workshop.status, workshop.phase = "live", "vote"
    orgs = [organisation(org, kind) for _name, org, kind in PEOPLE]
    people = [Participant(workshop=workshop, display_name=name, kind=kind, organisation=org,
                          pin_hash=hash_pin(f"{secrets.randbelow(10**6):06d}"))
              for (name, _org, kind), org in zip(PEOPLE, orgs)]
    db.session.add_all(people)
    partners = {p: organisation(p) for p in {card[3] for card in CARDS} if p}
    cards = [Card(workshop_id=workshop.id, author=people[author], kind=kind, text=text,
                  partner=partners.get(partner), category=category, subtype=subtype, direction=direction,
                  link_status=status)
             for author, kind, text, partner, category, subtype, direction, status in CARDS]
    db.session.add_all(cards)
    # A dot vote under way, results split between companies and associations.
    vote = Vote(workshop_id=workshop.id, title="Quels partenariats développer en priorité ?", status="open",
                by_kind=True, kind_budgets={"company": 5, "association": 5, "other": 5}, screen="tally")
    db.session.add(vote)
    db.session.flush()
    for person, placed in zip(people, DOTS):
        db.session.add_all(Dot(vote_id=vote.id, participant_id=person.id, card_id=cards[card].id, dots=n)
                           for card, n in placed)
    touch(workshop)
    db.session.commit()
    return workshop, user
