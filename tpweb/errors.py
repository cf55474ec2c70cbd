"""Error pages in the app's style: whole for a page, a fragment for htmx."""

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from .extensions import db
from .web import render

bp = Blueprint("errors", __name__)


@bp.app_errorhandler(HTTPException)
def http_error(error):
    return render("errors.html", "error", error.code, error=error)


@bp.app_errorhandler(500)
def server_error(error):
    # A failed request must not leave half a write in the session for the next one.
    db.session.rollback()
    return render("errors.html", "error", 500, error=error)
