"""Forms for dot votes, priorities and the phase timer."""
from functools import lru_cache

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..vocab import VOTE_SCOPES, choices
from .service import GROUPS, MAX_DOTS, Settings

DOTS = NumberRange(1, MAX_DOTS, message=_l("Entre 1 et %(max)d.", max=MAX_DOTS))
MAX_ID = 2**31 - 1   # what the database's ids can hold (and IdConverter accepts)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VoteForm(FlaskForm):
    title = StringField(_l("Question posée (facultatif)"), validators=[Optional(), Length(max=160)])
    budget = IntegerField(_l("Gommettes par personne"), default=5, validators=[InputRequired(), DOTS])
    cap = IntegerField(_l("Au plus par carte"), default=3, validators=[InputRequired(), DOTS])
    scope = SelectField(_l("Ce qui est soumis au vote"), choices=lambda: choices(VOTE_SCOPES), default="all")
    cluster = SelectField(_l("Regroupement"), coerce=int, validate_choice=False, default=0)
    shortlist = MultiCheckboxField(_l("Présélection"), coerce=int, validate_choice=False)
    by_kind = BooleanField(_l("Budgets et résultats séparés par type de structure"))
    budget_company = IntegerField(_l("Entreprises"), validators=[Optional(), DOTS])
    budget_association = IntegerField(_l("Associations"), validators=[Optional(), DOTS])
    budget_other = IntegerField(_l("Autres"), validators=[Optional(), DOTS])
    results = RadioField(_l("Résultats pour les participant·es"), default="hidden", choices=[
        SelectChoice("hidden", _l("Masqués jusqu'à la révélation")), SelectChoice("live", _l("Visibles en direct"))])
    # Hidden results by default, so the wall, which participants see too, shows only the count.
    screen = RadioField(_l("Au projecteur pendant le vote"), default="count", choices=[
        SelectChoice("tally", _l("Les barres en direct")),
        SelectChoice("count", _l("Seulement le nombre de gommettes posées"))])

    def validate_cluster(self, field):
        if field.data and not 1 <= field.data <= MAX_ID:
            raise ValidationError(_l("Regroupement inconnu."))

    def validate_shortlist(self, field):
        if any(not 1 <= n <= MAX_ID for n in field.data or []):
            raise ValidationError(_l("Carte inconnue."))

    def validate_cap(self, field):
        if self.budget.data and field.data and field.data > self.budget.data:
            raise ValidationError(_l("Pas plus que le nombre de gommettes par personne."))

    def settings(self) -> Settings:
        budgets = {g: getattr(self, f"budget_{g}").data or self.budget.data for g in GROUPS}
        return Settings(title=self.title.data or "", budget=self.budget.data, cap=self.cap.data,
                        scope=self.scope.data, cluster_id=self.cluster.data or None,
                        shortlist=list(self.shortlist.data or []), by_kind=self.by_kind.data,
                        kind_budgets=budgets, results=self.results.data, screen=self.screen.data)

    @classmethod
    def for_settings(cls, s: Settings, **kwargs) -> "VoteForm":
        data = {"title": s.title, "budget": s.budget, "cap": s.cap, "scope": s.scope,
                "cluster": s.cluster_id or 0, "shortlist": s.shortlist, "by_kind": s.by_kind,
                "results": s.results, "screen": s.screen}
        data.update({f"budget_{g}": s.kind_budgets.get(g, s.budget) for g in GROUPS})
        return cls(formdata=None, data=data, **kwargs)


class VoteStatusForm(FlaskForm):
    status = HiddenField(validators=[AnyOf(["open", "closed"])])


class DisplayForm(FlaskForm):
    results = HiddenField(validators=[Optional(), AnyOf(["hidden", "live"])])
    screen = HiddenField(validators=[Optional(), AnyOf(["tally", "count"])])
    revealed = HiddenField(validators=[Optional(), AnyOf(["0", "1"])])


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str):
    """WTForms' own messages for a language, read from disk once per process
    (Flask-WTF reads them again on every request)."""
    from babel import support
    from wtforms.i18n import messages_path
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class DotsForm(FlaskForm):
    """The most frequent write of a workshop: each tap on + or − of a ballot."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None
            return _wtforms_translations(str(get_locale()))

    dots = IntegerField(validators=[InputRequired(message=_l("Nombre de gommettes manquant.")),
                                    NumberRange(0, MAX_DOTS, message=_l("Nombre de gommettes invalide."))])


class PromoteForm(FlaskForm):
    top = IntegerField(_l("Nombre de priorités à retenir"), default=3,
                       validators=[Optional(), NumberRange(1, 50, message=_l("Entre 1 et 50."))])
    card = IntegerField(validators=[Optional()])


class MoveForm(FlaskForm):
    offset = IntegerField(validators=[InputRequired(), AnyOf([-1, 1])])

