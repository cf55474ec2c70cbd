"""Plan my day's pages: the form and today's plan, Skip and moving a stop, a manager's read."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import exists, select

from tpweb.domain import navigate
from tpweb.domain.markers import parse_position
from tpweb.domain.plan import arrange, candidates
from tpweb.domain.saved_plans import (
    DONE,
    Settings,
    done_accounts,
    left_out_of,
    plan_of,
    replan,
    route_of,
    save,
)
from tpweb.domain.schedule import today_in
from tpweb.domain.scope import rep_or_404
from tpweb.domain.visit_lengths import VisitLengths, visit_lengths
from tpweb.extensions import db
from tpweb.models import Account, Plan, PlanStop
from tpweb.web.access import manager_required
from tpweb.web.forms import clock, minutes
from tpweb.web.pages import render
from tpweb.web.plan import bp
from tpweb.web.plan.forms import PlanForm
from tpweb.web.writes import write

PAGE = "plan/index.html"
MOVES = {"up": -1, "down": 1}
MAY_PLAN = "tpweb.may_plan"


def travel_options():
    """How drive times are worked out (routing.travel_times' options), from the configuration."""
    config = current_app.config
    return {
        "routing_url": config["TPWEB_ROUTING_URL"],
        "timeout": config["TPWEB_ROUTING_TIMEOUT"],
        "road_factor": config["TPWEB_ROAD_FACTOR"],
        "speed_kmh": config["TPWEB_AVERAGE_SPEED_KMH"],
    }


def now_seconds(user):
    """The time of day where `user` is, in seconds after midnight (TPWEB_PLAN_NOW, if set)."""
    fixed = minutes(current_app.config.get("TPWEB_PLAN_NOW") or "")
    if fixed is not None:
        return fixed * 60
    now = datetime.now(UTC).astimezone(ZoneInfo(user.timezone))
    return now.hour * 3600 + now.minute * 60 + now.second


def home_of(user):
    if user.home_latitude is None or user.home_longitude is None:
        return None
    return user.home_latitude, user.home_longitude


def new_form(user, plan, formdata=None):
    """The form, filled from the day's plan or else from the user's settings."""
    source = plan or user
    data = {
        "start": plan.start_from if plan else ("home" if home_of(user) else "here"),
        "end": plan.end_mode if plan else "start",
        "day_starts": clock(source.day_starts),
        "day_ends": clock(source.day_ends),
        # Empty: each visit as long as the rep's length for its call type (Settings).
        "visit_minutes": plan.visit_minutes if plan else None,
    }
    return PlanForm(formdata=formdata, home=home_of(user), data=data)


@bp.app_template_global()
def may_plan():
    """Whether the signed-in user has a day to plan, so the menu offers Plan: a rep always; a
    manager or the admin only while the sales rep of an active account (a plan is of one's own
    accounts; a rep's plan is read from their Sales Rep page)."""
    if current_user.role == "rep":
        return True
    if MAY_PLAN not in request.environ:  # once per request, as pages.task_count
        own = exists().where(Account.sales_rep_id == current_user.id, Account.active)
        request.environ[MAY_PLAN] = db.session.scalar(select(own))
    return request.environ[MAY_PLAN]


@bp.route("", methods=["GET", "POST"])
@write
def index():
    """The rep's plan of today: the form, and the plan made with it (Plan makes it again)."""
    user = current_user
    today = today_in(user.timezone)
    plan = plan_of(user.id, today)
    if request.method == "GET":
        form = new_form(user, plan, formdata=None) if plan or may_plan() else None
        return page(user, plan, form)
    form = new_form(user, plan, formdata=request.form)
    if not form.validate():
        return page(user, plan, form, 422)
    begin = max(form.day_starts.minutes * 60, now_seconds(user))
    until = form.day_ends.minutes * 60
    if begin >= until:
        form.day_ends.errors.append(
            f"It is past {clock(form.day_ends.minutes)}: choose hours still ahead today."
        )
        return page(user, plan, form, 422)
    found = candidates(user, today)
    if not any(c.located for c in found):
        form.form_errors.append(
            "Nothing to plan: none of your accounts due this week or with an open task has a "
            "location on the map."
            if found
            else "Nothing to plan: no touchpoint of yours is due this week and no task is open."
        )
        return page(user, plan, form, 422)
    one_length = form.visit_minutes.data
    arranged = arrange(
        found,
        today,
        start=form.position,
        begin=begin,
        until=until,
        visits=VisitLengths(one_length) if one_length else visit_lengths(user),
        end_anywhere=form.end.data == "anywhere",
        search_seconds=current_app.config["TPWEB_PLAN_SECONDS"],
        travel=travel_options(),
    )
    settings = Settings(
        start=form.position,
        start_from=form.start.data,
        end_mode=form.end.data,
        day_starts=form.day_starts.minutes,
        day_ends=form.day_ends.minutes,
        visit_minutes=form.visit_minutes.data,
    )
    save(user, user, today, settings, arranged)
    return redirect(url_for(".index"), 303)


@bp.post("/stops/<int:stop_id>")
@write
def change_stop(stop_id):
    """Skip a stop, or move it up or down; the rest is re-planned from where the rep is."""
    stop = own_stop_or_404(stop_id)
    if stop.position is None:
        abort(404)
    action = request.form.get("action", "")
    if action not in ("skip", *MOVES):
        abort(400, "action must be skip, up or down.")
    plan = stop.plan
    replan(
        plan,
        begin=begin_of(plan),
        position=sent_position(request.form),
        skip=stop if action == "skip" else None,
        move=(stop, MOVES[action]) if action in MOVES else None,
        travel=travel_options(),
        search_seconds=current_app.config["TPWEB_PLAN_SECONDS"],
    )
    return redirect(url_for(".index"), 303)


def own_stop_or_404(stop_id):
    """The stop of that id on the signed-in rep's plan of today, or a 404."""
    user = current_user
    stop = db.session.scalar(
        select(PlanStop)
        .join(Plan)
        .where(PlanStop.id == stop_id, Plan.rep_id == user.id, Plan.day == today_in(user.timezone))
    )
    return stop or abort(404)


def sent_position(values):
    """The phone's position sent along with a re-plan, or None: a help, not a must."""
    try:
        return parse_position(values.get("lat", ""), values.get("lon", ""))
    except ValueError:
        return None


def begin_of(plan):
    """When the rest of `plan` may begin: now, and not before its hours."""
    return max(plan.day_starts * 60, now_seconds(plan.rep))


@bp.get("/reps/<int:rep_id>")
@manager_required
def rep_plan(rep_id):
    """A manager's read of a rep's plan of today (the rep's today)."""
    rep = rep_or_404(rep_id)
    return page(rep, plan_of(rep.id, today_in(rep.timezone)), None)


def page(rep, plan, form, status=200, block="content", **extra):
    """The plan page of `rep`: the form (None: a manager's read), and the plan if there is one;
    `extra`: a *Why not …?* proposal (plan.why_not)."""
    return render(PAGE, block, status, **plan_context(rep, plan), form=form, rep=rep, **extra)


def plan_context(rep, plan):
    """What the page shows of a plan: the route with each stop done or not, what was left out,
    the links that hand the route to a maps app."""
    if plan is None:
        return {"plan": None}
    done = done_accounts(plan)
    route = route_of(plan)
    for stop in route:
        stop.done = stop.status == DONE or stop.account_id in done
    start = (plan.start_latitude, plan.start_longitude)
    ahead = [stop for stop in route if not stop.done]
    points = [start] + [(s.account.latitude, s.account.longitude) for s in ahead]
    if plan.end_mode == "start" and ahead:
        points.append(start)
    return {
        "plan": plan,
        "route": route,
        "left_out": left_out_of(plan),
        "done_count": sum(stop.done for stop in route),
        "legs": navigate.google_legs(points) if ahead else [],
        "apple": navigate.apple_directions(None, points[1]) if ahead else None,
        "directions": navigate.google_directions,
        "clock": lambda seconds: clock(seconds // 60),
        "km": plan.drive_seconds / 3600 * current_app.config["TPWEB_AVERAGE_SPEED_KMH"],
        "planned_at": plan.planned_at.replace(tzinfo=UTC).astimezone(ZoneInfo(rep.timezone)),
    }
