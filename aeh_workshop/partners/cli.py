"""`flask --app app partners import FILE --structure NAME [--dry-run]` and
`flask --app app partners duplicates --structure NAME [--json]`."""
import json
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale

partners = AppGroup("partners", help="Cartographie des partenariats / partnership map.")


@partners.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--structure", "structure_name", required=True, metavar="NAME",
              help="Structure accompagnée (créée si elle n'existe pas) / structure (created if new).")
@click.option("--dry-run", is_flag=True, help="Vérifier sans rien écrire / check, write nothing.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True,
              help="Langue des messages / language of the messages.")
@with_appcontext
def import_file(file, structure_name, dry_run, lang):
    """Import a CSV or XLSX file of partnership links: all rows or none."""
    from ..cli import ensure_schema
    from ..extensions import db
    from . import importer, service
    ensure_schema()
    with force_locale(lang):
        if not structure_name.strip():
            raise click.BadParameter("nom vide / empty name", param_hint="--structure")
        try:
            sheet = importer.read(file.read_bytes(), file.name)
        except importer.FileError as exc:
            raise click.ClickException(str(exc)) from exc
        mapping = importer.guess(sheet.headers)
        problems = importer.check_mapping(mapping)
        if problems:
            raise click.ClickException(" ".join(problems))
        rows = importer.parse(sheet, mapping)
        for header_index, field in sorted(mapping.items()):
            click.echo(f"  {sheet.headers[header_index]!r} → {field}", err=True)
        bad = [row for row in rows if row.errors]
        for row in bad:
            for message in row.errors:
                click.echo(f"ligne / line {row.line} : {message}", err=True)
        if bad:
            raise click.ClickException(f"{len(bad)} ligne(s) en erreur, rien n'a été importé / "
                                       f"{len(bad)} bad row(s), nothing was imported.")
        structure = service.structure_by_name(structure_name)
        created = structure is None
        if created and dry_run:
            click.echo(f"La structure « {structure_name.strip()} » serait créée / would be created.", err=True)
            name = " ".join(structure_name.split())
            structure = service.Structure(name=name, key=service.organisation_key(name))   # rolled back below
            db.session.add(structure)
            db.session.flush()
        elif created:
            structure, created = service.structure_for(structure_name)
        try:
            result = service.import_rows(structure, rows, file.name, dry_run=dry_run)
        except service.MapError as exc:
            raise click.ClickException(str(exc)) from exc
        verb = "seraient importés / would be imported" if dry_run else "importés / imported"
        click.echo(f"{result.links} liens {verb} dans « {structure.name} » : {result.partners} partenaires, "
                   f"dont {result.partners_new} nouveaux / {result.links} links, {result.partners} partners "
                   f"({result.partners_new} new)." + (" Rien n'a été écrit / nothing was written." if dry_run else ""))


@partners.command("duplicates")
@click.option("--structure", "structure_name", required=True, metavar="NAME")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON / JSON output.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
@with_appcontext
def duplicates(structure_name, as_json, lang):
    """Print the suggested groups of partners that look like one company."""
    from ..cli import ensure_schema
    from . import merges, service
    ensure_schema()
    structure = service.structure_by_name(structure_name)
    if structure is None:
        raise click.ClickException(f"Aucune structure « {structure_name} » / no such structure.")
    with force_locale(lang):
        groups = [group_dict(group, merges.link_counts(structure)) for group in merges.suggestions(structure)]
    if as_json:
        click.echo(json.dumps({"structure": structure.name, "partners": len(merges.partners_in(structure)),
                               "groups": groups}, ensure_ascii=False, indent=2))
        return
    if not groups:
        click.echo("Aucun doublon suggéré / no suggested duplicates.")
    for number, group in enumerate(groups, 1):
        click.echo(f"{number}. score {group['score']:.2f} — {' ; '.join(r['text'] for r in group['reasons'])}")
        for partner in group["partners"]:
            click.echo(f"   - {partner['name']} ({partner['links']} lien(s) / link(s), id {partner['id']})")


def group_dict(group, links: dict[int, int]) -> dict:
    """A suggested group as data: partners (the one to keep first), score, reasons in words."""
    from ..vocab import DUPLICATE_REASONS
    return {
        "score": group.score,
        "keep": group.ids[0],
        "partners": [{"id": i, "name": n, "links": links.get(i, 0)} for i, n in zip(group.ids, group.names)],
        "reasons": [{"code": r.code, "text": str(DUPLICATE_REASONS[r.code]) % {"a": r.a, "b": r.b}}
                    for r in group.reasons],
    }
