"""Team health (managers, /reports/team) and one's own cadence (reps, /reports/me): the charts of
domain/health.py's measures with their numbers, and the same table as CSV."""

from typing import NamedTuple

from flask import Blueprint, Response, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup

from tpweb.domain.health import AGES, MEASURES, WEEKS, csv_text, percent, team_health
from tpweb.domain.team import managers as team_managers
from tpweb.web import charts
from tpweb.web.access import manager_required
from tpweb.web.pages import choice_arg, render, url_pattern, user_today
from tpweb.web.team import chosen_team

bp = Blueprint("reports", __name__, url_prefix="/reports")
TEMPLATE = "reports/team.html"


def _weeks():
    return int(choice_arg("weeks", [str(n) for n in WEEKS], "12"))


@bp.get("/team")
@manager_required
def team():
    """Team health for the last 4, 12 or 52 weeks: the manager's own reps (or every rep for one
    with none), another manager's (?manager=<id>) or every rep (?manager=all)."""
    weeks, managers = _weeks(), team_managers()
    manager_id = chosen_team(managers)
    report = team_health(current_user, weeks, manager_id=manager_id)
    if request.args.get("format") == "csv":
        return _csv(report, "team")
    return _page(report, managers=managers, manager_id=manager_id, mine=False)


@bp.get("/me")
def me():
    """My cadence: the same measures about the signed-in rep alone."""
    if current_user.is_manager:
        return redirect(url_for(".team", **request.args), 303)
    report = team_health(current_user, _weeks())
    if request.args.get("format") == "csv":
        return _csv(report, "me")
    return _page(report, managers=(), manager_id=None, mine=True)


