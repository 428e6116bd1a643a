"""The partnership map's matrix and downloads: what a facilitator reads in the
matrix, on the projector, in the spreadsheet (French and English) and in the PDF."""
import io
import re
import shutil
import subprocess
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from flask import render_template_string
from openpyxl import load_workbook

from aeh_workshop.extensions import db
from aeh_workshop.models import MapEntry, Organisation, Structure
from aeh_workshop.partners import exports, importer, matrix

STRUCTURE = "Cœur de Dombes — Solidarités"
FORMULA = '=HYPERLINK("http://example.org","Cliquez")'


def _org(name: str, kind: str) -> Organisation:
    org = Organisation(name=name, key=name.casefold(), kind=kind)
    db.session.add(org)
    return org


@pytest.fixture
def sample(app):
    """A small map: 4 partners, 9 links, one of them not qualified yet; returns the structure's id."""
    with app.app_context():
        structure = Structure(name=STRUCTURE, key=STRUCTURE.casefold())
        plasturgie, elan = _org("Plasturgie Ain", "company"), _org("Élan Solidaire", "association")
        mairie, formula = _org("Mairie de Pont-d'Ain", "public"), _org(FORMULA, "company")
        db.session.add(structure)
        links = [
            (plasturgie, "economic", dict(description="Achats de prestations de conditionnement", subtype="client",
                                          direction="association_to_company", status="active", holder="Hélène",
                                          last_contact=date(2026, 10, 12), involvement="yes", priority="high",
                                          dots=4, next_action="Relancer pour 2027", notes="Très satisfaits")),
            (plasturgie, "economic", dict(status="active", priority="low")),
            (plasturgie, "economic", dict(status="past", last_contact=date(2025, 3, 2))),
            (plasturgie, "economic", dict(status="wished", priority="medium")),
            (plasturgie, "mecenat", dict(subtype="compétences", status="active")),
            (elan, "economic", dict(status="active")),
            (elan, "economic", dict(status="wished")),
            (elan, None, dict(description="Un lien à qualifier", source="import", source_label="liens.xlsx, ligne 12")),
            (mairie, "practices", dict(status="active", last_contact=date(2026, 6, 1))),
            (formula, "innovation", dict(description="-2+3", status="wished")),
        ]
        for partner, category, fields in links:
            db.session.add(MapEntry(structure=structure, partner=partner, category=category, **fields))
        db.session.commit()
        return structure.id


def _map(sid):
    """The structure and its entries (inside an app context)."""
    structure = db.session.get(Structure, sid)
    entries = db.session.scalars(db.select(MapEntry).filter_by(structure_id=sid).order_by(MapEntry.id)).all()
    return structure, entries


# ------------------------------------------------------------------ matrix

def test_the_matrix_counts_links_by_partner_and_category(app, sample):
    with app.app_context():
        grid = matrix.build(_map(sample)[1])
    assert grid.columns == ["mecenat", "practices", "economic", "innovation", "none"]
    assert [ln.name for ln in grid.lines] == ["Plasturgie Ain", "Élan Solidaire", FORMULA, "Mairie de Pont-d'Ain"]
    plasturgie, elan = grid.lines[0], grid.lines[1]
    assert (plasturgie.total, plasturgie.active, plasturgie.wished) == (5, 3, 1)
    assert {c: (cell.count, cell.level) for c, cell in plasturgie.cells.items()} == {
        "mecenat": (1, 1), "practices": (0, 0), "economic": (4, 4), "innovation": (0, 0), "none": (0, 0)}
    assert (elan.cells["economic"].count, elan.cells["economic"].level) == (2, 2)
    assert (elan.cells["none"].count, elan.cells["none"].level) == (1, 1)
    assert grid.totals == {"mecenat": 1, "practices": 1, "economic": 6, "innovation": 1, "none": 1}
    assert grid.grand_total == 10


def _entry(pid, name, category="economic", status="active", kind="company"):
    return SimpleNamespace(partner_id=pid, partner=SimpleNamespace(name=name, kind=kind), category=category,
                           status=status)


def test_ties_sort_by_name_without_case_or_accents_and_the_none_column_only_when_needed():
    grid = matrix.build([_entry(1, "Zèbre"), _entry(2, "écureuil"), _entry(3, "Dauphin"), _entry(4, "Eau vive"),
                         _entry(3, "Dauphin", "mecenat")])
    assert [ln.name for ln in grid.lines] == ["Dauphin", "Eau vive", "écureuil", "Zèbre"]
    assert "none" not in grid.columns
    assert matrix.build([]).lines == [] and matrix.build([]).grand_total == 0


@pytest.mark.parametrize("count, largest, level", [(0, 9, 0), (1, 9, 1), (3, 9, 2), (5, 9, 3), (7, 9, 4), (9, 9, 4),
                                                    (1, 1, 4), (1, 100, 1)])
def test_a_cell_level_is_its_share_of_the_largest_cell(count, largest, level):
    assert matrix.level(count, largest) == level


MACRO = '{% from "partners/_matrix.html" import matrix_table %}{{ matrix_table(grid, **kw) }}'


