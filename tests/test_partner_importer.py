"""Reading a partnership-link file: CSV or XLSX as people really export them, columns guessed
in French or English, every bad cell reported on the line the user sees, nothing written."""
import contextvars
import io
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask import has_request_context

from aeh_workshop.partners import importer
from aeh_workshop.partners.importer import FileError

# A copy of ../shared/data/partner-links-sample.csv: the tests must not depend on a sibling folder.
SAMPLE = Path(__file__).resolve().parent / "data" / "partner-links-sample.csv"
SPONSORING = ("Catégorie inconnue : « sponsoring » (attendu : Mécénat, Pratiques responsables, "
              "Coopération économique, Innovation sociétale).")


@pytest.fixture(autouse=True)
def request_ctx(app):
    """Messages are translated per request: read them as a French visitor would."""
    with app.test_request_context():
        yield


def rows_of(data: bytes, filename: str = "liens.csv") -> list[importer.Row]:
    sheet = importer.read(data, filename)
    return importer.parse(sheet, importer.guess(sheet.headers))


def xlsx(*rows: list) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ----------------------------------------------------------------- the sample

def test_the_sample_file_is_read_whole_with_every_column_recognised():
    sheet = importer.read(SAMPLE.read_bytes(), SAMPLE.name)
    mapping = importer.guess(sheet.headers)
    assert {sheet.headers[i]: name for i, name in mapping.items()} == {
        "reporte_par": "holder", "partenaire": "partner", "type_partenaire": "partner_kind",
        "description": "description", "categorie_rameau": "category", "sous_type": "subtype",
        "statut": "status", "dernier_contact": "last_contact", "implication_salaries": "involvement"}
    assert importer.check_mapping(mapping) == []
    rows = importer.parse(sheet, mapping)
    assert [row.line for row in rows] == list(range(2, 33))
    assert [row for row in rows if row.errors] == []
    assert rows[0].values == {
        "partner": "Clinique du Val de Saône", "partner_kind": "company",
        "description": "a recruté des salariés sortis de parcours", "category": "economic",
        "subtype": "recrutement", "status": "past", "last_contact": date(2026, 8, 3), "involvement": "yes",
        "holder": "Sophie Lefèvre"}
    assert {row.values["category"] for row in rows} == {"mecenat", "practices", "economic", "innovation"}
    assert "subtype" not in rows[-1].values or rows[-1].values["subtype"]   # empty cells are absent, not ""


# ------------------------------------------------------------ other exports

def test_an_english_semicolon_cp1252_export_is_understood():
    text = ("Partner;Partner type;Category;Subtype;Direction;Status;Last contact;Employee involvement;"
            "Reported by;Priority;Next step;Comments;SIRET\r\n"
            "Société Générale d'Électricité;company;Sponsorship;en nature;company to association;active;"
            "03/02/2025;yes;Amélie Rousset;high;Relancer en février;Très engagés;123 456 789 00012\r\n"
            "Mairie de Bourg;Collectivité;Economic cooperation;client;both;Terminé;7/4/24;No;Chloé;Low;;;\r\n")
    sheet = importer.read(text.encode("cp1252"), "export.csv")
    assert sheet.headers[0] == "Partner" and len(sheet.headers) == 13
    first, second = importer.parse(sheet, importer.guess(sheet.headers))
    assert first.errors == [] and second.errors == []
    assert first.values == {
        "partner": "Société Générale d'Électricité", "partner_kind": "company", "siren": "12345678900012",
        "category": "mecenat", "subtype": "en nature", "direction": "company_to_association", "status": "active",
        "holder": "Amélie Rousset", "last_contact": date(2025, 2, 3), "involvement": "yes", "priority": "high",
        "next_action": "Relancer en février", "notes": "Très engagés"}
    assert (second.values["partner_kind"], second.values["category"], second.values["direction"],
            second.values["status"], second.values["last_contact"], second.values["involvement"],
            second.values["priority"]) == ("public", "economic", "mutual", "past", date(2024, 4, 7), "no", "low")


def test_a_bom_blank_lines_and_a_cell_on_two_lines_keep_the_line_numbers_true():
    text = ("\ufeffPartenaire,Description,Statut\r\n"
            "\r\n"
            "Élec Revermont,\"entretien\r\ndes espaces verts\",actif\r\n"
            ",,\r\n"
            "Imprimerie Bourg Graphic,,passé\r\n")
    sheet = importer.read(text.encode("utf-8"), "liens.csv")
    assert sheet.headers == ["Partenaire", "Description", "Statut"]     # no BOM glued to the first header
    rows = importer.parse(sheet, importer.guess(sheet.headers))
    assert [(row.line, row.values["partner"], row.errors) for row in rows] == [
        (3, "Élec Revermont", []), (6, "Imprimerie Bourg Graphic", [])]
    assert rows[0].values["description"] == "entretien\ndes espaces verts"


