"""Security headers on every response: a Content-Security-Policy whose scripts need
this response's nonce (no inline script, no eval), no framing, no MIME sniffing,
no referrer sent to other sites.

Styles keep 'unsafe-inline': bar widths and column counts are style attributes,
and a nonce in style-src would make browsers ignore 'unsafe-inline'.
"""
import secrets

from flask import g

POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
          "form-action 'self'; frame-ancestors 'none'")


def csp_nonce() -> str:
    """This response's script nonce, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def secure(response):
    """after_request: the headers, without overriding one a view chose (e.g. no-referrer)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", POLICY.format(nonce=csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app) -> None:
    app.after_request(secure)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
