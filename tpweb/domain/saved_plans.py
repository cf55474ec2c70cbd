"""A rep's plan of the day as saved (the plans and plan_stops tables): made, read, and re-planned
through the day (Skip, moving a stop) from where the rep is, keeping what is done. No Flask here.

"Done" is not written by the touchpoint views: a stop is done when its account has a call log of
the plan's day, or its touchpoint's Last Call is that day; a re-plan then freezes it as done.
"""

from dataclasses import dataclass

from sqlalchemy import select

from tpweb.domain import routing
from tpweb.domain.plan import NO_TIME, reasons
from tpweb.extensions import db
from tpweb.models import CallLog, Plan, PlanStop, Touchpoint, utcnow

PLANNED, DONE, SKIPPED, LEFT_OUT = "planned", "done", "skipped", "left-out"


@dataclass(frozen=True)
class Settings:
    """How a day is planned: the form's choices."""

    start: tuple[float, float]
    start_from: str  # "here" or "home"
    end_mode: str  # "start" or "anywhere"
    day_starts: int  # minutes after local midnight
    day_ends: int
    visit_minutes: int


def plan_of(rep_id, day):
    """The rep's saved plan of `day`, or None."""
    return db.session.scalar(select(Plan).where(Plan.rep_id == rep_id, Plan.day == day))


def save(rep, planned_by, day, settings, arranged):
    """Save `arranged` (a plan.Day) as the rep's plan of `day`, replacing one made before."""
    plan = plan_of(rep.id, day)
    if plan is None:
        plan = Plan(rep=rep, day=day)
        db.session.add(plan)
    plan.planned_by = planned_by
    plan.planned_at = utcnow()
    plan.start_latitude, plan.start_longitude = settings.start
    plan.start_from, plan.end_mode = settings.start_from, settings.end_mode
    plan.day_starts, plan.day_ends = settings.day_starts, settings.day_ends
    plan.visit_minutes = settings.visit_minutes
    plan.travel, plan.ends_at, plan.drive_seconds = arranged.travel, arranged.end, arranged.drive
    plan.stops.clear()
    db.session.flush()
    for position, stop in enumerate(arranged.stops, 1):
        plan.stops.append(_row(stop.candidate, stop.value, stop.why, position, stop.arrival))
    for left in arranged.left_out:
        row = _row(left.candidate, left.value, reasons(left.candidate, day), None, None, LEFT_OUT)
        row.left_out_why = left.why
        plan.stops.append(row)
    return plan


def _row(candidate, value, why, position, arrival, status=PLANNED):
    return PlanStop(
        account_id=candidate.account_id,
        touchpoint_id=candidate.touchpoint_id,
        position=position,
        arrival=arrival,
        status=status,
        value=value,
        why="\n".join(why),
    )


def done_accounts(plan):
    """The ids of the plan's accounts visited on its day: a call log of that day on the account,
    or the touchpoint's Last Call set to that day (Complete's second step)."""
    ids = [stop.account_id for stop in plan.stops]
    if not ids:
        return set()
    logged = select(CallLog.account_id).where(
        CallLog.account_id.in_(ids), CallLog.called_on == plan.day
    )
    completed = select(Touchpoint.account_id).where(
        Touchpoint.account_id.in_(ids), Touchpoint.last_call == plan.day
    )
    return set(db.session.scalars(logged.union(completed)))


def route_of(plan):
    """The stops along the route, in order."""
    return sorted((s for s in plan.stops if s.position is not None), key=lambda s: s.position)


def left_out_of(plan):
    """The stops not on the route: skipped first, then by value."""
    return sorted(
        (s for s in plan.stops if s.position is None),
        key=lambda s: (s.status != SKIPPED, -s.value, s.account.name, s.id),
    )


def replan(plan, *, begin, position=None, skip=None, move=None, travel=None, search_seconds=None):
    """Re-plan what is left of `plan` from `position` (lat, lon; default: the last stop done,
    else the plan's start) and from `begin` (seconds after midnight), keeping what is done.

    `skip`: a stop to take off the route (it stays listed, skipped); the rest is solved again,
    with the stops left out for want of time back in the running. `move`: (stop, -1 or +1), to
    swap a stop with the one before or after it; the route is then timed as the rep ordered it,
    and what no longer fits goes to the left-out list.
    """
    done = done_accounts(plan)
    route = route_of(plan)
    kept = [stop for stop in route if stop.status == DONE or stop.account_id in done]
    for stop in kept:
        stop.status = DONE
    if skip in kept or (move is not None and move[0] in kept):
        skip = move = None  # done already: it keeps its place
    rest = [stop for stop in route if stop not in kept]
    if skip is not None:
        skip.status, skip.position, skip.arrival, skip.left_out_why = SKIPPED, None, None, ""
        rest = [stop for stop in rest if stop is not skip]
    if kept:
        last = kept[-1]
        if last.arrival is not None:
            begin = max(begin, last.arrival + plan.visit_minutes * 60)
        here = position or (last.account.latitude, last.account.longitude)
    else:
        here = position or (plan.start_latitude, plan.start_longitude)
    if move is not None:
        order, dropped, end, drive = _moved(plan, rest, move, here, begin, travel)
    else:
        waiting = [s for s in plan.stops if s.status == LEFT_OUT and s.left_out_why == NO_TIME]
        stops = rest + waiting
        order, dropped, end, drive = _solved(plan, stops, here, begin, travel, search_seconds)
    for number, stop in enumerate(kept, 1):
        stop.position = number
    for number, (stop, arrival) in enumerate(order, len(kept) + 1):
        stop.position, stop.arrival, stop.status, stop.left_out_why = number, arrival, PLANNED, ""
    for stop in dropped:
        stop.position, stop.arrival, stop.status, stop.left_out_why = None, None, LEFT_OUT, NO_TIME
    plan.ends_at, plan.drive_seconds = end, drive
    return plan


def _points(here, stops):
    return [here] + [(s.account.latitude, s.account.longitude) for s in stops]


def _solved(plan, stops, here, begin, travel, search_seconds):
    times = routing.travel_times(_points(here, stops), **(travel or {}))
    route = routing.solve(
        times.seconds,
        [round(stop.value * routing.VALUE_UNITS) for stop in stops],
        [plan.visit_minutes * 60] * len(stops),
        max(0, plan.day_ends * 60 - begin),
        end_anywhere=plan.end_mode == "anywhere",
        search_seconds=search_seconds or routing.SEARCH_SECONDS,
    )
    order = [(stops[n - 1], begin + at) for n, at in zip(route.order, route.arrivals, strict=True)]
    return order, [stops[n - 1] for n in route.dropped], begin + route.end, route.drive


def _moved(plan, stops, move, here, begin, travel):
    stop, step = move
    if stop in stops:
        i = stops.index(stop)
        j = min(max(i + step, 0), len(stops) - 1)
        stops[i], stops[j] = stops[j], stops[i]
    times = routing.travel_times(_points(here, stops), **(travel or {}))
    visits = [plan.visit_minutes * 60] * len(stops)
    anywhere = plan.end_mode == "anywhere"
    # The rep's order, cut where the day runs out.
    for count in range(len(stops), -1, -1):
        nodes = list(range(1, count + 1))
        arrivals, end, drive = routing.timed(
            times.seconds, visits, nodes, begin, end_anywhere=anywhere
        )
        if end <= plan.day_ends * 60:
            break
    order = list(zip(stops[:count], arrivals, strict=True))
    return order, stops[count:], end, drive


def stop_or_none(plan, stop_id):
    """The plan's stop of that id, or None."""
    return next((stop for stop in plan.stops if stop.id == stop_id), None)
