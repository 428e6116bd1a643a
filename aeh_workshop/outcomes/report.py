"""The outcome report: one Jinja template (outcomes/report.html) for the web page,
its print-out and the PDF, rendered from a snapshot alone.

The snapshot stores codes; labels are resolved here once per render, in the
reader's language, so that a report of a thousand cards does not translate the
same word a thousand times.
"""
import re
from collections import Counter
from datetime import date, datetime

from flask import render_template
from flask_babel import format_date, format_datetime, gettext as _, ngettext

from .. import vocab

VOTE_ROWS = 20          # the report shows a vote's top rows; the spreadsheets have them all
# The PDF lists every card up to this many; beyond, 20-odd pages of one line per card
# help no steering committee (and cost seconds to lay out): it keeps the overview
# tables and points to the spreadsheet, which has every card.
PDF_CARDS_MAX = 300
PARTICIPANT_KINDS = ("company", "association", "public", "other")
# French typography: no line break inside « … » nor before : ; ! ? (after the space typed before them).
FRENCH_SPACES = re.compile(r"(?<=«) | (?=[»:;!?])")
TEXT_NODE = re.compile(r">([^<>]+)<")
LABELS = {"kinds": vocab.CARD_KINDS, "rameau": vocab.RAMEAU, "directions": vocab.DIRECTIONS,
          "link_statuses": vocab.LINK_STATUSES, "participant_kinds": vocab.PARTICIPANT_KINDS,
          "groups": vocab.VOTE_GROUPS, "action_statuses": vocab.ACTION_STATUSES, "steps": vocab.RAMEAU_STEPS,
          "templates": vocab.TEMPLATES, "sections": vocab.OFFER_SECTIONS}


def render(snapshot: dict, *, for_pdf: bool = False, share_url: str | None = None, **page) -> str:
    """The report as HTML: a whole web page, or the document WeasyPrint prints."""
    ctx = context(snapshot)
    ctx["list_cards"] = not for_pdf or len(snapshot.get("cards", [])) <= PDF_CARDS_MAX
    html = render_template("outcomes/report.html", for_pdf=for_pdf, share_url=share_url, **ctx, **page)
    return keep_together(html)


def keep_together(html: str) -> str:
    """Non-breaking spaces where French puts a space before or inside punctuation, in the
    body's text only (never in the head's styles nor in attributes)."""
    head, sep, body = html.partition("<body")
    return head + sep + TEXT_NODE.sub(lambda m: ">" + FRENCH_SPACES.sub("\u00a0", m.group(1)) + "<", body)


def context(snap: dict) -> dict:
    """Everything the template shows, worked out from the snapshot."""
    labels = {name: {code: str(label) for code, label in mapping.items()} for name, mapping in LABELS.items()}
    ws = snap.get("workshop", {})
    cards = snap.get("cards", [])
    priorities = snap.get("priorities", [])
    return {
        "snap": snap,
        "ws": ws,
        "labels": labels,
        "held_on": _day(ws.get("closed_at") or snap.get("frozen_at") or ws.get("created_at")),
        "frozen_at": _moment(snap.get("frozen_at")),
        "figures": _figures(snap.get("summary", {})),
        "kinds": _kinds(snap.get("participants_by_kind", {}), labels),
        "organisations": _by_organisation(snap.get("participants", []), labels),
        "categories": _by_category(cards, labels),
        "matrix": _matrix(cards, labels),
        "clusters": _by_cluster(cards, snap.get("clusters", [])),
        "votes": [_vote(v) for v in snap.get("votes", []) if v.get("dots")],
        "priorities": priorities,
        "priority_top": max((p.get("dots") or 0 for p in priorities), default=0),
        "offers": [_offer(o, cards, labels) for o in snap.get("offers", [])],
        "actions": [_action(a, priorities, labels) for a in snap.get("actions", [])],
    }


def _figures(summary: dict) -> list[tuple[int, str]]:
    n = summary.get
    return [
        (n("participants", 0), ngettext("participant·e", "participant·es", n("participants", 0))),
        (n("organisations", 0), ngettext("structure", "structures", n("organisations", 0))),
        (n("cards", 0), ngettext("contribution", "contributions", n("cards", 0))),
        (n("dots", 0), ngettext("gommette", "gommettes", n("dots", 0))),
        (n("priorities", 0), ngettext("priorité retenue", "priorités retenues", n("priorities", 0))),
        (n("offers", 0), ngettext("offre commune", "offres communes", n("offers", 0))),
        (n("actions", 0), ngettext("action", "actions", n("actions", 0))),
    ]


def _kinds(by_kind: dict, labels: dict) -> dict:
    rows = [(labels["participant_kinds"].get(k, k), by_kind.get(k, 0), k) for k in PARTICIPANT_KINDS]
    return {"rows": rows, "top": max((n for _l, n, _k in rows), default=0)}


