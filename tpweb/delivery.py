"""The reminder sweep: plan the ledger, claim each row by compare-and-set, send, mark it sent.

Exactly once per (user, item, due date) with the state in the database: planning inserts rows
that a unique key keeps single, a claim is an UPDATE ... WHERE status = 'pending' that only one
sender can win, and a claim whose sender died is given back after a lease. The one window left:
a sender that dies after the mail server took a message and before its row is marked sent; that
message goes again once the lease is over (with the same Message-ID). No Flask here: the sweep
takes a session and a mailer (tpweb.mail in the app, anything with compose and send in tests).
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .models import ReminderDelivery, User
from .reminders import (
    CHUNK,
    DAY,
    days_to_sweep,
    due_items,
    latest_due_day,
    load_reminders,
    reminder_users,
)
from .schedule import today_in

log = logging.getLogger(__name__)

Row = ReminderDelivery
ITEM_COLUMNS = (Row.id, Row.user_id, Row.item_kind, Row.item_id, Row.due_date)
KEY = ["user_id", "item_kind", "item_id", "due_date"]


@dataclass(frozen=True)
class SweepSettings:
    catchup_days: int = 7
    lease: timedelta = timedelta(minutes=15)
    max_attempts: int = 5


@dataclass(frozen=True)
class Recipient:
    """What the sweep needs of a user, read once, so commits never reload it."""

    id: int
    email: str
    name: str
    timezone: str
    hour: int
    digest: bool


@dataclass(frozen=True)
class Sent:
    email: str
    subject: str
    items: int


@dataclass
class Report:
    planned: int = 0
    sent: list[Sent] = field(default_factory=list)
    skipped: int = 0
    failed: int = 0

    @property
    def items_sent(self):
        return sum(s.items for s in self.sent)


def sweep(session, mailer, now=None, settings=None, day=None, dry_run=False, progress=None):
    """Plan what is due for every user with an email address, then send what is pending.

    `now` is the sweep's clock (default: now); `day` sweeps that local date for everyone whose
    local today has reached it, send hour or not (a manual run); `dry_run` sends and keeps
    nothing. `progress(n, total)` is told of every n of the total rows handled. Returns a Report.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    settings = settings or SweepSettings()
    recipients = [_recipient(user) for user in reminder_users(session)]
    report = Report(planned=plan(session, recipients, now, settings, day))
    if dry_run:
        _preview(session, mailer, recipients, now, report)
        session.rollback()
        return report
    session.commit()
    release_stale(session, now, settings)
    deliver(session, mailer, now, settings, report, progress or (lambda n, total: None))
    return report


def plan(session, recipients, now, settings, day=None):
    """Insert the ledger rows for each recipient's dates not yet swept; returns how many items.

    Idempotent: two sweeps planning the same date insert each row once (ON CONFLICT DO NOTHING).
    """
    latest = {}
    for user in recipients:
        try:
            latest[user.id] = day or latest_due_day(user.timezone, user.hour, now)
            if day and day > today_in(user.timezone, now):
                del latest[user.id]  # not that date yet where this user is
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("user %s has an unknown time zone %r; no reminders", user.id, user.timezone)
    if not latest:
        return 0
    since = min(latest.values()) - timedelta(days=settings.catchup_days)
    swept, first = _swept(session, list(latest), since)
    wanted = {}
    for user_id, target in latest.items():
        if day:
            wanted[user_id] = [] if day in swept[user_id] else [day]
        else:
            wanted[user_id] = days_to_sweep(
                target, swept[user_id], first.get(user_id), settings.catchup_days
            )
    items = due_items(session, {u: days for u, days in wanted.items() if days})
    rows = [{"user_id": i.user_id, "item_kind": i.kind, "item_id": i.item_id,
             "due_date": i.due_date, "status": "pending"} for i in items]  # fmt: skip
    rows += [{"user_id": u, "item_kind": DAY, "item_id": 0, "due_date": d, "status": "swept"}
             for u, days in wanted.items() for d in days]  # fmt: skip
    _insert_new(session, rows)
    return len(items)


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
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, rows[start : start + CHUNK])


def release_stale(session, now, settings):
    """Give back claims older than the lease (their sender died); give up after max_attempts."""
    expired = Row.status == "sending", Row.claimed_at < _naive(now - settings.lease)
    session.execute(
        update(Row)
        .where(*expired, Row.attempts >= settings.max_attempts)
        .values(status="failed", claim_token=None)
    )
    session.execute(update(Row).where(*expired).values(status="pending", claim_token=None))
    session.commit()


