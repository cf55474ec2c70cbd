"""Plan my day: which of the rep's accounts to visit today and in what order. The candidates (from
what the rep may change), each stop's value and why it is on the plan, and the route arranged by
tpweb.domain.routing. No Flask here; saving a plan is tpweb.domain.saved_plans."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_
from sqlalchemy.orm import contains_eager

from tpweb.domain import routing
from tpweb.domain.markers import UPCOMING_DAYS
from tpweb.domain.scope import accounts_changeable_by, touchpoints_for
from tpweb.domain.touchpoints import KEPT
from tpweb.domain.visit_lengths import call_types
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, TouchpointRecord

# Stop values (see stop_value): every overdue stop outweighs one due today, which outweighs
# every upcoming one; an open task adds TASK_VALUE.
OVERDUE_VALUE = 10.0
LATENESS_VALUE = 10.0
# Lateness counts up to three frequencies: past that an account is simply very late, and one
# forgotten weekly account must not outweigh a whole day of others.
MAX_LATENESS = 3.0
DUE_TODAY_VALUE = 8.0
UPCOMING_VALUE = 6.0
TASK_VALUE = 4.0
NO_LOCATION, NO_TIME = "no location", "no time"


def stop_value(next_call, frequency_days, today, open_tasks):
    """What visiting an account today is worth, in points:

        overdue     OVERDUE_VALUE + LATENESS_VALUE × min(days overdue / frequency, MAX_LATENESS)
        due today   DUE_TODAY_VALUE
        upcoming    UPCOMING_VALUE × (1 − days until due / (UPCOMING_DAYS + 1))
        no touchpoint due: 0
      + TASK_VALUE when the rep has an open task at the account.

    Lateness is measured against the account's own frequency: 12 days late on a monthly account
    is 0.4 of a cycle missed, on a weekly one 1.7 cycles, and the weekly one comes first.
    """
    value = 0.0
    if next_call is not None:
        days = (next_call - today).days
        if days < 0:
            lateness = min(-days / frequency_days, MAX_LATENESS)
            value = OVERDUE_VALUE + LATENESS_VALUE * lateness
        elif days == 0:
            value = DUE_TODAY_VALUE
        else:
            value = UPCOMING_VALUE * (1 - days / (UPCOMING_DAYS + 1))
    return value + (TASK_VALUE if open_tasks else 0.0)


@dataclass(frozen=True)
class Candidate:
    """An account the rep might visit today: its touchpoint if due, its open tasks."""

    account_id: int
    account_kind: str
    name: str
    customer_name: str | None
    phone: str
    address: str
    latitude: float | None
    longitude: float | None
    touchpoint_id: int | None
    next_call: date | None
    frequency_days: int | None
    tasks: tuple[str, ...] = ()
    call_type_id: int | None = None  # how the account was last called (visit_lengths)

    @property
    def located(self):
        return self.latitude is not None and self.longitude is not None

    def value(self, today):
        return stop_value(self.next_call, self.frequency_days, today, len(self.tasks))

    def urgency(self, today):
        return urgency(self.next_call, today)


def urgency(next_call, today):
    """0 overdue, 1 due today, 2 upcoming, 3 an open task alone: the order a rep working by
    hand takes them in (routing.seeds)."""
    if next_call is None:
        return 3
    days = (next_call - today).days
    return 0 if days < 0 else 1 if days == 0 else 2


def reasons(candidate, today):
    """Why an account is on the plan: "overdue 12 days", "due today", "open task: quote"."""
    why = []
    if candidate.next_call is not None:
        days = (candidate.next_call - today).days
        if days < 0:
            why.append(f"overdue {-days} day{'s' if days < -1 else ''}")
        elif days == 0:
            why.append("due today")
        else:
            why.append(f"due in {days} day{'s' if days > 1 else ''}")
    why += [f"open task: {task}" for task in candidate.tasks]
    return why


def candidates(user, today):
    """The accounts `user` might visit on `today`: their own active accounts whose touchpoint is
    overdue or due within UPCOMING_DAYS, and those where they have an open task. Only accounts
    whose sales rep `user` is, whatever their role: never another rep's."""
    due = (
        touchpoints_for(user)
        .where(KEPT, Account.sales_rep_id == user.id)
        .where(Touchpoint.next_call <= today + timedelta(days=UPCOMING_DAYS))
        .options(contains_eager(Touchpoint.account).joinedload(Account.customer))
    )
    found = {}
    for touchpoint in db.session.scalars(due):
        found[touchpoint.account_id] = (touchpoint.account, touchpoint)
    tasks = {}
    own = accounts_changeable_by(user).where(Account.sales_rep_id == user.id, Account.active)
    task_rows = db.session.execute(
        own.join(Contact, Contact.customer_id == Account.id)
        .join(
            TouchpointRecord,
            and_(
                TouchpointRecord.contact_id == Contact.id,
                TouchpointRecord.assigned_to_id == user.id,
                TouchpointRecord.is_open_task,
            ),
        )
        .with_only_columns(Account, TouchpointRecord.description)
        .order_by(TouchpointRecord.date_due, TouchpointRecord.id)
    ).all()
    for account, description in task_rows:
        tasks.setdefault(account.id, []).append(description)
        found.setdefault(account.id, (account, None))
    kinds = call_types(list(found))
    return sorted(
        (_candidate(account, touchpoint, tasks.get(account.id, ()), kinds.get(account.id))
         for account, touchpoint in found.values()),
        key=lambda c: (-c.value(today), c.name, c.account_id),
    )  # fmt: skip


