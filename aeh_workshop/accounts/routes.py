"""Setup of the first facilitator, log in and log out, new facilitator accounts."""
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME

from ..extensions import db, limiter, login
from ..htmx import is_htmx
from ..models import Facilitator
from . import passwords, service
from .forms import FacilitatorForm, LoginForm

bp = Blueprint("accounts", __name__)


@bp.record_once
def _configure_login(_state):
    login.login_view = "accounts.login_page"
    login.login_message = _l("Connectez-vous pour accéder à cette page.")
    login.login_message_category = "info"
    # "basic", not "strong": "strong" throws the session away when the address or browser
    # string changes, which logs a facilitator out mid-workshop when the phone moves from the
    # venue's Wi-Fi to 4G. The session is renewed at login instead (_fresh_session).
    login.session_protection = "basic"


@bp.context_processor
def _password_rules():
    """The rules the account forms announce to browsers and password managers."""
    return {"password_rules": {"min": passwords.MIN_LENGTH, "max": passwords.MAX_LENGTH,
                               "attribute": passwords.RULES_ATTRIBUTE}}


@login.user_loader
def load_user(user_id: str):
    return db.session.get(Facilitator, int(user_id))


@login.unauthorized_handler
def unauthorized():
    """Participants get a plain refusal; anonymous visitors are asked to log in
    (an htmx request sends the whole page there, not the login form into a fragment)."""
    if session.get("participants"):
        abort(403)
    flash(login.login_message, login.login_message_category)
    target = url_for(login.login_view, next=_back_to())
    if is_htmx():
        resp = make_response("", 401)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)


def _back_to() -> str:
    """Where to return after logging in: the page, not the fragment, that asked."""
    if is_htmx() and request.headers.get("HX-Current-URL"):
        current = urlsplit(request.headers["HX-Current-URL"])
        return current.path + (f"?{current.query}" if current.query else "")
    return request.full_path.rstrip("?")


@bp.get("/setup")
def setup():
    """One-time page that creates the first facilitator of a fresh install."""
    if service.has_facilitators():
        abort(404)
    return render_template("accounts/setup.html", form=FacilitatorForm())


@bp.post("/setup")
def setup_post():
    """Create the first facilitator and log them in."""
    if service.has_facilitators():
        abort(404)
    form = FacilitatorForm()
    if not form.validate_on_submit():
        return render_template("accounts/setup.html", form=form), 422
    user = service.create_facilitator(form.email.data, form.password.data, form.name.data, form.locale.data)
    _fresh_session()
    login_user(user)
    flash(_("Bienvenue ! Votre compte d'animation est créé."), "success")
    return redirect(url_for("workshops.index"))


@bp.get("/login")
def login_page():
    """The log-in form."""
    return render_template("accounts/login.html", form=LoginForm())


@bp.post("/login")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], deduct_when=lambda r: r.status_code != 302)
def login_post():
    """Check the credentials and open the facilitator's session."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 422
    user = service.authenticate(form.email.data, form.password.data)
    if user is None:
        form.password.errors.append(_("Adresse ou mot de passe incorrect."))
        return render_template("accounts/login.html", form=form), 422
    _fresh_session()
    remember = bool(form.remember.data)
    login_user(user, remember=remember)
    if not remember and current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies:
        session["_remember"] = "clear"   # an older remember-me cookie (maybe someone else's) goes too
    return redirect(_safe_next() or url_for("workshops.index"))


@bp.post("/logout")
@login_required
def logout():
    """Close the facilitator's session (and whatever else this browser held: a
    projector computer forgets its screen access too). The language stays."""
    _fresh_session()
    logout_user()   # after the clearing: it leaves the mark that deletes the remember-me cookie
    flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("core.index"))


@bp.get("/facilitators/new")
@login_required
def new_facilitator():
    """Form for a facilitator to open an account for a colleague."""
    return render_template("accounts/new.html", form=FacilitatorForm())


@bp.post("/facilitators/new")
@login_required
def create_facilitator():
    """Open an account for a colleague, who can then be added to workshops."""
    form = FacilitatorForm()
    if form.validate_on_submit():
        try:
            user = service.create_facilitator(form.email.data, form.password.data, form.name.data, form.locale.data)
        except service.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            flash(_("Compte créé pour %(email)s.", email=user.email), "success")
            return redirect(url_for("workshops.index"))
    return render_template("accounts/new.html", form=form), 422


def _fresh_session() -> None:
    """Start the session again from nothing, at log in and log out: nothing this browser held
    before carries over (a value planted by someone else, an old CSRF token, a projector's
    access, participant identities: one logging in is a facilitator here, and a participant
    gets back in with the name and PIN). Only the language chosen stays."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _safe_next() -> str | None:
    """Only paths of this site are followed after log in (browsers drop tabs and
    newlines and read backslashes as slashes, so "/\t/evil.org" leads away)."""
    target = request.args.get("next", "")
    if not target.startswith("/") or any(c in target for c in "\\") or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target
