"""A user's private calendar feed (iCalendar, RFC 5545): their Next Calls and open tasks, overdue
or due in the next 60 days, as all-day events, and the stops of their saved plans as timed events
in their time zone. The URL's secret is random and kept only as its SHA-256. No Flask here.

What calendar apps need (docs: PITFALLS.md, "Calendar feed"): one UID per item for good, a
SEQUENCE and LAST-MODIFIED that move when the item changes (from its History; a plan's stop, from
its plan's making or the re-plan that last moved it: PlanStop.revised_at), all-day events
ending the next day, times with a TZID and its VTIMEZONE, tasks as events (Google ignores VTODO).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from tpweb.domain.reminders import TASK, TOUCHPOINT
from tpweb.domain.scope import openable_contact_of_row
from tpweb.domain.touchpoints import KEPT
from tpweb.extensions import db
from tpweb.models import (
    Account,
    Contact,
    History,
    Plan,
    PlanStop,
    Touchpoint,
    TouchpointRecord,
    User,
)

WINDOW_DAYS = 60
PLAN = "plan"
PRODID = "-//tpweb//Touchpoints reminders//EN"
# A stored date-time without a zone is UTC (models.utcnow).
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

Customer = aliased(Account, name="customer")


def new_secret():
    """(secret, its hash): the secret goes in the URL the user is shown once, the hash is kept."""
    secret = secrets.token_urlsafe(32)
    return secret, secret_hash(secret)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def owner_of(secret: str) -> User | None:
    """The active user whose feed is on and whose secret this is, else None. Found by the
    secret's hash through the unique index: a wrong secret costs what a right one does."""
    return db.session.scalar(
        select(User).where(
            User.calendar_secret_hash == secret_hash(secret), User.calendar_feed, User.active
        )
    )


@dataclass(frozen=True)
class Item:
    """One event of the feed, as plain values: what the feed and its ETag are made of."""

    kind: str  # TOUCHPOINT, TASK or PLAN
    key: str  # what the UID is made of: stable for as long as the item is
    summary: str
    lines: tuple  # the description, line by line
    link: tuple  # (endpoint, values) of the item's page
    day: date
    start: int | None  # a plan stop's arrival, seconds after local midnight; None: all day
    minutes: int
    location: str
    sequence: int
    modified: datetime  # UTC


def items(user, today):
    """The feed's items for `user` on `today` (their own date), in four statements."""
    last = today + timedelta(days=WINDOW_DAYS)
    touchpoints = _touchpoints(user, last)
    tasks = _tasks(user, last)
    marks = _marks(user, last)
    found = [_touchpoint_item(row, marks) for row in touchpoints]
    found += [_task_item(row, marks) for row in tasks]
    found += [_stop_item(row) for row in _stops(user, today, last)]
    return sorted(found, key=lambda item: (item.day, item.start or 0, item.kind, item.key))


def _own_touchpoints(user, last):
    """The conditions on a touchpoint in `user`'s feed (joined to its account)."""
    return KEPT, Account.sales_rep_id == user.id, Touchpoint.next_call <= last


def _own_tasks(user, last):
    """The conditions on a task in `user`'s feed."""
    return (
        TouchpointRecord.assigned_to_id == user.id,
        TouchpointRecord.is_open_task,
        TouchpointRecord.date_due <= last,
    )


def _touchpoints(user, last):
    query = (
        select(
            Touchpoint.id,
            Touchpoint.next_call,
            Touchpoint.frequency_days,
            Touchpoint.comment,
            Touchpoint.created_at,
            Account.kind.label("account_kind"),
            Account.name.label("account_name"),
            Customer.name.label("customer_name"),
        )
        .join(Touchpoint.account)
        .outerjoin(Customer, Account.customer_id == Customer.id)
        .where(*_own_touchpoints(user, last))
    )
    return db.session.execute(query).all()


def _tasks(user, last):
    query = (
        select(
            TouchpointRecord.id,
            TouchpointRecord.date_due,
            TouchpointRecord.description,
            TouchpointRecord.details,
            TouchpointRecord.contact_id,
            TouchpointRecord.created_at,
            Contact.name.label("contact_name"),
            Account.name.label("customer_name"),
            openable_contact_of_row(user).label("contact_openable"),
        )
        .join(Contact, TouchpointRecord.contact_id == Contact.id)
        .join(Account, Contact.customer_id == Account.id)
        .where(*_own_tasks(user, last))
    )
    return db.session.execute(query).all()


def _marks(user, last):
    """{(subject, id): (changes, latest change)} from the History of the feed's touchpoints and
    tasks: an event's SEQUENCE and LAST-MODIFIED, which move whenever the item changes."""
    own_touchpoints = (
        select(Touchpoint.id).join(Touchpoint.account).where(*_own_touchpoints(user, last))
    )
    own_tasks = select(TouchpointRecord.id).where(*_own_tasks(user, last))
    query = (
        select(History.subject, History.subject_id, func.count(), func.max(History.at))
        .where(
            or_(
                and_(History.subject == "touchpoint", History.subject_id.in_(own_touchpoints)),
                and_(History.subject == "task", History.subject_id.in_(own_tasks)),
            )
        )
        .group_by(History.subject, History.subject_id)
    )
    return {(subject, id_): (count, at) for subject, id_, count, at in db.session.execute(query)}


