"""The team overview as a request asks for it: whose reps (?manager=) and in which order. Shared
by the areas that show it (/reps and the manager's dashboard)."""

from flask import abort, request
from flask_login import current_user

from tpweb.domain.team import managers, team_overview
from tpweb.web.pages import whole_number

EVERY_REP = "all"  # ?manager=all: every rep, whoever they report to


def team_context(today, sort="overdue"):
    """The team overview the request asks for and what its chooser needs: ?manager=<id> that
    manager's reps, ?manager=all every rep; by default the viewer's own reps, or every rep when
    none report to them (an admin, a director, a manager whose team is not set up yet)."""
    choices = managers()
    asked = request.args.get("manager", "")
    manager_id = current_user.id
    if asked == EVERY_REP:
        manager_id = None
    elif asked:
        manager_id = whole_number(asked)
        if manager_id is None:
            abort(400, f"manager must be a manager's number or {EVERY_REP}.")
        if manager_id not in {choice.id for choice in choices}:
            abort(404)
    team = team_overview(today, sort, manager_id=manager_id)
    if not team and not asked:
        manager_id, team = None, team_overview(today, sort)
    return {"team": team, "sort": sort, "managers": choices, "team_of": manager_id}
