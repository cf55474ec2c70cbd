"""A rep's plan of the day as saved (the plans and plan_stops tables): made, read, and re-planned
through the day (Skip, moving a stop) from where the rep is, keeping what is done. No Flask here.

"Done" is not written by the touchpoint views: a stop is done when its account has a call log of
the plan's day, or its touchpoint's Last Call is that day; a re-plan then freezes it as done.
"""

from dataclasses import dataclass

from sqlalchemy import select

from tpweb.domain import routing
from tpweb.domain.plan import NO_TIME, reasons, urgency
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
    visit_minutes: int | None  # one length for every visit; None: by each stop's call type


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
        plan.stops.append(_row(stop, position=position, arrival=stop.arrival))
    for left in arranged.left_out:
        why = reasons(left.candidate, day)
        plan.stops.append(_row(left, why=why, status=LEFT_OUT, left_out_why=left.why))
    return plan


def _row(chosen, *, why=None, position=None, arrival=None, status=PLANNED, left_out_why=""):
    """The row of a plan.Stop or plan.LeftOut."""
    return PlanStop(
        account_id=chosen.candidate.account_id,
        touchpoint_id=chosen.candidate.touchpoint_id,
        position=position,
        arrival=arrival,
        status=status,
        value=chosen.value,
        why="\n".join(chosen.why if why is None else why),
        left_out_why=left_out_why,
        visit_minutes=chosen.visit_minutes,
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


@dataclass
class Rest:
    """What a re-plan starts from: the stops done (they keep their places), the route's other
    stops in order, those left out for want of time, and where and when the rest begins."""

    done: list
    route: list
    waiting: list
    here: tuple[float, float]
    begin: int


def rest_of(plan, *, begin, position=None):
    """The Rest of `plan` from `position` (lat, lon; default: the last stop done, else the
    plan's start) and no earlier than `begin` (seconds after midnight) nor than the end of the
    last visit done."""
    visited = done_accounts(plan)
    route = route_of(plan)
    done = [stop for stop in route if stop.status == DONE or stop.account_id in visited]
    here = position or (plan.start_latitude, plan.start_longitude)
    if done:
        last = done[-1]
        if last.arrival is not None:
            begin = max(begin, last.arrival + last.visit_minutes * 60)
        here = position or (last.account.latitude, last.account.longitude)
    waiting = [s for s in plan.stops if s.status == LEFT_OUT and s.left_out_why == NO_TIME]
    rest = [stop for stop in route if stop not in done]
    return Rest(done, rest, waiting, here, begin)


def replan(plan, *, begin, position=None, skip=None, move=None, travel=None, search_seconds=None):
    """Re-plan what is left of `plan` (rest_of: from `position`, from `begin`), keeping what is
    done.

    `skip`: a stop to take off the route (it stays listed, skipped); the rest is solved again,
    with the stops left out for want of time back in the running. `move`: (stop, -1 or +1), to
    swap a stop with the one before or after it; the route is then timed as the rep ordered it,
    and what no longer fits goes to the left-out list.
    """
    rest = rest_of(plan, begin=begin, position=position)
    if skip in rest.done or (move is not None and move[0] in rest.done):
        skip = move = None  # done already: it keeps its place
    if skip is not None:
        skip.status, skip.position, skip.arrival, skip.left_out_why = SKIPPED, None, None, ""
        rest.route.remove(skip)
    if move is not None:
        order, dropped, end, drive = _moved(plan, rest, move, travel)
    else:
        order, dropped, end, drive = _solved(plan, rest, travel, search_seconds)
    _apply(plan, rest.done, order, dropped, end, drive)
    return plan


def _apply(plan, done, order, dropped, end, drive):
    """Number the stops `done` first, then `order` ((stop, arrival) pairs); `dropped` left out
    for want of time."""
    now = utcnow()
    for number, stop in enumerate(done, 1):
        _revise(stop, number, stop.arrival, now)
        stop.status = DONE
    for number, (stop, arrival) in enumerate(order, len(done) + 1):
        _revise(stop, number, arrival, now)
        stop.status, stop.left_out_why = PLANNED, ""
    for stop in dropped:
        stop.position, stop.arrival, stop.status, stop.left_out_why = None, None, LEFT_OUT, NO_TIME
    plan.ends_at, plan.drive_seconds = end, drive


def _revise(stop, position, arrival, now):
    """Put `stop` at `position`, arriving at `arrival`; dated `now` if that changes either (a
    calendar app then takes the event's new time: calendar_feed)."""
    if (stop.position, stop.arrival) != (position, arrival):
        stop.position, stop.arrival, stop.revised_at = position, arrival, now


def _points(here, stops):
    return [here] + [(s.account.latitude, s.account.longitude) for s in stops]


def _visits(stops):
    return [stop.visit_minutes * 60 for stop in stops]


def _ranks(plan, stops):
    """Each stop's urgency on the plan's day (plan.urgency), for the solver's greedy seed."""
    return [urgency(s.touchpoint.next_call if s.touchpoint else None, plan.day) for s in stops]


def _solved(plan, rest, travel, search_seconds, required=None):
    """The rest of the day solved again: (order, dropped, end, drive), or None when the
    `required` stop cannot fit."""
    stops = rest.route + [stop for stop in rest.waiting if stop is not required]
    if required is not None:
        stops.append(required)
    times = routing.travel_times(_points(rest.here, stops), **(travel or {}))
    route = routing.solve(
        times.seconds,
        [round(stop.value * routing.VALUE_UNITS) for stop in stops],
        _visits(stops),
        max(0, plan.day_ends * 60 - rest.begin),
        end_anywhere=plan.end_mode == "anywhere",
        search_seconds=search_seconds or routing.SEARCH_SECONDS,
        # The same greedy seeds as the first plan's, so a re-plan too collects at least what
        # "nearest most urgent next" would from here.
        ranks=_ranks(plan, stops),
        required=(len(stops),) if required is not None else (),
    )
    if route is None:
        return None
    begin = rest.begin
    order = [(stops[n - 1], begin + at) for n, at in zip(route.order, route.arrivals, strict=True)]
    return order, [stops[n - 1] for n in route.dropped], begin + route.end, route.drive


def _timed(plan, begin, stops, seconds):
    """(order, end, drive) of `stops` in the order given from `begin`, in `seconds` (drive times
    from where the rest begins, then between `stops` and any after them)."""
    arrivals, end, drive = routing.timed(
        seconds, _visits(stops), range(1, len(stops) + 1), begin,
        end_anywhere=plan.end_mode == "anywhere",
    )  # fmt: skip
    return list(zip(stops, arrivals, strict=True)), end, drive


def _moved(plan, rest, move, travel):
    stop, step = move
    stops = rest.route
    if stop in stops:
        i = stops.index(stop)
        j = min(max(i + step, 0), len(stops) - 1)
        stops[i], stops[j] = stops[j], stops[i]
    times = routing.travel_times(_points(rest.here, stops), **(travel or {}))
    # The rep's order, cut where the day runs out.
    for count in range(len(stops), -1, -1):
        order, end, drive = _timed(plan, rest.begin, stops[:count], times.seconds)
        if end <= plan.day_ends * 60:
            break
    return order, stops[count:], end, drive


def stop_or_none(plan, stop_id):
    """The plan's stop of that id, or None."""
    return next((stop for stop in plan.stops if stop.id == stop_id), None)


@dataclass
class Proposal:
    """*Why not …?*: the rest of the day re-made with `stop` forced in. `order`: (stop,
    arrival) pairs, empty when it cannot fit today even alone (`ends_at` None); `pushed_out`:
    the route's stops it would leave out; `was_ends_at`: when the day ends as planned, timed
    from the same place and time."""

    stop: PlanStop
    order: list
    pushed_out: list
    ends_at: int | None
    was_ends_at: int

    @property
    def arrival(self):
        """When the rep would reach the stop asked about."""
        return next((at for chosen, at in self.order if chosen is self.stop), None)

    @property
    def stop_ids(self):
        return [chosen.id for chosen, _ in self.order]


def why_not(plan, stop, *, begin, position=None, travel=None, search_seconds=None):
    """The Proposal of `plan` with `stop` (left out for want of time) forced in: the rest
    solved again from rest_of(plan, begin, position) with no disjunction for it."""
    rest = rest_of(plan, begin=begin, position=position)
    times = routing.travel_times(_points(rest.here, rest.route), **(travel or {}))
    was_end = _timed(plan, rest.begin, rest.route, times.seconds)[1]
    solved = _solved(plan, rest, travel, search_seconds, required=stop)
    if solved is None:
        return Proposal(stop, [], [], None, was_end)
    order, _, end, _ = solved
    chosen = {chosen for chosen, _ in order}
    pushed_out = [other for other in rest.route if other not in chosen]
    return Proposal(stop, order, pushed_out, end, was_end)


def accept(plan, stop, order_ids, *, begin, position=None, travel=None):
    """Make the rest of the day the Proposal shown: the stops of `order_ids` in that order (they
    must include `stop` and be the plan's, not done, each once), timed from rest_of(plan,
    begin, position). Returns False, changing nothing, for ids not so, or a day that no longer
    holds them (time has passed since)."""
    rest = rest_of(plan, begin=begin, position=position)
    open_stops = {other.id: other for other in (*rest.route, *rest.waiting)}
    if stop.id not in order_ids or len(set(order_ids)) != len(order_ids):
        return False
    if not set(order_ids) <= open_stops.keys():
        return False
    stops = [open_stops[key] for key in order_ids]
    times = routing.travel_times(_points(rest.here, stops), **(travel or {}))
    order, end, drive = _timed(plan, rest.begin, stops, times.seconds)
    if end > plan.day_ends * 60:
        return False
    dropped = [other for other in open_stops.values() if other not in stops]
    _apply(plan, rest.done, order, dropped, end, drive)
    return True
