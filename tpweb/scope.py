"""What each user may see: every query for accounts and touchpoints starts here."""

from flask import abort
from sqlalchemy import or_, select

from .extensions import db
from .models import Account, Contact, Touchpoint, TouchpointRecord


def accounts_for(user):
    """Accounts the user may open: a manager all, a rep their own and their jobsites' customers."""
    query = select(Account)
    if user.is_manager:
        return query
    own_jobsite_customers = select(Account.customer_id).where(
        Account.sales_rep_id == user.id, Account.kind == "jobsite"
    )
    return query.where(or_(Account.sales_rep_id == user.id, Account.id.in_(own_jobsite_customers)))


def touchpoints_for(user):
    """Touchpoints the user may open and change: a rep only those of their own accounts."""
    query = select(Touchpoint).join(Touchpoint.account)
    if user.is_manager:
        return query
    return query.where(Account.sales_rep_id == user.id)


def account_or_404(user, account_id, kind):
    account = db.session.scalar(
        accounts_for(user).where(Account.id == account_id, Account.kind == kind)
    )
    if account is None:
        abort(404)
    return account


def touchpoint_or_404(user, touchpoint_id, for_update=False):
    query = touchpoints_for(user).where(Touchpoint.id == touchpoint_id)
    if for_update:
        query = query.with_for_update(of=Touchpoint)
    touchpoint = db.session.scalar(query)
    if touchpoint is None:
        abort(404)
    return touchpoint


def contacts_for(user):
    """Contacts the user may open: those of the customers they may open."""
    query = select(Contact).join(Contact.customer)
    if user.is_manager:
        return query
    visible = accounts_for(user).with_only_columns(Account.id)
    return query.where(Contact.customer_id.in_(visible))


def contact_or_404(user, contact_id):
    contact = db.session.scalar(contacts_for(user).where(Contact.id == contact_id))
    if contact is None:
        abort(404)
    return contact


def record_or_404(user, record_id):
    """A touchpoint record on a contact the user may open, or one assigned to the user."""
    visible = contacts_for(user).with_only_columns(Contact.id)
    record = db.session.scalar(
        select(TouchpointRecord).where(
            TouchpointRecord.id == record_id,
            or_(
                TouchpointRecord.contact_id.in_(visible),
                TouchpointRecord.assigned_to_id == user.id,
            ),
        )
    )
    if record is None:
        abort(404)
    return record
