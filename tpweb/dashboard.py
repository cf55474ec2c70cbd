"""The sales dashboard and the Unassigned widget."""

from flask import Blueprint, current_app, request
from flask_login import current_user
from jinja2_fragments.flask import render_block

from .touchpoints.queries import unassigned_accounts
from .touchpoints.views import chosen_rep, widget_context
from .web import int_arg, render

bp = Blueprint("dashboard", __name__)

DASHBOARD_WIDGET_SIZE = 10


@bp.get("/")
def index():
    """The sales dashboard: the touchpoint widget and the Unassigned widget."""
    context = widget_context(chosen_rep())
    unassigned, more_unassigned = unassigned_accounts(current_user, size=DASHBOARD_WIDGET_SIZE)
    return render(
        "dashboard.html",
        "content",
        unassigned=unassigned,
        more_unassigned=more_unassigned,
        **context,
    )


@bp.get("/unassigned")
def unassigned():
    """Accounts with a sales rep and no active touchpoint, each with a quick Set touchpoint."""
    page = int_arg("page", 1, high=10_000)
    accounts, more = unassigned_accounts(
        current_user, rep_id=chosen_rep(), page=page, size=current_app.config["PAGE_SIZE"]
    )
    context = {"unassigned": accounts, "more_unassigned": more, "unassigned_page": page}
    if request.htmx and page > 1:
        return render_block("unassigned_widget.html", "unassigned_rows", **context)
    return render("unassigned.html", "content", **context)