def _candidate(account, touchpoint, tasks, call_type_id):
    return Candidate(
        account_id=account.id,
        account_kind=account.kind,
        name=account.name,
        customer_name=account.customer.name if account.customer_id else None,
        phone=account.phone,
        address=", ".join(part for part in (account.address, account.city) if part),
        latitude=account.latitude,
        longitude=account.longitude,
        touchpoint_id=touchpoint.id if touchpoint else None,
        next_call=touchpoint.next_call if touchpoint else None,
        frequency_days=touchpoint.frequency_days if touchpoint else None,
        tasks=tuple(tasks),
        call_type_id=call_type_id,
    )


@dataclass
class Stop:
    candidate: Candidate
    arrival: int  # seconds after midnight
    value: float
    why: list[str]
    visit_minutes: int


@dataclass
class LeftOut:
    candidate: Candidate
    why: str  # NO_LOCATION or NO_TIME
    value: float
    visit_minutes: int


@dataclass
class Day:
    """An arranged day: the stops in order, what was left out, when it ends, how it was timed."""

    stops: list[Stop]
    left_out: list[LeftOut]
    end: int
    drive: int
    travel: str = "estimate"


def arrange(
    stops,
    today,
    *,
    start,
    begin,
    until,
    visits,
    end_anywhere=False,
    search_seconds=routing.SEARCH_SECONDS,
    travel=None,
):
    """The most valuable route among `stops` (Candidates) from `start` (lat, lon), between the
    seconds after midnight `begin` and `until`, each visit as long as `visits` (VisitLengths)
    says for its call type. `travel`: the options of routing.travel_times (an OSRM server, the
    road factor and speed)."""
    minutes = {c.account_id: visits.minutes(c.call_type_id) for c in stops}
    located = [c for c in stops if c.located]
    left = [
        LeftOut(c, NO_LOCATION, c.value(today), minutes[c.account_id])
        for c in stops
        if not c.located
    ]
    points = [start] + [(c.latitude, c.longitude) for c in located]
    times = routing.travel_times(points, **(travel or {}))
    values = [round(c.value(today) * routing.VALUE_UNITS) for c in located]
    horizon = max(0, until - begin)
    route = routing.solve(
        times.seconds,
        values,
        [minutes[c.account_id] * 60 for c in located],
        horizon,
        end_anywhere=end_anywhere,
        search_seconds=search_seconds,
        ranks=[c.urgency(today) for c in located],
    )
    planned = []
    for node, at in zip(route.order, route.arrivals, strict=True):
        chosen = located[node - 1]
        value, why = chosen.value(today), reasons(chosen, today)
        planned.append(Stop(chosen, begin + at, value, why, minutes[chosen.account_id]))
    for node in route.dropped:
        dropped = located[node - 1]
        left.append(LeftOut(dropped, NO_TIME, dropped.value(today), minutes[dropped.account_id]))
    left.sort(key=lambda out: (-out.value, out.candidate.name))
    return Day(planned, left, begin + route.end, route.drive, times.source)
