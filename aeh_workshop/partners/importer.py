"""Read a CSV or XLSX file of partnership links into checked rows, guessing its columns.

Pure parsing, nothing written: the preview page, its confirm step and the shell command all
go read → guess → check_mapping → parse, so a facilitator sees every problem, by the line
number their spreadsheet shows, before a single link reaches the map.
"""
import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..vocab import DIRECTIONS, INVOLVEMENT, LINK_STATUSES, MAP_PRIORITIES, PARTICIPANT_KINDS, RAMEAU

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED = 50 * 1024 * 1024    # real .xlsx inflate about 10x; a zip bomb far more
EARLIEST = date(1950, 1, 1)         # the manual form's floor
HEADER_SEARCH = 10                  # title lines an Excel export may put above its table

FIELDS = {
    "partner": _l("Partenaire"),
    "partner_kind": _l("Type de partenaire"),
    "siren": _l("SIREN"),
    "description": _l("Description"),
    "category": _l("Catégorie du Rameau"),
    "subtype": _l("Sous-type"),
    "direction": _l("Sens"),
    "status": _l("Statut"),
    "holder": _l("Qui porte le lien"),
    "last_contact": _l("Dernier contact"),
    "involvement": _l("Implication des salariés"),
    "priority": _l("Priorité"),
    "next_action": _l("Prochaine action"),
    "notes": _l("Notes"),
}
TEXT_LIMITS = {"partner": 160, "holder": 120, "subtype": 80, "next_action": 200, "description": 2000, "notes": 2000}
MULTILINE = ("description", "notes")

# Header synonyms per field: (whole header, words a longer header may contain). Bare words that
# often qualify another column ("type", "nom", "partenaire" in "Type de partenaire") match only whole.
HEADERS = {
    "partner": (("partenaire", "partner", "entreprise", "structure partenaire", "nom", "name", "organisation",
                 "organization", "organisme", "company", "société", "structure", "raison sociale", "partenaires",
                 "entreprise partenaire", "partner name", "company name"),
                ("nom partenaire", "nom entreprise", "nom structure", "nom organisation", "raison sociale",
                 "partner name", "company name", "organisation name", "organization name")),
    "partner_kind": (("type partenaire", "type", "kind", "partner type", "partner kind", "type structure",
                      "type organisation", "type organization", "organisation type", "organization type"),
                     ("type partenaire", "partner type", "type structure", "type organisation")),
    "siren": (("siren", "siret", "siren siret", "numéro siren", "n° siren"), ("siren", "siret")),
    "description": (("description", "descriptif", "objet", "nature du lien", "description du lien",
                     "description of the link", "link description", "nature du partenariat", "détails"),
                    ("description", "descriptif", "nature du lien")),
    "category": (("catégorie rameau", "catégorie", "category", "rameau", "type de partenariat", "type de lien",
                  "partnership type", "link type"), ("rameau", "catégorie", "category")),
    "subtype": (("sous-type", "subtype", "sous-catégorie", "subcategory"), ("sous type", "subtype", "sub type")),
    "direction": (("sens", "direction", "sens du lien", "link direction"), ("sens du lien",)),
    "status": (("statut", "status", "état", "state", "statut du lien", "link status"), ("statut", "status")),
    "holder": (("reporté par", "porteur", "qui porte le lien", "holder", "contact interne", "owner", "reported by",
                "référent", "référent interne", "responsable", "porteur du lien", "link holder", "internal contact"),
               ("reporté par", "porteur", "qui porte", "contact interne", "internal contact", "reported by", "référent")),
    "last_contact": (("dernier contact", "last contact", "date dernier contact", "date du dernier contact",
                      "date of last contact", "last contact date", "date"), ("dernier contact", "last contact")),
    "involvement": (("implication salariés", "implication des salariés", "employee involvement", "salariés",
                     "implication", "involvement", "employees involved", "salariés impliqués", "staff involvement"),
                    ("implication", "involvement", "salariés impliqués")),
    "priority": (("priorité", "priority", "prio"), ("priorité", "priority")),
    "next_action": (("prochaine action", "next action", "next step", "next steps", "prochaine étape", "action",
                     "suite à donner"), ("prochaine action", "next action", "next step", "prochaine étape")),
    "notes": (("notes", "note", "commentaire", "commentaires", "remarques", "remarque", "comments", "comment",
               "observations", "remarks"), ("commentaire", "commentaires", "remarques", "notes", "comments")),
}
STOPWORDS = {"de", "du", "des", "d", "la", "le", "les", "l", "of", "the"}
WEAK_WHOLE = {"nom", "name"}

