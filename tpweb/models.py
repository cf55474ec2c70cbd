"""The data model: users, accounts, contacts, touchpoints and their history. Nothing is deleted."""

from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    text,
    true,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tpweb.extensions import db

ROLES = ("rep", "manager", "admin")
ACCOUNT_KINDS = ("customer", "jobsite")


def utcnow():
    return datetime.now(UTC).replace(tzinfo=None)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('rep', 'manager', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(10), default="rep")
    timezone: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # A rep's manager: who a rep may assign a task to besides themselves.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Overnight reminders: the local hour to send, and one digest instead of one email per item.
    reminder_hour: Mapped[int] = mapped_column(default=6)
    reminder_digest: Mapped[bool] = mapped_column(default=False)
    # Reminder channels: email at the send hour (an address is needed too), and a private
    # calendar feed whose URL's secret is kept only as its SHA-256 (tpweb/domain/calendar_feed).
    email_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())
    calendar_feed: Mapped[bool] = mapped_column(default=False, server_default=false())
    calendar_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Plan my day's defaults: where the day starts without the phone's position, the working
    # hours (minutes after local midnight), and how long a visit takes at an account never
    # called yet (by call type: VisitLength).
    home_latitude: Mapped[float | None]
    home_longitude: Mapped[float | None]
    day_starts: Mapped[int] = mapped_column(default=8 * 60, server_default="480")
    day_ends: Mapped[int] = mapped_column(default=17 * 60, server_default="1020")
    visit_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    # Bumped to end every session of this user (sign-out everywhere, deactivation).
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    manager: Mapped["User | None"] = relationship(remote_side=[id])

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        return self.active

    @property
    def is_manager(self):
        return self.role in ("manager", "admin")


class Account(db.Model):
    """A customer, or a jobsite of a customer: anything a sales rep keeps a cadence with."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('customer', 'jobsite')", name="kind"),
        CheckConstraint(
            "(kind = 'jobsite') = (customer_id IS NOT NULL)", name="jobsite_has_customer"
        ),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
        UniqueConstraint("kind", "external_id", name="uq_accounts_kind_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    sales_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped["Account | None"] = relationship(remote_side=[id], back_populates="jobsites")
    jobsites: Mapped[list["Account"]] = relationship(
        back_populates="customer", order_by="Account.name"
    )
    sales_rep: Mapped[User | None] = relationship()
    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="customer", order_by="Contact.name"
    )

    @property
    def is_jobsite(self):
        return self.kind == "jobsite"


class Contact(db.Model):
    """A person at a customer."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("external_id", name="uq_contacts_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Account] = relationship(back_populates="contacts")


