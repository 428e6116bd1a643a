"""Forms for company diagnostics and the matching page."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..vocab import DIAGNOSTIC_SIDES, INVOLVEMENT, RAMEAU, choices
from .service import TERRITORY_MAX, TEXT_MAX, Answers

MAX_ID = 2**31 - 1


def _too_long(n: int):
    return Length(max=n, message=_l("%(max)d caractères au plus.", max=n))


class DiagnosticForm(FlaskForm):
    """One text per Rameau category and side (does_mecenat, wants_mecenat...), built below."""
    involve_employees = RadioField(_l("Souhaitez-vous impliquer vos salariés ?"), choices=lambda: choices(INVOLVEMENT),
                                   validators=[Optional()])
    territory = StringField(_l("Votre territoire"), validators=[_too_long(TERRITORY_MAX)],
                            render_kw={"maxlength": TERRITORY_MAX, "autocomplete": "address-level2"})
    version = IntegerField(widget=HiddenField.widget, default=0,
                           validators=[InputRequired(_l("Le formulaire a expiré : rechargez la page.")),
                                       NumberRange(0, MAX_ID)])

    def text(self, side: str, category: str):
        return self[f"{side}_{category}"]

    def answers(self) -> Answers:
        """The submitted answers (cleaned by the service)."""
        return Answers({c: self.text("does", c).data for c in RAMEAU}, {c: self.text("wants", c).data for c in RAMEAU},
                       self.involve_employees.data or None, self.territory.data or "")

    @classmethod
    def filled(cls, answers: Answers) -> "DiagnosticForm":
        data = {f"{side}_{c}": getattr(answers, side).get(c, "") for side in DIAGNOSTIC_SIDES for c in RAMEAU}
        return cls(formdata=None, data={**data, "involve_employees": answers.involve_employees,
                                        "territory": answers.territory, "version": answers.version})

    def keep_version(self, version: int) -> None:
        """After a conflict: saving again from here knowingly replaces the current answers."""
        self.version.raw_data, self.version.data = None, version


for _side in DIAGNOSTIC_SIDES:
    for _category in RAMEAU:
        setattr(DiagnosticForm, f"{_side}_{_category}", TextAreaField(
            RAMEAU[_category], validators=[_too_long(TEXT_MAX)], render_kw={"maxlength": TEXT_MAX, "rows": 3}))


class MatchingForm(FlaskForm):
    """Filters of the matching page, read from the query string."""
    class Meta:
        csrf = False

    year = SelectField(_l("Diagnostics"), coerce=str, validate_choice=False, default="")
    workshop = IntegerField(widget=HiddenField.widget, validators=[Optional(), NumberRange(1, MAX_ID)])
