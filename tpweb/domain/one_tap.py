"""A reminder's one-tap actions: Done, Snooze to tomorrow, Next week. Each link carries a token
signed for one user, one item (as it was due when the reminder went) and one action, good for
seven days; a snooze is done once (its token's use is recorded) and says so when pressed again.
No Flask here: the web asks `check` and `snooze`, the mail and push build links with `sign`.
"""

import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from itsdangerous import BadData, SignatureExpired, TimestampSigner
from itsdangerous.signer import HMACAlgorithm
from sqlalchemy import select

from tpweb.domain import rules
from tpweb.domain.history import VIA_REMINDER, acting
from tpweb.domain.reminders import TASK, TOUCHPOINT
from tpweb.domain.schedule import today_in
from tpweb.domain.scope import NotVisible, record_or_404, touchpoint_or_404
from tpweb.extensions import db
from tpweb.models import ActionUse, User

DONE, TOMORROW, NEXT_WEEK = "done", "tomorrow", "week"
ACTIONS = {DONE: "Done", TOMORROW: "Snooze to tomorrow", NEXT_WEEK: "Next week"}
SNOOZE_DAYS = {TOMORROW: 1, NEXT_WEEK: 7}
# A link works this long after the reminder went.
MAX_AGE = timedelta(days=7)
# The tokens' own salt: a session cookie or a CSRF token signed with the same key is no token.
SALT = "tpweb.reminder-action"
# Kinds and actions as one letter each in a token: a short link.
_KIND_CODES = {TASK: "k", TOUCHPOINT: "p"}
_ACTION_CODES = {DONE: "d", TOMORROW: "t", NEXT_WEEK: "w"}


@dataclass(frozen=True)
class Action:
    """What one token allows: `action` on the item `kind` `item_id` of `user_id`, due `due`."""

    user_id: int
    kind: str
    item_id: int
    due: date
    action: str


class Refused(Exception):
    """An action that cannot be done: `status` answers it, `title` and `message` say why."""

    def __init__(self, status, title, message=""):
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


class _Sha1(HMACAlgorithm):
    """itsdangerous' HMAC-SHA1 in one call of hmac.digest (OpenSSL's), not hmac.new with a hash
    constructor (Python's own HMAC, a third of a reminder email's time): the same signature."""

    def get_signature(self, key, value):
        return hmac.digest(key, value, "sha1")


class _Signer(TimestampSigner):
    """A TimestampSigner that derives its key once, not for every signature."""

    def derive_key(self, secret_key=None):
        if secret_key is not None:
            return super().derive_key(secret_key)
        if not hasattr(self, "_key"):
            self._key = super().derive_key()
        return self._key


@functools.cache  # one per key: a sweep signs three links per item
def _signer(secret_key):
    return _Signer(secret_key, salt=SALT, algorithm=_Sha1())


def sign(secret_key, action: Action) -> str:
    """The token for `action`, dated now: "user.kind.item.due.action", its time and signature.
    A plain signed string, not itsdangerous' JSON serializer, which took five times as long: a
    sweep signs three per reminder."""
    payload = (
        f"{action.user_id}.{_KIND_CODES[action.kind]}.{action.item_id}."
        f"{action.due:%Y%m%d}.{_ACTION_CODES[action.action]}"
    )
    return _signer(secret_key).sign(payload).decode()


def read(secret_key, token, max_age=MAX_AGE) -> Action:
    """The Action a token allows; Refused if it is expired, altered or not a token at all."""
    try:
        payload = _signer(secret_key).unsign(token, max_age=max_age.total_seconds())
    except SignatureExpired as error:
        raise Refused(
            410,
            "This link has expired",
            "Reminder links work for 7 days. Open the item in the app instead.",
        ) from error
    except BadData as error:
        cut = "It may have been cut short or changed."
        raise Refused(404, "This link is not valid", cut) from error
    kinds = {code: kind for kind, code in _KIND_CODES.items()}
    actions = {code: action for action, code in _ACTION_CODES.items()}
    user_id, kind, item_id, due, action = payload.decode().split(".")
    return Action(
        int(user_id), kinds[kind], int(item_id), datetime.strptime(due, "%Y%m%d").date(),
        actions[action],
    )  # fmt: skip


def token_hash(token: str) -> str:
    """How a used token is kept: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def owner(action: Action) -> User:
    """The user the token was sent to; Refused if they can no longer sign in."""
    user = db.session.get(User, action.user_id)
    if user is None or not user.active:
        raise Refused(404, "This link is no longer valid", "Its user account was deactivated.")
    return user


def check(user, action: Action, for_update=False):
    """The item `action` is for, if `user` may still act on it as the reminder said; Refused
    otherwise: no longer theirs or visible (handed over, set inactive), done or moved since."""
    if action.kind == TOUCHPOINT:
        return _touchpoint(user, action, for_update)
    return _task(user, action)


def _gone(what):
    return Refused(
        404,
        f"This {what} is no longer yours",
        "It was handed to someone else or set inactive since the reminder, so this link no "
        "longer works. Your list in the app shows what is yours now.",
    )


def _moved(what, field, day):
    return Refused(
        409,
        f"This {what} was already done or moved",
        f"Since the reminder, its {field} changed to {day:%A, %B} {day.day}, {day.year}: "
        "nothing was changed by this link.",
    )


def _touchpoint(user, action, for_update):
    try:
        tp = touchpoint_or_404(user, action.item_id, for_update=for_update, change=True)
    except NotVisible as error:
        raise _gone("touchpoint") from error
    if tp.inactive or not tp.account.active or tp.account.sales_rep_id != user.id:
        raise _gone("touchpoint")
    if tp.next_call != action.due:
        raise _moved("touchpoint", "Next Call", tp.next_call)
    return tp


def _task(user, action):
    try:
        task = record_or_404(user, action.item_id, change=True)
    except NotVisible as error:
        raise _gone("task") from error
    if task.assigned_to_id != user.id:
        raise _gone("task")
    if not task.is_open_task:
        raise Refused(
            409,
            "This task is already completed",
            f"Its response was recorded on {task.responded_on:%A, %B} {task.responded_on.day}.",
        )
    if task.date_due != action.due:
        raise _moved("task", "date due", task.date_due)
    return task


def use_of(token):
    """The recorded use of `token`, or None."""
    return db.session.scalar(select(ActionUse).where(ActionUse.token_hash == token_hash(token)))


def target_day(user, action: Action, now=None) -> date:
    """Where a snooze moves the item: tomorrow, or a week from today, in the user's zone."""
    return today_in(user.timezone, now) + timedelta(days=SNOOZE_DAYS[action.action])


def snooze(user, action: Action, token, now=None):
    """Move the item's date to tomorrow or a week from today (the user's today), once for this
    token, recorded in the history as the user's, from a reminder. Returns the new date."""
    item = check(user, action, for_update=True)
    day = target_day(user, action, now)
    problem = rules.date_problem(day)
    if action.kind == TOUCHPOINT and day < item.last_call:
        problem = f"Its Last Call is {item.last_call:%B} {item.last_call.day}, after that date."
    if problem:
        raise Refused(409, "This cannot be snoozed", problem)
    with acting(user.id, VIA_REMINDER):
        if action.kind == TOUCHPOINT:
            item.next_call = day
        else:
            item.date_due = day
        db.session.add(
            ActionUse(
                token_hash=token_hash(token),
                user_id=user.id,
                item_kind=action.kind,
                item_id=action.item_id,
                action=action.action,
                moved_to=day,
            )
        )
        # Now, inside `acting`: the history rows are written as the flush runs.
        db.session.flush()
    return day
