"""The reminder sweep: plan the ledger, claim each row by compare-and-set, send, mark it sent.

Exactly once per (user, item, due date, channel) with the state in the database: planning
inserts rows that a unique key keeps single, a claim is an UPDATE ... WHERE status = 'pending'
that only one sender can win, and a claim whose sender died is given back after a lease. The one
window left: a sender that dies after the mail server (or push service) took a message and before
its row is marked sent; that message goes again once the lease is over (with the same Message-ID,
or the same notification tag, which replaces the first on the phone); each row is marked and
committed before the next message goes, so that is one message at most per dead sender. A big
sweep can be sent in shares by several senders at once (prepare, then send_share in each). No
Flask here: the sweep takes a session, a mailer and a pusher (tpweb.jobs.mail and tpweb.jobs.push
in the app, anything with compose and send in tests). An item goes by email to a user with an
address and by push to one with a device that turned notifications on: a row for each channel,
each claimed, sent and marked on its own, with the same leases and attempts.
"""

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import and_, bindparam, case, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tpweb.domain.reminders import (
    CHUNK,
    DAY,
    days_to_sweep,
    due_items,
    latest_due_day,
    load_reminders,
)
from tpweb.domain.schedule import today_in
from tpweb.jobs.counters import count
from tpweb.models import PushSubscription, ReminderDelivery, User

log = logging.getLogger(__name__)

Row = ReminderDelivery
ITEM_COLUMNS = (Row.id, Row.user_id, Row.item_kind, Row.item_id, Row.due_date, Row.channel)
KEY = ["user_id", "item_kind", "item_id", "due_date", "channel"]
EMAIL, PUSH = "email", "push"
# Who gets reminder emails: an active user with an address who has not turned them off.
EMAILED = User.active & User.email_reminders
WITH_EMAIL = EMAILED & User.email.is_not(None) & (User.email != "")
WITH_DEVICE = and_(User.active, exists().where(PushSubscription.user_id == User.id))
TABLE = Row.__table__
# Marking rows sent, once per message: a Core statement built once, so a sweep of thousands
# does not build and compile an ORM UPDATE per message (docs/benchmarks.md, B3).
MARK_SENT = (
    update(TABLE)
    .where(TABLE.c.claim_token == bindparam("token"))
    .values(
        status="sent",
        claim_token=None,
        sent_at=bindparam("when"),
        overdue=TABLE.c.due_date < bindparam("today"),
    )
)
MARK_ONE_SENT = MARK_SENT.where(TABLE.c.id == bindparam("row_id"))


@dataclass(frozen=True)
class SweepSettings:
    catchup_days: int = 7
    lease: timedelta = timedelta(minutes=15)
    max_attempts: int = 5


class Unreachable(Exception):  # noqa: N818 (a state, not an error: nothing is tried again)
    """Raised by a sender whose recipient cannot be reached that way any more (every device of
    theirs gone): the rows are skipped, not tried again."""


@dataclass(frozen=True)
class Recipient:
    """What the sweep needs of a user, read once, so commits never reload it."""

    id: int
    email: str
    name: str
    timezone: str
    hour: int
    digest: bool
    push: bool = False  # active, with a device that turned notifications on

    @property
    def channels(self):
        return [EMAIL] * bool(self.email) + [PUSH] * bool(self.push)


@dataclass(frozen=True)
class Sent:
    to: str  # the email address, or the name of the user whose devices got the push
    subject: str
    items: int
    channel: str = EMAIL


# A Report lists this many messages (the CLI prints them); beyond, it counts them only: a
# sweep of 100,000 items kept 200,000 otherwise (docs/benchmarks.md, B7).
LISTED = 1000
# Planning inserts the ledger rows of this many users at a time, so that a big sweep never holds
# all of them (each a dict) at once (docs/benchmarks.md, B7).
PLAN_USERS = 50


@dataclass
class Report:
    planned: int = 0
    sent: list[Sent] = field(default_factory=list)  # the first LISTED messages
    skipped: int = 0
    failed: int = 0
    messages: dict = field(default_factory=lambda: {EMAIL: 0, PUSH: 0})  # by channel
    items_sent: int = 0

    def add(self, sent):
        self.messages[sent.channel] += 1
        self.items_sent += sent.items
        if len(self.sent) < LISTED:
            self.sent.append(sent)

    def merge(self, other):
        """Add `other` (another share's Report) to this one."""
        for name, n in other.messages.items():
            self.messages[name] += n
        self.items_sent += other.items_sent
        self.sent += other.sent[: max(0, LISTED - len(self.sent))]
        self.skipped += other.skipped
        self.failed += other.failed


