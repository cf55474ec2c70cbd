"""Who may reach a view: a signed-in user for every view but the public ones, a manager for
the managers' pages. Not an area: every area's views use it."""

import functools

from flask import abort, has_request_context, redirect, request, url_for
from flask_login import current_user

from tpweb.extensions import db, login_manager
from tpweb.models import User

# The offline shell is public: a service worker installs, and a phone fetches the manifest, with no
# one signed in.
PUBLIC_ENDPOINTS = {
    "auth.login",
    "static",
    "offline.manifest",
    "offline.service_worker",
    "offline.shell",
    "offline.page",
    # The secret in the URL (a calendar feed's, a reminder's signed action) is the key.
    "reminders.feed",
    "reminders.action",
    # For the operator's probes; /metrics answers only the addresses METRICS_ALLOW names.
    "probes.healthz",
    "probes.readyz",
    "probes.metrics_page",
}


def signed_in_user_id():
    """The id of the user signed in to this request, or None: who the history says changed it."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


@login_manager.user_loader
def load_user(user_id):
    # The id carries the session version, so bumping it ends every session of that user.
    uid, _, version = user_id.partition(":")
    if not uid.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(uid))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """Send a visitor to sign in; an htmx request gets a 401 that tells htmx where to go."""
    login = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.htmx:
        return "", 401, {"HX-Redirect": login}
    return redirect(login)


def require_login():
    """Every view but the public ones needs a signed-in user; an unknown URL is a 404 for all."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.endpoint is None:
        abort(404)
    return login_manager.unauthorized()


def manager_required(view):
    """Let managers and admins through; anyone else is told the page does not exist."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_manager:
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def init_app(app):
    app.before_request(require_login)
