"""Error pages in the app's style: whole for a page, a fragment for htmx."""

from flask import Blueprint, current_app, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, NotFound, ServiceUnavailable

from tpweb.domain.scope import NotVisible
from tpweb.extensions import db
from tpweb.web.pages import render

bp = Blueprint("errors", __name__)

# How long a client waits before trying again: a lock is held for seconds, a database that went
# away takes longer to come back.
RETRY_AFTER = {"busy": 5, "unreachable": 30}
DESCRIPTION = {
    "busy": "The database is busy. Nothing was saved; try again in a few seconds.",
    "unreachable": "The database cannot be reached. Nothing was saved; try again in a minute.",
}
# PostgreSQL's codes for a write that would pass if sent again: lock_timeout, statement_timeout,
# a serialization failure, a deadlock, too many connections.
BUSY_STATES = {"55P03", "57014", "40001", "40P01", "53300"}
BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")
# The server gone: class 08 (connection exceptions), an administrator's or a crash's shutdown, a
# server starting up; SQLite's file out of reach.
GONE_STATES = {"57P01", "57P02", "57P03"}
GONE_WORDS = (
    "connection refused",
    "could not connect",
    "connection failed",
    "server closed the connection",
    "timeout expired",
    "could not translate host name",
    "no route to host",
    "the database system is starting up",
    "the database system is shutting down",
    "unable to open database file",
)


def database_trouble(error):
    """ "busy", "unreachable", or None for an error that sending the request again would not fix."""
    if isinstance(error, sa_exc.TimeoutError):
        return "busy"  # every pooled connection was taken for the pool's whole timeout
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    state = getattr(error.orig, "sqlstate", None) or ""
    text = str(error.orig).lower()
    if state in BUSY_STATES or any(word in text for word in BUSY_WORDS):
        return "busy"
    gone = state.startswith("08") or state in GONE_STATES or any(w in text for w in GONE_WORDS)
    if gone or error.connection_invalidated:
        return "unreachable"
    return None


@bp.app_errorhandler(HTTPException)
def http_error(error):
    return render("errors.html", "error", error.code, error=error)


@bp.app_errorhandler(NotVisible)
def not_visible(_error):
    """A record the user may not see is answered as one that does not exist."""
    return http_error(NotFound())


@bp.app_errorhandler(sa_exc.DBAPIError)
@bp.app_errorhandler(sa_exc.TimeoutError)
def database_error(error):
    """503 with Retry-After for a busy or unreachable database; any other error stays a 500."""
    trouble = database_trouble(error)
    if trouble is None:
        raise error
    db.session.rollback()
    seconds = RETRY_AFTER[trouble]
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
    current_app.logger.warning(
        "database %s: %s %s answered 503, Retry-After %d s (%s)",
        trouble,
        request.method,
        request.path,
        seconds,
        cause,
    )
    # A plain page: the app's own layout reads the database for the signed-in user and the menu.
    page = render(
        "errors.html", "error", 503, error=ServiceUnavailable(DESCRIPTION[trouble]), plain=True
    )
    return (*page, {"Retry-After": str(seconds)})


@bp.app_errorhandler(500)
def server_error(error):
    # One raised outside the view (a response hook, say) comes here with the original inside.
    original = getattr(error, "original_exception", None)
    if database_trouble(original):
        return database_error(original)
    # A failed request must not leave half a write in the session for the next one.
    db.session.rollback()
    return render("errors.html", "error", 500, error=error)
