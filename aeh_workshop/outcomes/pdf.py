"""The outcome as an A4 PDF: the same Jinja report as the web page, printed by WeasyPrint.

Works with or without a request (a download, or `flask export` on the command
line): it needs an app context only. Everything is local: the stylesheets are
read from static/css, the QR code is an inline data URI, fonts are the system's.
"""
from pathlib import Path

import segno
from flask import current_app
from flask_babel import force_locale, gettext as _

from . import report

STYLESHEETS = ("css/report.css", "css/report-pdf.css")
# report.css ends with the web page's own rules (toolbar, small screens, browser
# printing), which WeasyPrint would only warn about: the PDF stops at this line.
WEB_ONLY = "/* ==== Web page only"


def render_pdf(snapshot: dict, lang: str, share_url: str | None) -> bytes:
    """The report a steering committee reads: cover, summary, priorities, offers, actions."""
    import weasyprint   # heavy (Pango); only the PDF download needs it

    static = Path(current_app.static_folder)
    with force_locale(lang):
        html = report.render(snapshot, for_pdf=True, share_url=share_url,
                             qr=qr_data_uri(share_url) if share_url else None,
                             page_css=page_css(snapshot))
    document = weasyprint.HTML(string=html, base_url=str(static))
    sheets = [weasyprint.CSS(string=_shared_rules(static / name), base_url=str(static)) for name in STYLESHEETS]
    return document.write_pdf(stylesheets=sheets)


def _shared_rules(path: Path) -> str:
    return path.read_text(encoding="utf-8").partition(WEB_ONLY)[0]


def qr_data_uri(url: str) -> str:
    """The outcome page's address as an SVG QR code, inline (no file, no network)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=0, dark="#1d2430")


def page_css(snapshot: dict) -> str:
    """The @page rules whose words are translated: « page X / Y », « provisoire »."""
    numbers = _counter_content(_("page %(page)s / %(pages)s"))
    rules = [f"@page {{ @bottom-right {{ content: {numbers}; }} }}",
             "@page :first { @bottom-right { content: none; } @bottom-left { content: none; } }"]
    if snapshot.get("provisional"):
        provisional = _css_string(_("Version provisoire"))   # outside the f-string, for the extractor
        rules.append(f"@page {{ @top-right {{ content: {provisional}; }} }}")
    return "\n".join(rules)


def _counter_content(template: str) -> str:
    """A translated "page %(page)s / %(pages)s" as CSS content with the two counters."""
    marker_page, marker_pages = "\x00PAGE\x00", "\x00PAGES\x00"
    text = template.replace("%(page)s", marker_page).replace("%(pages)s", marker_pages)
    parts = []
    for chunk in text.split(marker_page):
        if parts:
            parts.append("counter(page)")
        for i, piece in enumerate(chunk.split(marker_pages)):
            if i:
                parts.append("counter(pages)")
            if piece:
                parts.append(_css_string(piece))
    return " ".join(parts)


def _css_string(text: str) -> str:
    escaped = "".join(ch if ch.isprintable() and ch not in '"\\<>' else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'
