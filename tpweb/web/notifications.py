"""Notifications on this device (Web Push): the Settings section's devices, turning one on (the
page posts the browser's subscription), refreshing it when the app opens, turning one off. Only
with VAPID keys configured; without them every route here is 404 and nothing is offered."""

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user

from tpweb.config import push_enabled
from tpweb.domain import devices
from tpweb.extensions import db
from tpweb.web.pages import render
from tpweb.web.writes import write

bp = Blueprint("push", __name__, url_prefix="/settings/push")

SECTION = "settings/push.html"


@bp.app_context_processor
def push_globals():
    """For base.html's push.js and the Settings section: the public key, or "" without push."""
    config = current_app.config
    return {
        "push_key": config["VAPID_PUBLIC_KEY"] if push_enabled(config) else "",
        "push_devices": lambda: devices.devices(db.session, current_user),
    }


def _enabled():
    if not push_enabled(current_app.config):
        abort(404)


def _posted_subscription():
    """The subscription the page posted, or a 400 saying what is wrong with it."""
    form = request.form
    try:
        return devices.parse(
            form.get("endpoint", ""),
            form.get("p256dh", ""),
            form.get("auth", ""),
            current_app.config["TPWEB_PUSH_ANY_ENDPOINT"],
        )
    except devices.BadSubscription as error:
        abort(400, f"Not a push subscription: {error}.")


def _section(status=200):
    if not request.htmx:
        return redirect(url_for("settings.index"), 303)
    return render(SECTION, "push_devices", status)


@bp.post("")
@write
def turn_on():
    """Keep this browser's subscription as one of my devices."""
    _enabled()
    subscription = _posted_subscription()
    label = devices.label(request.headers.get("User-Agent", ""))
    devices.turn_on(db.session, current_user, subscription, label)
    db.session.flush()
    return _section()


@bp.post("/refresh")
@write
def refresh():
    """The app opened with notifications allowed: this browser's subscription as it is now. 204
    when kept; 410 when this device was turned off (the page then unsubscribes)."""
    _enabled()
    subscription = _posted_subscription()
    previous = request.form.get("previous", "")
    try:
        previous = previous and devices.check_endpoint(previous, any_endpoint=True)
    except devices.BadSubscription as error:
        abort(400, f"Not a push subscription: previous {error}.")
    if devices.refresh(db.session, current_user, subscription, previous) is None:
        return "", 410
    return "", 204


@bp.post("/off")
@write
def turn_off():
    """Turn one of my devices off; another user's is 404, as if it did not exist."""
    _enabled()
    device_id = request.form.get("device", "")
    if not (device_id.isascii() and device_id.isdigit() and int(device_id) < 2**31):
        abort(404)
    if not devices.turn_off(db.session, current_user, int(device_id)):
        abort(404)
    return _section()
