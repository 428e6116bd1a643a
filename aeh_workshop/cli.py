"""Command line: `flask --app app facilitator create EMAIL`, `flask --app app demo`,
`flask --app app export CODE --format FORMAT -o FILE`."""
import secrets

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask.cli import AppGroup, with_appcontext

facilitator = AppGroup("facilitator", help="Comptes d'animation / facilitator accounts.")


MIGRATION_LOCK = 0x4145_4801  # any constant: one PostgreSQL advisory lock for "migrating"


def ensure_schema() -> None:
    """Apply pending migrations (the same on SQLite and PostgreSQL).

    Several server processes may start at once on one PostgreSQL database: an
    advisory lock lets one migrate while the others wait, then find nothing to do.
    """
    from flask_migrate import upgrade

    from .extensions import db
    directory = current_app.extensions["migrate"].directory
    if db.engine.dialect.name != "postgresql":
        upgrade(directory=directory)
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        try:
            upgrade(directory=directory)
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")


@facilitator.command("create")
@click.argument("email")
@click.option("--name", default="", help="Nom affiché / display name.")
@click.option("--password", prompt="Mot de passe / password", hide_input=True,
              confirmation_prompt=True, help="12 à 128 caractères / 12 to 128 characters.")
@with_appcontext
def create_facilitator(email, name, password):
    """Create a facilitator account."""
    from .accounts import passwords, service
    ensure_schema()
    refused = passwords.problem_in_both_languages(password, email, name)   # the forms' rules
    if refused:
        raise click.ClickException(refused)
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.ClickException(f"Adresse e-mail invalide / invalid e-mail address: {exc}") from exc
    try:
        user = service.create_facilitator(email, password, name)
    except service.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Compte créé / account created: {user.email}")


@click.command("demo")
@with_appcontext
def demo():
    """Create a realistic demo workshop and print how to use it."""
    from .demo import create_demo
    ensure_schema()
    password = secrets.token_urlsafe(9)
    workshop, user = create_demo(password)
    click.echo(f"Atelier de démonstration / demo workshop: « {workshop.title} »")
    click.echo(f"Code pour rejoindre / join code: {workshop.join_code}")
    click.echo(f"Participant·es / participants: /w/{workshop.join_code}")
    click.echo(f"Projecteur / projector: /w/{workshop.join_code}/screen?key={workshop.screen_token}")
    click.echo(f"Connexion animation / facilitator login: /login  {user.email} / {password}")


@click.command("export")
@click.argument("code")
@click.option("--format", "fmt", required=True, metavar="FORMAT",
              help="pdf, xlsx, docx, csv (zip), cards.csv, votes.csv, actions.csv, md, json, ics.")
@click.option("-o", "--output", metavar="FILE",
              help="Fichier écrit, « - » pour la sortie standard / file to write, '-' for stdout "
                   "(défaut / default: the download's own name).")
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True,
              help="Langue des libellés / language of the labels.")
@click.option("--version", "number", type=click.IntRange(min=1, max=2**31 - 1),
              help="Une version figée / a frozen version (défaut / default: the latest, "
                   "or the live state marked provisional when the workshop is not closed).")
@with_appcontext
def export(code, fmt, output, lang, number):
    """Write a workshop's outcome as a file, as the downloads give it."""
    from .outcomes import exports, service as outcomes
    from .workshops.service import by_code
    ensure_schema()
    if fmt not in exports.FORMATS:
        raise click.BadParameter(f"format inconnu / unknown format {fmt!r}; formats : {', '.join(exports.FORMATS)}",
                                 param_hint="--format")
    workshop = by_code(code)
    if workshop is None:
        raise click.ClickException(f"Aucun atelier avec le code / no workshop with the code {code!r}.")
    snapshot = outcomes.snapshot_of(workshop, number)
    if snapshot is None:
        known = ", ".join(str(o.version) for o in reversed(outcomes.versions(workshop))) or "—"
        raise click.ClickException(f"Pas de version {number} / no version {number} (versions : {known}).")
    result = exports.render(snapshot, fmt, lang=lang)
    output = output or result.filename
    with click.open_file(output, "wb") as fh:
        fh.write(result.data)
    which = ("provisoire / provisional (atelier non clos / workshop not closed)" if snapshot["provisional"]
             else f"version {snapshot['version']}")
    click.echo(f"Écrit / wrote {'stdout' if output == '-' else output}: {fmt}, {len(result.data)} octets / bytes, "
               f"{which}.", err=output == "-")


@click.command("purge")
@click.option("--days", type=click.IntRange(min=1, max=36_500), metavar="N",
              help="Durée de conservation en jours / retention in days (défaut / default: RETENTION_DAYS).")
@click.option("--dry-run", is_flag=True, help="Compter sans rien modifier / count, change nothing.")
@with_appcontext
def purge(days, dry_run):
    """Anonymise the participants of workshops closed longer ago than the retention period."""
    from . import privacy
    ensure_schema()
    days = days or privacy.retention_days()
    if days < 1:
        raise click.ClickException("RETENTION_DAYS doit valoir au moins 1 / must be at least 1.")
    done = privacy.purge(days, dry_run=dry_run)
    verb = "seraient anonymisé·es / would be anonymised" if dry_run else "anonymisé·es / anonymised"
    click.echo(f"Ateliers clos depuis plus de {days} jours / workshops closed more than {days} days ago: "
               f"{done.workshops} ; participant·es {verb}: {done.participants} ; "
               f"versions figées nettoyées / frozen versions scrubbed: {0 if dry_run else done.versions}.")


def init_app(app) -> None:
    app.cli.add_command(facilitator)
    app.cli.add_command(demo)
    app.cli.add_command(export)
    app.cli.add_command(purge)
    from .partners.cli import partners
    app.cli.add_command(partners)
