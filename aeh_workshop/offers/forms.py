"""Forms for joint offers: a new offer, one section, a linked card."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange

from .service import TEXT_MAX, TITLE_MAX

MAX_ID = 2**31 - 1


class NewOfferForm(FlaskForm):
    title = StringField(_l("Titre de la nouvelle offre"), id="offer-title", render_kw={"maxlength": TITLE_MAX},
                        validators=[InputRequired(_l("Donnez un titre à l'offre."))])


class SectionForm(FlaskForm):
    # Lengths are checked by the service, which says so in a sentence; the
    # textarea's own maxlength stops most of it in the browser already.
    text = TextAreaField(_l("Texte"), render_kw={"maxlength": TEXT_MAX, "rows": 5})
    version = IntegerField(widget=HiddenField.widget, default=0,
                           validators=[InputRequired(), NumberRange(0, MAX_ID)])


class LinkCardForm(FlaskForm):
    card = SelectField(_l("Carte à lier"), coerce=int, validate_choice=False,
                       validators=[InputRequired(_l("Choisissez une carte.")),
                                   NumberRange(1, MAX_ID, _l("Choisissez une carte."))])