def _stops(user, today, last):
    query = (
        select(
            PlanStop.id,
            PlanStop.account_id,
            PlanStop.position,
            PlanStop.arrival,
            PlanStop.why,
            PlanStop.visit_minutes,
            PlanStop.revised_at,
            Plan.day,
            Plan.planned_at,
            Account.kind.label("account_kind"),
            Account.name.label("account_name"),
            Account.address,
            Account.city,
        )
        .join(Plan, PlanStop.plan_id == Plan.id)
        .join(Account, PlanStop.account_id == Account.id)
        .where(
            Plan.rep_id == user.id,
            Plan.day.between(today, last),
            PlanStop.position.is_not(None),
            PlanStop.arrival.is_not(None),
        )
    )
    return db.session.execute(query).all()


def _utc(moment):
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _changes(marks, subject, row):
    count, at = marks.get((subject, row.id), (0, None))
    return count, _utc(at or row.created_at)


def _touchpoint_item(row, marks):
    name = row.account_name
    where = [f"{row.account_kind.title()}: {name}"]
    if row.customer_name:
        name = f"{name} ({row.customer_name})"
        where.append(f"Customer: {row.customer_name}")
    sequence, modified = _changes(marks, "touchpoint", row)
    return Item(
        kind=TOUCHPOINT,
        key=f"touchpoint-{row.id}",
        summary=f"Next Call: {name}",
        lines=(*where, f"Every {row.frequency_days} days", *_comment("Comment", row.comment)),
        link=("touchpoints.show", {"touchpoint_id": row.id}),
        day=row.next_call,
        start=None,
        minutes=0,
        location="",
        sequence=sequence,
        modified=modified,
    )


def _task_item(row, marks):
    # A task may be the user's on a contact they cannot open: its Record response page then.
    if row.contact_openable:
        link = ("contacts.show", {"contact_id": row.contact_id})
    else:
        link = ("tasks.respond", {"record_id": row.id})
    sequence, modified = _changes(marks, "task", row)
    return Item(
        kind=TASK,
        key=f"task-{row.id}",
        summary=f"Task: {row.description} ({row.contact_name})",
        lines=(
            f"Contact: {row.contact_name}",
            f"Customer: {row.customer_name}",
            *_comment("Details", row.details),
        ),
        link=link,
        day=row.date_due,
        start=None,
        minutes=0,
        location="",
        sequence=sequence,
        modified=modified,
    )


def _stop_item(row):
    # Made (planned_at), or moved by a re-plan since (revised_at).
    modified = _utc(max(row.planned_at, row.revised_at or row.planned_at))
    return Item(
        kind=PLAN,
        # One event per account and day: a plan made again moves it, never doubles it.
        key=f"plan-{row.day.isoformat()}-{row.account_id}",
        summary=f"Visit {row.position}: {row.account_name}",
        lines=tuple(line for line in row.why.splitlines() if line),
        link=("accounts.show", {"kind": row.account_kind, "account_id": row.account_id}),
        day=row.day,
        start=row.arrival,
        minutes=row.visit_minutes,
        location=", ".join(part for part in (row.address, row.city) if part),
        # A plan made again is a new revision of each of its stops, and a stop a re-plan moved
        # is one of its own; in seconds, so two in the same minute still count up (2**31, the
        # largest SEQUENCE some calendar apps read, is in 2068).
        sequence=int((modified - EPOCH).total_seconds()),
        modified=modified,
    )


def _comment(label, text):
    return (f"{label}: {text}",) if text else ()


def etag(user, today, feed_items, base_url):
    """The feed's version: a hash of everything it shows, so an unchanged feed is answered 304
    without being written out again."""
    parts = [PRODID, user.name, user.timezone, today.isoformat(), base_url, *map(repr, feed_items)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def calendar(user, today, feed_items, url, host):
    """The feed as bytes: `url(endpoint, **values)` builds each event's absolute link."""
    zone = ZoneInfo(user.timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"tpweb: {user.name}")
    cal.add("x-wr-timezone", user.timezone)
    # Apple Calendar and Outlook read these; Google refreshes on its own schedule anyway.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    # Always the user's zone, for the timed events and so that a feed with nothing due still
    # holds a component (RFC 5545: a VCALENDAR has at least one); its rules for the years
    # around the feed's dates (all within WINDOW_DAYS of today).
    first, last = date(today.year - 1, 1, 1), date(today.year + 2, 1, 1)
    cal.add_component(Timezone.from_tzinfo(zone, user.timezone, first, last))
    for item in feed_items:
        cal.add_component(_event(item, zone, url, host))
    return cal.to_ical()


def _event(item, zone, url, host):
    link = url(item.link[0], **item.link[1])
    event = Event()
    event.add("uid", f"{item.key}@{host}")
    # No METHOD: DTSTAMP is then when the item was last revised (RFC 5545, 3.8.7.2), so that
    # polls of an unchanged item give the same bytes.
    event.add("dtstamp", item.modified)
    event.add("last-modified", item.modified)
    event.add("sequence", item.sequence)
    if item.start is None:
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))  # exclusive: the next day
        event.add("transp", "TRANSPARENT")
    else:
        # An arrival is a wall-clock time: aware arithmetic in Python keeps to the wall clock,
        # and the zone's offset is the one in force at that time (so across a DST change too).
        start = datetime.combine(item.day, time(), tzinfo=zone) + timedelta(seconds=item.start)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=item.minutes))
    event.add("summary", item.summary)
    event.add("description", "\n".join([*item.lines, f"Open in tpweb: {link}"]))
    if item.location:
        event.add("location", item.location)
    event.add("url", link)
    return event