def test_excel_s_sep_hint_line_is_followed_and_not_taken_for_the_header():
    sheet = importer.read(b"sep=;\r\nNom;Statut\r\nElec Revermont;actif\r\n", "liens.csv")
    assert (sheet.headers, sheet.rows) == (["Nom", "Statut"], [(3, ["Elec Revermont", "actif"])])


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_the_separator_is_sniffed(separator):
    text = separator.join(["Entreprise", "Catégorie", "Dernier contact"]) + "\n" + \
        separator.join(["Transports Rhodaniens", "Mécénat", "05/07/2025"]) + "\n"
    [row] = rows_of(text.encode())
    assert row.values == {"partner": "Transports Rhodaniens", "category": "mecenat", "last_contact": date(2025, 7, 5)}


def test_an_excel_workbook_with_date_cells_and_a_numeric_siren():
    data = xlsx(["Organisation", "SIREN", "Catégorie", "Date dernier contact", "Sens", "Priorité"],
                ["Clinique du Val de Saône", 123456789, "Innovation", datetime(2025, 3, 4, 0, 0), "E → A", 2],
                [None, None, None, None, None, None],
                ["Boulangerie Martin", 12345678901234.0, "mecenat", date(2024, 11, 30), "réciproque", "Basse"])
    sheet = importer.read(data, "carto.xlsx")
    rows = importer.parse(sheet, importer.guess(sheet.headers))
    assert [(row.line, row.errors) for row in rows] == [(2, []), (4, [])]    # Excel's row numbers
    assert rows[0].values == {"partner": "Clinique du Val de Saône", "siren": "123456789", "category": "innovation",
                              "last_contact": date(2025, 3, 4), "direction": "company_to_association",
                              "priority": "medium"}
    assert (rows[1].values["siren"], rows[1].values["last_contact"], rows[1].values["direction"]) == (
        "12345678901234", date(2024, 11, 30), "mutual")


def test_title_lines_above_an_excel_table_are_skipped():
    data = xlsx(["Cartographie des partenariats — Tremplin Emploi Ain"], [], ["Nom", "Statut"],
                ["Élec Revermont", "actif"])
    sheet = importer.read(data, "carto.xlsx")
    assert sheet.headers == ["Nom", "Statut"]
    assert [(line, cells) for line, cells in sheet.rows] == [(4, ["Élec Revermont", "actif"])]


# ------------------------------------------------------------------- columns

@pytest.mark.parametrize("header, field", [
    ("Structure partenaire", "partner"), ("Company", "partner"), ("Nom de l'entreprise", "partner"),
    ("Reporté par", "holder"), ("Qui porte le lien ?", "holder"), ("Contact interne", "holder"),
    ("Owner", "holder"), ("Partner type", "partner_kind"), ("Kind", "partner_kind"),
    ("Catégorie (Rameau)", "category"), ("CATEGORY", "category"), ("Sous-type", "subtype"),
    ("État", "status"), ("Date du dernier contact", "last_contact"), ("Last contact", "last_contact"),
    ("Implication des salariés", "involvement"), ("Employee involvement", "involvement"), ("Sens", "direction"),
    ("Priorité", "priority"), ("Next action", "next_action"), ("Remarques", "notes"), ("N° SIRET", "siren"),
    ("Nature du lien", "description"), ("Description of the link", "description"), ("Objet", "description"),
])
def test_headers_are_recognised_in_french_and_english(header, field):
    assert importer.guess([header]) == {0: field}


def test_each_field_is_guessed_once_and_unknown_headers_stay_unmapped():
    headers = ["Entreprise", "Couleur préférée", "Partenaire", "Statut du partenariat", "Statut", "Catégorie",
               "Catégorie Rameau", ""]
    # A whole-header match beats a partial one further left; between equals, the first column wins.
    assert importer.guess(headers) == {0: "partner", 4: "status", 5: "category"}
    assert importer.guess(["Statut du partenariat"]) == {0: "status"}


def test_a_mapping_without_the_partner_is_refused():
    assert importer.check_mapping({0: "category"}) == ["Choisissez la colonne qui contient le nom du partenaire."]


def test_a_field_mapped_twice_is_refused():
    assert importer.check_mapping({0: "partner", 1: "status", 2: "status"}) == [
        "« Statut » est choisi pour plusieurs colonnes : gardez-en une seule."]


# -------------------------------------------------------------------- values

