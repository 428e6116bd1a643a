"""Write the French catalogue: only the plural entries, each translated to itself.

French is the source language, so singular messages need no catalogue. But
without one, gettext picks plurals with English's rule and writes
"0 gommettes"; French says "0 gommette" (plural only above 1). The catalogue's
Plural-Forms header gives gettext that rule.

    python scripts/french_plurals.py aeh_workshop/translations/messages.pot OUTPUT.po
"""
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def main(pot_path: str, po_path: str) -> None:
    with open(pot_path, "rb") as f:
        template = read_po(f)
    catalog = Catalog(locale="fr", project=template.project, copyright_holder=template.copyright_holder,
                      fuzzy=False)
    # gettext's classic French rule: singular for 0 and 1. (CLDR adds a third form
    # for round millions, "de gommettes", which no message here needs.)
    catalog.mime_headers = [("Plural-Forms", "nplurals=2; plural=(n > 1);")]
    for message in template:
        if message.id and message.pluralizable:
            catalog.add(message.id, string=tuple(message.id), locations=message.locations)
    out = Path(po_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        write_po(f, catalog, sort_output=True, omit_header=False, width=None)


if __name__ == "__main__":
    main(*sys.argv[1:3])