def _macro(app, grid, **kwargs):
    with app.test_request_context():
        return render_template_string(MACRO, grid=grid, kw=kwargs)


def test_the_projector_shows_the_top_fifteen_partners_and_sums_the_others(app):
    entries = [_entry(pid, f"Partenaire {pid:02d}") for pid in range(1, 21) for _n in range(21 - pid)]
    html = _macro(app, matrix.build(entries), screen=True)
    rows = re.findall(r'<th scope="row" class="partner">', html)
    assert len(rows) == 15
    assert "Partenaire 15" in html and "Partenaire 16" not in html
    assert "+ 5 autres partenaires" in html
    # The five hidden partners have 5 + 4 + 3 + 2 + 1 links: the "others" row adds up.
    others = html.split('class="others"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num total">(\d+)</td>', others) == ["15"]
    assert "<a " not in html and "is-screen" in html
    assert '<th scope="col" class="cat-col col-economic">Coopération économique</th>' in html


def test_the_page_matrix_lists_every_partner_with_links_levels_and_totals(app):
    entries = [_entry(1, "Élan & Co", "economic")] * 3 + [_entry(2, "Plasturgie Ain", None, "wished")]
    html = _macro(app, matrix.build(entries), link=lambda pid: f"/structures/1/partners/{pid}")
    assert "<caption>" in html and html.count('scope="col"') == 7
    assert '<a href="/structures/1/partners/1">Élan &amp; Co</a>' in html
    assert '<td class="num lvl-4">3</td>' in html          # the largest cell, darkest, its number printed
    assert '<td class="num lvl-0">0</td>' in html          # an empty cell still says 0
    assert "À qualifier" in html and "1 souhaité" in html
    assert re.search(r'<tfoot>.*<td class="num total">4</td>', html, re.S)
    assert "autres partenaires" not in html


def test_an_empty_matrix_says_so(app):
    assert "Aucun lien à afficher." in _macro(app, matrix.build([]), screen=True)


# ------------------------------------------------------------------ XLSX

def _workbook(app, sid, lang):
    with app.app_context():
        return load_workbook(io.BytesIO(exports.xlsx(*_map(sid), lang)))


def _rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_spreadsheet_in_french_has_links_matrix_and_partners(app, sample):
    wb = _workbook(app, sample, "fr")
    assert wb.sheetnames == ["Liens", "Matrice", "Partenaires"]
    links = wb["Liens"]
    assert _rows(links)[0] == ["Partenaire", "Type de structure", "Description", "Catégorie du Rameau", "Sous-type",
                               "Sens du lien", "Statut du lien", "Porteur", "Dernier contact",
                               "Implication des salariés", "Priorité", "Gommettes", "Prochaine action", "Notes",
                               "Origine"]
    assert links["A1"].font.b and links.freeze_panes == "B2" and links.auto_filter.ref == "A1:O11"
    first = _rows(links)[1]
    assert first[:8] == ["Plasturgie Ain", "Entreprise", "Achats de prestations de conditionnement",
                         "Coopération économique", "client", "Association → entreprise", "Actif", "Hélène"]
    assert first[8] == datetime(2026, 10, 12) and links["I2"].is_date and links["I2"].number_format == "DD/MM/YYYY"
    assert first[9:] == ["Oui", "Haute", 4, "Relancer pour 2027", "Très satisfaits", "Saisie"]
    unqualified = next(row for row in _rows(links) if row[2] == "Un lien à qualifier")
    assert unqualified[3] is None and unqualified[14] == "Import de fichier — liens.xlsx, ligne 12"


def test_formula_looking_texts_stay_text(app, sample):
    links = _workbook(app, sample, "fr")["Liens"]
    row = next(r for r in links.iter_rows(min_row=2) if "HYPERLINK" in str(r[0].value))
    assert row[0].value == "'" + FORMULA and row[0].data_type == "s"
    assert row[2].value == "'-2+3" and row[2].data_type == "s"


def test_the_matrix_sheet_has_counts_tints_and_totals(app, sample):
    sheet = _workbook(app, sample, "fr")["Matrice"]
    rows = _rows(sheet)
    assert rows[0] == ["Partenaire", "Type de structure", "Mécénat", "Pratiques responsables",
                       "Coopération économique", "Innovation sociétale", "À qualifier", "Total"]
    assert rows[1] == ["Plasturgie Ain", "Entreprise", 1, 0, 4, 0, 0, 5]
    assert rows[-1] == ["Total", None, 1, 1, 6, 1, 1, 10]
    assert sheet.auto_filter.ref == "A1:H5"        # the total row stays out of sorting
    largest, empty = sheet["E2"], sheet["D2"]
    assert largest.fill.fgColor.rgb.endswith(exports.RAMP[4][0]) and largest.font.color.rgb.endswith("FFFFFF")
    assert empty.fill.fill_type is None


