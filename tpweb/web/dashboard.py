"""The sales dashboard and the Unassigned widget."""

from flask import Blueprint, current_app, request
from flask_login import current_user
from jinja2_fragments.flask import render_block

from tpweb.domain.schedule import OVERDUE
from tpweb.domain.team import managers
from tpweb.domain.touchpoints import unassigned_accounts, widget_page
from tpweb.web.pages import int_arg, render, user_today
from tpweb.web.team import chosen_team, team_context
from tpweb.web.widget import chosen_rep, widget_context

bp = Blueprint("dashboard", __name__)

DASHBOARD_WIDGET_SIZE = 10


@bp.get("/")
def index():
    """The dashboard: a rep's touchpoints, or a manager's team, its most overdue accounts and
    its Unassigned (the manager's own reps by default; ?manager= as on /reps)."""
    context, team_of = {}, None
    if current_user.is_manager:
        today = user_today()
        context.update(team_context(today), today=today)
        team_of = context["team_of"]
        context["most_overdue"], _ = widget_page(
            current_user, today, state=OVERDUE, size=DASHBOARD_WIDGET_SIZE, manager_id=team_of
        )
    else:
        context.update(widget_context())
    context["unassigned"], context["more_unassigned"] = unassigned_accounts(
        current_user, manager_id=team_of, size=DASHBOARD_WIDGET_SIZE
    )
    return render("dashboard.html", "content", **context)


@bp.get("/unassigned")
def unassigned():
    """Accounts with a sales rep and no active touchpoint, each with a quick Set touchpoint. A
    manager's: one rep's (?rep=), else a team's as on the dashboard (?manager=, their own
    reps by default)."""
    page = int_arg("page", 1, high=10_000)
    rep_id = chosen_rep()
    context = {"unassigned_page": page, "unassigned_rep": rep_id}
    if current_user.is_manager and rep_id is None:
        choices = managers()
        context.update(managers=choices, team_of=chosen_team(choices))
    context["unassigned"], context["more_unassigned"] = unassigned_accounts(
        current_user,
        rep_id=rep_id,
        manager_id=context.get("team_of"),
        page=page,
        size=current_app.config["PAGE_SIZE"],
    )
    if request.htmx and page > 1:
        return render_block("unassigned_widget.html", "unassigned_rows", **context)
    return render("unassigned.html", "content", **context)
