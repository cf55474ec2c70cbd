"""Log lines as JSON with the request id, in the web processes and in the worker.

The id is the request's X-Request-ID when it is sane (a proxy's or a client's), else a new one;
it is answered in the same header (gunicorn's access log prints it from there, tpweb.gunicorn_conf)
and put on every log line written while the request runs. A job a request enqueues carries it in
its meta (`job_meta`), and the worker logs that job's lines under it.
"""

import contextvars
import logging
import re
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"

request_id = contextvars.ContextVar("request_id", default=None)


def choose_request_id(incoming):
    """The id a request goes by: the incoming header's, if sane, or a new one."""
    if incoming and SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def job_meta():
    """The meta to enqueue a job with, so the worker's lines for it carry this request's id."""
    current = request_id.get()
    return {"request_id": current} if current else {}


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (a test runner swaps it)."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None) on each record."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


def configure(json_lines, level=logging.INFO):
    """Root logging to standard error: JSON objects, or text; both with the request id."""
    handler = StderrHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter(FIELDS, rename_fields={"levelname": "level"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] "
                                               "%(name)s: %(message)s"))  # fmt: skip
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "tpweb", False)]:
        root.removeHandler(old)
    handler.tpweb = True
    root.addHandler(handler)
    # The app's own lines from INFO up; the libraries' (Alembic's plugins, …) from WARNING.
    root.setLevel(max(level, logging.WARNING))
    logging.getLogger("tpweb").setLevel(level)
