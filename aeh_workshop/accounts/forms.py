"""Forms for facilitator accounts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..config import LANGUAGES
from ..vocab import LOCALES, choices
from . import passwords


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    # No length rule here: an account made under older rules must still be able to log in.
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired()])
    remember = BooleanField(_l("Rester connecté·e sur cet ordinateur (pas sur un ordinateur partagé)"))


class FacilitatorForm(FlaskForm):
    name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired()])
    confirm = PasswordField(_l("Confirmez le mot de passe"), validators=[
        DataRequired(), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))])
    locale = SelectField(_l("Langue"), choices=lambda: choices(LOCALES), default=LANGUAGES[0])

    def validate_password(self, field):
        """Length, common passwords, the account's own e-mail or name (passwords.problem)."""
        refused = passwords.problem(field.data, self.email.data, self.name.data)
        if refused:
            raise ValidationError(refused)
