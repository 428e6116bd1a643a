"""Forms for workshops."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional

from ..vocab import PHASES, STATUSES, TEMPLATES, choices


class WorkshopForm(FlaskForm):
    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=160)])
    purpose = TextAreaField(_l("Objectif"), validators=[Length(max=2000)])
    template = SelectField(_l("Modèle"), choices=lambda: choices(TEMPLATES))


class PhaseForm(FlaskForm):
    phase = HiddenField(validators=[DataRequired(), AnyOf(list(PHASES), message=_l("Phase inconnue."))])


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired(), AnyOf(list(STATUSES), message=_l("Statut inconnu."))])


class CoFacilitatorForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail de l'animateur·rice"),
                       validators=[DataRequired(), Email(), Length(max=254)])


class TimerForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["start", "pause", "resume", "add", "stop"],
                                           message=_l("Action inconnue."))])
    minutes = IntegerField(_l("Minutes"), validators=[Optional()])   # required by start and add (service)
