"""Whose reps a manager's page shows (?manager=), and the team overview as a request asks for it.
Shared by the areas that show a team (/reps, the manager's dashboard, Team health)."""

from flask import abort, request
from flask_login import current_user

from tpweb.domain.team import managers, team_overview
from tpweb.web.pages import whole_number

EVERY_REP = "all"  # ?manager=all: every rep, whoever they report to


def chosen_team(choices):
    """The request's ?manager=: (whose reps to show: a manager's id, or None for every rep;
    whether it was asked for). `choices`: the managers there are (domain.team.managers). By
    default the viewer's own reps; the caller shows every rep when the viewer has none."""
    asked = request.args.get("manager", "")
    if not asked:
        return current_user.id, False
    if asked == EVERY_REP:
        return None, True
    manager_id = whole_number(asked)
    if manager_id is None:
        abort(400, f"manager must be a manager's number or {EVERY_REP}.")
    if manager_id not in {choice.id for choice in choices}:
        abort(404)
    return manager_id, True


def team_context(today, sort="overdue"):
    """The team overview the request asks for and what its chooser needs: ?manager=<id> that
    manager's reps, ?manager=all every rep; by default the viewer's own reps, or every rep when
    none report to them (an admin, a director, a manager whose team is not set up yet)."""
    choices = managers()
    manager_id, asked = chosen_team(choices)
    team = team_overview(today, sort, manager_id=manager_id)
    if not team and not asked:
        manager_id, team = None, team_overview(today, sort)
    return {"team": team, "sort": sort, "managers": choices, "team_of": manager_id}
