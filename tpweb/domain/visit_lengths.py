"""How long a visit takes, for Plan my day: each user's length per call type (Settings), the
usual length of a type they have not set, and each account's call type (how it was last called).
No Flask here."""

from dataclasses import dataclass, field

from sqlalchemy import func, select

from tpweb.extensions import db
from tpweb.models import CallLog, CallLogType, VisitLength

# A type's length until the user sets their own, by its name (any case); a type not named here
# takes the user's length for an account never called yet (User.visit_minutes, 30 at first).
USUAL_MINUTES = {"visit": 30, "video": 20, "phone": 10, "email": 5, "text": 5}


@dataclass(frozen=True)
class VisitLengths:
    """Minutes a visit takes: by the account's call type, else `other`."""

    other: int
    by_type: dict[int, int] = field(default_factory=dict)

    def minutes(self, call_type_id):
        return self.by_type.get(call_type_id, self.other)


def usual_minutes(call_type, other):
    """A call type's length before the user sets one."""
    return USUAL_MINUTES.get(call_type.name.strip().lower(), other)


def lengths_of(user, types=None):
    """(call type, minutes) for each of `types` (default: every active type, in their order):
    the user's own length, else the type's usual one."""
    if types is None:
        types = db.session.scalars(
            select(CallLogType).where(CallLogType.active).order_by(CallLogType.position)
        ).all()
    own = dict(
        db.session.execute(
            select(VisitLength.call_type_id, VisitLength.minutes).where(
                VisitLength.user_id == user.id
            )
        ).all()
    )
    return [(kind, own.get(kind.id) or usual_minutes(kind, user.visit_minutes)) for kind in types]


def visit_lengths(user):
    """The user's lengths for planning: every type's, active or not (an account's last call may
    be of a type since retired), and their length for an account never called."""
    types = db.session.scalars(select(CallLogType)).all()
    return VisitLengths(
        other=user.visit_minutes,
        by_type={kind.id: minutes for kind, minutes in lengths_of(user, types)},
    )


def save_lengths(user, minutes_by_type):
    """Keep the user's length for each call type id of `minutes_by_type`."""
    rows = {
        row.call_type_id: row
        for row in db.session.scalars(select(VisitLength).where(VisitLength.user_id == user.id))
    }
    for type_id, minutes in minutes_by_type.items():
        row = rows.get(type_id)
        if row is None:
            db.session.add(VisitLength(user_id=user.id, call_type_id=type_id, minutes=minutes))
        else:
            row.minutes = minutes


def call_types(account_ids):
    """{account id: its call type id}: the type of the account's latest call log (by date, then
    as recorded), for the accounts of `account_ids` that have one. A touchpoint is kept the way
    its account was last called: in person, by phone, by video."""
    if not account_ids:
        return {}
    latest = (
        select(
            CallLog.account_id,
            CallLog.call_type_id,
            func.row_number()
            .over(
                partition_by=CallLog.account_id,
                order_by=(CallLog.called_on.desc(), CallLog.id.desc()),
            )
            .label("nth"),
        )
        .where(CallLog.account_id.in_(account_ids))
        .subquery()
    )
    rows = select(latest.c.account_id, latest.c.call_type_id).where(latest.c.nth == 1)
    return dict(db.session.execute(rows).all())