# Accepted values (folded: case, accents, spaces and punctuation ignored), besides codes and labels.
VALUES = {
    "category": (RAMEAU, {
        "mecenat": ("mécénat", "sponsorship", "patronage"),
        "practices": ("pratiques responsables", "responsible practices"),
        "economic": ("coopération économique", "economic cooperation", "coopération", "cooperation"),
        "innovation": ("innovation sociétale", "societal innovation", "innovation sociale", "social innovation")}),
    "status": (LINK_STATUSES, {
        "active": ("actif", "active", "en cours", "ongoing"),
        "past": ("passé", "past", "terminé", "ancien", "ended", "former"),
        "wished": ("souhaité", "souhaitée", "wished", "à développer", "to develop", "envisagé", "envisagée")}),
    "involvement": (INVOLVEMENT, {
        "yes": ("oui", "yes", "o", "y", "true", "vrai", "1"),
        "no": ("non", "no", "n", "false", "faux", "0"),
        "wished": ("souhaitée", "souhaité", "wished", "à développer", "to develop")}),
    "direction": (DIRECTIONS, {
        "company_to_association": ("entreprise → association", "entreprise vers association", "e→a",
                                   "company to association", "company → association", "c→a"),
        "association_to_company": ("association → entreprise", "association vers entreprise", "a→e",
                                   "association to company", "association → company", "a→c"),
        "mutual": ("réciproque", "mutuel", "mutuelle", "mutual", "les deux", "both", "both ways", "two-way")}),
    "priority": (MAP_PRIORITIES, {
        "high": ("haute", "high", "1", "forte", "élevée"),
        "medium": ("moyenne", "medium", "2"),
        "low": ("basse", "low", "3", "faible")}),
    "partner_kind": (PARTICIPANT_KINDS, {
        "company": ("entreprise", "company", "société", "business"),
        "association": ("association", "asso"),
        "public": ("collectivité", "public", "mairie", "commune", "public body", "collectivité territoriale"),
        "other": ("autre", "other")}),
}
UNKNOWN = {
    "category": _l("Catégorie inconnue : « %(value)s » (attendu : %(expected)s)."),
    "status": _l("Statut inconnu : « %(value)s » (attendu : %(expected)s)."),
    "involvement": _l("Implication des salariés inconnue : « %(value)s » (attendu : %(expected)s)."),
    "direction": _l("Sens inconnu : « %(value)s » (attendu : %(expected)s)."),
    "priority": _l("Priorité inconnue : « %(value)s » (attendu : %(expected)s)."),
    "partner_kind": _l("Type de partenaire inconnu : « %(value)s » (attendu : %(expected)s)."),
}
BOTH_WAYS = ("↔", "<->", "<=>", "⇄", "⇆", "⟷")
RIGHT_TO_LEFT = re.compile(r"←|<-|<=")
DATES = (  # (pattern, order of the groups)
    (re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"), "ymd"),
    (re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})"), "dmy"),
)
CONTROL = re.compile("[\x00-\x08\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1f]")


class FileError(ValueError):
    """The whole file cannot be read; the message, already translated, says what to do."""


@dataclass
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[str]]]     # (line number the user sees, cells as stripped strings)
    filename: str


@dataclass
class Row:
    line: int
    values: dict[str, object] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class _Bad(ValueError):
    """One cell's problem: becomes one message of its row."""


# ------------------------------------------------------------------- reading

