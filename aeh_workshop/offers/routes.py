"""Joint offers: everyone in the workshop writes them together, section by section.

Forms load into one editor per page (#offer-editor), outside the pushed offers,
so a push or a resync never wipes what someone is typing.
"""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import access, realtime
from ..board import service as board
from ..htmx import page_or_fragment, wants_fragment
from ..workshops.service import by_code_or_404
from . import service
from .forms import LinkCardForm, NewOfferForm, SectionForm

bp = Blueprint("offers", __name__, url_prefix="/w/<code>/offers")

EDITOR = "offer-editor"


@bp.record_once
def _regions(state):
    realtime.register_region(state.app, "offers", access.EVERYONE, _render_offers)
    realtime.register_family(state.app, "offer", access.EVERYONE, lambda w, key: _render_offer_push(w, int(key)))
    state.app.jinja_env.globals["new_offer_form"] = NewOfferForm   # for offers/_block.html in any page


def _render_offers(workshop):
    offers = service.offers(workshop)
    return render_template("offers/_offers.html", workshop=workshop, offers=offers,
                           org_names=service.contributors(offers), ranks=service.priority_ranks(workshop))


def _render_offer(workshop, offer) -> str:
    return render_template("offers/_offer.html", workshop=workshop, offer=offer,
                           org_names=service.contributors([offer]), ranks=service.priority_ranks(workshop))


def _render_offer_push(workshop, offer_id: int) -> str:
    """One offer changed: replaced in place, appended to the list, or removed."""
    offer = service.offer_now(workshop, offer_id)
    html = _render_offer(workshop, offer) if offer else ""
    return render_template("offers/_push.html", offer_id=offer_id, html=html, exists=offer is not None)


def _home(workshop, who) -> str:
    if who.facilitator:
        return url_for("workshops.show", workshop_id=workshop.id)
    return url_for("participants.page", code=workshop.join_code)


def _editor(workshop, who, template, status=200, **ctx):
    """An editor form, in #offer-editor (htmx) or as a page of its own (no JavaScript)."""
    return page_or_fragment("offers/edit.html", template, status, workshop=workshop,
                            home=_home(workshop, who), editor_template=template, **ctx)


def _done(workshop, who, message, offer=None):
    """After a save: an empty editor, and the saved offer at once for the writer."""
    if not wants_fragment():
        flash(message, "success")
        return redirect(_home(workshop, who))
    html = render_template("offers/_editor_closed.html", message=message)
    if offer is not None:
        html += realtime.partial(f"offer-{offer.id}", _render_offer(workshop, offer))
    return html


@bp.get("/editor/closed")
def close_editor(code):
    """Cancel: the editor, empty."""
    by_code_or_404(code)
    return render_template("offers/_editor_closed.html")


@bp.post("")
def create(code):
    """Start a new joint offer with its title."""
    workshop = by_code_or_404(code)
    who = board.actor(workshop)
    form = NewOfferForm()
    if form.validate_on_submit():
        try:
            offer = service.create(workshop, who, form.title.data)
        except service.OfferError as exc:
            form.title.errors.append(str(exc))
        else:
            if not wants_fragment():
                flash(_("Offre créée."), "success")
                return redirect(_home(workshop, who) + f"#offer-{offer.id}")
            return render_template("offers/_new.html", workshop=workshop, form=NewOfferForm(formdata=None),
                                   message=_("Offre créée : complétez-la section par section."))
    return page_or_fragment("offers/edit.html", "offers/_new.html", 422, workshop=workshop, form=form,
                            home=_home(workshop, who), editor_template="offers/_new.html")


@bp.get("/<id:offer_id>/sections/<key>")
def edit_section(code, offer_id, key):
    """The form for one section, filled with its current text and version."""
    workshop = by_code_or_404(code)
    who = board.actor(workshop)
    offer = service.offer_or_404(workshop, offer_id)
    key = _resolve_key(workshop, who, offer, key)
    current = service.section(offer, key)
    form = SectionForm(formdata=None, text=current.text, version=current.version)
    return _section_editor(workshop, who, offer, key, form)


