"""gunicorn's settings for tpweb in production (docs/deploy.md):

    gunicorn -c python:tpweb.gunicorn_conf tpweb.wsgi:app

Each setting can be overridden from the environment (TPWEB_BIND, WEB_CONCURRENCY, …) or on the
command line. `kill -HUP` on the master (systemctl reload) starts new workers on new code and
lets the old ones finish their requests, up to graceful_timeout.
"""

import json
import multiprocessing
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from gunicorn.glogging import Logger

bind = os.environ.get("TPWEB_BIND", "127.0.0.1:8000")
# The workers' metrics add up in one folder (prometheus_client's multiprocess mode): a fresh one
# of this server's own unless the operator names it. Set before the app imports the client.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="tpweb-metrics-"))
# Requests wait on the database, not the CPU: gunicorn's rule of thumb, two per core and one.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# A request past this is killed and its worker replaced: the slowest page (a 10,000-row import,
# a plan) takes a few seconds.
timeout = int(os.environ.get("TPWEB_WORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after about this many requests, so no slow leak can grow for long.
max_requests = 2000
max_requests_jitter = 200
# The app is imported in each worker, so that HUP reloads the code.
preload_app = False
# No control socket: its one default path would be shared by two instances on one machine.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
# Behind the TLS proxy on the same machine: believe its X-Forwarded-Proto (the app's own
# TPWEB_PROXIES says how many proxies to believe about the client's address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


class JsonAccessLogger(Logger):
    """One JSON object per request in the access log, with the request id the app answered."""

    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        headers = dict((name.lower(), value) for name, value in resp.headers)
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING"),
            "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": headers.get("x-request-id"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        self.access_log.info(json.dumps(line))


logger_class = JsonAccessLogger


def on_starting(server):
    """Once, in the master: an empty folder for the workers' metrics; the static files built."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True)
    from tpweb import create_app
    from tpweb.extensions import db

    # Built here before the workers fork, so that none of them waits on it (tpweb.web.statics).
    app = create_app()
    with app.app_context():
        db.engine.dispose()


def child_exit(server, worker):
    """A worker gone: its live gauges leave the metrics (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
