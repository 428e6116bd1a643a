"""gunicorn for AEH Atelier: one gevent worker per instance (docs/deploy.md).

    gunicorn -c deploy/gunicorn.conf.py            # from the project folder
    BIND=127.0.0.1:5002 gunicorn -c deploy/gunicorn.conf.py   # a second instance

Flask-SocketIO needs every request of a Socket.IO client on the process that
holds its session, and gunicorn's own balancing across workers is not sticky:
so one worker per gunicorn, several gunicorns on several ports behind nginx
(deploy/nginx.conf, ip_hash), Redis between them (REDIS_URL).
"""
import os
import sys
import time
from pathlib import Path

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))     # `app` is importable whatever the working directory
chdir = str(ROOT)

# The app factory: gunicorn's gevent worker patches the standard library before it
# imports the app, and the app then picks Flask-SocketIO's gevent mode by itself.
wsgi_app = "app:create_app()"


class SameSiteGeventWebSocketWorker(GeventWebSocketWorker):
    """gevent + WebSocket (gevent-websocket's worker) whose handler refuses a WebSocket from
    another site's page with a 403 before the 101 (aeh_workshop/serving.py).

    Defined here, not in aeh_workshop: gunicorn imports the worker class in its master,
    before gevent patches anything, and importing aeh_workshop imports the whole app. The
    handler is imported in the worker, after the patch (as the app is)."""

    def load_wsgi(self):
        super().load_wsgi()
        from aeh_workshop.serving import SameSiteWebSocketHandler
        self.wsgi_handler = SameSiteWebSocketHandler


worker_class = SameSiteGeventWebSocketWorker
workers = 1                       # never more: see above; add instances instead
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "4000"))    # sockets per instance
bind = os.environ.get("BIND", "127.0.0.1:5001").split(",")
control_socket_disable = True     # --no-control-socket: no gunicornc socket in $HOME (gunicorn ≥ 25.1)
timeout = 60                      # a gevent worker that misses its heartbeat this long is restarted
graceful_timeout = 10             # on restart, open sockets get this long; clients reconnect and resync
keepalive = 5
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("ACCESS_LOG") or None    # "-" for the journal; off by default (1,000 people)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
proc_name = "aeh-atelier"


def post_worker_init(worker):
    """Apply pending migrations before the worker serves its first request.

    Runs in the (patched) worker with the app loaded; on PostgreSQL several
    instances starting together take turns (an advisory lock, cli.ensure_schema).
    If the database is not there yet, wait a little and let gunicorn start a new
    worker, which tries again.
    """
    from aeh_workshop.cli import ensure_schema
    app = worker.wsgi
    try:
        with app.app_context():
            ensure_schema()
    except Exception:
        worker.log.exception("migrations failed (is the database up?); retrying shortly")
        time.sleep(2)
        # An ordinary exit: the arbiter starts a new worker (an exception here would count
        # as "failed to boot" and stop gunicorn altogether).
        sys.exit(1)
    worker.log.info("AEH Atelier ready on %s", ", ".join(bind))
