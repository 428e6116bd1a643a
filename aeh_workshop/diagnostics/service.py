"""Company diagnostics: what a company already does and wants to do, by Rameau category.

A diagnostic belongs to the organisation, one row per year (the year of the
workshop it is filled in). The form starts from the organisation's latest
earlier answers, and saving writes that year's row only: last year's answers
stay as they were. Two people of one company share the row; like offer
sections, a save names the version it was based on, and a stale save is
refused with the current answers (DiagnosticConflict), never applied over them.
"""
from dataclasses import dataclass, field

from flask import abort
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import realtime
from ..extensions import db
from ..models import Diagnostic, Organisation, Participant, Workshop, touch, utcnow
from ..vocab import INVOLVEMENT, RAMEAU

TEMPLATE = "company_diagnostic"
TEXT_MAX = 2000
TERRITORY_MAX = 120
CLOSED_PHASES = ("welcome", "closing")
REGIONS = ("diaglist", "diagsummary")


class DiagnosticError(ValueError):
    """A refused save, with the message to show."""


class DiagnosticConflict(DiagnosticError):
    """A save based on a stale version: carries the answers as they now stand."""

    def __init__(self, message: str, current: "Answers"):
        super().__init__(message)
        self.current = current


@dataclass
class Answers:
    """A diagnostic's content, as the form shows it and the database keeps it."""
    does: dict[str, str] = field(default_factory=dict)        # {category: text}, non-empty texts only
    wants: dict[str, str] = field(default_factory=dict)
    involve_employees: str | None = None                       # yes, no, wished
    territory: str = ""
    version: int = 0                                           # 0: this year's row does not exist yet
    year: int | None = None                                    # the year these answers were given
    respondent: str = ""
    updated_at: object = None

    @classmethod
    def of(cls, row: Diagnostic) -> "Answers":
        return cls(dict(row.does or {}), dict(row.wants or {}), row.involve_employees, row.territory or "",
                   row.version, row.year, row.respondent, row.updated_at)

    def content(self) -> tuple:
        return self.does, self.wants, self.involve_employees, self.territory

    @property
    def empty(self) -> bool:
        return not (self.does or self.wants or self.involve_employees or self.territory)


def year_of(workshop: Workshop) -> int:
    """A workshop's diagnostics are those of the year it was created."""
    return (workshop.created_at or utcnow()).year


def is_diagnostic(workshop: Workshop) -> bool:
    return workshop.template == TEMPLATE


def state(workshop: Workshop) -> str:
    """open (answers taken), later (draft, welcome) or over (closing, closed)."""
    if workshop.status == "closed" or workshop.phase == "closing":
        return "over"
    if workshop.status == "draft" or workshop.phase == "welcome":
        return "later"
    return "open"


def row(organisation_id: int, year: int) -> Diagnostic | None:
    return db.session.scalar(db.select(Diagnostic).filter_by(organisation_id=organisation_id, year=year))


def previous(organisation_id: int, year: int) -> Diagnostic | None:
    """The organisation's latest diagnostic before `year`."""
    return db.session.scalar(db.select(Diagnostic).where(
        Diagnostic.organisation_id == organisation_id, Diagnostic.year < year).order_by(Diagnostic.year.desc()))


def answers_for(organisation: Organisation, year: int) -> tuple[Answers, Answers | None]:
    """(what the form starts from, this year's saved answers or None).

    Without answers for this year the form starts from the latest earlier year's
    (version 0: saving creates this year's row), else from the territory known
    for the organisation.
    """
    current = row(organisation.id, year)
    if current is not None:
        saved = Answers.of(current)
        return saved, saved
    earlier = previous(organisation.id, year)
    if earlier is not None:
        start = Answers.of(earlier)
        start.version, start.respondent = 0, ""
        return start, None
    return Answers(territory=organisation.territory or ""), None


def require_company(participant: Participant | None) -> Participant:
    """Only people from a company answer a diagnostic."""
    if participant is None or participant.kind != "company":
        abort(403)
    return participant


def clean(raw: Answers) -> Answers:
    """Answers as submitted, made tidy: texts stripped, empty categories left out. Checked
    again here (the form already did) so that no caller writes half of a bad save."""
    def texts(values: dict) -> dict[str, str]:
        out = {}
        for category in RAMEAU:
            text = (values.get(category) or "").replace("\r\n", "\n").strip()
            if len(text) > TEXT_MAX:
                raise DiagnosticError(_("Ce texte est trop long (%(n)d caractères au plus).", n=TEXT_MAX))
            if text:
                out[category] = text
        return out
    territory = " ".join((raw.territory or "").split())
    if len(territory) > TERRITORY_MAX:
        raise DiagnosticError(_("Le territoire tient en %(n)d caractères au plus.", n=TERRITORY_MAX))
    if raw.involve_employees and raw.involve_employees not in INVOLVEMENT:
        raise DiagnosticError(_("Choisissez oui, non ou souhaitée."))
    return Answers(texts(raw.does), texts(raw.wants), raw.involve_employees or None, territory)