def sweep(
    session, mailer, now=None, settings=None, day=None, dry_run=False, progress=None, pusher=None
):
    """Plan what is due for every user with an email address or a device, then send what is
    pending (the push rows only with a `pusher`; without one they are skipped).

    `now` is the sweep's clock (default: now); `day` sweeps that local date for everyone whose
    local today has reached it, send hour or not (a manual run); `dry_run` sends and keeps
    nothing. `progress(n, total)` is told of every n of the total rows handled. Returns a Report.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    settings = settings or SweepSettings()
    if dry_run:
        recipients = _recipients(session, WITH_EMAIL)
        report = Report(planned=plan(session, recipients, now, settings, day))
        _preview(session, mailer, recipients, now, report)
        session.rollback()
        return report
    report = prepare(session, now, settings, day)
    return send_share(
        session, mailer, now, settings, progress=progress, report=report, pusher=pusher
    )


def prepare(session, now, settings, day=None):
    """A sweep's first half, committed: plan the ledger and give back stale claims. Then one
    send_share, or several at once (each in a process or job of its own), send what is pending.
    """
    reachable = _recipients(session, WITH_EMAIL | WITH_DEVICE)
    report = Report(planned=plan(session, reachable, now, settings, day))
    session.commit()
    release_stale(session, now, settings)
    return report


def send_share(
    session, mailer, now, settings, share=(0, 1), progress=None, report=None, pusher=None
):
    """Send the pending rows of share `k` of `n` (the users whose id is k modulo n); returns the
    Report. Shares sent at once by several senders never send an item twice: each row is
    claimed before it is sent. A row of a share whose sender failed waits for the next sweep.
    """
    started = time.monotonic()

    def clock():
        # The sweep's own time: `now`, moving on as the sweep does, so claims it holds while
        # sending a long batch stay fresh however `now` was given.
        return now + timedelta(seconds=time.monotonic() - started)

    report = report or Report()
    senders = {EMAIL: mailer, PUSH: pusher}
    deliver(session, senders, clock, settings, report, progress or (lambda n, total: None), share)
    return report


def plan(session, recipients, now, settings, day=None):
    """Insert the ledger rows for each recipient's dates not yet swept; returns how many items.

    Idempotent: two sweeps planning the same date insert each row once (ON CONFLICT DO NOTHING).
    A manual `day` plans that date's items alone: it leaves no mark of a swept night, so the
    hourly schedule and its catch-up go on as if it had not run (its items are sent once anyway).
    """
    if day is not None:
        wanted = {user.id: [day] for user in recipients if _reached(user, day, now)}
        days = {}
    else:
        wanted = _nights(session, recipients, now, settings)
        days = wanted
    channels = {user.id: user.channels for user in recipients}
    users = sorted(user_id for user_id, dates in wanted.items() if dates)
    planned = 0
    # In users' order, a few at a time, each part sorted: one order of rows for every sweep.
    for start in range(0, len(users), PLAN_USERS):
        items = due_items(session, {u: wanted[u] for u in users[start : start + PLAN_USERS]})
        rows = [{"user_id": i.user_id, "item_kind": i.kind, "item_id": i.item_id,
                 "due_date": i.due_date, "channel": channel, "status": "pending"}
                for i in items for channel in channels[i.user_id]]  # fmt: skip
        _insert_new(session, rows)
        planned += len(items)
    rows = [{"user_id": u, "item_kind": DAY, "item_id": 0, "due_date": d, "channel": EMAIL,
             "status": "swept"} for u, dates in days.items() for d in dates]  # fmt: skip
    _insert_new(session, rows)
    return planned


def _reached(user, day, now):
    try:
        return day <= today_in(user.timezone, now)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("user %s has an unknown time zone %r; no reminders", user.id, user.timezone)
        return False


def _nights(session, recipients, now, settings):
    """Per user, the local dates whose send hour has come and that no sweep has planned yet."""
    latest = {}
    for user in recipients:
        try:
            latest[user.id] = latest_due_day(user.timezone, user.hour, now)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("user %s has an unknown time zone %r; no reminders", user.id, user.timezone)
    if not latest:
        return {}
    since = min(latest.values()) - timedelta(days=settings.catchup_days)
    swept, first = _swept(session, list(latest), since)
    return {
        user_id: days_to_sweep(target, swept[user_id], first.get(user_id), settings.catchup_days)
        for user_id, target in latest.items()
    }


def _swept(session, user_ids, since):
    """Per user: the dates swept since `since`, and the first date ever swept."""
    swept = {user_id: set() for user_id in user_ids}
    first = {}
    for chunk in _chunks(user_ids):
        recent = select(Row.user_id, Row.due_date).where(
            Row.item_kind == DAY, Row.user_id.in_(chunk), Row.due_date >= since
        )
        for user_id, day in session.execute(recent):
            swept[user_id].add(day)
        earliest = (
            select(Row.user_id, func.min(Row.due_date))
            .where(Row.item_kind == DAY, Row.user_id.in_(chunk))
            .group_by(Row.user_id)
        )
        first.update((user_id, day) for user_id, day in session.execute(earliest))
    return swept, first


def _insert_new(session, rows):
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[
        session.get_bind().dialect.name
    ]
    statement = insert(Row.__table__).on_conflict_do_nothing(index_elements=KEY)
    # One order for every sweep, so two inserting the same rows wait for each other, never deadlock.
    rows.sort(key=lambda row: [row[column] for column in KEY])
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, rows[start : start + CHUNK])


def release_stale(session, now, settings):
    """Give back claims older than the lease (their sender died); give up after max_attempts."""
    expired = (Row.status == "sending") & (Row.claimed_at < _naive(now - settings.lease))
    given_up = (expired | (Row.status == "pending")) & (Row.attempts >= settings.max_attempts)
    gone = session.execute(update(Row).where(given_up).values(status="failed", claim_token=None))
    back = session.execute(update(Row).where(expired).values(status="pending", claim_token=None))
    session.commit()
    # Rows of either channel: counted under "any".
    count("given_up", gone.rowcount, "any")
    count("retried", back.rowcount, "any")


def deliver(session, senders, clock, settings, report, progress, share=(0, 1)):
    """Send every pending row of the share, per user: one email and one push per item, or one
    digest of each. `senders` holds the sender of each channel (None: that channel's rows are
    skipped)."""
    pending = Row.status == "pending"
    if share[1] > 1:
        pending &= Row.user_id % share[1] == share[0]
    total = session.scalar(select(func.count(Row.id)).where(pending))
    user_ids = session.scalars(
        select(Row.user_id).where(pending).distinct().order_by(Row.user_id)
    ).all()
    # Each "sent" mark is a short transaction of its own on a connection kept for the sweep,
    # not a session transaction that checks a connection out of the pool per message.
    with session.get_bind().connect() as marks:
        for chunk in _chunks(user_ids):
            recipients = _recipients(session, User.id.in_(chunk))
            session.commit()  # end the read; each claim below is its own short transaction
            for user in recipients:
                try:
                    _deliver_to(session, marks, senders, user, clock, settings, report, progress,
                                total)  # fmt: skip
                except (ZoneInfoNotFoundError, ValueError):
                    # One user's broken time zone must not hold up everyone else's reminders.
                    log.warning("user %s has an unknown time zone %r", user.id, user.timezone)


def _recipients(session, condition):
    """Users as plain values, by id; one who is inactive, lost their address or turned reminder
    emails off has email "" (their pending rows are then skipped); one who is inactive or has no
    device left has push False."""
    query = select(
        User.id,
        case((EMAILED, func.coalesce(User.email, "")), else_=""),
        User.name,
        User.timezone,
        User.reminder_hour,
        User.reminder_digest,
        WITH_DEVICE,
    )
    return [Recipient(*row) for row in session.execute(query.where(condition).order_by(User.id))]


def _deliver_to(session, marks, senders, user, clock, settings, report, progress, total):
    today = today_in(user.timezone, clock())
    rows = session.execute(
        select(*ITEM_COLUMNS)
        .where(Row.user_id == user.id, Row.status == "pending")
        .order_by(Row.due_date, Row.id)
    ).all()
    senders = {c: senders.get(c) for c in (EMAIL, PUSH) if c in user.channels}
    reminders = load_reminders(session, rows, today) if any(senders.values()) else {}
    channel = {row.id: row.channel for row in rows}
    gone = [row.id for row in rows if row.id not in reminders or not senders.get(row.channel)]
    if gone:
        # Answered, moved, reassigned, or the user has no address or device now (or this sweep
        # pushes nothing: no VAPID keys): nothing to send, ever.
        _update(session, gone, Row.status == "pending", status="skipped")
        report.skipped += len(gone)
        for name in (EMAIL, PUSH):
            count("skipped", sum(channel[row_id] == name for row_id in gone), name)
        progress(len(gone), total)
    token = uuid.uuid4().hex
    live = [row.id for row in rows if row.id in reminders and senders.get(row.channel)]
    renewed = clock()
    held = _claim(session, live, token, renewed, settings)
    batches = []
    for name, sender in senders.items():
        ids = [row_id for row_id in held if channel[row_id] == name]
        batches += (
            [(name, sender, ids)] if user.digest and ids else [(name, sender, [i]) for i in ids]
        )
    for name, sender, batch in batches:
        if clock() - renewed >= settings.lease / 4:
            # A sender at work keeps its claims: the rows it still holds get a fresh lease, once
            # a quarter of a lease has gone by, not after every message (docs/benchmarks.md, B3).
            renewed = clock()
            _renew(session, token, renewed)
        items = [reminders[row_id] for row_id in batch]
        _send(session, marks, (name, sender), user, batch, items, token, clock, today, report)
        progress(len(batch), total)


def _claim(session, ids, token, now, settings):
    """Compare-and-set, row by row: the ids of `ids` this sender now holds, in one commit.

    A row another sender claimed first matches no row here (rowcount 0) and is left to it. Rows
    held but not yet sent when this sender dies are sent by a later sweep, after the lease.
    """
    claim = (
        update(Row)
        .where(Row.status == "pending", Row.attempts < settings.max_attempts)
        .values(
            status="sending", claim_token=token, claimed_at=_naive(now), attempts=Row.attempts + 1
        )
        .returning(Row.id)
    )
    # One UPDATE per chunk, not per row: each row is still set only if it is still pending, and
    # RETURNING names those this sender won (docs/benchmarks.md, B3).
    won = set()
    for chunk in _chunks(ids):
        won.update(session.scalars(claim.where(Row.id.in_(chunk))).all())
    session.commit()
    return [row_id for row_id in ids if row_id in won]


def _renew(session, token, now):
    held = (Row.claim_token == token) & (Row.status == "sending")
    session.execute(update(Row).where(held).values(claimed_at=_naive(now)))
    session.commit()


def _send(session, marks, channel, user, ids, items, token, clock, today, report):
    name, sender = channel
    try:
        message = sender.compose(user, items, today, message_key(ids))
        sender.send(message)
    except Unreachable:
        _update(session, ids, Row.claim_token == token, claim_token=None, status="skipped")
        report.skipped += len(ids)
        count("skipped", len(ids), name)
        return
    except Exception as error:
        # Whatever went wrong (the mail server, a bad row), the rest of the batch goes on; the
        # claim is given back and a later sweep tries again, up to max_attempts.
        log.exception("%sreminder to user %s failed", "push " * (name == PUSH), user.id)
        values = {"status": "pending", "last_error": repr(error)[:300]}
        report.failed += len(ids)
        count("failed", len(ids), name)
        _update(session, ids, Row.claim_token == token, claim_token=None, **values)
        return
    to = user.email if name == EMAIL else user.name
    report.add(Sent(to, message.subject, len(ids), name))
    count("sent", len(ids), name)
    # Marked sent, and committed, before the next message goes: a sender that dies now sends
    # at most this one message twice (the module's docstring).
    sent = {"token": token, "when": _naive(clock()), "today": today}
    if len(ids) == 1:
        marks.execute(MARK_ONE_SENT, {**sent, "row_id": ids[0]})
    else:
        for chunk in _chunks(ids):
            marks.execute(MARK_SENT.where(TABLE.c.id.in_(chunk)), sent)
    marks.commit()


def _update(session, ids, condition, **values):
    for chunk in _chunks(ids):
        session.execute(update(Row).where(Row.id.in_(chunk), condition).values(**values))
    session.commit()


def message_key(ids):
    """The same rows give the same Message-ID, so a resent message can be recognised."""
    if len(ids) == 1:
        return f"reminder-{ids[0]}"
    digest = hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:20]
    return f"digest-{digest}"


def _preview(session, mailer, recipients, now, report):
    """A dry run's report: the emails each user would get from the pending rows, unsent."""
    for user in recipients:
        rows = session.execute(
            select(*ITEM_COLUMNS)
            .where(Row.user_id == user.id, Row.status == "pending", Row.channel == EMAIL)
            .order_by(Row.due_date, Row.id)
        ).all()
        today = today_in(user.timezone, now)
        reminders = load_reminders(session, rows, today)
        ids = [row.id for row in rows if row.id in reminders]
        batches = [ids] if user.digest and ids else [[row_id] for row_id in ids]
        for batch in batches:
            items = [reminders[row_id] for row_id in batch]
            message = mailer.compose(user, items, today, message_key(batch))
            report.add(Sent(user.email, message.subject, len(batch)))


def _chunks(values):
    values = list(values)
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _naive(moment: datetime) -> datetime:
    # The schema keeps UTC without a zone, as models.utcnow does.
    return moment.astimezone(UTC).replace(tzinfo=None)
