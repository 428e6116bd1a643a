"""The outcome as labelled tables and blocks: what the XLSX, CSV, DOCX, Markdown and ICS downloads show.

Every format reads the same rows from here, built from the snapshot alone and
labelled in the current locale (build them inside `flask_babel.force_locale`).
Cell values keep their types: int, date and datetime stay so, for spreadsheets
to sort and sum them; the text formats turn them into words with `as_text()`.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import format_date, format_datetime, gettext as _, to_user_timezone

from .. import vocab

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH, WIDTH_SAMPLE = 60, 200
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Table:
    key: str              # stable name (a CSV member, a sheet)
    title: str            # in the reader's language
    columns: list[str]
    rows: list[list]
    empty: str = ""       # what a document says instead of an empty table


@dataclass
class Heading:
    text: str
    level: int


@dataclass
class Paragraph:
    text: str


@dataclass
class Fields:
    """Label–value lines: a cover page, an offer's sections."""
    pairs: list[tuple[str, object]]


def as_text(value) -> str:
    """A cell value as words in the current locale (dates the reader's way)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "short", rebase=False)
    if isinstance(value, date):
        return format_date(value, "medium")
    return str(value)


def neutralised(value):
    """A text a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xml_safe(text: str) -> str:
    """Without the control characters an XML file (XLSX, DOCX) cannot hold."""
    return XML_ILLEGAL.sub("", text)


def column_widths(table: "Table") -> list[int]:
    """Characters each column needs for its header and its first rows, up to a readable limit."""
    def length(value):
        return 16 if isinstance(value, datetime) else len(str(value)) if value is not None else 0
    sample = table.rows[:WIDTH_SAMPLE]
    return [min(MAX_WIDTH, max(len(name), max((length(row[i]) for row in sample), default=0), 6))
            for i, name in enumerate(table.columns)]


def colon(label: str) -> str:
    """"Label :" in French, "Label:" in English."""
    return _("%(label)s :", label=label)


def moment(iso: str | None) -> datetime | None:
    """A stored UTC timestamp in the app's time zone, naive (spreadsheets know no zones)."""
    return to_user_timezone(datetime.fromisoformat(iso)).replace(tzinfo=None) if iso else None


