"""Forms for cards and clusters; every write on the board goes through one."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..vocab import CARD_KINDS, DIRECTIONS, LINK_STATUSES, RAMEAU, choices


class CardForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=lambda: choices(CARD_KINDS))
    text = TextAreaField(_l("Texte"), validators=[DataRequired(message=_l("Écrivez quelques mots."))])
    partner = StringField(_l("Structure partenaire (facultatif)"), validators=[Optional(), Length(max=160)])
    category = SelectField(_l("Catégorie (grille du Rameau)"),
                           choices=lambda: choices(RAMEAU, blank=_l("— à qualifier —")), default="")
    subtype = StringField(_l("Précision"), validators=[Optional(), Length(max=80)])
    direction = SelectField(_l("Sens du lien"), choices=lambda: choices(DIRECTIONS, blank=_l("—")), default="")
    link_status = SelectField(_l("Statut du lien"), choices=lambda: choices(LINK_STATUSES, blank=_l("—")), default="")

    def validate_text(self, field):
        limit = current_app.config["CARD_TEXT_MAX"]
        if len(field.data.strip()) > limit:
            raise ValidationError(_l("%(max)d caractères au plus.", max=limit))

    def card_fields(self) -> dict:
        """The cleaned values, blanks as None."""
        return {
            "kind": self.kind.data, "text": self.text.data.strip(),
            "partner": (self.partner.data or "").strip() or None,
            "category": self.category.data or None, "subtype": (self.subtype.data or "").strip() or None,
            "direction": self.direction.data or None, "link_status": self.link_status.data or None,
        }


class ClusterForm(FlaskForm):
    name = StringField(_l("Nom du regroupement"), validators=[DataRequired(), Length(max=80)])


class AssignForm(FlaskForm):
    cluster = SelectField(_l("Regroupement"), coerce=str, validate_choice=False)