def save(workshop: Workshop, participant: Participant, answers: Answers, base_version: int) -> bool:
    """Save this year's diagnostic of the participant's company if it is still at
    `base_version`; False when it already says exactly this.

    The check and the write are one conditional UPDATE, or an INSERT that the
    unique (organisation, year) refuses if someone created the row first.
    """
    require_company(participant)
    if not is_diagnostic(workshop) or state(workshop) != "open":
        raise DiagnosticError(_("Le diagnostic n'est pas ouvert en ce moment."))
    year, org_id, name = year_of(workshop), participant.organisation_id, participant.display_name
    values = {"does": answers.does, "wants": answers.wants, "involve_employees": answers.involve_employees,
              "territory": answers.territory, "respondent": name, "workshop_id": workshop.id}
    touch(workshop)   # first: takes the write lock (SQLite) / the workshop's row (PostgreSQL)
    existing = row(org_id, year)
    if existing is not None and Answers.of(existing).content() == answers.content():
        db.session.rollback()   # nothing to change, nothing lost, no push
        return False
    if existing is None:
        db.session.add(Diagnostic(organisation_id=org_id, year=year, version=1, **values))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            _conflict(org_id, year)
    else:
        updated = db.session.execute(
            db.update(Diagnostic)
            .where(Diagnostic.id == existing.id, Diagnostic.version == base_version)
            .values(version=Diagnostic.version + 1, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)).rowcount
        if updated != 1:
            db.session.rollback()
            _conflict(org_id, year)
    db.session.commit()
    realtime.announce(workshop, *REGIONS)
    return True


def _conflict(organisation_id: int, year: int):
    db.session.expire_all()
    current = row(organisation_id, year)
    answers = Answers.of(current) if current is not None else Answers(year=year)
    raise DiagnosticConflict(
        _("%(name)s a enregistré ce diagnostic pendant que vous écriviez. Voici ses réponses ; les vôtres "
          "sont conservées dans le formulaire : relisez, puis enregistrez à nouveau.",
          name=answers.respondent or _("Quelqu'un")), answers)


# ------------------------------------------------------------- facilitators, projector

@dataclass
class CompanyAnswers:
    organisation: Organisation
    answers: Answers | None          # this year's, None if not answered yet
    last_year: int | None            # the latest earlier year answered, if any


def companies(workshop: Workshop) -> list[Organisation]:
    """The organisations of the workshop's company participants, by name."""
    return list(db.session.scalars(
        db.select(Organisation).join(Participant, Participant.organisation_id == Organisation.id)
        .where(Participant.workshop_id == workshop.id, Participant.kind == "company")
        .distinct().order_by(Organisation.name, Organisation.id)))


def answers_of(workshop: Workshop) -> list[CompanyAnswers]:
    """Each company of the workshop with this year's answers (facilitators' list)."""
    orgs = companies(workshop)
    year = year_of(workshop)
    ids = [o.id for o in orgs] or [0]
    rows = db.session.scalars(db.select(Diagnostic).where(Diagnostic.organisation_id.in_(ids),
                                                          Diagnostic.year <= year)).all()
    this_year = {r.organisation_id: Answers.of(r) for r in rows if r.year == year}
    earlier: dict[int, int] = {}
    for r in rows:
        if r.year < year:
            earlier[r.organisation_id] = max(earlier.get(r.organisation_id, 0), r.year)
    return [CompanyAnswers(o, this_year.get(o.id), earlier.get(o.id)) for o in orgs]


@dataclass
class Summary:
    year: int
    companies: int                     # companies in the workshop
    answered: int                      # of which answered this year
    does: dict[str, int]               # {category: companies already doing it}
    wants: dict[str, int]              # {category: companies wanting to}
    involvement: dict[str, int]        # {yes/no/wished: companies}


def summary(workshop: Workshop) -> Summary:
    """What the projector shows: per category, how many companies do it / want to."""
    listed = answers_of(workshop)
    answered = [c.answers for c in listed if c.answers is not None]
    return Summary(
        year_of(workshop), len(listed), len(answered),
        {cat: sum(1 for a in answered if a.does.get(cat)) for cat in RAMEAU},
        {cat: sum(1 for a in answered if a.wants.get(cat)) for cat in RAMEAU},
        {code: sum(1 for a in answered if a.involve_employees == code) for code in INVOLVEMENT})


def years() -> list[int]:
    """Every year some company answered, newest first."""
    return list(db.session.scalars(db.select(Diagnostic.year).distinct().order_by(Diagnostic.year.desc())))


def history(organisation: Organisation) -> list[Answers]:
    """Every year's diagnostic of an organisation, oldest first."""
    rows = db.session.scalars(db.select(Diagnostic).filter_by(organisation_id=organisation.id)
                              .order_by(Diagnostic.year)).all()
    return [Answers.of(r) for r in rows]