def read(data: bytes, filename: str) -> Sheet:
    """The header and non-blank rows of a CSV or XLSX file, each with its true line number."""
    if not data.strip():
        raise FileError(_("Le fichier est vide."))
    if len(data) > MAX_BYTES:
        raise FileError(_("Le fichier dépasse %(max)d Mo : découpez-le en plusieurs fichiers.",
                          max=MAX_BYTES // 1024 // 1024))
    if data.startswith(b"PK\x03\x04"):
        return _sheet(_xlsx_lines(data), filename)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileError(_("Ce classeur est à l'ancien format Excel (.xls) : enregistrez-le au format .xlsx "
                          "ou CSV, puis importez-le de nouveau."))
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise _damaged()
    return _sheet(_csv_lines(_decode(data)), filename)


def _not_a_table() -> FileError:
    return FileError(_("Ce fichier n'est ni un tableau CSV ni un classeur Excel (.xlsx) : depuis votre "
                       "tableur, enregistrez-le dans l'un de ces formats."))


def _damaged() -> FileError:
    return FileError(_("Ce classeur Excel est illisible ou endommagé : ouvrez-le dans votre tableur et "
                       "enregistrez-le de nouveau au format .xlsx."))


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then Windows' cp1252: what French Excel writes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):   # Excel's "Unicode text"
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data:
        raise _not_a_table()
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise FileError(_("L'encodage du fichier n'est pas reconnu : enregistrez-le en « CSV UTF-8 ».")) \
                    from None
    if len(NOT_TEXT.findall(text[:4096])) > 2:    # an image or a PDF renamed .csv
        raise _not_a_table()
    return text


def _delimiter(text: str) -> tuple[str, bool]:
    """The separator, and whether the file opens with Excel's "sep=;" hint line.

    Without the hint: the one that splits one of the first lines into most columns (ties: ; , tab).
    """
    lines = [line for line in text.splitlines()[:50] if line.strip()][:HEADER_SEARCH + 1]
    first = lines[0] if lines else ""
    if re.fullmatch(r"sep=[;,\t|]", first.strip(" ")):
        return first.strip(" ")[4], True
    # The widest split of any of the first lines: a title line above the table splits into one cell.
    counts = {d: max((len(next(csv.reader([line], delimiter=d), [])) for line in lines), default=0)
              for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]), False


def _csv_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """Records with the line they start on (a quoted cell may span several lines).

    Strict: an unclosed quote is an error on its line, not the rest of the file in one cell.
    """
    delimiter, hint = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for cells in reader:
            if hint and [cell for cell in cells if cell.strip()] == ["sep="]:
                hint = False
            else:
                yield start, cells
            start = reader.line_num + 1
    except csv.Error:
        raise FileError(_("Ligne %(line)d illisible : vérifiez les guillemets de cette ligne.", line=start)) from None


def _open_xlsx(data: bytes):
    """The workbook, after checking the archive would not inflate into a zip bomb."""
    import openpyxl
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            ods = "mimetype" in archive.namelist() and b"opendocument" in archive.read("mimetype")[:100]
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, NotImplementedError):
        raise _damaged() from None
    if ods:
        raise FileError(_("Les classeurs OpenDocument (.ods) ne sont pas lus : enregistrez-le au "
                          "format .xlsx ou CSV."))
    if len(infos) > 5000 or sum(info.file_size for info in infos) > MAX_UNZIPPED:
        raise FileError(_("Ce classeur est trop volumineux une fois décompressé."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # openpyxl warns about styles and extensions it skips
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:   # openpyxl raises KeyError, ValueError, XML errors… for a foreign or broken zip
        raise _damaged() from None


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """Rows of the first sheet with their Excel row numbers."""
    workbook = _open_xlsx(data)
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()        # exporters often write a wrong size; trust the rows themselves
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(value) for value in values]
    except Exception:   # a sheet's XML can be broken past its first rows
        raise _damaged() from None
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """An Excel cell as the user reads it: dates in ISO, 123456789.0 as 123456789."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _clean(value: str) -> str:
    """No control or invisible direction characters; one kind of line break."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")
    return CONTROL.sub("", value).strip()


