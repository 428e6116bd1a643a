"""Export benchmark: every download of a large workshop, timed, beside the bare library.

Builds, in a temporary SQLite database and straight through the models, a
workshop of CARDS cards, PEOPLE participants and ACTIONS actions, with a dot
vote, ten priorities and a few joint offers; times its snapshot, then renders
that snapshot in every format of aeh_workshop.outcomes.exports.FORMATS (PDF
too when aeh_workshop.outcomes.pdf exists), best of REPEAT runs (PDF: one run,
it takes tens of seconds). Beside each,
a baseline measured in the same run: the same rows written with the bare
library and no formatting (csv.writer, openpyxl write-only, a python-docx table
filled cell by cell, json.dumps, icalendar, WeasyPrint on a bare table), so the
cost of our labels, types and layout shows.

    .venv/bin/python bench/exports.py [--cards 1000] [--people 300] [--actions 200] [--repeat 3]
"""
import argparse
import csv
import io
import json
import logging
import random
import sys
import tempfile
import time
import zipfile
from datetime import date, timedelta
from html import escape
from importlib.util import find_spec
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aeh_workshop import create_app  # noqa: E402
from aeh_workshop.cli import ensure_schema  # noqa: E402
from aeh_workshop.extensions import db  # noqa: E402
from aeh_workshop.models import (Action, Card, Cluster, Dot, Facilitator, JointOffer, OfferSection,  # noqa: E402
                                 Organisation, Participant, Vote)

TARGETS = {"pdf": 10.0, "docx": 10.0}   # seconds; every other format: 2 s
KINDS = ("company", "association", "public", "other")
WORDS = ("mécénat de compétences", "parcours d'insertion", "achats responsables", "accueil de stagiaires",
         "prêt de locaux", "recrutement inclusif", "diagnostic partagé", "chantier d'été", "épicerie solidaire",
         "forum de l'emploi", "collecte de matériel", "sensibilisation au handicap", "=SOMME(A1:A9)")


