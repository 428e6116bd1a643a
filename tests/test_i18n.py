"""Translations: the English catalogue is complete and compiled; French is the default;
`?lang=` switches the language and the choice is remembered.

Refresh the catalogues with `scripts/i18n.sh`, then translate what it added.
"""
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
EN_DIR = ROOT / "aeh_workshop" / "translations" / "en" / "LC_MESSAGES"
EN_PO, EN_MO = EN_DIR / "messages.po", EN_DIR / "messages.mo"
# The same keywords as scripts/i18n.sh passes to `pybabel extract`.
KEYWORDS = {**DEFAULT_KEYWORDS, **parse_keywords(["_", "_l", "gettext", "lazy_gettext", "ngettext:1,2", "_lp:1c,2",
                                                    "lazy_pgettext:1c,2"])}
PLACEHOLDER = re.compile(r"%\(\w+\)[a-z]")


def extracted_messages():
    """Every message in the sources now, with babel.cfg's method map: {(msgid, context): file:line}."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found = {}
    for filename, lineno, msgid, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def load_po():
    with open(EN_PO, "rb") as fh:
        return read_po(fh, locale="en")


def translations(catalog):
    """{(msgid, context): msgstr} of the usable entries (fuzzy ones are not used by gettext)."""
    return {(m.id, m.context): m.string for m in catalog if m.id and not m.fuzzy}


def is_complete(string, plural: bool, num_plurals: int) -> bool:
    if plural:
        return isinstance(string, tuple) and len(string) == num_plurals and all(s.strip() for s in string)
    return isinstance(string, str) and bool(string.strip())


def test_extraction_finds_the_sources():
    """Guards the test below against an extraction that silently finds nothing."""
    found = extracted_messages()
    files = {where.rsplit(":", 1)[0].replace("\\", "/") for where in found.values()}
    assert any(f.startswith("templates/") for f in files), files
    assert any(f.startswith("aeh_workshop/") for f in files), files
    assert ("Espace animation", None) in found
    assert (("%(num)d participant·e", "%(num)d participant·es"), None) in found


def test_every_msgid_has_an_english_translation():
    catalog = load_po()
    missing = []
    for (msgid, context), where in sorted(extracted_messages().items(), key=lambda kv: kv[1]):
        plural = isinstance(msgid, tuple)
        entry = catalog.get(msgid[0] if plural else msgid, context)
        if (entry is None or entry.fuzzy or entry.pluralizable != plural
                or not is_complete(entry.string, plural, catalog.num_plurals)):
            state = "missing" if entry is None else "fuzzy" if entry.fuzzy else "untranslated"
            missing.append(f"{where}: {msgid!r} ({state})")
    assert not missing, (f"{len(missing)} msgid(s) lack an English translation; run scripts/i18n.sh "
                         "and translate them in " + str(EN_PO.relative_to(ROOT)) + ":\n  "
                         + "\n  ".join(missing))


def test_translations_keep_placeholders_and_are_safe_in_templates():
    """Same %(name)s placeholders; no markup characters (Jinja marks translations safe)."""
    problems = [f"{m.id!r}: {errors}" for m, errors in load_po().check()]
    for (msgid, _ctx), string in translations(load_po()).items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = string if isinstance(string, tuple) else (string,)
        for i, text in enumerate(strings):
            if not text:
                continue  # untranslated: the completeness test reports it
            source = ids[min(i, len(ids) - 1)]
            if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
                problems.append(f"{source!r} -> {text!r}: placeholders differ")
            if any(ch in text and ch not in source for ch in '<>&"'):
                problems.append(f"{source!r} -> {text!r}: markup character")
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_matches_the_po():
    with open(EN_MO, "rb") as fh:
        mo = read_mo(fh)
    po_strings = {key: s for key, s in translations(load_po()).items()
                  if (all(s) if isinstance(s, tuple) else s)}
    mo_strings = {(_tuple(m.id), m.context): _tuple(m.string) for m in mo if m.id}
    stale = sorted(str(k[0]) for k in po_strings.keys() ^ mo_strings.keys())
    stale += sorted(str(k[0]) for k in po_strings.keys() & mo_strings.keys() if po_strings[k] != mo_strings[k])
    assert not stale, "messages.mo is out of date (run scripts/i18n.sh): " + ", ".join(stale)


def _tuple(value):
    """read_mo gives plural ids and strings as lists, read_po as tuples."""
    return tuple(value) if isinstance(value, list) else value


def page(client, url):
    resp = client.get(url)
    assert resp.status_code == 200, url
    return resp.get_data(as_text=True)


def assert_french(html):
    assert '<html lang="fr"' in html
    assert "Espace animation" in html and "Se connecter" in html
    assert "Facilitator area" not in html


def assert_english(html):
    assert '<html lang="en"' in html
    assert "Facilitator area" in html and "Log in" in html
    assert "Email address" in html  # a lazy_gettext form label
    assert "Espace animation" not in html


def test_french_is_the_default(client):
    assert_french(page(client, "/login"))


def test_lang_parameter_switches_and_is_remembered(client):
    assert_english(page(client, "/login?lang=en"))
    assert_english(page(client, "/login"))
    assert_french(page(client, "/login?lang=fr"))
    assert_french(page(client, "/login"))


@pytest.mark.parametrize("first", [None, "en"])
def test_unknown_lang_is_ignored(client, first):
    if first:
        page(client, f"/login?lang={first}")
    html = page(client, "/login?lang=de")
    assert_english(html) if first == "en" else assert_french(html)
    assert 'lang="de"' not in html


def test_choice_survives_a_redirect(client):
    """With no facilitator yet, / redirects to /setup; the language chosen on / holds."""
    resp = client.get("/?lang=en")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/setup")
    html = page(client, "/setup")
    assert '<html lang="en"' in html and "Welcome to AEH Atelier" in html


def test_plural_forms_in_english(make_workshop, join_as):
    code = make_workshop()
    alice = join_as(code, name="Alice")
    html = page(alice, f"/w/{code}")
    assert re.search(r'class="count">1 participant·e</span>', html)
    html = page(alice, f"/w/{code}?lang=en")
    assert re.search(r'class="count">1 participant</span>', html)
    join_as(code, name="Bob")
    assert re.search(r'class="count">2 participants</span>', page(alice, f"/w/{code}"))


FR_DIR = ROOT / "aeh_workshop" / "translations" / "fr" / "LC_MESSAGES"


def test_french_plurals_follow_french_rules(app):
    """French says « 0 gommette »: its catalogue holds every plural message of the
    sources (scripts/i18n.sh writes it) with French's plural rule."""
    from flask_babel import force_locale, ngettext
    plurals = {msgid for (msgid, _ctx) in extracted_messages() if isinstance(msgid, tuple)}
    with open(FR_DIR / "messages.mo", "rb") as fh:
        compiled = read_mo(fh)
    assert plurals and plurals <= {tuple(m.id) for m in compiled if m.pluralizable}, "run scripts/i18n.sh"
    with app.test_request_context("/"), force_locale("fr"):
        assert [ngettext("%(num)d gommette", "%(num)d gommettes", n) for n in (0, 1, 2)] == \
            ["0 gommette", "1 gommette", "2 gommettes"]
    with app.test_request_context("/"):   # French is the default language
        assert ngettext("%(num)d participant·e", "%(num)d participant·es", 0) == "0 participant·e"