@bp.post("/<id:offer_id>/sections/<key>")
def save_section(code, offer_id, key):
    """Save one section, unless someone saved it since this form was loaded."""
    workshop = by_code_or_404(code)
    who = board.actor(workshop)
    offer = service.offer_or_404(workshop, offer_id)
    key = _resolve_key(workshop, who, offer, key)
    form = SectionForm()
    if not form.validate_on_submit():
        return _section_editor(workshop, who, offer, key, form, _("Le formulaire a expiré : rechargez la page."),
                               status=422)
    try:
        changed = service.save_section(workshop, who, offer, key, form.text.data, form.version.data)
    except service.OfferConflict as exc:
        # Saving again from here is a deliberate choice over the new text.
        form.version.raw_data, form.version.data = None, exc.current.version
        return _section_editor(workshop, who, offer, key, form, str(exc), current=exc.current, status=409)
    except service.OfferError as exc:
        return _section_editor(workshop, who, offer, key, form, str(exc), status=422)
    return _done(workshop, who, _("Section enregistrée.") if changed else _("Aucun changement."), offer)


def _resolve_key(workshop, who, offer, key: str) -> str:
    """"brings:mine" is the section of the participant's own organisation."""
    if key == "brings:mine":
        if who.participant is None:
            abort(404)
        key = f"brings:{who.participant.organisation_id}"
    service.check_key(workshop, who, offer, key)
    return key


def _section_editor(workshop, who, offer, key, form, message=None, current=None, status=200):
    return _editor(workshop, who, "offers/_section_form.html", status, offer=offer, key=key, form=form,
                   label=service.section_label(key, service.contributors([offer]) | _own_org(who, key)),
                   message=message, current=current, error=status >= 400)


def _own_org(who, key) -> dict[int, str]:
    """A participant's own organisation's name, for a contribution not written yet."""
    if who.participant is not None and key == f"brings:{who.participant.organisation_id}":
        return {who.participant.organisation_id: who.participant.organisation.name}
    return {}


@bp.get("/<id:offer_id>/cards")
def link_form(code, offer_id):
    """The form to link one of the workshop's cards to the offer."""
    workshop = by_code_or_404(code)
    who = board.actor(workshop)
    offer = service.offer_or_404(workshop, offer_id)
    return _link_editor(workshop, who, offer, LinkCardForm(formdata=None))


def _link_editor(workshop, who, offer, form, message=None, status=200):
    linked = {c.id for c in offer.cards}
    ranks = service.priority_ranks(workshop)
    cards = sorted((c for c in service.linkable_cards(workshop) if c.id not in linked),
                   key=lambda c: (ranks.get(c.id, 10**9), c.id))   # priorities first, in their order
    form.card.choices = [(c.id, _card_choice(c, ranks.get(c.id))) for c in cards]
    return _editor(workshop, who, "offers/_link_form.html", status, offer=offer, form=form, message=message)


def _card_choice(card, rank: int | None) -> str:
    text = card.text if len(card.text) <= 90 else card.text[:89] + "…"
    if rank is not None:
        return _("Priorité n° %(rank)d — %(text)s", rank=rank, text=text)
    return text


@bp.post("/<id:offer_id>/cards")
def link(code, offer_id):
    """Link a card to the offer."""
    workshop = by_code_or_404(code)
    who = board.actor(workshop)
    offer = service.offer_or_404(workshop, offer_id)
    form = LinkCardForm()
    if not form.validate_on_submit():
        return _link_editor(workshop, who, offer, form, status=422)
    try:
        service.link_card(workshop, who, offer, form.card.data, linked=True)
    except service.OfferError as exc:
        return _link_editor(workshop, who, offer, form, str(exc), status=422)
    return _done(workshop, who, _("Carte liée à l'offre."), offer)


@bp.post("/<id:offer_id>/cards/<id:card_id>/unlink")
def unlink(code, offer_id, card_id):
    """Detach a card from the offer."""
    workshop = by_code_or_404(code)
    who = board.actor(workshop)
    offer = service.offer_or_404(workshop, offer_id)
    try:
        service.link_card(workshop, who, offer, card_id, linked=False)
    except service.OfferError as exc:
        return _editor(workshop, who, "offers/_editor_closed.html", 409, message=str(exc), error=True)
    return _done(workshop, who, _("Carte retirée de l'offre."), offer)


@bp.post("/<id:offer_id>/delete")
def delete(code, offer_id):
    """Delete an offer (facilitators)."""
    workshop = by_code_or_404(code)
    who = board.actor(workshop)
    offer = service.offer_or_404(workshop, offer_id)
    service.delete(workshop, who, offer)
    if not wants_fragment():
        flash(_("Offre supprimée."), "success")
        return redirect(_home(workshop, who))
    return render_template("offers/_editor_closed.html", message=_("Offre supprimée.")) + realtime.partial(
        f"offer-{offer_id}", "", "delete")
