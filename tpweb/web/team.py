"""Whose reps a manager's page shows (?manager=), and the team overview as a request asks for it.
Shared by the areas that show a team (/reps, the manager's dashboard, Team health)."""

from flask import abort, request
from flask_login import current_user

from tpweb.domain.team import managers, team_overview
from tpweb.web.pages import whole_number

EVERY_REP = "all"  # ?manager=all: every rep, whoever they report to


def chosen_team(choices):
    """Whose reps the request asks for (?manager=): a manager's id, or None for every rep.
    `choices`: domain.team.managers(). By default the viewer's own reps, or every rep when none
    report to them (an admin, a director, a manager whose team is not set up yet)."""
    asked = request.args.get("manager", "")
    if not asked:
        mine = next((choice for choice in choices if choice.id == current_user.id), None)
        return current_user.id if mine and mine.reps else None
    if asked == EVERY_REP:
        return None
    manager_id = whole_number(asked)
    if manager_id is None:
        abort(400, f"manager must be a manager's number or {EVERY_REP}.")
    if manager_id not in {choice.id for choice in choices}:
        abort(404)
    return manager_id


def team_context(today, sort="overdue"):
    """The team overview the request asks for (chosen_team) and what its chooser needs."""
    choices = managers()
    manager_id = chosen_team(choices)
    return {
        "team": team_overview(today, sort, manager_id=manager_id),
        "sort": sort,
        "managers": choices,
        "team_of": manager_id,
    }
