#!/usr/bin/env bash
# Refresh the translations: extract the (French) msgids to messages.pot,
# update (or create) the English catalogue, compile it to messages.mo.
#
#   scripts/i18n.sh          from any directory
#
# Then translate every new or "#, fuzzy" entry of
# aeh_workshop/translations/en/LC_MESSAGES/messages.po, remove the fuzzy flags
# and run the script again to compile. tests/test_i18n.py fails until every
# msgid has a (non-fuzzy) English translation and the .mo matches the .po.
#
# Locations are kept as file names only (--add-location=file): translators see
# where a string lives, without line numbers churning the catalogues on every
# edit. Output is sorted by msgid for the same reason.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -x .venv/bin/pybabel ]]; then
    PYBABEL=.venv/bin/pybabel
else
    PYBABEL=pybabel
fi

TRANSLATIONS=aeh_workshop/translations
POT=$TRANSLATIONS/messages.pot
LOCALE=en
PO=$TRANSLATIONS/$LOCALE/LC_MESSAGES/messages.po

mkdir -p "$TRANSLATIONS"

"$PYBABEL" --quiet extract \
    --mapping-file=babel.cfg \
    --keyword=_ --keyword=_l --keyword=gettext --keyword=lazy_gettext --keyword=ngettext:1,2 \
    --keyword=_lp:1c,2 --keyword=lazy_pgettext:1c,2 \
    --add-comments=TRANSLATORS: \
    --add-location=file \
    --sort-output \
    --project="AEH Atelier" \
    --copyright-holder="AEH" \
    --output-file="$POT" \
    .

if [[ -f "$PO" ]]; then
    # Fuzzy guesses are kept for review (without --previous: babel reads those lines back as comments): not used
    # until the flag is removed, and the test counts them as untranslated.
    "$PYBABEL" update \
        --input-file="$POT" \
        --output-file="$PO" \
        --locale="$LOCALE" \
        --ignore-obsolete \
        --ignore-pot-creation-date
else
    "$PYBABEL" init --input-file="$POT" --output-file="$PO" --locale="$LOCALE"
fi

"$PYBABEL" compile --input-file="$PO" --output-file="${PO%.po}.mo" --locale="$LOCALE" --statistics

# French: the source language; its catalogue only holds plural forms, so that
# "0 gommette" follows French's rule (see scripts/french_plurals.py).
FR_PO=$TRANSLATIONS/fr/LC_MESSAGES/messages.po
PYTHON=python3; [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
"$PYTHON" scripts/french_plurals.py "$POT" "$FR_PO"
"$PYBABEL" compile --input-file="$FR_PO" --output-file="${FR_PO%.po}.mo" --locale=fr --statistics
