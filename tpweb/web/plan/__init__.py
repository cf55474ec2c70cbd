"""Plan my day: the form, the plan of the day with its map, Skip and moving stops, a manager's
read of a rep's plan."""

from flask import Blueprint

bp = Blueprint("plan", __name__, url_prefix="/plan")

from tpweb.web.plan import frame, views, why_not  # noqa: E402,F401  (routes register themselves on bp)
