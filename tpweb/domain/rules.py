"""The rules a saved value keeps, whichever way it arrives: the forms, the CSV import and the
command line all check these, so a value one of them saves is one every other accepts (an export
always imports back). No Flask here.
"""

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from tpweb.models import Account, User

# Real dates only: far-off years are typing mistakes, and date arithmetic must not overflow.
EARLIEST = date(1990, 1, 1)
LATEST = date(2199, 12, 31)
# Whole numbers: (lowest, highest); the database's CHECK constraints say the same.
FREQUENCY_DAYS = (1, 3650)
DURATION_MINUTES = (0, 1440)
# A planned visit (Plan my day, Settings): 1 minute to a working day of 8 hours.
MAX_VISIT_MINUTES = 8 * 60
LATITUDE = (-90, 90)
LONGITUDE = (-180, 180)
# The longest text of each field: within its database column, and the forms' for long text.
LENGTHS = {
    "external_id": 64,
    "name": 200,
    "title": 120,
    "address": 300,
    "city": 120,
    "phone": 40,
    "email": 254,
    "notes": 5000,
    "comment": 2000,
    "description": 200,
    "details": 5000,
    "response_note": 5000,
    "call_type": 60,
    "username": 80,
    "user_name": 120,
    "password": 200,
}
PASSWORD_MIN = 10
PHONE = re.compile(r"[0-9+().\- x/]*")
# Enough to catch a typo.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")

# Who may be an account's sales rep: an active user with the sales rep role (not a manager or
# an admin, not deactivated).
SALES_REP_ROLE = "rep"
SALES_REP = User.active & (User.role == SALES_REP_ROLE)
# Who may be a task's assignee: an active user.
TASK_ASSIGNEE = User.active


def date_problem(day: date) -> str | None:
    """Why `day` cannot be saved, or None."""
    if not EARLIEST <= day <= LATEST:
        return f"Enter a date between {EARLIEST:%Y} and {LATEST:%Y}."
    return None


def latest_today(now: datetime | None = None) -> date:
    """The latest date it is anywhere at `now` (UTC+14): the forms refuse a call or a response
    dated after the user's today, and the import, knowing no user's zone, after this."""
    return ((now or datetime.now(UTC)) + timedelta(hours=14)).date()


def next_call_problem(last_call: date, frequency_days: int) -> str | None:
    """Why Last Call + Frequency cannot be a touchpoint's Next Call, or None: it must be a date
    that can be saved (and so exported and imported back)."""
    due = last_call + timedelta(days=frequency_days)
    if due > LATEST:
        return (
            f"Last Call + {frequency_days} days is {due.isoformat()}, after "
            f"{LATEST.isoformat()}: choose an earlier Last Call or fewer days."
        )
    return None


def is_sales_rep(user: User | None) -> bool:
    """Whether `user` may be an account's sales rep: SALES_REP, for a loaded user."""
    return user is not None and user.active and user.role == SALES_REP_ROLE


def not_a_sales_rep(user: User) -> str:
    """What makes `user` no sales rep, as "deactivated" or "a manager"."""
    if not user.active:
        return "deactivated"
    return f"{'an' if user.role[0] in 'aeiou' else 'a'} {user.role}"


def is_task_assignee(user: User | None) -> bool:
    """Whether `user` may be assigned a task: TASK_ASSIGNEE, for a loaded user."""
    return user is not None and user.active


def accounts_held(session, user_id: int) -> int:
    """How many accounts (active or not) have `user_id` as their sales rep."""
    return session.scalar(select(func.count(Account.id)).where(Account.sales_rep_id == user_id))


def role_change_problem(session, user: User, role: str) -> str | None:
    """Why `user` cannot take `role`, or None: whoever holds accounts stays a sales rep."""
    if role in (SALES_REP_ROLE, user.role):
        return None
    held = accounts_held(session, user.id)
    if held:
        return (
            f"{user.name} is the sales rep of {held} account(s): move them to another rep "
            "first, or they would have no valid sales rep."
        )
    return None
