"""Home page, health check and error pages."""
from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from .. import guard
from ..accounts.service import has_facilitators
from ..extensions import db
from ..htmx import error_flash, is_htmx
from ..participants.forms import CodeForm

bp = Blueprint("core", __name__)
# Scale-out instances refuse writes while Redis is down (guard.refuse_writes_without_queue).
bp.before_app_request(guard.refuse_writes_without_queue)


@bp.get("/")
def index():
    """Join form for participants; the first start leads to the setup page."""
    if not has_facilitators():
        return redirect(url_for("accounts.setup"))
    return render_template("core/index.html", form=CodeForm())


@bp.get("/privacy")
def privacy():
    """What AEH Atelier keeps about participants, why, for how long, and their rights."""
    return render_template("core/privacy.html")


@bp.get("/healthz")
def healthz():
    """200 when the database (and Redis, when configured) answer; 503 naming what is down."""
    checks = {"database": _check(lambda: db.session.execute(text("SELECT 1")))}
    if current_app.config["REDIS_URL"]:
        import redis
        url = current_app.config["REDIS_URL"]
        checks["redis"] = _check(lambda: redis.Redis.from_url(url, socket_timeout=2).ping())
    down = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "down" if down else "ok", **checks}
    if down:
        body["down"] = down
    return jsonify(body), 503 if down else 200


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure means "down"; the detail is logged
        current_app.logger.warning("health check failed: %s", exc)
        db.session.rollback()
        return "down"


def _error(status: int, title: str, message: str):
    """An error page, or for htmx a message swapped into the page's #flash."""
    if is_htmx():
        resp = error_flash(message, status)
    else:
        resp = make_response(render_template("core/error.html", title=title, message=message), status)
    resp.vary.add("HX-Request")
    return resp


@bp.app_errorhandler(CSRFError)
def csrf_error(_exc):
    return _error(400, _("Session expirée"),
                  _("Votre session a expiré ou le formulaire est trop ancien. Rechargez la page et réessayez."))


@bp.app_errorhandler(400)
def bad_request(_exc):
    return _error(400, _("Requête invalide"), _("La requête n'a pas pu être comprise."))


@bp.app_errorhandler(403)
def forbidden(_exc):
    return _error(403, _("Accès refusé"), _("Vous n'avez pas accès à cette page."))


@bp.app_errorhandler(404)
def not_found(_exc):
    return _error(404, _("Introuvable"), _("Cette page n'existe pas ou plus."))


@bp.app_errorhandler(405)
def method_not_allowed(_exc):
    return _error(405, _("Action impossible"), _("Cette adresse ne permet pas cette action."))


@bp.app_errorhandler(413)
def too_large(_exc):
    return _error(413, _("Envoi trop volumineux"), _("Ce que vous avez envoyé est trop volumineux."))


@bp.app_errorhandler(415)
def unsupported(_exc):
    return _error(415, _("Envoi non pris en charge"), _("Seuls les formulaires de l'application sont acceptés."))


@bp.app_errorhandler(429)
def too_many(_exc):
    return _error(429, _("Trop de tentatives"),
                  _("Trop de tentatives depuis votre connexion. Patientez une minute avant de réessayer."))


RETRY_AFTER = "5"


@bp.app_errorhandler(503)
def unavailable(exc):
    """Redis (the scale-out message queue) or the database is down: nothing was saved."""
    if getattr(exc, "description", None) == "redis":
        message = _("Le service est momentanément indisponible : votre action n'a pas été enregistrée. "
                    "Réessayez dans quelques secondes.")
    else:
        message = _database_message()
    resp = _error(503, _("Service indisponible"), message)
    resp.headers["Retry-After"] = RETRY_AFTER
    return resp


def _database_message() -> str:
    return _("La base de données ne répond pas : rien n'a été enregistré. Réessayez dans un instant.")


@bp.app_errorhandler(OperationalError)
def database_down(exc):
    """PostgreSQL (or the SQLite file) unreachable: a 503 with a message, never a 500."""
    return _database_unavailable(exc)


@bp.app_errorhandler(DBAPIError)
def database_error(exc):
    if not exc.connection_invalidated:
        raise exc   # a real bug (integrity, SQL): the usual 500
    return _database_unavailable(exc)


def _database_unavailable(exc):
    current_app.logger.error("database unavailable: %s", exc)
    try:
        db.session.rollback()
    except Exception:  # the connection is gone already
        pass
    resp = _error(503, _("Service indisponible"), _database_message())
    resp.headers["Retry-After"] = RETRY_AFTER
    return resp


@bp.app_errorhandler(500)
def server_error(_exc):
    return _error(500, _("Erreur"), _("Une erreur inattendue est survenue. Réessayez dans un instant."))