def _sheet(lines: Iterable[tuple[int, list[str]]], filename: str) -> Sheet:
    """Skip blank rows; the header is the first row, or a lower one when title lines sit above it."""
    found: list[tuple[int, list[str]]] = []
    for line, cells in lines:
        cells = [_clean(cell) for cell in cells]
        if any(cells):
            found.append((line, cells))
        if len(found) > MAX_ROWS + HEADER_SEARCH:
            raise _too_many()   # stop reading: the rest could be huge
    if not found:
        raise FileError(_("Le fichier ne contient aucune ligne : il faut une ligne d'en-tête qui nomme les "
                          "colonnes (pour un classeur, sur la première feuille), puis une ligne par lien."))
    at = _header_index([cells for _line, cells in found[:HEADER_SEARCH]])
    headers = found[at][1]
    while headers and not headers[-1]:
        headers = headers[:-1]
    rows = [(line, _fit(cells, len(headers))) for line, cells in found[at + 1:]]
    rows = [(line, cells) for line, cells in rows if any(cells)]
    if not rows:
        raise FileError(_("Le fichier ne contient que la ligne d'en-tête : aucun lien à importer."))
    if len(rows) > MAX_ROWS:
        raise _too_many()
    return Sheet(headers=headers, rows=rows, filename=filename)


def _too_many() -> FileError:
    return FileError(_("Le fichier compte plus de %(max)d lignes : découpez-le en plusieurs fichiers.", max=MAX_ROWS))


def _header_index(candidates: list[list[str]]) -> int:
    """0, unless the first row names no known column and a later one names the partner."""
    if guess(candidates[0]):
        return 0
    return next((i for i, cells in enumerate(candidates) if "partner" in guess(cells).values()), 0)


def _fit(cells: list[str], width: int) -> list[str]:
    return (cells + [""] * width)[:width]


# ------------------------------------------------------------------- columns

