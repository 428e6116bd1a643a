"""Forms for workshops."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional, ValidationError

from ..extensions import db
from ..models import Structure
from ..vocab import PHASES, STATUSES, TEMPLATES, choices, template_phases


def _structure_choices() -> list[SelectChoice]:
    """Every accompanied structure by name, after a blank "none"."""
    rows = db.session.execute(db.select(Structure.id, Structure.name).order_by(Structure.name, Structure.id))
    return [SelectChoice("", _l("— Aucune —"))] + [SelectChoice(str(i), name) for i, name in rows]


def _structure_value(value) -> str:
    """The select's value: a Structure (from the workshop), an id, or blank."""
    if isinstance(value, Structure):
        return str(value.id)
    return "" if value is None else str(value)


class WorkshopForm(FlaskForm):
    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=160)])
    purpose = TextAreaField(_l("Objectif"), validators=[Length(max=2000)])
    template = SelectField(_l("Modèle"), choices=lambda: choices(TEMPLATES))
    # Choices are read from the database when the form is validated: a structure
    # deleted meanwhile is "not a valid choice".
    structure = SelectField(_l("Structure accompagnée (cartographie)"), choices=_structure_choices,
                            coerce=_structure_value, default="")

    @property
    def structure_id(self) -> int | None:
        return int(self.structure.data) if self.structure.data else None


class PhaseForm(FlaskForm):
    phase = HiddenField(validators=[DataRequired(), AnyOf(list(PHASES), message=_l("Phase inconnue."))])

    def __init__(self, *args, workshop=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workshop = workshop

    def validate_phase(self, field):
        """Only the template's phases; the phase the workshop is in can always be kept."""
        w = self.workshop
        if w is None or field.data not in PHASES or field.data == w.phase:
            return
        if field.data not in template_phases(w.template):
            raise ValidationError(_("La phase « %(phase)s » ne fait pas partie du modèle « %(template)s ».",
                                    phase=PHASES[field.data], template=TEMPLATES.get(w.template, w.template)))


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired(), AnyOf(list(STATUSES), message=_l("Statut inconnu."))])


class CoFacilitatorForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail de l'animateur·rice"),
                       validators=[DataRequired(), Email(), Length(max=254)])


class TimerForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["start", "pause", "resume", "add", "stop"],
                                           message=_l("Action inconnue."))])
    minutes = IntegerField(_l("Minutes"), validators=[Optional()])   # required by start and add (service)