def test_bad_cells_are_reported_on_their_own_lines_and_the_rest_is_fine():
    text = ("partenaire,categorie_rameau,dernier_contact\n"
            "Élec Revermont,mécénat,2025-01-10\n"
            "Clinique du Val de Saône,sponsoring,2025-01-10\n"
            "Imprimerie Bourg Graphic,innovation,31/02/2025\n"
            ",innovation,\n"
            "Boulangerie Martin,,hier\n")
    rows = rows_of(text.encode())
    assert {row.line: row.errors for row in rows} == {
        2: [], 3: [SPONSORING],
        4: ["Dernier contact : la date « 31/02/2025 » n'existe pas."],
        5: ["Partenaire manquant."],
        6: ["Dernier contact : date illisible « hier » (attendu : jj/mm/aaaa ou aaaa-mm-jj)."]}
    assert rows[0].values["category"] == "mecenat" and "category" not in rows[1].values
    assert "category" not in rows[4].values    # empty is "not qualified yet", not an error


def test_a_date_more_than_a_year_ahead_is_refused():
    soon, far = date.today() + timedelta(days=200), date.today() + timedelta(days=400)
    rows = rows_of(f"Partenaire,Dernier contact\nA,{soon:%d/%m/%Y}\nB,{far:%d/%m/%Y}\n".encode())
    assert rows[0].values["last_contact"] == soon and rows[0].errors == []
    assert rows[1].errors == [f"Dernier contact : la date « {far:%d/%m/%Y} » est plus d'un an dans le futur."]


@pytest.mark.parametrize("field, raw, code", [
    ("category", "Mecenat", "mecenat"), ("category", "PATRONAGE", "mecenat"),
    ("category", "Pratiques  responsables", "practices"), ("category", "responsible practices", "practices"),
    ("category", "cooperation", "economic"), ("category", "practices", "practices"),
    ("category", "Societal innovation", "innovation"),
    ("status", "En cours", "active"), ("status", "ancien", "past"), ("status", "À développer", "wished"),
    ("status", "Souhaitée", "wished"), ("status", "envisagé", "wished"), ("status", "to develop", "wished"),
    ("involvement", "O", "yes"), ("involvement", "true", "yes"), ("involvement", "0", "no"),
    ("involvement", "souhaité", "wished"),
    ("direction", "Entreprise → association", "company_to_association"), ("direction", "e->a", "company_to_association"),
    ("direction", "Association vers entreprise", "association_to_company"),
    ("direction", "association to company", "association_to_company"), ("direction", "Les deux", "mutual"),
    ("direction", "E ↔ A", "mutual"), ("direction", "mutuel", "mutual"),
    ("priority", "forte", "high"), ("priority", "1", "high"), ("priority", "Moyenne", "medium"),
    ("priority", "faible", "low"),
    ("partner_kind", "Société", "company"), ("partner_kind", "asso", "association"),
    ("partner_kind", "commune", "public"), ("partner_kind", "Other", "other"),
])
def test_values_are_read_in_french_and_english(field, raw, code):
    headers = ["Partenaire", "Valeur"]
    sheet = importer.Sheet(headers=headers, rows=[(2, ["Élec Revermont", raw])], filename="t.csv")
    [row] = importer.parse(sheet, {0: "partner", 1: field})
    assert (row.values[field], row.errors) == (code, [])


@pytest.mark.parametrize("raw, day", [("2025-03-04", date(2025, 3, 4)), ("04/03/2025", date(2025, 3, 4)),
                                      ("04-03-2025", date(2025, 3, 4)), ("04/03/25", date(2025, 3, 4)),
                                      ("4/3/2025", date(2025, 3, 4)), ("2025-03-04 00:00:00", date(2025, 3, 4))])
def test_dates_are_read_as_spreadsheets_write_them(raw, day):
    [row] = rows_of(f"Partenaire,Dernier contact\nA,{raw}\n".encode())
    assert (row.values["last_contact"], row.errors) == (day, [])


@pytest.mark.parametrize("column, value, message", [
    ("SIREN", "12345", "SIREN invalide : « 12345 » (attendu : 9 chiffres, ou 14 pour un SIRET)."),
    ("SIREN", "12345678A", "SIREN invalide : « 12345678A » (attendu : 9 chiffres, ou 14 pour un SIRET)."),
    ("Sens", "vers le haut", "Sens inconnu : « vers le haut » (attendu : Entreprise → association, "
                             "Association → entreprise, Réciproque)."),
    ("Sous-type", "x" * 81, "Sous-type : 81 caractères, 80 au plus (« " + "x" * 59 + "… »)."),
    ("Description", "y" * 2001, "Description : 2001 caractères, 2000 au plus (« " + "y" * 59 + "… »)."),
])
def test_a_bad_value_is_named_with_its_column(column, value, message):
    [row] = rows_of(f"Partenaire,{column}\nÉlec Revermont,{value}\n".encode())
    assert row.errors == [message] and row.values == {"partner": "Élec Revermont"}


