"""Forms of the partnership map: a structure, a link, the filters, an import, a merge."""
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..vocab import (DIRECTIONS, INVOLVEMENT, LINK_STATUSES, MAP_PRIORITIES, PARTICIPANT_KINDS, RAMEAU, choices)

EARLIEST = date(1950, 1, 1)
TOO_LONG = _l("%(max)d caractères au plus.")


def _squeeze(value):
    return " ".join(value.split()) if isinstance(value, str) else value


class StructureForm(FlaskForm):
    name = StringField(_l("Nom de la structure"), filters=[_squeeze], validators=[
        DataRequired(message=_l("Indiquez le nom de la structure.")), Length(max=160, message=TOO_LONG)])


class EntryForm(FlaskForm):
    """One link of the map, qualified with Le Rameau's grid."""
    partner = StringField(_l("Partenaire"), filters=[_squeeze], validators=[
        DataRequired(message=_l("Indiquez le partenaire.")), Length(max=160, message=TOO_LONG)])
    partner_kind = SelectField(_l("Type de partenaire"), default="company",
                               choices=lambda: choices(PARTICIPANT_KINDS))
    description = TextAreaField(_l("Le lien en quelques mots"), validators=[Length(max=2000, message=TOO_LONG)])
    category = SelectField(_l("Catégorie du Rameau"), default="",
                           choices=lambda: choices(RAMEAU, blank=_l("— à qualifier —")))
    subtype = StringField(_l("Sous-type"), filters=[_squeeze], validators=[Length(max=80, message=TOO_LONG)])
    direction = SelectField(_l("Sens"), default="", choices=lambda: choices(DIRECTIONS, blank=_l("— non précisé —")))
    status = SelectField(_l("Statut"), default="", choices=lambda: choices(LINK_STATUSES, blank=_l("— non précisé —")))
    holder = StringField(_l("Qui porte le lien"), filters=[_squeeze], validators=[Length(max=120, message=TOO_LONG)])
    last_contact = DateField(_l("Dernier contact"), format=["%Y-%m-%d", "%d/%m/%Y"], validators=[Optional()],
                             invalid_value_message=_l("Date invalide : choisissez-la dans le calendrier (jj/mm/aaaa)."))
    involvement = SelectField(_l("Implication des salariés"), default="",
                              choices=lambda: choices(INVOLVEMENT, blank=_l("— non précisée —")))
    priority = SelectField(_l("Priorité"), default="", choices=lambda: choices(MAP_PRIORITIES, blank=_l("— aucune —")))
    next_action = StringField(_l("Prochaine action"), filters=[_squeeze], validators=[Length(max=200, message=TOO_LONG)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000, message=TOO_LONG)])

    def validate_last_contact(self, field):
        if field.data and not EARLIEST <= field.data <= date.today() + timedelta(days=366):
            raise ValidationError(_l("Date hors de portée."))

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "description", "category", "subtype", "direction", "status", "holder", "last_contact",
            "involvement", "priority", "next_action", "notes")}


class FilterForm(FlaskForm):
    """The table's filters, read from the query string (a bookmarkable view)."""
    class Meta:
        csrf = False

    q = StringField(_l("Rechercher"), filters=[_squeeze], validators=[Length(max=100)])
    category = SelectField(_l("Catégorie"), default="", validate_choice=False)
    status = SelectField(_l("Statut"), default="", validate_choice=False)
    holder = SelectField(_l("Porteur"), default="", validate_choice=False)
    priority = SelectField(_l("Priorité"), default="", validate_choice=False)
    kind = SelectField(_l("Type de partenaire"), default="", validate_choice=False)

    def fill(self, holders: list[str]) -> None:
        none = ("none", _l("— non renseigné —"))
        every = ("", _l("Tous"))
        self.category.choices = [every, *RAMEAU.items(), none]
        self.status.choices = [every, *LINK_STATUSES.items(), none]
        self.priority.choices = [every, *MAP_PRIORITIES.items(), none]
        self.kind.choices = [every, *PARTICIPANT_KINDS.items()]
        self.holder.choices = [every, *((h, h) for h in holders)]

    def known(self, name: str) -> str:
        """The field's value if it is one of its choices, else "" (a stale or forged URL filters nothing)."""
        field = getattr(self, name)
        value = field.data or ""
        return value if value in {str(c[0]) for c in field.choices} else ""


class UploadForm(FlaskForm):
    file = FileField(_l("Fichier CSV ou Excel (.xlsx)"), validators=[
        FileRequired(message=_l("Choisissez un fichier."))])


def database_id(value) -> int:
    """An id as a form sends it: a positive 32-bit integer, anything else is refused (never a 500)."""
    number = int(value)
    if not 1 <= number <= 2**31 - 1:
        raise ValueError("out of range")
    return number


class SelectionForm(FlaskForm):
    """Some entries of the map and a workshop of the structure (vote, action)."""
    entries = SelectMultipleField(coerce=database_id, validate_choice=False)
    workshop = SelectField(_l("Atelier"), coerce=database_id, validate_choice=False,
                           validators=[DataRequired(message=_l("Choisissez un atelier rattaché à cette structure."))])


class MergeForm(FlaskForm):
    partners = SelectMultipleField(coerce=database_id, validate_choice=False)
    keep = SelectField(coerce=database_id, validate_choice=False,
                       validators=[DataRequired(message=_l("Choisissez le nom à garder."))])
