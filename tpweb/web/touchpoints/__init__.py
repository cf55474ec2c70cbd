"""The touchpoint widget, Complete, Reschedule and Inactive."""

from flask import Blueprint

bp = Blueprint("touchpoints", __name__, url_prefix="/touchpoints")

from tpweb.web.touchpoints import views  # noqa: E402,F401  (routes register themselves on bp)
