"""The customer list: search and filters in one page query and one count."""

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.orm import aliased, contains_eager

from tpweb.domain.scope import customers_for, sales_reps
from tpweb.domain.search import contains
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, User

Rep = aliased(User, name="rep")
ActiveTouchpoint = aliased(Touchpoint, name="active_touchpoint")


def _customers(user, *, text="", rep_id=None, touchpoint=None, active=True):
    query = (
        customers_for(user)
        .where(Account.active == active)
        .outerjoin(Rep, Account.sales_rep_id == Rep.id)
        .outerjoin(
            ActiveTouchpoint,
            and_(ActiveTouchpoint.account_id == Account.id, ~ActiveTouchpoint.inactive),
        )
    )
    if text:
        by_contact = exists().where(Contact.customer_id == Account.id, contains(text, Contact.name))
        query = query.where(
            or_(contains(text, Account.name, Account.address, Account.city), by_contact)
        )
    if rep_id == 0:
        query = query.where(Account.sales_rep_id.is_(None))
    elif rep_id is not None:
        query = query.where(Account.sales_rep_id == rep_id)
    if touchpoint == "with":
        query = query.where(ActiveTouchpoint.id.is_not(None))
    elif touchpoint == "without":
        query = query.where(ActiveTouchpoint.id.is_(None))
    return query


def customer_page(user, *, page=1, size=50, **filters):
    """One page of customers, each as (customer with its rep loaded, its active touchpoint)."""
    query = (
        _customers(user, **filters)
        .add_columns(ActiveTouchpoint)
        .options(contains_eager(Account.sales_rep.of_type(Rep)))
        .order_by(Account.name, Account.id)
        .limit(size + 1)
        .offset((page - 1) * size)
    )
    rows = db.session.execute(query).all()
    return rows[:size], len(rows) > size


def customer_count(user, **filters):
    return db.session.scalar(_customers(user, **filters).with_only_columns(func.count(Account.id)))


def assignable_reps():
    """Who can be an account's sales rep (rules.SALES_REP)."""
    return db.session.scalars(sales_reps().order_by(User.name, User.id)).all()
