"""The domain's words (DOMAIN.md): stored codes and their French-first labels."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from wtforms.fields.choices import SelectChoice

LOCALES = {"fr": "Français", "en": "English"}

PARTICIPANT_KINDS = {
    "company": _l("Entreprise"),
    "association": _l("Association"),
    "public": _l("Collectivité"),
    "other": _l("Autre"),
}

CARD_KINDS = {
    "practice": _l("Pratique"),
    "link": _l("Lien existant"),
    "wish": _l("Envie"),
    "idea": _l("Idée"),
    "action": _l("Action"),
}

# Le Rameau's four categories of company–association partnership.
RAMEAU = {
    "mecenat": _l("Mécénat"),
    "practices": _l("Pratiques responsables"),
    "economic": _l("Coopération économique"),
    "innovation": _l("Innovation sociétale"),
}

# Sub-types offered as suggestions; the other categories take free text.
RAMEAU_SUBTYPES = {
    "mecenat": [_l("financier"), _l("en nature"), _l("compétences"), _l("logistique")],
    "economic": [
        _l("fournisseur"), _l("client"), _l("sous-traitance"),
        _l("mise à disposition de personnel"), _l("parcours d'insertion"), _l("recrutement"),
    ],
}

DIRECTIONS = {
    "company_to_association": _l("Entreprise → association"),
    "association_to_company": _l("Association → entreprise"),
    "mutual": _l("Réciproque"),
}

LINK_STATUSES = {
    "active": _l("Actif"),
    "past": _l("Passé"),
    "wished": _l("Souhaité, à développer"),
}

TEMPLATES = {
    "practice_exchange": _l("Échange de pratiques"),
    "partnership_map": _l("Cartographie des partenariats"),
    "joint_offer": _l("Offre commune des associations"),
    "company_diagnostic": _l("Diagnostic entreprise"),
    "meetup": _l("Rencontre entreprises–associations"),
}

STATUSES = {
    "draft": _l("Brouillon"),
    "live": _l("En cours"),
    "closed": _l("Clos"),
}

PHASES = {
    "welcome": _l("Accueil"),
    "collect": _l("Collecte"),
    "qualify": _l("Qualification"),
    "vote": _l("Vote"),
    "build": _l("Construction"),
    "closing": _l("Clôture"),
}

PHASE_HINTS = {
    "welcome": _l("Bienvenue ! Rejoignez l'atelier avec le code affiché."),
    "collect": _l("Partagez vos pratiques, vos liens existants, vos envies et vos idées."),
    "qualify": _l("Qualifions chaque lien avec la grille du Rameau."),
    "vote": _l("Votez pour les priorités."),
    "build": _l("Construisons ensemble offres communes et plans d'action."),
    "closing": _l("Merci ! Les résultats vont être partagés."),
}


# The partnership map ("cartographie des partenariats").
INVOLVEMENT = {
    "yes": _l("Oui"),
    "no": _l("Non"),
    "wished": _l("Souhaitée"),
}

MAP_PRIORITIES = {
    "high": _l("Haute"),
    "medium": _l("Moyenne"),
    "low": _l("Basse"),
}

ENTRY_SOURCES = {
    "manual": _l("Saisie"),
    "import": _l("Import de fichier"),
    "workshop": _l("Atelier"),
}

# Why two partner names were suggested as one company (partners/names.py).
DUPLICATE_REASONS = {
    "same_siren": _l("même SIREN"),
    "same_name": _l("même nom, à la casse, aux accents ou à la forme juridique près"),
    "abbreviation": _l("abréviation : « %(a)s » = « %(b)s »"),
    "contained": _l("l'un des noms ajoute « %(a)s »"),
    "spelling": _l("orthographe proche : « %(a)s » / « %(b)s »"),
}


# Dot votes: results split three ways; what is put to the vote.
VOTE_GROUPS = {
    "company": _l("Entreprises"),
    "association": _l("Associations"),
    "other": _l("Autres"),
}

VOTE_SCOPES = {
    "all": _l("Toutes les cartes visibles"),
    "cluster": _l("Un regroupement"),
    "shortlist": _l("Une présélection de cartes"),
    "actions": _l("Les cartes « Action »"),
}

VOTE_STATUSES = {
    "draft": _l("En préparation"),
    "open": _l("Ouvert"),
    "closed": _l("Fermé"),
}


# Joint offers ("offres communes"): the sections people write, each saved on its own.
OFFER_SECTIONS = {
    "title": _l("Titre"),
    "need": _l("Besoin auquel l'offre répond"),
    "territory": _l("Territoire"),
    "targets": _l("Entreprises visées"),
    "contact": _l("Contact"),
}
# What is asked of companies, by Rameau category (section "ask:<category>").
OFFER_ASK_HINTS = {
    "mecenat": _l("Ex. : mécénat de compétences, dons en nature, prêt de locaux"),
    "practices": _l("Ex. : achats responsables, accueil de stagiaires en situation de handicap"),
    "economic": _l("Ex. : achats, sous-traitance, parcours d'insertion, recrutement"),
    "innovation": _l("Ex. : diagnostic partagé, expérimentation commune"),
}

# Action plans.
ACTION_STATUSES = {
    "todo": _lp("action status", "À faire"),
    "doing": _lp("action status", "En cours"),   # not a workshop's "En cours" (live)
    "done": _lp("action status", "Fait"),
}

# Le Rameau's partnership process, the backbone of action plans.
RAMEAU_STEPS = {
    "prepare": _l("Préparer"),
    "contract": _l("Contractualiser"),
    "manage": _l("Piloter"),
    "evaluate": _l("Évaluer"),
}


def choices(mapping, blank=None):
    """WTForms choices from a vocabulary mapping, optionally with a blank first."""
    items = [SelectChoice(code, label) for code, label in mapping.items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + items


def resolved() -> dict[str, dict[str, str]]:
    """Every label in the current language, translated once (boards render hundreds of cards)."""
    return {name: {code: str(label) for code, label in mapping.items()} for name, mapping in {
        "kinds": CARD_KINDS, "rameau": RAMEAU, "directions": DIRECTIONS, "statuses": LINK_STATUSES,
    }.items()}


# What each workshop template preconfigures: its phases (in order), the card kinds
# its composer offers (the first is the default), and hints that replace PHASE_HINTS.
TEMPLATE_SETUP = {
    "practice_exchange": {
        # The default template (and every workshop made before templates had a setup):
        # practices first, but links, wishes, ideas and actions are shared too.
        "phases": ["welcome", "collect", "qualify", "vote", "build", "closing"],
        "kinds": ["practice", "link", "wish", "idea", "action"],
        "hints": {},
    },
    "partnership_map": {
        "phases": ["welcome", "collect", "qualify", "vote", "build", "closing"],
        "kinds": ["link", "wish", "idea", "action"],
        "hints": {
            "collect": _l("Notez chaque lien que vous connaissez avec une structure : une carte par partenaire."),
            "vote": _l("Quels partenariats développer en priorité ? Placez vos gommettes."),
            "build": _l("Décidons des prochaines actions pour chaque partenariat prioritaire."),
        },
    },
    "joint_offer": {
        "phases": ["welcome", "collect", "vote", "build", "closing"],
        "kinds": ["wish", "idea", "practice"],
        "hints": {
            "collect": _l("Associations : quels besoins partagez-vous, que pourriez-vous proposer "
                          "ensemble aux entreprises ?"),
            "vote": _l("Quelles idées porter ensemble auprès des entreprises ? Votez."),
            "build": _l("Rédigeons l'offre commune : le besoin, ce que chacun apporte, "
                        "ce que l'on demande aux entreprises."),
        },
    },
    "company_diagnostic": {
        "phases": ["welcome", "collect", "build", "closing"],
        "kinds": ["wish", "idea"],
        "hints": {
            "collect": _l("Entreprises : remplissez votre diagnostic — ce que vous faites déjà, "
                          "ce que vous voulez faire."),
            "build": _l("Complétez votre diagnostic et partagez vos envies de partenariat."),
        },
    },
    "meetup": {
        "phases": ["welcome", "collect", "vote", "build", "closing"],
        "kinds": ["wish", "idea", "link", "action"],
        "hints": {
            "collect": _l("Entreprises et associations : partagez vos envies et vos idées de partenariat."),
            "vote": _l("Quelles rencontres et quels projets lancer en priorité ? Votez."),
            "build": _l("Offres et envies se rencontrent : décidons qui se revoit, pour quoi, et quand."),
        },
    },
}


def template_phases(template: str) -> list[str]:
    """The phases a template offers, in order (every phase for an unknown template)."""
    return list(TEMPLATE_SETUP.get(template, {}).get("phases", PHASES))


def template_kinds(template: str) -> list[str]:
    """The card kinds a template's composer offers, the default first."""
    return list(TEMPLATE_SETUP.get(template, {}).get("kinds", CARD_KINDS))


def phase_hint(template: str, phase: str):
    """What the phase banner says: the template's own hint, else the phase's."""
    return TEMPLATE_SETUP.get(template, {}).get("hints", {}).get(phase) or PHASE_HINTS.get(phase, "")


# Company diagnostics: what a company already does and wants to do, by Rameau category.
DIAGNOSTIC_SIDES = {
    "does": _l("Ce que nous faisons déjà"),
    "wants": _l("Ce que nous voulons faire"),
}

DIAGNOSTIC_HINTS = {
    "mecenat": _l("Dons, mécénat de compétences, prêt de locaux ou de matériel…"),
    "practices": _l("Handicap, insertion, environnement, diversité, achats responsables…"),
    "economic": _l("Achats, sous-traitance, mise à disposition de personnel, recrutement…"),
    "innovation": _l("Diagnostic partagé, co-construction, expérimentation d'une solution nouvelle…"),
}

# Matching company wishes with joint offers: how territories compare.
TERRITORY_MATCHES = {
    "same": _l("même territoire"),
    "unknown": _l("territoire non précisé"),
    "other": _l("autre territoire"),
}