class OutcomeView:
    """A snapshot read in the current language: its tables for spreadsheets, its blocks for documents."""

    VOCABS = {
        "card_kinds": vocab.CARD_KINDS, "rameau": vocab.RAMEAU, "directions": vocab.DIRECTIONS,
        "link_statuses": vocab.LINK_STATUSES, "templates": vocab.TEMPLATES, "statuses": vocab.STATUSES,
        "people": vocab.PARTICIPANT_KINDS, "groups": vocab.VOTE_GROUPS, "scopes": vocab.VOTE_SCOPES,
        "vote_statuses": vocab.VOTE_STATUSES, "sections": vocab.OFFER_SECTIONS,
        "action_statuses": vocab.ACTION_STATUSES, "steps": vocab.RAMEAU_STEPS,
    }

    def __init__(self, snapshot: dict):
        self.snap = snapshot
        # Each label translated once: a workshop has hundreds of cards.
        self.labels = {name: {code: str(label) for code, label in mapping.items()}
                       for name, mapping in self.VOCABS.items()}
        self.by_rank = {p["rank"]: p for p in snapshot["priorities"]}

    def label(self, vocabulary: str, code: str | None) -> str:
        """The label of a code (an unknown code shows as itself, nothing shows as empty)."""
        return self.labels[vocabulary].get(code, code) if code else ""

    # ---------------------------------------------------------------- tables

    def tables(self, share_url: str | None = None) -> list[Table]:
        """One table per section, flat (what belongs to a vote or an offer says which one)."""
        return [self.summary(share_url), self.participants(), self.cards(), self.votes(), self.priorities(),
                self.offers(), self.contributions(), self.asks(), self.actions()]

    def summary(self, share_url: str | None = None) -> Table:
        w = self.snap["workshop"]
        rows = [[_("Atelier"), w["title"]], [_("Objectif"), w["purpose"]]] + self.cover(share_url) + self.counts()
        return Table("summary", _("Synthèse"), [_("Rubrique"), _("Valeur")], rows)

    def cover(self, share_url: str | None = None) -> list[list]:
        """How the workshop ran, and which version of its outcome this is (beside its title and purpose)."""
        snap, w = self.snap, self.snap["workshop"]
        version = (_("Provisoire : l'atelier n'est pas clos, ces résultats peuvent encore changer.")
                   if snap["provisional"] or snap["version"] is None else snap["version"])
        rows = [
            [_("Modèle"), self.label("templates", w["template"])], [_("Code"), w["code"]],
            [_("Statut"), self.label("statuses", w["status"])], [_("Animation"), ", ".join(w["facilitators"])],
            [_("Créé le"), moment(w["created_at"])], [_("Clos le"), moment(w["closed_at"])],
            [_("Version"), version], [_("État au"), moment(snap["frozen_at"])],
            [_("Lien de partage"), share_url],
        ]
        return [row for row in rows if row[1] not in (None, "")]

    def counts(self) -> list[list]:
        s = self.snap["summary"]
        rows = [[_("Participant·es"), s["participants"]], [_("Structures"), s["organisations"]],
                [_("Cartes"), s["cards"]], [_("Gommettes"), s["dots"]], [_("Priorités"), s["priorities"]],
                [_("Offres communes"), s["offers"]], [_("Actions"), s["actions"]]]
        return rows + [[_("Participant·es (%(kind)s)", kind=self.label("people", kind)), n]
                       for kind, n in self.snap["participants_by_kind"].items()]

    def participants(self) -> Table:
        return Table("participants", _("Participant·es"), [_("Nom"), _("Structure"), _("Type de structure")],
                     [[p["name"] or _("anonyme"), p["organisation"], self.label("people", p["kind"])]
                      for p in self.snap["participants"]],
                     _("Personne n'a rejoint l'atelier."))

    def cards(self) -> Table:
        columns = [_("N°"), _("Type"), _("Texte"), _("Auteur·rice"), _("Structure"), _("Partenaire"),
                   _("Catégorie du Rameau"), _("Sous-type"), _("Sens du lien"), _("Statut du lien"),
                   _("Regroupement"), _("Créée le")]
        rows = [[c["id"], self.label("card_kinds", c["kind"]), c["text"], c["author"], c["organisation"],
                 c["partner"], self.label("rameau", c["category"]), c["subtype"],
                 self.label("directions", c["direction"]), self.label("link_statuses", c["link_status"]),
                 c["cluster"], moment(c["created_at"])] for c in self.snap["cards"]]
        return Table("cards", _("Cartes"), columns, rows, _("Aucune carte."))

    @staticmethod
    def by_kind(votes: list[dict]) -> bool:
        return any(v["by_kind"] for v in votes)

    def votes(self) -> Table:
        votes = self.snap["votes"]
        rows = [[v["title"] or self.vote_name(v)] + row for v in votes for row in self.vote_rows(v)]
        return Table("votes", _("Votes"), [_("Vote")] + self.vote_columns(self.by_kind(votes)), rows)

    def vote_columns(self, by_kind: bool) -> list[str]:
        columns = [_("Rang"), _("N° de carte"), _("Carte"), _("Type"), _("Gommettes"), _("Votant·es"), _("Ex æquo")]
        return columns + (list(self.labels["groups"].values()) if by_kind else [])

    def vote_rows(self, vote: dict) -> list[list]:
        """Its results, best first; dots by group of voters when the vote counted them apart."""
        tied = _("ex æquo")
        return [[r["rank"], r["card_id"], r["text"], self.label("card_kinds", r["kind"]), r["dots"], r["voters"],
                 tied if r["tied"] else ""]
                + ([r["by_group"].get(g) for g in self.labels["groups"]] if vote["by_kind"] else [])
                for r in vote["results"]]

    def vote_name(self, vote: dict) -> str:
        return _("Vote n° %(n)d", n=self.snap["votes"].index(vote) + 1)

    def priorities(self) -> Table:
        return Table("priorities", _("Priorités"), [_("Rang"), _("Priorité"), _("Gommettes")],
                     [[p["rank"], p["title"], p["dots"]] for p in self.snap["priorities"]],
                     _("Aucune priorité retenue."))

    def offers(self) -> Table:
        columns = ([_("Offre commune")] + [label for label, _key in self.offer_fields()]
                   + [_("Cartes liées"), _("Priorités liées")])
        return Table("offers", _("Offres communes"), columns,
                     [[self.offer_title(o)] + [o[key] for _label, key in self.offer_fields()]
                      + [self.refs(o["cards"]), self.refs(o["priorities"])] for o in self.snap["offers"]])

    def contributions(self) -> Table:
        return Table("contributions", _("Apports des structures"), [_("Offre commune")] + self.contribution_columns(),
                     [[self.offer_title(o)] + row for o in self.snap["offers"] for row in self.contribution_rows(o)])

    def asks(self) -> Table:
        return Table("asks", _("Demandes aux entreprises"), [_("Offre commune")] + self.ask_columns(),
                     [[self.offer_title(o)] + row for o in self.snap["offers"] for row in self.ask_rows(o)])

    def offer_title(self, offer: dict) -> str:
        return offer["title"] or _("Offre sans titre")

    def offer_fields(self) -> list[tuple[str, str]]:
        """(label, key) of an offer's written sections after its title."""
        return [(self.label("sections", key), key) for key in ("need", "territory", "targets", "contact")]

    @staticmethod
    def refs(numbers: list[int]) -> str:
        """Card numbers or priority ranks: "1, 6"."""
        return ", ".join(str(n) for n in numbers)

    def contribution_columns(self) -> list[str]:
        return [_("Structure"), _("Apport")]

    def contribution_rows(self, offer: dict) -> list[list]:
        return [[c["organisation"], c["text"]] for c in offer["contributions"]]

    def ask_columns(self) -> list[str]:
        return [_("Catégorie du Rameau"), _("Demande")]

    def ask_rows(self, offer: dict) -> list[list]:
        """What is asked of companies, in the order of Le Rameau's categories."""
        order = list(self.labels["rameau"])
        asks = sorted(offer["asks"].items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        return [[self.label("rameau", category), text] for category, text in asks]

    def actions(self) -> Table:
        columns = [_("Action"), _("Responsable"), _("Structure"), _("Échéance"), _("Statut"),
                   _("Étape du Rameau"), _("Offre commune"), _("Priorité"), _("Validation")]
        return Table("actions", _("Plan d'action"), columns,
                     [self.action_row(a) for a in self.snap["actions"]], _("Aucune action."))

    def action_row(self, action: dict) -> list:
        priority = self.by_rank.get(action["priority_rank"])
        return [action["title"], action["owner"], action["owner_organisation"],
                date.fromisoformat(action["due"]) if action["due"] else None,
                self.label("action_statuses", action["status"]), self.label("steps", action["step"]),
                action["offer_title"], f"{priority['rank']}. {priority['title']}" if priority else None,
                _("validée") if action["validated"] else _("proposition")]

    # -------------------------------------------------------------- document

    def document(self, share_url: str | None = None) -> list:
        """The report, in reading order: headings, text, label–value lines and tables."""
        w = self.snap["workshop"]
        blocks = [Heading(w["title"], 0)]
        if w["purpose"]:
            blocks.append(Paragraph(w["purpose"]))
        blocks += [Fields([tuple(row) for row in self.cover(share_url)]),
                   Heading(_("En chiffres"), 1), Table("summary", _("En chiffres"), [_("Rubrique"), _("Valeur")],
                                                     self.counts())]
        for table in (self.participants(), self.cards()):
            blocks += [Heading(table.title, 1), table]
        blocks += self.section(_("Votes"), [self.vote_blocks(v) for v in self.snap["votes"]], _("Aucun vote."))
        blocks += [Heading(_("Priorités"), 1), self.priorities()]
        blocks += self.section(_("Offres communes"), [self.offer_blocks(o) for o in self.snap["offers"]],
                               _("Aucune offre commune."))
        return blocks + [Heading(_("Plan d'action"), 1), self.actions()]

    @staticmethod
    def section(title: str, parts: list[list], empty: str) -> list:
        """A heading, then each part's blocks, or a sentence saying there is none."""
        return [Heading(title, 1)] + ([b for part in parts for b in part] or [Paragraph(empty)])

    def vote_blocks(self, vote: dict) -> list:
        fields = [(_("Ce qui est soumis au vote"), self.label("scopes", vote["scope"])),
                  (_("Statut"), self.label("vote_statuses", vote["status"])),
                  (_("Gommettes par personne"), vote["budget"]), (_("Plafond par carte"), vote["cap"]),
                  (_("Votant·es"), vote["voters"]), (_("Gommettes posées"), vote["dots"])]
        return [Heading(vote["title"] or self.vote_name(vote), 2), Fields(fields),
                Table("votes", _("Résultats"), self.vote_columns(vote["by_kind"]), self.vote_rows(vote),
                      _("Aucune carte soumise au vote."))]

    def offer_blocks(self, offer: dict) -> list:
        fields = [(label, offer[key]) for label, key in self.offer_fields() if offer[key]]
        fields += [(label, self.refs(offer[key])) for label, key in
                   ((_("Cartes liées"), "cards"), (_("Priorités liées"), "priorities")) if offer[key]]
        return [Heading(self.offer_title(offer), 2), Fields(fields),
                Heading(_("Ce qu'apporte chaque structure"), 3),
                Table("contributions", _("Apports des structures"), self.contribution_columns(),
                      self.contribution_rows(offer), _("Aucun apport renseigné.")),
                Heading(_("Ce qui est demandé aux entreprises"), 3),
                Table("asks", _("Demandes aux entreprises"), self.ask_columns(), self.ask_rows(offer),
                      _("Aucune demande renseignée."))]