def test_a_partner_name_too_long_says_so_rather_than_missing():
    [row] = rows_of(("Partenaire\n" + "P" * 161 + "\n").encode())
    assert len(row.errors) == 1 and row.errors[0].startswith("Partenaire : 161 caractères, 160 au plus")


def test_formulas_stay_text_and_control_characters_go():
    text = "Partenaire,Notes\n=HYPERLINK(\"http://x\"),\"a\x07b\u202ec\"\n"
    [row] = rows_of(text.encode())
    assert row.values == {"partner": '=HYPERLINK("http://x")', "notes": "abc"}


def test_messages_read_outside_a_request_too():
    """The shell command parses with no request: labels and errors still come out as text."""
    def outside():
        assert not has_request_context()
        [row] = rows_of("Partenaire,Catégorie\n,sponsoring\n".encode())
        return str(importer.FIELDS["category"]), row.errors
    # A fresh contextvars.Context holds no Flask context, like a thread of the CLI.
    assert contextvars.Context().run(outside) == ("Catégorie du Rameau", ["Partenaire manquant.", SPONSORING])


# -------------------------------------------------------------- whole files

def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (importer.MAX_UNZIPPED + 1))
    return out.getvalue()


def not_excel_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "bonjour")
    return out.getvalue()


@pytest.mark.parametrize("data, filename, message", [
    (b"", "vide.csv", "Le fichier est vide."),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\x1f\xf3\xffa", "logo.csv",
     "Ce fichier n'est ni un tableau CSV ni un classeur Excel (.xlsx)"),
    (b"partenaire;statut\r\n\r\n", "liens.csv", "Le fichier ne contient que la ligne d'en-tête : aucun lien"),
    (b"\r\n;;\r\n", "liens.csv", "Le fichier ne contient aucune ligne"),
    (b'Partenaire,Notes\nA,"guillemet jamais ferm\xc3\xa9\nB,x\n', "liens.csv",
     "Ligne 2 illisible : vérifiez les guillemets de cette ligne."),
    (b"Partenaire\n" + b"Entreprise\n" * (importer.MAX_ROWS + 1), "liens.csv",
     "Le fichier compte plus de 5000 lignes : découpez-le"),
    (b"Partenaire\n" + b"x" * importer.MAX_BYTES, "liens.csv", "Le fichier dépasse 5 Mo"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "vieux.xls", "Ce classeur est à l'ancien format Excel (.xls)"),
    (b"Partenaire\nA\n", "renomme.xlsx", "Ce classeur Excel est illisible ou endommagé"),
    (not_excel_zip(), "archive.xlsx", "Ce classeur Excel est illisible ou endommagé"),
    (zip_bomb(), "bombe.xlsx", "Ce classeur est trop volumineux une fois décompressé."),
])
def test_an_unreadable_file_is_refused_with_a_clear_message(data, filename, message):
    with pytest.raises(FileError) as caught:
        importer.read(data, filename)
    assert str(caught.value).startswith(message)


def test_an_excel_workbook_with_only_its_header_is_refused():
    with pytest.raises(FileError, match="que la ligne d'en-tête"):
        importer.read(xlsx(["Partenaire", "Statut"]), "vide.xlsx")


def test_a_title_line_above_the_table_does_not_hide_its_separator():
    sheet = importer.read("Cartographie 2024\nPartenaire,Statut\nCabinet Faure,actif\n".encode(), "x.csv")
    assert sheet.headers == ["Partenaire", "Statut"]
    assert importer.parse(sheet, importer.guess(sheet.headers))[0].values == {"partner": "Cabinet Faure",
                                                                               "status": "active"}


def test_two_digit_years_and_dotted_sirens_read_as_people_write_them():
    [row] = rows_of("Partenaire;Dernier contact;SIREN\nCabinet Faure;03/08/99;123.456.789\n".encode())
    assert row.errors == []
    assert row.values["last_contact"] == date(1999, 8, 3) and row.values["siren"] == "123456789"


def test_a_bare_name_column_yields_to_the_company_column():
    sheet = importer.read("Nom;Prénom;Entreprise\nDupont;Jean;Acme\n".encode(), "x.csv")
    assert importer.guess(sheet.headers) == {2: "partner"}
    sheet = importer.read("Nom;Statut\nAcme;actif\n".encode(), "x.csv")
    assert importer.guess(sheet.headers) == {0: "partner", 1: "status"}
