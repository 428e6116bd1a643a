"""Forms for joining a workshop, without an account."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from ..vocab import PARTICIPANT_KINDS, choices


class CodeForm(FlaskForm):
    code = StringField(_l("Code de l'atelier"), validators=[DataRequired(), Length(max=20)])


class JoinForm(FlaskForm):
    display_name = StringField(_l("Votre prénom ou nom"), validators=[DataRequired(), Length(max=80)])
    organisation = StringField(_l("Votre structure"), validators=[DataRequired(), Length(max=160)])
    kind = SelectField(_l("Type de structure"), choices=lambda: choices(PARTICIPANT_KINDS))


class RejoinForm(FlaskForm):
    display_name = StringField(_l("Votre prénom ou nom"), validators=[DataRequired(), Length(max=80)])
    pin = StringField(_l("Code personnel"), validators=[
        DataRequired(), Regexp(r"^\s*\d{6}\s*$", message=_l("Le code personnel a 6 chiffres."))])


class LeaveForm(FlaskForm):
    """Leaving a workshop: no field, the CSRF token is the point."""