def _csv(report, who):
    filename = f"tpweb-health-{who}-{report.period.weeks}w-{user_today().isoformat()}.csv"
    return Response(
        "\ufeff" + csv_text(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def rep_links(mine):
    """Where a rep's bar or row leads, for each chart: their Sales Rep page filtered to what the
    chart showed (a rep's own report: their own lists)."""
    if mine:
        return {
            "overdue": lambda _id: url_for("touchpoints.index", state="overdue"),
            "rep": lambda _id: url_for("touchpoints.index"),
            "tasks": lambda _id: url_for("tasks.index"),
            "unassigned": lambda _id: url_for("dashboard.unassigned"),
        }
    # As %-patterns, built once: 200 reps' links in nine charts and tables by url_for took a
    # third of the page's time.
    patterns = {
        "overdue": url_pattern("reps.show", "rep_id", state="overdue", _anchor="touchpoint-widget"),
        "rep": url_pattern("reps.show", "rep_id"),
        "tasks": url_pattern("reps.show", "rep_id", _anchor="tasks-title"),
        "unassigned": url_pattern("dashboard.unassigned", "rep"),
    }
    return {name: (lambda i, p=pattern: p % i) for name, pattern in patterns.items()}


def pct(value):
    """A share as the page shows it: "83%", or "–" when there was nothing to measure."""
    return "–" if value is None else f"{percent(value):g}%"


class Table(NamedTuple):
    caption: str
    first: str  # the first column's head: "Rep" or "Week of"
    heads: list
    rows: list  # (name, href or None, [cell, ...])


class Figure(NamedTuple):
    chart: Markup
    caption: str
    measure: object
    table: Table
    weekly: bool = False


class Section(NamedTuple):
    id: str
    title: str
    figures: list


def _days(value):
    return "–" if value is None else f"{value} d"


def _per_rep(report, caption, heads, link, cells):
    rows = [(r.name, link(r.id), cells(r.figures)) for r in report.reps]
    return Table(caption, "Rep", heads, rows)


def _per_week(report, caption, heads, cells):
    rows = [(w.start.strftime("%b %-d, %Y"), None, cells(w)) for w in report.weeks]
    return Table(caption, "Week of", heads, rows)


def _rep_bars(chart_id, report, legend, values, link, words, most=None):
    rows = [(r.name, values(r.figures), link(r.id), words(r.figures)) for r in report.reps]
    return charts.bars(chart_id, rows, legend, most=most)


def _trend(chart_id, report, series, most=None, unit=""):
    labels = [w.start.strftime("%b %-d") for w in report.weeks]
    values = [(name, [pick(w) for w in report.weeks]) for name, pick in series]
    return charts.lines(chart_id, labels, values, most=most, unit=unit)


def _cadence(report, links):
    on_time, cadence = "Calls on time, week by week", "Cadence kept, per rep"
    trend = _trend("on-time-trend", report, [("On time", lambda w: percent(w.on_time_share))],
                   most=100, unit="%")  # fmt: skip
    weekly = _per_week(report, on_time, ["Calls measured", "On time"],
                       lambda w: [w.measured, pct(w.on_time_share)])  # fmt: skip
    bars = _rep_bars("cadence-bars", report, ["Calls on time"],
                     lambda f: [percent(f.on_time_share) or 0], links["overdue"],
                     lambda f: f"{pct(f.on_time_share)} · {pct(f.not_overdue_share)}",
                     most=100)  # fmt: skip
    table = _per_rep(report, cadence, ["Calls on time", "Not overdue today"], links["overdue"],
                     lambda f: [_share(f.on_time, f.measured, f.on_time_share),
                                _share(f.not_overdue, f.active, f.not_overdue_share)])  # fmt: skip
    return Section("cadence", "Cadence kept", [
        Figure(trend, on_time, MEASURES["on_time"], weekly, weekly=True),
        Figure(bars, "Calls on time · not overdue today, per rep", MEASURES["not_overdue"], table),
    ])  # fmt: skip


def _late(report, links):
    late, per_rep = "Median days overdue at completion, week by week", "How late, per rep"
    trend = _trend("late-trend", report, [("Median", lambda w: w.late_median)], unit=" d")
    weekly = _per_week(report, late, ["Median"], lambda w: [_days(w.late_median)])
    bars = _rep_bars("late-bars", report, ["90th percentile"], lambda f: [f.late_p90 or 0],
                     links["overdue"], lambda f: _days(f.late_p90))  # fmt: skip
    heads = ["Median", "90th percentile", "Not contacted in 2x frequency"]
    table = _per_rep(report, per_rep, heads, links["overdue"],
                     lambda f: [_days(f.late_median), _days(f.late_p90), f.silent])  # fmt: skip
    return Section("late", "How late", [
        Figure(trend, late, MEASURES["late"], weekly, weekly=True),
        Figure(bars, "Days overdue at completion, 90th percentile, per rep", MEASURES["silent"],
               table),
    ])  # fmt: skip


def _activity(report, links):
    types = report.call_types
    activity, visits = "Calls logged per week, by call type", "Visits and phone calls, per rep"
    shown = [(name, lambda w, n=name: w.by_type[n]) for name in types[: charts.SERIES]]
    weekly = _per_week(report, activity, types or ["Calls"],
                       lambda w: [w.by_type[name] for name in types] or [0])  # fmt: skip
    bars = _rep_bars("visit-bars", report, ["Visits", "Phone and other"],
                     lambda f: [f.visits, f.calls - f.visits], links["rep"],
                     lambda f: f"{f.visits} · {f.calls - f.visits}")  # fmt: skip
    table = _per_rep(report, visits, ["Visits", "Phone and other", "All calls"], links["rep"],
                     lambda f: [f.visits, f.calls - f.visits, f.calls])  # fmt: skip
    return Section("activity", "Activity", [
        Figure(_trend("activity-trend", report, shown), activity, MEASURES["activity"], weekly,
               weekly=True),
        Figure(bars, visits, MEASURES["visits"], table),
    ])  # fmt: skip


def _follow_ups(report, links):
    ages = [label for label, _, _ in AGES]
    answered, tasks = "Tasks answered by the date due, week by week", "Open tasks by age, per rep"
    trend = _trend("answered-trend", report,
                   [("Answered by due", lambda w: percent(w.answered_share))],
                   most=100, unit="%")  # fmt: skip
    weekly = _per_week(report, answered, ["Due", "Answered by due"],
                       lambda w: [w.due, pct(w.answered_share)])  # fmt: skip
    bars = _rep_bars("task-bars", report, ages, lambda f: f.ages, links["tasks"],
                     lambda f: str(f.open_tasks))  # fmt: skip
    table = _per_rep(report, tasks, [*ages, "Answered by due"], links["tasks"],
                     lambda f: [*f.ages, _share(f.answered, f.due, f.answered_share)])  # fmt: skip
    return Section("follow-ups", "Follow-ups", [
        Figure(trend, answered, MEASURES["answered"], weekly, weekly=True),
        Figure(bars, tasks, MEASURES["task_age"], table),
    ])  # fmt: skip


def _coverage(report, links):
    coverage = "Accounts with a rep but no touchpoint, per rep"
    bars = _rep_bars("coverage-bars", report, ["No touchpoint"], lambda f: [f.uncovered],
                     links["unassigned"], lambda f: str(f.uncovered))  # fmt: skip
    table = _per_rep(report, coverage, ["No touchpoint"], links["unassigned"],
                     lambda f: [f.uncovered])  # fmt: skip
    return Section("coverage", "Coverage", [Figure(bars, coverage, MEASURES["coverage"], table)])


def _share(part, whole, value):
    return f"{pct(value)} ({part} of {whole})"


SECTIONS = (_cadence, _late, _activity, _follow_ups, _coverage)


def _page(report, managers, manager_id, mine):
    links = rep_links(mine)
    return render(
        TEMPLATE,
        "content",
        report=report,
        measures=MEASURES,
        sections=[section(report, links) for section in SECTIONS],
        managers=managers,
        manager_id=manager_id,
        mine=mine,
        weeks_choices=WEEKS,
        pct=pct,
        days=_days,
        rep_names={r.id: r.name for r in report.reps},
        csv_url=url_for(request.endpoint, **{**request.args, "format": "csv"}),
    )