class Touchpoint(db.Model):
    """The recurring appointment between an account's sales rep and that account."""

    __tablename__ = "touchpoints"
    __table_args__ = (
        CheckConstraint("frequency_days BETWEEN 1 AND 3650", name="frequency_days"),
        CheckConstraint("next_call >= last_call", name="next_after_last"),
        # At most one active touchpoint per account, whatever the application does.
        Index(
            "uq_touchpoints_active_account",
            "account_id",
            unique=True,
            sqlite_where=text("NOT inactive"),
            postgresql_where=text("NOT inactive"),
        ),
        Index("ix_touchpoints_next_call", "next_call"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed: every list goes from a rep's accounts to their touchpoints (the unique index above
    # is partial, and SQLite cannot use it for SQLAlchemy's "inactive = 0").
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    last_call: Mapped[date]
    frequency_days: Mapped[int]
    next_call: Mapped[date]
    comment: Mapped[str] = mapped_column(Text, default="")
    inactive: Mapped[bool] = mapped_column(default=False)
    # Optimistic concurrency: a change based on an older version is refused.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    account: Mapped[Account] = relationship()

    __mapper_args__ = {"version_id_col": version}


class CallLogType(db.Model):
    """An admin-defined kind of call: phone, visit, video..."""

    __tablename__ = "call_log_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class CallLog(db.Model):
    """The record of one completed touchpoint."""

    __tablename__ = "call_logs"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 0 AND 1440", name="duration_minutes"),
        Index("ix_call_logs_account_called_on", "account_id", "called_on"),
        # Team health's reading of a period's calls (domain/health.py), from the index alone,
        # in an order that groups them per day with no sort on SQLite (docs/benchmarks.md, B8).
        Index(
            "ix_call_logs_team_health",
            "called_on",
            "call_type_id",
            "completed_next_call",
            "user_id",
        ),
        UniqueConstraint("external_id", name="uq_call_logs_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # How an export names it, so that importing the file again finds it; None until exported.
    external_id: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoints.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    call_type_id: Mapped[int] = mapped_column(ForeignKey("call_log_types.id"))
    called_on: Mapped[date]
    duration_minutes: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The touchpoint's Next Call this call completed, kept as the call is logged, so that "on
    # time" (domain/health.py) never depends on reconstructing History; None when not known.
    completed_next_call: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship()
    user: Mapped[User] = relationship()
    contact: Mapped[Contact | None] = relationship()
    call_type: Mapped[CallLogType] = relationship()


class TouchpointRecord(db.Model):
    """An interaction recorded on a contact; one needing a response is a task until answered."""

    __tablename__ = "touchpoint_records"
    __table_args__ = (
        CheckConstraint(
            "NOT response_required OR date_due IS NOT NULL", name="response_has_date_due"
        ),
        Index("ix_touchpoint_records_open", "assigned_to_id", "date_due"),
        UniqueConstraint("external_id", name="uq_touchpoint_records_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # As a call log's: how an export names it.
    external_id: Mapped[str | None] = mapped_column(String(64))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_to_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    description: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    response_required: Mapped[bool] = mapped_column(default=False)
    date_due: Mapped[date | None]
    date_completed: Mapped[date]
    responded_on: Mapped[date | None]
    response_note: Mapped[str] = mapped_column(Text, default="")
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    assigned_to: Mapped[User] = relationship(foreign_keys=[assigned_to_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])

    @hybrid_property
    def is_open_task(self):
        """A record that needs a response and has none yet: a task, in My tasks until answered.
        The one definition of an open task, in Python and (as a condition) in SQL."""
        return self.response_required and self.responded_on is None

    @is_open_task.inplace.expression
    @classmethod
    def _is_open_task_condition(cls):
        return and_(cls.response_required, cls.responded_on.is_(None))


class Plan(db.Model):
    """A rep's plan of one day (Plan my day): where and when it starts, who made it and when.
    Made again, the same row is updated: one plan per rep and day."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("rep_id", "day", name="uq_plans_rep_day"),
        CheckConstraint("end_mode IN ('start', 'anywhere')", name="end_mode"),
        CheckConstraint("day_starts BETWEEN 0 AND 1440", name="day_starts"),
        CheckConstraint("day_ends BETWEEN 0 AND 1440", name="day_ends"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date]
    planned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)
    start_latitude: Mapped[float]
    start_longitude: Mapped[float]
    # "here" (the phone's position) or "home" (the home base in Settings).
    start_from: Mapped[str] = mapped_column(String(10), default="here")
    end_mode: Mapped[str] = mapped_column(String(10), default="start")
    day_starts: Mapped[int]
    day_ends: Mapped[int]
    # The plan form's one length for every visit; None: each stop's by its call type.
    visit_minutes: Mapped[int | None]
    # "estimate" (great circle) or "road" (the OSRM server's drive times).
    travel: Mapped[str] = mapped_column(String(10), default="estimate")
    # When the route as it stands ends, and the seconds of driving in it.
    ends_at: Mapped[int] = mapped_column(default=0)
    drive_seconds: Mapped[int] = mapped_column(default=0)

    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    planned_by: Mapped[User] = relationship(foreign_keys=[planned_by_id])
    stops: Mapped[list["PlanStop"]] = relationship(
        back_populates="plan",
        order_by="PlanStop.id",
        cascade="all, delete-orphan",
    )


class PlanStop(db.Model):
    """An account on a plan: in the route (a position and an arrival), or left out (why)."""

    __tablename__ = "plan_stops"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'done', 'skipped', 'left-out')", name="status"),
        Index("ix_plan_stops_plan", "plan_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoints.id"))
    # 1, 2, ... along the route; None when left out.
    position: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(10), default="planned")
    # Seconds after local midnight: when the rep arrives (None when left out).
    arrival: Mapped[int | None]
    value: Mapped[float] = mapped_column(default=0.0)
    # Why it is on the plan, one reason a line ("overdue 12 days", "open task: quote").
    why: Mapped[str] = mapped_column(Text, default="")
    # Why a stop left out is ("no time", "no location"); empty on the route.
    left_out_why: Mapped[str] = mapped_column(String(20), default="")
    # How long its visit takes (the rep's length for its call type, or the plan form's).
    visit_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    # When a re-plan last changed its arrival or position (None: as its plan was made, at
    # planned_at): the calendar feed's SEQUENCE and LAST-MODIFIED move with it.
    revised_at: Mapped[datetime | None]

    plan: Mapped[Plan] = relationship(back_populates="stops")
    account: Mapped[Account] = relationship()
    touchpoint: Mapped[Touchpoint | None] = relationship()


class VisitLength(db.Model):
    """How long a user's visit of one call type takes (Settings); without a row, the type's
    usual length (tpweb.domain.visit_lengths)."""

    __tablename__ = "visit_lengths"
    __table_args__ = (
        UniqueConstraint("user_id", "call_type_id", name="uq_visit_lengths_user_type"),
        CheckConstraint("minutes BETWEEN 1 AND 480", name="minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    call_type_id: Mapped[int] = mapped_column(ForeignKey("call_log_types.id"))
    minutes: Mapped[int]


class IdempotencyKey(db.Model):
    """A write's Idempotency-Key with the answer it got, stored in the write's own transaction."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    headers: Mapped[str] = mapped_column(Text, default="{}")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderDelivery(db.Model):
    """The reminder ledger: one row per (user, item, due date, channel), so each item is emailed
    once and pushed once.

    An item's row is pending until a sweep claims it by compare-and-set (sending), then sent,
    skipped (no longer due, or no address) or failed. A row of kind 'day' marks a user's local
    date as swept, so each night is planned once and a night the worker missed is caught up.
    """

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "item_kind",
            "item_id",
            "due_date",
            "channel",
            name="uq_reminder_deliveries_item",
        ),
        CheckConstraint("item_kind IN ('task', 'touchpoint', 'day')", name="item_kind"),
        CheckConstraint("channel IN ('email', 'push')", name="channel"),
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'skipped', 'failed', 'swept')", name="status"
        ),
        Index("ix_reminder_deliveries_status_claimed_at", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_kind: Mapped[str] = mapped_column(String(10))
    # A TouchpointRecord's or Touchpoint's id; 0 on a 'day' row, so the unique key holds there too.
    item_id: Mapped[int]
    due_date: Mapped[date]
    # How the item goes: "email", or "push" to every device the user turned notifications on
    # for. A 'day' row is "email": a night is planned once for every channel.
    channel: Mapped[str] = mapped_column(String(5), default="email", server_default="email")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    overdue: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    # Who holds a claim and since when: a claim older than the lease is a crashed sender's.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class PushSubscription(db.Model):
    """One device's Web Push subscription: where the push service takes messages for it, and the
    keys they are encrypted to (RFC 8291). A user may have several; an endpoint is one device's."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(800), unique=True)
    # The browser's P-256 public key (65 bytes) and auth secret (16), base64url as it gives them.
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    # "Chrome on Android": which device this is, in the list of the user's devices.
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class History(db.Model):
    """One change to an account, its touchpoint, a contact or a task: who, when, before, after.

    Rows are only ever added: the app never updates or deletes them.
    """

    __tablename__ = "history"
    __table_args__ = (
        CheckConstraint("subject IN ('account', 'touchpoint', 'contact', 'task')", name="subject"),
        Index("ix_history_account_at", "account_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # None when the change came from the command line or an import with no signed-in user.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    subject: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))
    # {"field": [before, after], ...} as JSON text.
    changes: Mapped[str] = mapped_column(Text, default="{}")
    # How the change was made when not on the app's pages: "reminder" (a one-tap action).
    via: Mapped[str] = mapped_column(String(20), default="", server_default="")

    user: Mapped[User | None] = relationship()


class ActionUse(db.Model):
    """A reminder's one-tap action done: its token's SHA-256, so that the token acts once and a
    second press is told what the first did."""

    __tablename__ = "action_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_kind: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(10))
    # The item's date after the action: Next Call or date due.
    moved_to: Mapped[date]
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
