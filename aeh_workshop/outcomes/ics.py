"""ICS: the action plan's deadlines as calendar events, written by hand to RFC 5545.

One all-day VEVENT per action with a due date. Its UID is stable from one
version to the next (the action's id and the workshop's code) and SEQUENCE is
the outcome's version, so importing a newer version updates the events instead
of adding them twice. A calendar with no dated action holds no event.
"""
import re
from datetime import date, datetime, timedelta

from flask_babel import gettext as _

from .tables import OutcomeView, as_text, colon

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")   # all but tab and line feed
LINE_OCTETS = 75


def render(snapshot: dict, share_url: str | None = None) -> bytes:
    """The calendar, CRLF-terminated and folded."""
    w = snapshot["workshop"]
    stamp = datetime.fromisoformat(snapshot["frozen_at"]).strftime("%Y%m%dT%H%M%SZ")   # stored in UTC
    table = OutcomeView(snapshot).actions()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//AEH//AEH Atelier//FR", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:" + _escape(w["title"])]
    for action, row in zip(snapshot["actions"], table.rows):
        if not action["due"]:
            continue
        due = date.fromisoformat(action["due"])
        # Everything the plan says about the action, but its title (the summary) and its date.
        details = [f"{colon(column)} {as_text(value)}" for column, value in list(zip(table.columns, row))[1:]
                   if value and not isinstance(value, date)]
        details.append(f"{colon(_('Atelier'))} {w['title']}")
        if share_url:
            details.append(share_url)
        lines += [
            "BEGIN:VEVENT",
            f"UID:action-{action['id']}-{w['code']}@aeh-atelier",
            f"DTSTAMP:{stamp}",
            f"SEQUENCE:{snapshot['version'] or 0}",
            f"DTSTART;VALUE=DATE:{due:%Y%m%d}",
            f"DTEND;VALUE=DATE:{due + timedelta(days=1):%Y%m%d}",
            "SUMMARY:" + _escape(action["title"]),
            "DESCRIPTION:" + _escape("\n".join(details)),
            "STATUS:" + ("CONFIRMED" if action["validated"] else "TENTATIVE"),
            "TRANSP:TRANSPARENT",
        ] + ([f"URL:{''.join(share_url.split())}"] if share_url else []) + ["END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode()


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line ends escaped."""
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines of at most 75 octets, continued after CRLF + space, never inside a UTF-8 character."""
    data = line.encode()
    parts, start, limit = [], 0, LINE_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:   # a continuation byte: cut before its character
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, LINE_OCTETS - 1   # the leading space counts
    parts.append(data[start:].decode())
    return "\r\n ".join(parts)