def _words(text: str) -> tuple[str, ...]:
    """Lower-case ASCII words without accents or little words: 'Date du dernier_contact' → date dernier contact."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("œ", "oe").replace("æ", "ae"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return tuple(w for w in re.split(r"[^a-z0-9]+", text) if w and w not in STOPWORDS)


def _fold(text: str) -> str:
    return "".join(_words(text))


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    return any(words[i:i + len(part)] == part for i in range(len(words) - len(part) + 1))


def _scores(header: str) -> Iterator[tuple[float, str]]:
    """How well a header names each field: 3 whole, 1–2 as part of a longer header."""
    words = _words(header)
    if not words:
        return
    for name, (whole, parts) in HEADERS.items():
        if "".join(words) in {_fold(s) for s in whole}:
            # A bare "Nom"/"Name" may be a person's surname beside an "Entreprise" column: it yields.
            yield (2.5 if "".join(words) in WEAK_WHOLE else 3.0), name
            continue
        covered = max((len(_words(p)) for p in parts if _contains(words, _words(p))), default=0)
        if covered:
            yield 1 + covered / len(words), name


def guess(headers: list[str]) -> dict[int, str]:
    """Column index → field, best matches first, each field and each column used once."""
    order = list(FIELDS)
    candidates = sorted(((score, index, name) for index, header in enumerate(headers)
                         for score, name in _scores(header)),
                        key=lambda c: (-c[0], c[1], order.index(c[2])))
    mapping: dict[int, str] = {}
    for _score, index, name in candidates:
        if index not in mapping and name not in mapping.values():
            mapping[index] = name
    return dict(sorted(mapping.items()))


def check_mapping(mapping: dict[int, str]) -> list[str]:
    """What stops an import whatever the rows say: no partner column, a field given twice."""
    chosen = list(mapping.values())
    errors = [] if "partner" in chosen else [_("Choisissez la colonne qui contient le nom du partenaire.")]
    errors += [_("« %(field)s » est choisi pour plusieurs colonnes : gardez-en une seule.", field=label)
               for name, label in FIELDS.items() if chosen.count(name) > 1]
    errors += [_("Champ inconnu : « %(field)s ».", field=name) for name in dict.fromkeys(chosen) if name not in FIELDS]
    return errors


# ------------------------------------------------------------------- values

def parse(sheet: Sheet, mapping: dict[int, str]) -> list[Row]:
    """Every row with its parsed values and the problems to show on its line."""
    order = list(FIELDS)
    columns = sorted(((name, index) for index, name in mapping.items() if name in FIELDS),
                     key=lambda c: (order.index(c[0]), c[1]))
    tables = {name: _table(name) for name in VALUES}    # built per call: labels follow the language
    return [_row(line, cells, columns, tables) for line, cells in sheet.rows]


def _row(line: int, cells: list[str], columns: list[tuple[str, int]], tables: dict[str, dict[str, str]]) -> Row:
    row, failed = Row(line=line), set()
    for name, index in columns:
        raw = _clean(cells[index]) if index < len(cells) else ""
        if not raw or name in row.values or name in failed:
            continue
        try:
            row.values[name] = _value(name, raw, tables)
        except _Bad as bad:
            row.errors.append(str(bad))
            failed.add(name)
    if "partner" not in row.values and "partner" not in failed:
        row.errors.insert(0, _("Partenaire manquant."))
    return row


def _value(name: str, raw: str, tables: dict[str, dict[str, str]]) -> object:
    if name in VALUES:
        return _choice(name, raw, tables[name])
    if name == "last_contact":
        return _date(raw, date.today())
    if name == "siren":
        return _siren(raw)
    return _text(name, raw)


def _shown(raw: str) -> str:
    """The bad value as quoted in a message: short enough for a table cell."""
    flat = " ".join(raw.split())
    return flat if len(flat) <= 60 else flat[:59] + "…"


def _table(name: str) -> dict[str, str]:
    """Folded spelling → code: the codes, the labels in the current language, the synonyms."""
    labels, synonyms = VALUES[name]
    table = {_fold(code): code for code in labels}
    table.update({_fold(str(label)): code for code, label in labels.items()})
    table.update({_fold(s): code for code, words in synonyms.items() for s in words})
    return table


def _choice(name: str, raw: str, table: dict[str, str]) -> str:
    if name == "direction":
        if any(arrow in raw for arrow in BOTH_WAYS):
            return "mutual"
        raw = " ".join(reversed(RIGHT_TO_LEFT.split(raw)))   # "association ← entreprise"
    code = table.get(_fold(raw))
    if code is None:
        expected = ", ".join(str(label) for label in VALUES[name][0].values())
        raise _Bad(UNKNOWN[name] % {"value": _shown(raw), "expected": expected})
    return code


def _date(raw: str, today: date) -> date:
    """A date as French or ISO spreadsheets write it, not impossible, not beyond next year."""
    for pattern, order in DATES:
        match = pattern.fullmatch(raw)
        if match:
            parts = dict(zip(order, map(int, match.groups())))
            year = parts["y"] if parts["y"] >= 100 else _century(parts["y"], today)
            try:
                value = date(year, parts["m"], parts["d"])
            except ValueError:
                raise _Bad(_("Dernier contact : la date « %(value)s » n'existe pas.", value=_shown(raw))) from None
            return _in_range(value, raw, today)
    raise _Bad(_("Dernier contact : date illisible « %(value)s » (attendu : jj/mm/aaaa ou aaaa-mm-jj).",
                 value=_shown(raw)))


def _century(two_digits: int, today: date) -> int:
    """« 03/08/99 » is 1999, « 03/08/24 » is 2024: the year not beyond next year."""
    year = 2000 + two_digits
    return year if year <= today.year + 1 else year - 100


def _in_range(value: date, raw: str, today: date) -> date:
    if value > today + timedelta(days=366):
        raise _Bad(_("Dernier contact : la date « %(value)s » est plus d'un an dans le futur.", value=_shown(raw)))
    if value < EARLIEST:
        raise _Bad(_("Dernier contact : la date « %(value)s » est antérieure à 1950.", value=_shown(raw)))
    return value


def _siren(raw: str) -> str:
    digits = re.sub(r"[\s.\-]", "", raw)   # « 123 456 789 », « 123.456.789 »
    if not re.fullmatch(r"[0-9]{9}|[0-9]{14}", digits):
        raise _Bad(_("SIREN invalide : « %(value)s » (attendu : 9 chiffres, ou 14 pour un SIRET).",
                     value=_shown(raw)))
    return digits


def _text(name: str, raw: str) -> str:
    """Free text, kept as typed (a formula stays text); one line except descriptions and notes."""
    value = raw if name in MULTILINE else " ".join(raw.split())
    limit = TEXT_LIMITS.get(name)
    if limit and len(value) > limit:
        raise _Bad(_("%(field)s : %(length)d caractères, %(max)d au plus (« %(value)s »).",
                     field=FIELDS[name], length=len(value), max=limit, value=_shown(value)))
    return value