def _by_organisation(participants: list[dict], labels: dict) -> list[dict]:
    """Who came, by organisation (alphabetical): compact even for hundreds of people."""
    groups: dict[str, dict] = {}
    for person in participants:
        name = person.get("organisation") or ""
        group = groups.setdefault(name.casefold(), {"name": name, "kind": person.get("kind"), "people": []})
        group["people"].append(person.get("name") or _("anonyme"))
    for group in groups.values():
        group["kind_label"] = labels["participant_kinds"].get(group["kind"], group["kind"] or "")
    return [groups[key] for key in sorted(groups)]


def _card_row(card: dict, labels: dict) -> dict:
    """A card with its labels; `details` is what qualifies it (sub-type, direction, status, group)."""
    details = [card.get("subtype"), labels["directions"].get(card.get("direction")),
               labels["link_statuses"].get(card.get("link_status")), card.get("cluster")]
    return {**card, "kind_label": labels["kinds"].get(card.get("kind"), card.get("kind") or ""),
            "details": " · ".join(d for d in details if d)}


def _by_category(cards: list[dict], labels: dict) -> list[dict]:
    """Cards under each of Le Rameau's categories, in the grid's order, then the unqualified."""
    groups = {code: [] for code in labels["rameau"]}
    groups[None] = []
    for card in cards:
        groups.get(card.get("category"), groups[None]).append(_card_row(card, labels))
    names = {**labels["rameau"], None: _("Non qualifiées")}
    return [{"code": code, "label": names[code], "cards": rows} for code, rows in groups.items() if rows]


def _matrix(cards: list[dict], labels: dict) -> dict:
    """How many cards of each kind fall in each category: the report's overview table."""
    counts = Counter((c.get("category") if c.get("category") in labels["rameau"] else None, c.get("kind"))
                     for c in cards)
    kinds = [k for k in labels["kinds"] if any(key[1] == k for key in counts)]
    rows = []
    for code, label in [*labels["rameau"].items(), (None, _("Non qualifiées"))]:
        cells = [counts.get((code, k), 0) for k in kinds]
        if sum(cells):
            rows.append({"code": code, "label": label, "cells": cells, "total": sum(cells)})
    totals = [sum(r["cells"][i] for r in rows) for i in range(len(kinds))]
    return {"kinds": [(k, labels["kinds"][k]) for k in kinds], "rows": rows, "totals": totals,
            "total": sum(totals)}


def _by_cluster(cards: list[dict], clusters: list[dict]) -> list[dict]:
    by_name: dict[str, list[dict]] = {c["name"]: [] for c in clusters}
    for card in cards:
        if card.get("cluster") in by_name:
            by_name[card["cluster"]].append(card)
    return [{"name": name, "cards": rows} for name, rows in by_name.items()]


def _vote(vote: dict) -> dict:
    rows = [r for r in vote.get("results", []) if r.get("dots")]
    return {**vote, "rows": rows[:VOTE_ROWS], "more": max(0, len(rows) - VOTE_ROWS),
            "top": max((r["dots"] for r in rows), default=0)}


def _offer(offer: dict, cards: list[dict], labels: dict) -> dict:
    texts = {c["id"]: c["text"] for c in cards}
    asks = offer.get("asks", {})
    ordered = [(labels["rameau"][code], asks[code]) for code in labels["rameau"] if asks.get(code)]
    ordered += [(code, text) for code, text in asks.items() if code not in labels["rameau"] and text]
    return {**offer, "asks_list": ordered,
            "card_texts": [texts[i] for i in offer.get("cards", []) if i in texts]}


def _action(action: dict, priorities: list[dict], labels: dict) -> dict:
    """An action row: labels, its due date in the reader's language, what it serves."""
    serves = []
    if action.get("offer_title"):
        serves.append(_("Offre commune : %(title)s", title=action["offer_title"]))
    rank = action.get("priority_rank")
    if rank is not None:
        title = next((p["title"] for p in priorities if p.get("rank") == rank), "")
        serves.append(_("Priorité n° %(rank)d : %(title)s", rank=rank, title=title))
    return {**action, "due_label": _day(action.get("due"), "medium"),
            "status_label": labels["action_statuses"].get(action.get("status"), action.get("status") or ""),
            "step_label": labels["steps"].get(action.get("step"), action.get("step") or ""),
            "serves": serves}


def _parse(iso: str | None) -> datetime | date | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso) if "T" in iso else date.fromisoformat(iso)
    except ValueError:
        return None


def _day(iso: str | None, fmt: str = "long") -> str:
    """A date as the reader writes it (« 15 janvier 2027 », "January 15, 2027")."""
    value = _parse(iso)
    return format_date(value, fmt) if value else ""


def _moment(iso: str | None) -> str:
    value = _parse(iso)
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    return format_date(value, "long") if value else ""