def test_the_partners_sheet_has_one_row_per_partner(app, sample):
    rows = _rows(_workbook(app, sample, "fr")["Partenaires"])
    assert rows[0] == ["Partenaire", "Type de structure", "Liens", "Liens actifs", "Liens souhaités", "Catégories",
                       "Dernier contact", "Priorité la plus haute"]
    by_name = {row[0]: row for row in rows[1:]}
    assert len(by_name) == 4
    assert by_name["Plasturgie Ain"] == ["Plasturgie Ain", "Entreprise", 5, 3, 1, "Mécénat, Coopération économique",
                                         datetime(2026, 10, 12), "Haute"]
    assert by_name["Élan Solidaire"][5] == "Coopération économique, À qualifier"
    assert by_name["Élan Solidaire"][6:] == [None, None]


def test_the_spreadsheet_in_english(app, sample):
    wb = _workbook(app, sample, "en")
    header = _rows(wb.worksheets[0])[0]
    for label in ("Partner", "Type of organisation", "Le Rameau category", "Sub-type", "Direction of the link",
                  "Link status", "Priority", "Dots"):
        assert label in header
    first = _rows(wb.worksheets[0])[1]
    assert first[1] == "Company" and first[3] == "Economic cooperation" and first[6] == "Active"
    assert wb.worksheets[0]["I2"].number_format == "YYYY-MM-DD"
    assert _rows(wb.worksheets[1])[0][2:6] == ["Sponsorship", "Responsible practices", "Economic cooperation",
                                               "Societal innovation"]


def test_the_links_sheet_imports_back_into_a_map(app, sample):
    """A downloaded spreadsheet, edited, can be imported again: the importer recognises every column."""
    with app.app_context():
        data = exports.xlsx(*_map(sample), "fr")
        with app.test_request_context():
            sheet = importer.read(data, "carto.xlsx")
            rows = importer.parse(sheet, importer.guess(sheet.headers))
    assert [row.errors for row in rows] == [[]] * 10
    first = rows[0].values
    assert first == {"partner": "Plasturgie Ain", "partner_kind": "company",
                     "description": "Achats de prestations de conditionnement", "category": "economic",
                     "subtype": "client", "direction": "association_to_company", "status": "active",
                     "holder": "Hélène", "last_contact": date(2026, 10, 12), "involvement": "yes",
                     "priority": "high", "next_action": "Relancer pour 2027", "notes": "Très satisfaits"}


def test_an_empty_map_gives_a_spreadsheet_with_headers_and_zero_totals(app):
    with app.app_context():
        structure = Structure(name="Vide", key="vide")
        db.session.add(structure)
        db.session.commit()
        wb = load_workbook(io.BytesIO(exports.xlsx(structure, [], "fr")))
    assert [len(_rows(ws)) for ws in wb.worksheets] == [1, 2, 1]
    assert _rows(wb["Matrice"])[-1] == ["Total", None, 0, 0, 0, 0, 0]


# ------------------------------------------------------------------ PDF

def _pdf_text(data: bytes) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:
        if not shutil.which("pdftotext"):
            pytest.skip("neither pypdf nor pdftotext is installed: the PDF's text cannot be read")
        text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
        return text.replace("\u00a0", " ")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\u00a0", " ")     # French spaces before « : » are non-breaking


def test_the_pdf_report_names_the_structure_and_its_partners(app, sample):
    with app.app_context():
        data = exports.pdf(*_map(sample), "fr")
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    assert "Cartographie des partenariats" in text and STRUCTURE in text
    assert "Élan Solidaire" in text and "Mairie de Pont-d'Ain" in text
    assert "Coopération économique" in text and "Priorité : Haute" in text and "Relancer pour 2027" in text
    assert re.search(r"page 1 / \d", text)


def test_the_pdf_in_english_numbers_its_pages_in_english(app, sample):
    with app.app_context():
        text = _pdf_text(exports.pdf(*_map(sample), "en"))
    assert re.search(r"page 1 of \d", text) and "Economic cooperation" in text


def test_the_pdf_of_an_empty_map_says_there_is_no_link_yet(app):
    with app.app_context():
        structure = Structure(name="Élan naissant", key="élan naissant")
        db.session.add(structure)
        db.session.commit()
        data = exports.pdf(structure, [], "fr")
    text = _pdf_text(data)
    assert data.startswith(b"%PDF") and "Élan naissant" in text and "Aucun lien pour l'instant" in text


# ------------------------------------------------------------------ names

def test_file_names_are_ascii_slugs_with_the_date(app, sample):
    with app.app_context():
        structure = db.session.get(Structure, sample)
        name = exports.filename(structure, "xlsx", "fr")
        assert name == f"cartographie-coeur-de-dombes-solidarites-{exports.today().isoformat()}.xlsx"
        odd = SimpleNamespace(name='Œuvre "A/B"\\ ; l’Été')
        assert re.fullmatch(r"cartographie-oeuvre-a-b-l-ete-\d{4}-\d{2}-\d{2}\.pdf", exports.filename(odd, "pdf", "fr"))
        assert exports.filename(SimpleNamespace(name="東京"), "pdf", "fr").startswith("cartographie-structure-")
        with pytest.raises(ValueError):
            exports.filename(structure, "docx", "fr")
