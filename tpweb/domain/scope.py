"""What each user may see and change: every query for accounts, contacts, touchpoints and the
users a manager acts on starts here.

Reading is shared across a customer's family (the customer and its jobsites): a rep with any
account in it may open every account, contact and touchpoint of that family. Changing an account,
its touchpoint or a contact is for the account's own sales rep (a contact's: its customer's) and
managers. Any reader may add a touchpoint record to a contact they can open.

A lookup that finds nothing the user may see raises NotVisible, which the web answers as 404:
"not yours" and "not there" look the same from outside.
"""

from sqlalchemy import exists, func, or_, select, true
from sqlalchemy.orm import aliased

from tpweb.domain import rules
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, TouchpointRecord, User


def _families_of(user):
    """The customer ids of every family in which `user` is the sales rep of some account."""
    return select(func.coalesce(Account.customer_id, Account.id)).where(
        Account.sales_rep_id == user.id
    )


def _in_families_of(user):
    """The condition on Account: in one of `user`'s families."""
    families = _families_of(user)
    return or_(Account.id.in_(families), Account.customer_id.in_(families))


def accounts_for(user):
    """Accounts the user may open: a manager all, a rep every account of their families."""
    query = select(Account)
    if user.is_manager:
        return query
    return query.where(_in_families_of(user))


def customers_for(user):
    """The customers of accounts_for(user), by a cheaper rule that gives the same customers: a
    customer is in a rep's families when it is theirs or has a jobsite of theirs. The family rule
    over every account took a rep's customer list 10 ms to this 6 (PostgreSQL's EXPLAIN ANALYZE,
    a rep of 2,000 of 40,000 customers): two hashed lists probed for every customer."""
    query = select(Account).where(Account.kind == "customer")
    if user.is_manager:
        return query
    own_jobsite_customers = select(Account.customer_id).where(
        Account.sales_rep_id == user.id, Account.kind == "jobsite"
    )
    return query.where(or_(Account.sales_rep_id == user.id, Account.id.in_(own_jobsite_customers)))


def accounts_changeable_by(user):
    """Accounts the user may change: a manager all, a rep only those they are the sales rep of."""
    query = select(Account)
    if user.is_manager:
        return query
    return query.where(Account.sales_rep_id == user.id)


def touchpoints_for(user):
    """Touchpoints the user may change, and that fill their lists: a rep only those of their own
    accounts."""
    query = select(Touchpoint).join(Touchpoint.account)
    if user.is_manager:
        return query
    return query.where(Account.sales_rep_id == user.id)


def _touchpoints_readable_by(user):
    query = select(Touchpoint).join(Touchpoint.account)
    if user.is_manager:
        return query
    return query.where(_in_families_of(user))


def openable_contact(user):
    """The condition on Contact: `user` may open it (its customer is in one of their families)."""
    if user.is_manager:
        return true()
    return Contact.customer_id.in_(_families_of(user))


def openable_contact_of_row(user):
    """openable_contact's rule as a column of rows already found (My tasks' tasks): the contact's
    customer is the user's, or has a jobsite of theirs, by two index lookups per row.

    openable_contact's IN list cost My tasks 25 ms for 60 tasks of a rep with 2,000 accounts on
    SQLite (0.6 ms without the column; this, 0.6 ms). coalesce() keeps SQLite, which has no
    statistics, on the customer_id index rather than the rep's 2,000 accounts.
    """
    if user.is_manager:
        return true()
    customer, jobsite = aliased(Account, name="own_customer"), aliased(Account, name="own_site")
    return or_(
        exists().where(customer.id == Contact.customer_id, customer.sales_rep_id == user.id),
        exists().where(
            jobsite.customer_id == Contact.customer_id,
            func.coalesce(jobsite.sales_rep_id, 0) == user.id,
        ),
    )


def contacts_for(user):
    """Contacts the user may open: those of the customers they may open."""
    return select(Contact).join(Contact.customer).where(openable_contact(user))


def contacts_changeable_by(user):
    """Contacts the user may change: those of the customers they may change."""
    query = select(Contact).join(Contact.customer)
    if user.is_manager:
        return query
    return query.where(Account.sales_rep_id == user.id)


def may_change(user, record):
    """Whether `user` may change `record` (an account, contact, touchpoint or task): the rule of
    the *_changeable_by queries, for a record already loaded, so a page offers only what works."""
    if user.is_manager:
        return True
    if isinstance(record, Contact):
        record = record.customer
    elif isinstance(record, Touchpoint):
        record = record.account
    elif isinstance(record, TouchpointRecord):
        return record.assigned_to_id == user.id
    return record.sales_rep_id == user.id


class NotVisible(LookupError):
    """Nothing the user may see (or, when changing, change) has that id."""


def _one_or_404(query):
    found = db.session.scalar(query)
    if found is None:
        raise NotVisible
    return found


def account_or_404(user, account_id, kind, change=False):
    """The account, if `user` may open it (with `change`, change it); 404 otherwise."""
    query = accounts_changeable_by(user) if change else accounts_for(user)
    return _one_or_404(query.where(Account.id == account_id, Account.kind == kind))


def touchpoint_or_404(user, touchpoint_id, for_update=False, change=False):
    """The touchpoint, if `user` may open it (with `change`, change it); 404 otherwise."""
    query = touchpoints_for(user) if change else _touchpoints_readable_by(user)
    query = query.where(Touchpoint.id == touchpoint_id)
    if for_update:
        query = query.with_for_update(of=Touchpoint)
    return _one_or_404(query)


def contact_or_404(user, contact_id, change=False):
    """The contact, if `user` may open it (with `change`, change it); 404 otherwise."""
    query = contacts_changeable_by(user) if change else contacts_for(user)
    return _one_or_404(query.where(Contact.id == contact_id))


def may_open_contact(user, contact_id):
    """Whether `user` may open the contact's page (a task may be theirs on one they may not)."""
    query = select(Contact.id).where(Contact.id == contact_id, openable_contact(user))
    return db.session.scalar(query) is not None


def record_or_404(user, record_id, change=False):
    """A touchpoint record on a contact the user may open, or one assigned to the user; with
    `change`, one whose response the user may record (their own task, or any for a manager)."""
    visible = select(Contact.id).where(openable_contact(user))
    record = _one_or_404(
        select(TouchpointRecord).where(
            TouchpointRecord.id == record_id,
            or_(
                TouchpointRecord.contact_id.in_(visible),
                TouchpointRecord.assigned_to_id == user.id,
            ),
        )
    )
    if change and not may_change(user, record):
        raise NotVisible
    return record


def sales_reps():
    """The users a manager manages as sales reps: active users with the rep role. Managers and
    admins are the admin's to manage (admin.py), never a manager's."""
    return select(User).where(rules.SALES_REP)


def rep_or_404(rep_id):
    """An active sales rep, for the Sales Rep pages and every choice of a rep; 404 otherwise."""
    return _one_or_404(sales_reps().where(User.id == rep_id))
