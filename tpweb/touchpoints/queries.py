"""The queries behind the touchpoint and unassigned widgets: a fixed number whatever the size."""

import math
from datetime import timedelta

from sqlalchemy import and_, case, exists, func
from sqlalchemy.orm import aliased, contains_eager

from ..extensions import db
from ..models import Account, Touchpoint, User
from ..schedule import DUE_TODAY, OVERDUE, UPCOMING
from ..scope import accounts_for, touchpoints_for
from .markers import LATER, UPCOMING_DAYS

Customer = aliased(Account, name="customer")
Rep = aliased(User, name="rep")


def _state_filter(state, today):
    return {
        OVERDUE: Touchpoint.next_call < today,
        DUE_TODAY: Touchpoint.next_call == today,
        UPCOMING: Touchpoint.next_call > today,
    }.get(state, True)


def _active(query, rep_id):
    query = query.where(~Touchpoint.inactive, Account.active)
    if rep_id is not None:
        query = query.where(Account.sales_rep_id == rep_id)
    return query


def active_touchpoints(user, rep_id=None):
    """Active touchpoints of active accounts that `user` may see, with what a row shows loaded."""
    return (
        _active(touchpoints_for(user), rep_id)
        .outerjoin(Customer, Account.customer_id == Customer.id)
        .outerjoin(Rep, Account.sales_rep_id == Rep.id)
        .options(
            contains_eager(Touchpoint.account).contains_eager(Account.customer.of_type(Customer)),
            contains_eager(Touchpoint.account).contains_eager(Account.sales_rep.of_type(Rep)),
        )
    )


def widget_page(user, today, *, rep_id=None, state=None, page=1, size=50, near=None):
    """One page of the widget, overdue first (nearest first given `near`), and if more follow."""
    query = (
        active_touchpoints(user, rep_id)
        .where(_state_filter(state, today))
        .order_by(*(by_distance(*near) if near else ()))
        .order_by(Touchpoint.next_call, Account.name, Touchpoint.id)
        .limit(size + 1)
        .offset((page - 1) * size)
    )
    rows = db.session.scalars(query).unique().all()
    return rows[:size], len(rows) > size


def widget_counts(user, today, *, rep_id=None):
    """How many touchpoints are overdue, due today and upcoming, in one query."""
    state = case(
        (Touchpoint.next_call < today, OVERDUE),
        (Touchpoint.next_call == today, DUE_TODAY),
        else_=UPCOMING,
    )
    query = _active(touchpoints_for(user), rep_id).with_only_columns(state, func.count())
    counts = dict(db.session.execute(query.group_by(state)).all())
    return {s: counts.get(s, 0) for s in (OVERDUE, DUE_TODAY, UPCOMING)}


def unassigned_accounts(user, *, rep_id=None, page=1, size=50):
    """Active accounts with a sales rep but no active touchpoint, and whether more follow."""
    has_active = exists().where(and_(Touchpoint.account_id == Account.id, ~Touchpoint.inactive))
    query = (
        accounts_for(user)
        .outerjoin(Customer, Account.customer_id == Customer.id)
        .join(Rep, Account.sales_rep_id == Rep.id)
        .options(
            contains_eager(Account.customer.of_type(Customer)),
            contains_eager(Account.sales_rep.of_type(Rep)),
        )
        .where(Account.active, ~has_active)
        .order_by(Account.name, Account.id)
        .limit(size + 1)
        .offset((page - 1) * size)
    )
    if not user.is_manager:
        query = query.where(Account.sales_rep_id == user.id)
    if rep_id is not None:
        query = query.where(Account.sales_rep_id == rep_id)
    rows = db.session.scalars(query).all()
    return rows[:size], len(rows) > size


def by_distance(lat, lon):
    """ORDER BY terms: nearest to (lat, lon) first, accounts without a location last."""
    # Squared equirectangular distance: exact enough to rank a rep's accounts against each other,
    # and plain arithmetic that SQLite and PostgreSQL both evaluate (no trigonometry in SQL).
    scale = math.cos(math.radians(lat))
    north = Account.latitude - lat
    east = (Account.longitude - lon) * scale
    return Account.latitude.is_(None), north * north + east * east


def map_rows(user, rep_id=None):
    """What the map shows of each active touchpoint, as plain rows, most overdue first.

    Columns, not ORM objects: a manager's map holds thousands of markers.
    """
    return (
        _active(touchpoints_for(user), rep_id)
        .outerjoin(Customer, Account.customer_id == Customer.id)
        .outerjoin(Rep, Account.sales_rep_id == Rep.id)
        .with_only_columns(
            Touchpoint.id,
            Touchpoint.next_call,
            Touchpoint.last_call,
            Touchpoint.comment,
            Account.id.label("account_id"),
            Account.name,
            Account.latitude,
            Account.longitude,
            Customer.name.label("customer_name"),
            Rep.name.label("rep_name"),
        )
        .order_by(Touchpoint.next_call, Account.name, Touchpoint.id)
    )


def map_counts(user, today, rep_id=None):
    """How many of the map's touchpoints are in each markers.MAP_STATES and how many have no
    location ("unlocated"), in one query: markers.map_state's rule, in SQL, so that the Map view's
    legend does not read every row (2,000 for a big rep) that the map's frame reads anyway."""
    located = and_(Account.latitude.is_not(None), Account.longitude.is_not(None))
    state = case(
        (~located, "unlocated"),
        (Touchpoint.next_call < today, OVERDUE),
        (Touchpoint.next_call == today, DUE_TODAY),
        (Touchpoint.next_call <= today + timedelta(days=UPCOMING_DAYS), UPCOMING),
        else_=LATER,
    )
    query = _active(touchpoints_for(user), rep_id).with_only_columns(state, func.count())
    return dict(db.session.execute(query.group_by(state)).all())
