"""Forms for the action plan: a participant's proposal, a facilitator's action, a status."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from ..vocab import ACTION_STATUSES, RAMEAU_STEPS, choices
from .service import MAX_ID, Fields

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _squeeze(value):
    """Surrounding and repeated spaces removed (a title is one line)."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _clip(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


class ActionForm(FlaskForm):
    """What a participant proposes; the facilitator's form adds the owner list and the status."""
    title = StringField(_l("Action à mener"), filters=[_squeeze], validators=[
        DataRequired(message=_l("Donnez un titre à l'action.")),
        Length(max=200, message=_l("%(max)d caractères au plus."))])
    owner = RadioField(_l("Qui porte l'action ?"), default="", validate_choice=False)
    owner_name = StringField(_l("Nom"), filters=[_squeeze], validators=[
        Optional(), Length(max=80, message=_l("%(max)d caractères au plus."))])
    owner_org = StringField(_l("Structure"), filters=[_squeeze], validators=[
        Optional(), Length(max=160, message=_l("%(max)d caractères au plus."))])
    due_on = DateField(_l("Échéance"), format=["%Y-%m-%d", "%d/%m/%Y"], validators=[Optional()],
                       invalid_value_message=_l("Date invalide : choisissez-la dans le calendrier (jj/mm/aaaa)."))
    step = SelectField(_l("Étape (démarche du Rameau)"), default="",
                       choices=lambda: choices(RAMEAU_STEPS, blank=_l("— non précisée —")))
    card = SelectField(_l("Carte liée"), default="", validate_choice=False)
    priority = SelectField(_l("Priorité liée"), default="", validate_choice=False)
    offer = SelectField(_l("Offre commune liée"), default="", validate_choice=False)

    def validate_due_on(self, field):
        if field.data is not None and not EARLIEST <= field.data <= LATEST:
            raise ValidationError(_l("Choisissez une date entre %(first)d et %(last)d.",
                                     first=EARLIEST.year, last=LATEST.year))

    def validate_owner(self, field):
        if field.data and field.data not in ("me", "other") and not _is_id(field.data):
            raise ValidationError(_l("Porteur·se inconnu·e."))

    def validate_card(self, field):
        _check_id(field, _l("Carte inconnue."))

    def validate_priority(self, field):
        _check_id(field, _l("Priorité inconnue."))

    def validate_offer(self, field):
        _check_id(field, _l("Offre commune inconnue."))

    def set_choices(self, links, me=None, participants=(), current_owner=None) -> "ActionForm":
        """The lists this viewer picks from: links of this workshop, and who may own the action."""
        none = _l("— aucune —")
        self.card.choices = [SelectChoice("", none)] + [SelectChoice(str(c.id), _clip(c.text)) for c in links.cards]
        self.priority.choices = [SelectChoice("", none)] + [
            SelectChoice(str(p.id), f"{p.rank}. {_clip(p.title, 76)}") for p in links.priorities]
        self.offer.choices = [SelectChoice("", none)] + [
            SelectChoice(str(o.id), _clip(o.title) or str(_l("Offre commune sans titre"))) for o in links.offers]
        owners = [SelectChoice("", _l("Pas encore désigné·e"))]
        if me is not None:
            # str(): a lazy string counts as safe HTML (__html__), and the name is the participant's own typing.
            owners.append(SelectChoice("me", str(_l("Moi (%(name)s)", name=me.display_name))))
        owners += [SelectChoice(str(p.id), f"{p.display_name} — {p.organisation.name}") for p in participants]
        if current_owner is not None and not any(c.value == str(current_owner.id) for c in owners):
            owners.append(SelectChoice(str(current_owner.id), current_owner.display_name))
        owners.append(SelectChoice("other", _l("Une autre personne (nom et structure)")))
        self.owner.choices = owners
        return self

    def fields(self) -> Fields:
        """The cleaned values, blanks as None."""
        return Fields(title=self.title.data or "", owner=self.owner.data or "",
                      owner_name=self.owner_name.data or "", owner_org=self.owner_org.data or "",
                      due_on=self.due_on.data, step=self.step.data or None,
                      card_id=_int(self.card.data), priority_id=_int(self.priority.data),
                      offer_id=_int(self.offer.data), status=getattr(getattr(self, "status", None), "data", None),
                      status_was=getattr(getattr(self, "status_was", None), "data", None) or None)

    @classmethod
    def for_action(cls, action, participant=None) -> "ActionForm":
        """The form filled in with an action, to edit it."""
        if action.owner_id is None:
            owner = "other" if action.owner_name else ""
        elif participant is not None and action.owner_id == participant.id:
            owner = "me"
        else:
            owner = str(action.owner_id)
        data = {"title": action.title, "owner": owner, "owner_name": action.owner_name,
                "owner_org": action.owner_org, "due_on": action.due_on, "step": action.step or "",
                "card": str(action.card_id or ""), "priority": str(action.priority_id or ""),
                "offer": str(action.offer_id or ""), "status": action.status, "status_was": action.status}
        return cls(formdata=None, data=data)


class FacilitatorActionForm(ActionForm):
    owner = SelectField(_l("Porteur·se"), default="", validate_choice=False)
    status = SelectField(_l("Statut"), default="todo", choices=lambda: choices(ACTION_STATUSES))
    # The status when the form was loaded: left as it was, the form does not undo
    # a status its owner changed meanwhile.
    status_was = HiddenField()


class StatusForm(FlaskForm):
    status = HiddenField(validators=[AnyOf(list(ACTION_STATUSES), message=_l("Statut inconnu."))])


def _is_id(value: str) -> bool:
    # isascii(): str.isdigit() is true for "²" or "٣", which int() then refuses.
    return value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID


def _check_id(field, message):
    if field.data and not _is_id(field.data):
        raise ValidationError(message)


def _int(value: str | None) -> int | None:
    return int(value) if value else None