def deliver(session, mailer, now, settings, report, progress):
    """Send every pending row, per user: one email per item, or one digest."""
    pending = Row.status == "pending"
    total = session.scalar(select(func.count(Row.id)).where(pending))
    user_ids = session.scalars(
        select(Row.user_id).where(pending).distinct().order_by(Row.user_id)
    ).all()
    for chunk in _chunks(user_ids):
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(chunk)))}
        recipients = [_recipient(users[user_id]) for user_id in chunk]
        session.commit()  # end the read; each claim below is its own short transaction
        for user in recipients:
            _deliver_to(session, mailer, user, now, settings, report, lambda n: progress(n, total))


def _recipient(user):
    email = (user.email if user.active else None) or ""
    return Recipient(
        user.id, email, user.name, user.timezone, user.reminder_hour, user.reminder_digest
    )


def _deliver_to(session, mailer, user, now, settings, report, progress):
    rows = session.execute(
        select(*ITEM_COLUMNS)
        .where(Row.user_id == user.id, Row.status == "pending")
        .order_by(Row.due_date, Row.id)
    ).all()
    today = today_in(user.timezone, now)
    reminders = load_reminders(session, rows, today) if user.email else {}
    gone = [row.id for row in rows if row.id not in reminders]
    if gone:
        # Answered, moved, reassigned, or the user has no address now: nothing to send, ever.
        _finish(session, gone, None, status="skipped")
        report.skipped += len(gone)
        progress(len(gone))
    live = [row for row in rows if row.id in reminders]
    batches = [live] if user.digest and live else [[row] for row in live]
    for batch in batches:
        token = uuid.uuid4().hex
        claimed = _claim(session, [row.id for row in batch], token, now, settings)
        if claimed:
            items = [reminders[row_id] for row_id in claimed]
            _send(session, mailer, user, claimed, items, token, now, today, report)
        progress(len(batch))


def _claim(session, ids, token, now, settings):
    """Compare-and-set: the ids of `ids` that this sender now holds; none if another got there."""
    result = session.execute(
        update(Row)
        .where(Row.id.in_(ids), Row.status == "pending", Row.attempts < settings.max_attempts)
        .values(
            status="sending", claim_token=token, claimed_at=_naive(now), attempts=Row.attempts + 1
        )
    )
    session.commit()
    if result.rowcount == len(ids):
        return ids
    if result.rowcount == 0:
        return []
    # A digest that lost some rows to another sender sends only the rows it won.
    held = select(Row.id).where(Row.id.in_(ids), Row.claim_token == token).order_by(Row.id)
    return session.scalars(held).all()


def _send(session, mailer, user, ids, items, token, now, today, report):
    try:
        message = mailer.compose(user, items, today, message_key(ids))
        mailer.send(message)
    except Exception as error:
        # Whatever went wrong (the mail server, a bad row), the rest of the batch goes on; the
        # claim is given back and a later sweep tries again, up to max_attempts.
        log.exception("reminder to user %s failed", user.id)
        _finish(session, ids, token, status="pending", last_error=repr(error)[:300])
        report.failed += len(ids)
        return
    _finish(session, ids, token, status="sent", sent_at=_naive(now), overdue=Row.due_date < today)
    report.sent.append(Sent(user.email, message.subject, len(ids)))


def _finish(session, ids, token, **values):
    """Move rows on from pending (token None) or from this sender's claim; one commit."""
    held = Row.status == "pending" if token is None else Row.claim_token == token
    if values.get("status") != "sending":
        values.setdefault("claim_token", None)
    for chunk in _chunks(ids):
        session.execute(update(Row).where(Row.id.in_(chunk), held).values(**values))
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
            .where(Row.user_id == user.id, Row.status == "pending")
            .order_by(Row.due_date, Row.id)
        ).all()
        today = today_in(user.timezone, now)
        reminders = load_reminders(session, rows, today)
        ids = [row.id for row in rows if row.id in reminders]
        batches = [ids] if user.digest and ids else [[row_id] for row_id in ids]
        for batch in batches:
            items = [reminders[row_id] for row_id in batch]
            message = mailer.compose(user, items, today, message_key(batch))
            report.sent.append(Sent(user.email, message.subject, len(batch)))


def _chunks(values):
    values = list(values)
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _naive(moment: datetime) -> datetime:
    # The schema keeps UTC without a zone, as models.utcnow does.
    return moment.astimezone(UTC).replace(tzinfo=None)
