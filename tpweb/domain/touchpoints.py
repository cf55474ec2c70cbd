"""The queries behind the touchpoint and unassigned widgets: a fixed number whatever the size."""

import math
from datetime import date, timedelta
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy import Date, Integer, and_, bindparam, case, exists, func, select
from sqlalchemy.orm import aliased, contains_eager

from tpweb.domain.markers import LATER, UPCOMING_DAYS
from tpweb.domain.reach import Reach, row_reach
from tpweb.domain.schedule import DUE_TODAY, OVERDUE, UPCOMING
from tpweb.domain.scope import accounts_changeable_by, touchpoints_for
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, User

Customer = aliased(Account, name="customer")
Rep = aliased(User, name="rep")

# A list's statements are built once per process for each shape, what changes from request to
# request bound as they run: building a statement and working out its cache key cost SQLAlchemy
# more than the database took to answer it (docs/benchmarks.md, B1).
USER_ID, REP_ID = bindparam("user_id", type_=Integer), bindparam("rep_id", type_=Integer)
MANAGER_ID = bindparam("manager_id", type_=Integer)
TODAY = bindparam("today", type_=Date)
LIMIT, OFFSET = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)
_prepared = {}
# An account the map can place.
LOCATED = and_(Account.latitude.is_not(None), Account.longitude.is_not(None))
# A touchpoint kept on the rep's list (the widget, My tasks, the map, reminders): an active one
# on an active account.
KEPT = and_(~Touchpoint.inactive, Account.active)


def prepared(key, build):
    """The statement `build()` returns, built once per process for `key`."""
    statement = _prepared.get(key)
    if statement is None:
        statement = _prepared[key] = build()
    return statement


def rows(statement, params):
    """The rows of a statement of columns, run on the session's connection (in its transaction):
    no ORM objects to build, so the ORM's own work per statement is not needed either."""
    return db.session.connection().execute(statement, params).all()


def anyone(user):
    """A stand-in for `user` in a prepared statement: the same role, the id bound as USER_ID, so
    that the statement is scoped by tpweb.domain.scope as `user`'s own would be."""
    return SimpleNamespace(is_manager=user.is_manager, id=USER_ID)


def due_conditions(today):
    """schedule.due_state in SQL: {state: the condition on a touchpoint's Next Call on `today`}."""
    return {
        OVERDUE: Touchpoint.next_call < today,
        DUE_TODAY: Touchpoint.next_call == today,
        UPCOMING: Touchpoint.next_call > today,
    }


def _state_filter(state, today):
    return due_conditions(today).get(state, True)


def main_contact_column(column):
    """`column` of the account's main contact, as a correlated scalar subquery: the first active
    contact of its customer (a jobsite's people are its customer's), as the customer page lists
    them (by name). reach.main_contact's rule, in SQL: a column, so a list stays one statement
    (and with_only_columns drops it from a count)."""
    return (
        select(column)
        .where(
            Contact.active, Contact.customer_id == func.coalesce(Account.customer_id, Account.id)
        )
        .order_by(Contact.name, Contact.id)
        .limit(1)
        .correlate(Account)
        .scalar_subquery()
    )


def reach_columns():
    """The columns reach.row_reach reads, by their labels: the account's phone and place, its main
    contact's phone and email."""
    return (
        Account.phone.label("account_phone"),
        Account.address.label("account_address"),
        Account.city.label("account_city"),
        Account.latitude,
        Account.longitude,
        main_contact_column(Contact.phone).label("contact_phone"),
        main_contact_column(Contact.email).label("contact_email"),
    )


def _active(query, rep_id):
    query = query.where(KEPT)
    if rep_id is not None:
        query = query.where(Account.sales_rep_id == rep_id)
    return query


def _named(user, rep_id):
    """Active touchpoints of active accounts that `user` may see, joined to the names shown
    beside their account's: its customer's and its rep's."""
    return (
        _active(touchpoints_for(user), rep_id)
        .outerjoin(Customer, Account.customer_id == Customer.id)
        .outerjoin(Rep, Account.sales_rep_id == Rep.id)
    )


def active_touchpoints(user, rep_id=None):
    """Active touchpoints of active accounts that `user` may see, with what a row shows loaded."""
    return _named(user, rep_id).options(
        contains_eager(Touchpoint.account).contains_eager(Account.customer.of_type(Customer)),
        contains_eager(Touchpoint.account).contains_eager(Account.sales_rep.of_type(Rep)),
    )


class Named(NamedTuple):
    name: str


class CardAccount(NamedTuple):
    """What a card shows of a touchpoint's account, shaped as the ORM's Account for the card."""

    id: int
    kind: str
    name: str
    customer: Named | None
    sales_rep: Named | None

    @property
    def is_jobsite(self):
        return self.kind == "jobsite"


