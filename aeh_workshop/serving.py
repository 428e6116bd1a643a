"""Serving under gevent: a WebSocket from another site's page is refused with an HTTP 403.

gevent-websocket answers "101 Switching Protocols" before the app runs, so engine.io's
Origin check (extensions.same_site_origin) could only close a socket already opened.
This handler makes the same check first and, for a page of another site, never switches
protocols. Used by `python app.py` (serve) and by gunicorn's worker (deploy/gunicorn.conf.py,
which defines the worker class itself: gunicorn imports worker_class in its master, before
gevent patches anything, and importing this module imports the whole app).
"""
import logging

from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler

from .extensions import same_site_origin, socketio

REFUSED = "Origine refusée : cette page ne fait pas partie de l'atelier.\n" \
          "Origin not allowed: this page is not part of the workshop.\n"


class SameSiteWebSocketHandler(WebSocketHandler):
    """gevent-websocket's handler, with the Socket.IO handshake's Origin check before the 101."""

    def upgrade_connection(self):
        # Called only for a complete WebSocket upgrade request, just before the 101.
        origin = self.environ.get("HTTP_ORIGIN")
        if not self._origin_allowed(origin):
            self._log_refusal(origin)
            body = REFUSED.encode()
            self.start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8"),
                                                  ("Content-Length", str(len(body))),
                                                  ("Connection", "close")])
            return [body]
        return super().upgrade_connection()

    def _log_refusal(self, origin: str) -> None:
        """The first refusal as a warning (a wrong PUBLIC_URL refuses everyone), the others
        at debug level: a hostile page open in many browsers retries again and again."""
        first = not getattr(self.server, "refused_an_origin", False)
        self.server.refused_an_origin = True
        # The app's logger: gevent-websocket's own prints nothing outside debug mode.
        self.application.logger.log(logging.WARNING if first else logging.DEBUG,
                        "WebSocket refused (403): %s is not an accepted origin (PUBLIC_URL?)%s", origin,
                        "; further refusals are logged at debug level" if first else "")

    def _origin_allowed(self, origin: str | None) -> bool:
        """The app's own check (the one given to engine.io), built once per server."""
        check = getattr(self.server, "same_site_origin", None)
        if check is None:
            config = self.application.config
            check = self.server.same_site_origin = same_site_origin(config["PUBLIC_URL"],
                                                                    config["TRUSTED_PROXIES"])
        return check(origin, self.environ)


def serve(app, host: str, port: int) -> None:
    """What `socketio.run(app, host, port, log_output=False)` does under gevent, with the
    handler above (socketio.run takes no handler class)."""
    server = pywsgi.WSGIServer((host, port), app, handler_class=SameSiteWebSocketHandler, log=None)
    socketio.wsgi_server = server      # so that socketio.stop() still works
    server.serve_forever()