def build_workshop(n_cards, n_people, n_actions):
    """The workshop, written in bulk; returns it."""
    from aeh_workshop.votes.service import promote_top
    from aeh_workshop.workshops.service import create
    rnd = random.Random(2026)
    owner = Facilitator(email="bench@aeh-atelier.fr", name="Hélène Banc d'essai", password_hash="-")
    db.session.add(owner)
    workshop = create(owner, "Coopérations entreprises–associations du bassin de Bourg-en-Bresse",
                      "Recenser nos liens, choisir nos priorités, écrire nos offres communes.", "partnership_map")
    workshop.status = "live"
    orgs = [Organisation(name=f"Structure n° {i} « Économie & Société »", key=f"structure-{i}",
                         kind=KINDS[i % 4]) for i in range(n_people // 3)]
    clusters = [Cluster(workshop_id=workshop.id, name=f"Regroupement {i} : {WORDS[i]}", position=i) for i in range(6)]
    db.session.add_all(orgs + clusters)
    db.session.flush()
    people = [Participant(workshop_id=workshop.id, display_name=f"Participant·e {i} Lefèvre",
                          organisation_id=orgs[i % len(orgs)].id, kind=orgs[i % len(orgs)].kind, pin_hash="-")
              for i in range(n_people)]
    db.session.add_all(people)
    db.session.flush()
    cards = [Card(workshop_id=workshop.id, author_id=rnd.choice(people).id,
                  kind=("practice", "link", "wish", "idea", "action")[i % 5],
                  text=f"Carte {i} : " + ", ".join(rnd.sample(WORDS, rnd.randint(2, 8))) + ".",
                  partner_id=orgs[i % len(orgs)].id if i % 3 else None,
                  category=("mecenat", "practices", "economic", "innovation", None)[i % 5],
                  subtype=rnd.choice(("financier", "compétences", "fournisseur", None)),
                  direction=rnd.choice(("company_to_association", "association_to_company", "mutual", None)),
                  link_status=rnd.choice(("active", "past", "wished", None)),
                  cluster_id=clusters[i % 6].id if i % 4 == 0 else None) for i in range(n_cards)]
    vote = Vote(workshop_id=workshop.id, title="Quels partenariats développer en priorité ?", status="closed",
                by_kind=True, kind_budgets={"company": 5, "association": 5, "other": 5}, revealed=True)
    db.session.add_all(cards + [vote])
    db.session.flush()
    db.session.add_all([Dot(vote_id=vote.id, participant_id=p.id, card_id=card.id, dots=rnd.randint(1, 2))
                        for p in people for card in rnd.sample(cards, 3)])
    db.session.commit()
    promote_top(workshop, vote, 10)
    offers = []
    for i in range(5):
        offer = JointOffer(workshop_id=workshop.id, created_by_id=people[i].id, cards=cards[i * 10:i * 10 + 6])
        offer.sections = [OfferSection(key=key, text=f"{key} de l'offre n° {i} : {', '.join(WORDS[:6])}")
                          for key in ("title", "need", "territory", "targets", "contact", "ask:mecenat",
                                      "ask:economic")]
        offer.sections += [OfferSection(key=f"brings:{orgs[j].id}", text=f"Apport de la structure {j} : {WORDS[j]}")
                           for j in range(4)]
        offers.append(offer)
    db.session.add_all(offers)
    db.session.flush()
    db.session.add_all([Action(workshop_id=workshop.id, title=f"Action {i} : {rnd.choice(WORDS)} avec la mairie",
                               owner_id=people[i % n_people].id if i % 2 else None,
                               owner_name="" if i % 2 else "Élodie Marchand", owner_org="" if i % 2 else "Mairie",
                               due_on=date(2027, 1, 1) + timedelta(days=i) if i % 4 else None,
                               status=("todo", "doing", "done")[i % 3],
                               step=("prepare", "contract", "manage", "evaluate")[i % 4],
                               offer_id=offers[i % 5].id if i % 7 == 0 else None, validated=i % 5 != 0)
                        for i in range(n_actions)])
    db.session.commit()
    return workshop


def raw_tables(snapshot):
    """The snapshot's lists as bare rows: {name: (keys, rows)}, values as stored (no labels, no types)."""
    lists = {"participants": snapshot["participants"], "cards": snapshot["cards"],
             "votes": [r for v in snapshot["votes"] for r in v["results"]], "priorities": snapshot["priorities"],
             "offers": snapshot["offers"], "actions": snapshot["actions"]}
    return {name: (list(items[0]) if items else [], [[_plain(v) for v in item.values()] for item in items])
            for name, items in lists.items()}


def _plain(value):
    return value if isinstance(value, (int, float, str)) or value is None else json.dumps(value, ensure_ascii=False)


def bare_csv(keys, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(keys)
    writer.writerows(rows)
    return out.getvalue().encode()


def baselines(snapshot):
    """format -> a function writing the same rows with the bare library."""
    tables = raw_tables(snapshot)

    def xlsx():
        from openpyxl import Workbook
        wb = Workbook(write_only=True)
        for name, (keys, rows) in tables.items():
            ws = wb.create_sheet(name)
            ws.append(keys)
            for row in rows:
                ws.append(row)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    def docx():
        from docx import Document
        doc = Document()
        for name, (keys, rows) in tables.items():
            doc.add_heading(name, 1)
            table = doc.add_table(rows=1, cols=max(len(keys), 1))
            for cell, key in zip(table.rows[0].cells, keys):
                cell.text = key
            for row in rows:
                for cell, value in zip(table.add_row().cells, row):
                    cell.text = "" if value is None else str(value)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()

    def csv_zip():
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ("cards", "votes", "actions"):
                archive.writestr(f"{name}.csv", bare_csv(*tables[name]))
        return out.getvalue()

    def md():
        return "\n".join("| " + " | ".join(str(v) for v in row) + " |"
                         for keys, rows in tables.values() for row in [keys] + rows).encode()

    def ics():
        from icalendar import Calendar, Event
        cal = Calendar()
        for action in snapshot["actions"]:
            if action["due"]:
                event = Event()
                event.add("summary", action["title"])
                event.add("dtstart", date.fromisoformat(action["due"]))
                cal.add_component(event)
        return cal.to_ical()

    def pdf():
        import weasyprint
        html = "".join(f"<h1>{name}</h1><table>" + "".join(
            "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in [keys] + rows)
            + "</table>" for name, (keys, rows) in tables.items())
        return weasyprint.HTML(string=html).write_pdf()

    return {"pdf": pdf, "xlsx": xlsx, "docx": docx, "csv": csv_zip, "md": md, "ics": ics,
            "json": lambda: json.dumps(snapshot, ensure_ascii=False).encode(),
            **{f"{name}.csv": (lambda name=name: bare_csv(*tables[name])) for name in ("cards", "votes", "actions")}}


def best_of(repeat, fn):
    """The fastest of `repeat` runs (seconds) and what the last one returned."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs per format; the best is printed")
    args = parser.parse_args()
    logging.disable(logging.INFO)   # the migrations' chatter
    from aeh_workshop.outcomes import exports, snapshot
    formats = [fmt for fmt in exports.FORMATS if fmt != "pdf" or find_spec("aeh_workshop.outcomes.pdf")]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                          "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"})
        with app.app_context():
            ensure_schema()
            workshop = build_workshop(args.cards, args.people, args.actions)
            took, snap = best_of(args.repeat, lambda: snapshot.build(workshop, version=1))
            bare = baselines(snap)
            print(f"\n{snap['summary']['cards']} cards, {snap['summary']['participants']} participants, "
                  f"{snap['summary']['actions']} actions, {len(snap['votes'][0]['results'])} vote results, "
                  f"{snap['summary']['offers']} offers; snapshot built in {took:.2f} s "
                  f"(best of {args.repeat})\n")
            print(f"{'format':12} {'size':>9} {'ours':>8} {'baseline':>9} {'target':>7}")
            for fmt in formats:
                runs = 1 if fmt == "pdf" else args.repeat
                ours, export = best_of(runs, lambda: exports.render(snap, fmt))
                base, _data = best_of(runs, bare[fmt])
                target = TARGETS.get(fmt, 2.0)
                print(f"{fmt:12} {len(export.data) / 1024:7.0f}kB {ours:7.2f}s {base:8.2f}s {target:6.0f}s  "
                      f"{'OK' if ours <= target else 'over'}")
            db.engine.dispose()
    print("\n'ours': exports.render() (labels in French, typed cells, formula neutralising, layout);"
          "\n'baseline': the snapshot's rows written with the bare library, no labels and no formatting.")


if __name__ == "__main__":
    main()
