"""Forms for cards and clusters; every write on the board goes through one."""
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..vocab import CARD_KINDS, DIRECTIONS, LINK_STATUSES, RAMEAU, TEMPLATES, choices, template_kinds


class CardForm(FlaskForm):
    # The kinds offered depend on the workshop's template: see fit() and validate_kind().
    kind = SelectField(_l("Type"), choices=lambda: choices(CARD_KINDS), validate_choice=False)
    text = TextAreaField(_l("Texte"), validators=[DataRequired(message=_l("Écrivez quelques mots."))])
    partner = StringField(_l("Structure partenaire (facultatif)"), validators=[Optional(), Length(max=160)])
    category = SelectField(_l("Catégorie (grille du Rameau)"),
                           choices=lambda: choices(RAMEAU, blank=_l("— à qualifier —")), default="")
    subtype = StringField(_l("Précision"), validators=[Optional(), Length(max=80)])
    direction = SelectField(_l("Sens du lien"), choices=lambda: choices(DIRECTIONS, blank=_l("—")), default="")
    link_status = SelectField(_l("Statut du lien"), choices=lambda: choices(LINK_STATUSES, blank=_l("—")), default="")

    def __init__(self, *args, workshop=None, card=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workshop, self.allowed_kinds = None, list(CARD_KINDS)
        if workshop is not None:
            self.fit(workshop, card)

    def fit(self, workshop, card=None) -> "CardForm":
        """Offer the kinds of the workshop's template, the first as default. A card
        being edited keeps its own kind even if the template no longer offers it."""
        kinds = template_kinds(workshop.template)
        if card is not None and card.kind in CARD_KINDS and card.kind not in kinds:
            kinds.append(card.kind)
        self.workshop, self.allowed_kinds = workshop, kinds
        self.kind.choices = [SelectChoice(k, CARD_KINDS[k]) for k in kinds]
        return self

    def validate_kind(self, field):
        if field.data not in CARD_KINDS:
            raise ValidationError(field.gettext("Not a valid choice."))
        if field.data not in self.allowed_kinds:
            template = self.workshop.template
            raise ValidationError(_(
                "Les cartes « %(kind)s » ne sont pas proposées dans cet atelier (modèle « %(template)s »).",
                kind=CARD_KINDS[field.data], template=TEMPLATES.get(template, template)))

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
