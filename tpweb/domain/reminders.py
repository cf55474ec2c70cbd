"""Who is reminded of what, and when: each user's send instant, the days a sweep covers, and the
tasks and touchpoints due on them. No Flask here: plain functions over a session and rows."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import aliased

from tpweb.domain.touchpoints import KEPT
from tpweb.models import Account, Contact, Touchpoint, TouchpointRecord

TASK = "task"
TOUCHPOINT = "touchpoint"
# A ledger row of this kind marks a user's local date as swept (planned), items or none.
DAY = "day"

# Enough ids per IN (...) to stay under every driver's parameter limit.
CHUNK = 500

Customer = aliased(Account, name="customer")


def send_instant(day: date, hour: int, zone: str) -> datetime:
    """The UTC instant `day`'s reminders are due in `zone`: `hour`:00 local time.

    A wall time that happens twice (clocks back) is its first occurrence; one that never happens
    (clocks forward) is the moment the clocks jump, the first instant after it.
    """
    # fold=0 picks the first of a repeated time and, inside a gap, the offset in force before the
    # jump, which lands on the far side of the gap (PEP 495).
    local = datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def latest_due_day(zone: str, hour: int, now: datetime) -> date:
    """The latest local date in `zone` whose send instant is not after `now`."""
    day = now.astimezone(ZoneInfo(zone)).date()
    # At most twice: a zone that skips a whole day can put yesterday's instant after today's.
    while send_instant(day, hour, zone) > now:
        day -= timedelta(days=1)
    return day


def days_to_sweep(
    latest: date, swept: set[date], first_swept: date | None, catchup_days: int
) -> list[date]:
    """The local dates a sweep plans for one user, oldest first.

    `latest` is the newest date due (latest_due_day), `swept` the dates already planned within the
    catch-up window and `first_swept` the user's first planned date ever. A new user starts with
    `latest`, not with a history; a user whose nights were missed gets each of the missed dates
    back, up to `catchup_days`, and never one already planned.
    """
    if first_swept is None:
        return [latest]
    window = (latest - timedelta(days=n) for n in reversed(range(catchup_days)))
    return [day for day in window if day > first_swept and day not in swept]


@dataclass(frozen=True)
class Due:
    """One item due for one user on one date: a future ledger row."""

    user_id: int
    kind: str
    item_id: int
    due_date: date


def due_items(session, wanted: dict[int, list[date]]) -> list[Due]:
    """Open tasks assigned to, and active touchpoints of accounts held by, each user in `wanted`,
    due on one of that user's dates."""
    found = []
    pairs = [(user_id, day) for user_id, days in wanted.items() for day in days]
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        tasks = select(
            TouchpointRecord.assigned_to_id, TouchpointRecord.id, TouchpointRecord.date_due
        )
        tasks = tasks.where(
            TouchpointRecord.is_open_task,
            tuple_(TouchpointRecord.assigned_to_id, TouchpointRecord.date_due).in_(chunk),
        )
        found += [Due(user, TASK, item, day) for user, item, day in session.execute(tasks)]
        touchpoints = (
            select(Account.sales_rep_id, Touchpoint.id, Touchpoint.next_call)
            .join(Touchpoint.account)
            .where(KEPT)
            .where(tuple_(Account.sales_rep_id, Touchpoint.next_call).in_(chunk))
        )
        found += [
            Due(user, TOUCHPOINT, item, day) for user, item, day in session.execute(touchpoints)
        ]
    return found


@dataclass(frozen=True)
class Reminder:
    """What one email says about one item, read fresh when it is sent."""

    kind: str
    item_id: int
    due_date: date
    overdue: bool
    title: str  # the task's description, or the customer's or jobsite's name
    contact: str = ""  # a task's contact
    account_kind: str = "customer"
    account: str = ""  # a task's contact's customer; a touchpoint's customer or jobsite
    customer: str = ""  # a jobsite's customer
    contact_id: int | None = None


def load_reminders(session, rows, today: date) -> dict[int, Reminder]:
    """Each ledger row's reminder, by row id, for the items still due as the row says.

    A task answered or moved, a touchpoint completed, rescheduled, set inactive or handed to
    another rep since the row was planned has no reminder: the row is skipped, not sent stale.
    """
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row.item_kind].append(row)
    found = {}
    tasks = _tasks(session, {row.item_id for row in by_kind[TASK]})
    for row in by_kind[TASK]:
        task = tasks.get(row.item_id)
        if task is None or task.date_due != row.due_date or task.assigned_to_id != row.user_id:
            continue
        found[row.id] = Reminder(
            TASK,
            task.id,
            row.due_date,
            row.due_date < today,
            task.description,
            contact=task.contact,
            account=task.customer,
            contact_id=task.contact_id,
        )
    touchpoints = _touchpoints(session, {row.item_id for row in by_kind[TOUCHPOINT]})
    for row in by_kind[TOUCHPOINT]:
        tp = touchpoints.get(row.item_id)
        if tp is None or tp.next_call != row.due_date or tp.sales_rep_id != row.user_id:
            continue
        found[row.id] = Reminder(
            TOUCHPOINT,
            tp.id,
            row.due_date,
            row.due_date < today,
            tp.account,
            account_kind=tp.kind,
            account=tp.account,
            customer=tp.customer or "",
        )
    return found


# Columns, not entities: a sweep of thousands reads them once and keeps no objects around.
def _tasks(session, ids):
    if not ids:
        return {}
    query = (
        select(
            TouchpointRecord.id,
            TouchpointRecord.date_due,
            TouchpointRecord.assigned_to_id,
            TouchpointRecord.description,
            TouchpointRecord.contact_id,
            Contact.name.label("contact"),
            Account.name.label("customer"),
        )
        .join(TouchpointRecord.contact)
        .join(Contact.customer)
        .where(TouchpointRecord.id.in_(ids), TouchpointRecord.is_open_task)
    )
    return {task.id: task for task in session.execute(query)}


def _touchpoints(session, ids):
    if not ids:
        return {}
    query = (
        select(
            Touchpoint.id,
            Touchpoint.next_call,
            Account.sales_rep_id,
            Account.kind,
            Account.name.label("account"),
            Customer.name.label("customer"),
        )
        .join(Touchpoint.account)
        .outerjoin(Customer, Account.customer_id == Customer.id)
        .where(Touchpoint.id.in_(ids), KEPT)
    )
    return {tp.id: tp for tp in session.execute(query)}
