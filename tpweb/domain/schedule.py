"""The touchpoint schedule's rules: next call, due states, a user's today. No Flask here."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

OVERDUE = "overdue"
DUE_TODAY = "due-today"
UPCOMING = "upcoming"
DUE_STATES = (OVERDUE, DUE_TODAY, UPCOMING)
DUE_LABELS = {OVERDUE: "Overdue", DUE_TODAY: "Due today", UPCOMING: "Upcoming"}


def next_call(last_call: date, frequency_days: int) -> date:
    """The date a touchpoint falls due: its last call plus its frequency."""
    return last_call + timedelta(days=frequency_days)


def due_state(next_call_on: date, today: date) -> str:
    """Overdue, due today or upcoming, as seen on `today`."""
    if next_call_on < today:
        return OVERDUE
    if next_call_on == today:
        return DUE_TODAY
    return UPCOMING


def due_label(day: date, today: date) -> str:
    """A due date's badge text, as seen on `today`: "Overdue 3 days", "Due today", "Upcoming ·
    in 1 day"."""
    days = (day - today).days
    label = DUE_LABELS[due_state(day, today)]
    if days < 0:
        return f"{label} {-days} day{'s' if days < -1 else ''}"
    if days == 0:
        return label
    return f"{label} · in {days} day{'s' if days > 1 else ''}"


def today_in(zone: str, now: datetime | None = None) -> date:
    """The calendar date in the IANA time zone `zone` at the instant `now` (default: now)."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(ZoneInfo(zone)).date()


def after_call(last_call: date, next_call_on: date, frequency_days: int, called_on: date):
    """(last call, next call) once a call on `called_on` is logged.

    An older call logged late never moves the schedule backwards.
    """
    if called_on < last_call:
        return last_call, next_call_on
    return called_on, next_call(called_on, frequency_days)
