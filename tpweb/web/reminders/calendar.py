"""The private calendar feed (no session: the secret in its URL is the key) and the Settings that
turn it and reminder emails on or off, and reset its link."""

from urllib.parse import urlsplit

from flask import Response, abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField

from tpweb.config import public_urls
from tpweb.domain.calendar_feed import calendar, etag, items, new_secret, owner_of
from tpweb.domain.schedule import today_in
from tpweb.web.reminders import bp
from tpweb.web.writes import write

# The link made by the last Turn on or Reset link, shown once on the next Settings page: only its
# hash is kept on the server, so it cannot be shown again.
FRESH_LINK = "tpweb.calendar_link"
ANCHOR = "reminder-channels"


@bp.get("/calendar/<secret>.ics")
def feed(secret):
    """A user's calendar feed; 404 for a secret that is not a feed's, or a feed turned off."""
    user = owner_of(secret)
    if user is None:
        abort(404)
    today = today_in(user.timezone)
    found = items(user, today)
    base = current_app.config["TPWEB_PUBLIC_URL"]
    tag = etag(user, today, found, base)
    headers = {"ETag": f'"{tag}"', "Cache-Control": "private, no-cache"}
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    # The UIDs' domain: where the app is reached, the same for every process and poll.
    host = urlsplit(base).hostname or "tpweb"
    body = calendar(user, today, found, public_urls(current_app), host)
    return Response(body, headers=headers, content_type="text/calendar; charset=utf-8")


class ChannelsForm(FlaskForm):
    email_reminders = BooleanField("Email reminders")
    calendar_feed = BooleanField("Calendar feed")


@bp.post("/settings/reminders")
@write
def channels():
    """Email reminders and the calendar feed, each on or off; the feed's first link made."""
    user = current_user
    form = ChannelsForm()
    user.email_reminders = form.email_reminders.data
    user.calendar_feed = form.calendar_feed.data
    if user.calendar_feed and user.calendar_secret_hash is None:
        _new_link(user)
    return redirect(url_for("settings.index", channels_saved=1, _anchor=ANCHOR), 303)


@bp.post("/settings/calendar/reset")
@write
def reset_link():
    """A new calendar link; the old one answers 404 from now on."""
    user = current_user
    if not user.calendar_feed:
        abort(409, "Turn the calendar feed on first.")
    _new_link(user)
    return redirect(url_for("settings.index", _anchor=ANCHOR), 303)


def _new_link(user):
    secret, user.calendar_secret_hash = new_secret()
    session[FRESH_LINK] = public_urls(current_app)("reminders.feed", secret=secret)


@bp.app_template_global()
def calendar_link_once():
    """The calendar link just made, once (Settings shows it when it is made, never again)."""
    return session.pop(FRESH_LINK, None)
