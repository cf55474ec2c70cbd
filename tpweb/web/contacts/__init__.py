"""Contact maintenance, a contact's Touchpoints tab, touchpoint records and their responses."""

from flask import Blueprint

bp = Blueprint("contacts", __name__)

from tpweb.web.contacts import views  # noqa: E402,F401  (routes register themselves on bp)
