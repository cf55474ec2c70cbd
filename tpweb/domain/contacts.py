"""Contact maintenance's search and the history of a contact or an account, in fixed queries."""

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from tpweb.domain.rules import TASK_ASSIGNEE, is_task_assignee
from tpweb.domain.scope import contacts_for
from tpweb.domain.search import contains
from tpweb.extensions import db
from tpweb.models import Account, CallLog, Contact, TouchpointRecord, User


def _open_for_contact():
    return exists().where(TouchpointRecord.contact_id == Contact.id, TouchpointRecord.is_open_task)


def _search(query, text):
    if not text:
        return query
    return query.where(contains(text, Contact.name, Account.name, Contact.email, Contact.phone))


def contact_page(user, *, text="", response_required=False, page=1, size=50):
    """One page of contacts matching `text`, each with its open tasks' count and earliest due."""
    open_count = (
        select(func.count(TouchpointRecord.id))
        .where(TouchpointRecord.contact_id == Contact.id, TouchpointRecord.is_open_task)
        .correlate(Contact)
        .scalar_subquery()
    )
    next_due = (
        select(func.min(TouchpointRecord.date_due))
        .where(TouchpointRecord.contact_id == Contact.id, TouchpointRecord.is_open_task)
        .correlate(Contact)
        .scalar_subquery()
    )
    query = _search(contacts_for(user), text).where(Contact.active, Account.active)
    if response_required:
        query = query.where(_open_for_contact())
    query = (
        query.add_columns(open_count, next_due)
        .options(contains_eager(Contact.customer))
        .order_by(Contact.name, Contact.id)
        .limit(size + 1)
        .offset((page - 1) * size)
    )
    rows = db.session.execute(query).all()
    return rows[:size], len(rows) > size


def contact_counts(user, *, text=""):
    """How many contacts match `text`, and how many of those await a response, in one query."""
    query = _search(contacts_for(user), text).where(Contact.active, Account.active)
    query = query.with_only_columns(
        func.count(Contact.id), func.coalesce(func.sum(case((_open_for_contact(), 1), else_=0)), 0)
    )
    total, awaiting = db.session.execute(query).one()
    return {"all": total, "response_required": awaiting}


def history(*, contact_ids=(), account_ids=(), limit=200):
    """Touchpoint records and call logs, newest first: a contact's or an account's Touchpoints tab.

    Each entry is (date, kind, object); records of `contact_ids` and call logs that spoke to them
    or happened at `account_ids`.
    """
    records = db.session.scalars(
        select(TouchpointRecord)
        .where(TouchpointRecord.contact_id.in_(contact_ids))
        .options(
            joinedload(TouchpointRecord.author),
            joinedload(TouchpointRecord.assigned_to),
            joinedload(TouchpointRecord.contact),
        )
        .order_by(TouchpointRecord.date_completed.desc(), TouchpointRecord.id.desc())
        .limit(limit)
    ).all()
    calls = db.session.scalars(
        select(CallLog)
        .where(or_(CallLog.contact_id.in_(contact_ids), CallLog.account_id.in_(account_ids)))
        .options(
            joinedload(CallLog.user),
            joinedload(CallLog.call_type),
            joinedload(CallLog.contact),
            joinedload(CallLog.account),
        )
        .order_by(CallLog.called_on.desc(), CallLog.id.desc())
        .limit(limit)
    ).all()
    entries = [(r.date_completed, r.created_at, "record", r) for r in records]
    entries += [(c.called_on, c.created_at, "call", c) for c in calls]
    entries.sort(key=lambda entry: entry[:2], reverse=True)
    return [(day, kind, item) for day, _, kind, item in entries[:limit]]


def assignees(user):
    """Who `user` may assign a task to: a rep themselves or their manager, a manager anyone."""
    if user.is_manager:
        return db.session.scalars(select(User).where(TASK_ASSIGNEE).order_by(User.name)).all()
    return [user] + ([user.manager] if is_task_assignee(user.manager) else [])


def open_tasks_of(contact_id):
    """A contact's open tasks, the soonest due first, with their author and assignee."""
    return db.session.scalars(
        select(TouchpointRecord)
        .where(TouchpointRecord.contact_id == contact_id, TouchpointRecord.is_open_task)
        .options(joinedload(TouchpointRecord.author), joinedload(TouchpointRecord.assigned_to))
        .order_by(TouchpointRecord.date_due)
    ).all()