class Card(NamedTuple):
    """A touchpoint as its card (templates/touchpoints/card.html) shows it: a plain row shaped
    as the ORM's Touchpoint. A list of 50 built as ORM objects (a touchpoint, its account, the
    customer and the rep each) spent more time in the ORM than in the database."""

    id: int
    inactive: bool
    next_call: date
    last_call: date
    frequency_days: int
    comment: str
    version: int
    account: CardAccount
    # Call, Text, Email and Directions, from the account and its main contact.
    reach: Reach

    @classmethod
    def of(cls, row):
        """The Card of a card_rows() row, read by label (other columns of the row left out)."""
        m = row._mapping
        customer, rep = m["customer_name"], m["rep_name"]
        account = CardAccount(
            m["account_id"],
            m["account_kind"],
            m["account_name"],
            None if customer is None else Named(customer),
            None if rep is None else Named(rep),
        )
        return cls(*(m[name] for name in CARD_COLUMNS), account, row_reach(row))


# The columns of a Card that are the touchpoint's own, as card_rows labels them.
CARD_COLUMNS = Card._fields[: Card._fields.index("account")]


def card_rows(user, rep_id=None):
    """Active touchpoints of active accounts that `user` may see, as the columns of Card.of."""
    return _named(user, rep_id).with_only_columns(
        Touchpoint.id,
        Touchpoint.inactive,
        Touchpoint.next_call,
        Touchpoint.last_call,
        Touchpoint.frequency_days,
        Touchpoint.comment,
        Touchpoint.version,
        Account.id.label("account_id"),
        Account.kind.label("account_kind"),
        Account.name.label("account_name"),
        Customer.name.label("customer_name"),
        Rep.name.label("rep_name"),
        *reach_columns(),
    )


def widget_page(
    user, today, *, rep_id=None, state=None, page=1, size=50, near=None, manager_id=None
):
    """One page of the widget as Cards, overdue first (nearest first given `near`), and if more
    follow; only the accounts of `manager_id`'s reps when given (a manager's team)."""

    def build():
        team = True if manager_id is None else Rep.manager_id == MANAGER_ID
        return (
            card_rows(anyone(user), None if rep_id is None else REP_ID)
            .where(_state_filter(state, TODAY), team)
            .order_by(*(by_distance(*near) if near else ()))
            .order_by(Touchpoint.next_call, Account.name, Touchpoint.id)
            .limit(LIMIT)
            .offset(OFFSET)
        )

    # Nearest first orders by the phone's position: built for each request.
    shape = ("widget_page", user.is_manager, rep_id is None, state, manager_id is None)
    query = build() if near else prepared(shape, build)
    params = {
        "user_id": user.id,
        "rep_id": rep_id,
        "manager_id": manager_id,
        "today": today,
        "limit": size + 1,
        "offset": (page - 1) * size,
    }
    page_cards = [Card.of(row) for row in rows(query, params)]
    return page_cards[:size], len(page_cards) > size


def widget_counts(user, today, *, rep_id=None):
    """How many touchpoints are overdue, due today and upcoming, in one query."""

    def build():
        due = due_conditions(TODAY)
        state = case((due[OVERDUE], OVERDUE), (due[DUE_TODAY], DUE_TODAY), else_=UPCOMING)
        query = _active(touchpoints_for(anyone(user)), None if rep_id is None else REP_ID)
        return query.with_only_columns(state, func.count()).group_by(state)

    query = prepared(("widget_counts", user.is_manager, rep_id is None), build)
    params = {"user_id": user.id, "rep_id": rep_id, "today": today}
    counts = dict(rows(query, params))
    return {s: counts.get(s, 0) for s in (OVERDUE, DUE_TODAY, UPCOMING)}


def unassigned_accounts(user, *, rep_id=None, manager_id=None, page=1, size=50):
    """Active accounts with a sales rep but no active touchpoint, and whether more follow: of
    those `user` may change, as each offers Set touchpoint; only `rep_id`'s, or those of
    `manager_id`'s reps, when given."""
    has_active = exists().where(and_(Touchpoint.account_id == Account.id, ~Touchpoint.inactive))
    query = (
        accounts_changeable_by(user)
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
    if rep_id is not None:
        query = query.where(Account.sales_rep_id == rep_id)
    if manager_id is not None:
        query = query.where(Rep.manager_id == manager_id)
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
        _named(user, rep_id)
        .with_only_columns(
            Touchpoint.id,
            Touchpoint.next_call,
            Touchpoint.last_call,
            Touchpoint.comment,
            Account.id.label("account_id"),
            Account.name,
            Customer.name.label("customer_name"),
            Rep.name.label("rep_name"),
            *reach_columns(),
        )
        .order_by(Touchpoint.next_call, Account.name, Touchpoint.id)
    )


def map_counts(user, today, rep_id=None):
    """How many of the map's touchpoints are in each markers.MAP_STATES and how many have no
    location ("unlocated"), in one query: markers.map_state's rule, in SQL, so that the Map view's
    legend does not read every row (2,000 for a big rep) that the map's frame reads anyway."""
    due = due_conditions(today)
    state = case(
        (~LOCATED, "unlocated"),
        (due[OVERDUE], OVERDUE),
        (due[DUE_TODAY], DUE_TODAY),
        (Touchpoint.next_call <= today + timedelta(days=UPCOMING_DAYS), UPCOMING),
        else_=LATER,
    )
    query = _active(touchpoints_for(user), rep_id).with_only_columns(state, func.count())
    return dict(db.session.execute(query.group_by(state)).all())
