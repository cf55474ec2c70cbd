"""Reminders where people look: the private calendar feed, a reminder's one-tap actions, and
their settings (email and calendar on or off, the feed's link)."""

from flask import Blueprint

bp = Blueprint("reminders", __name__)

from tpweb.web.reminders import actions, calendar  # noqa: E402,F401  (routes register on bp)
