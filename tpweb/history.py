"""History: every change to an account, its touchpoint, a contact or a task, written as the change
is flushed; a contact's and a task's go in the history of the contact's customer.

One SQLAlchemy hook sees every ORM change, so no view can forget to record one. Bulk statements
(reassigning many accounts at once) write their own rows with `record_bulk`.
"""

import json
from datetime import date, datetime

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, insert, inspect, literal, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import Account, Contact, History, Touchpoint, TouchpointRecord, User, utcnow

TRACKED = {
    Account: (
        "account",
        ("name", "address", "city", "phone", "notes", "latitude", "longitude", "sales_rep_id",
         "active"),
    ),
    Touchpoint: (
        "touchpoint",
        ("last_call", "frequency_days", "next_call", "comment", "inactive"),
    ),
    Contact: ("contact", ("name", "title", "email", "phone", "notes", "active")),
    TouchpointRecord: (
        "task",
        ("description", "response_required", "date_due", "assigned_to_id", "responded_on",
         "response_note"),
    ),
}  # fmt: skip
# Fields that hold a user's id: shown by name.
USER_FIELDS = {"sales_rep_id", "assigned_to_id"}


# Values a new record's history leaves out.
EMPTY = (None, "", False)


def plain(value):
    """`value` as the history's JSON holds it: a date or time in ISO form."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _changes(obj, fields, new):
    state = inspect(obj)
    changes = {}
    for name in fields:
        history = state.attrs[name].history
        if new:
            after = getattr(obj, name)
            if after not in EMPTY:
                changes[name] = [None, plain(after)]
        elif history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before != after:
                changes[name] = [plain(before), plain(after)]
    return changes


def action_for(subject, changes, new):
    """The word the history shows for a change: created, reassigned, set inactive, answered..."""
    if new:
        return "created"
    if subject == "account" and "sales_rep_id" in changes:
        return "reassigned"
    if subject == "touchpoint" and "inactive" in changes:
        return "set inactive" if changes["inactive"][1] else "reactivated"
    if subject in ("account", "contact") and "active" in changes:
        return "set inactive" if not changes["active"][1] else "reactivated"
    if subject == "task" and "responded_on" in changes:
        return "answered"
    return "updated"


def _who():
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


@event.listens_for(Session, "after_flush")
def _write_history(session, flush_context):
    rows, contact_ids = [], set()
    for obj in [*session.new, *session.dirty]:
        tracked = TRACKED.get(type(obj))
        if tracked is None:
            continue
        subject, fields = tracked
        new = obj in session.new
        changes = _changes(obj, fields, new)
        if not changes:
            continue
        if subject == "account":
            account_id = obj.id
        elif subject == "touchpoint":
            account_id = obj.account_id
        elif subject == "contact":
            account_id = obj.customer_id
        else:
            account_id = None
            contact_ids.add(obj.contact_id)
        rows.append(
            {
                "account_id": account_id,
                "contact_id": getattr(obj, "contact_id", None),
                "subject": subject,
                "subject_id": obj.id,
                "action": action_for(subject, changes, new),
                "changes": json.dumps(changes),
            }
        )
    if not rows:
        return
    connection = session.connection()
    if contact_ids:
        customers = dict(
            connection.execute(
                select(Contact.id, Contact.customer_id).where(Contact.id.in_(contact_ids))
            ).all()
        )
    who, now = _who(), utcnow()
    for row in rows:
        contact_id = row.pop("contact_id")
        if row["account_id"] is None:
            row["account_id"] = customers[contact_id]
        row.update(user_id=who, at=now)
    connection.execute(insert(History), rows)


def record_bulk(pairs, subject, action, changes):
    """One history row for each (account id, subject id) that `pairs` selects, in one INSERT.

    For bulk UPDATE statements, which the flush hook never sees: call it before the UPDATE.
    """
    values = {"user_id": _who(), "at": utcnow(), "subject": subject, "action": action,
              "changes": json.dumps(changes)}  # fmt: skip
    columns = History.__table__.c
    source = pairs.add_columns(*(literal(v, columns[k].type) for k, v in values.items()))
    db.session.execute(insert(History).from_select(["account_id", "subject_id", *values], source))


def account_history(account, limit=50):
    """The newest changes at an account, with user names resolved in one more query."""
    entries = db.session.scalars(
        select(History)
        .where(History.account_id == account.id)
        .order_by(History.at.desc(), History.id.desc())
        .limit(limit)
    ).all()
    user_ids = {e.user_id for e in entries}
    for entry in entries:
        entry.change_list = json.loads(entry.changes)
        for field in USER_FIELDS & entry.change_list.keys():
            user_ids.update(v for v in entry.change_list[field] if v)
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    contact_ids = {e.subject_id for e in entries if e.subject == "contact"}
    contacts = {}
    if contact_ids:
        query = select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
        contacts = dict(db.session.execute(query).all())
    for entry in entries:
        entry.who = names.get(entry.user_id, "System")
        # A contact is named, as it is called now: its history shows any rename.
        entry.label = entry.subject
        if entry.subject == "contact":
            entry.label = f"contact {contacts.get(entry.subject_id, '')}".strip()
        for field in USER_FIELDS & entry.change_list.keys():
            entry.change_list[field] = [names.get(v, "nobody") if v else "nobody"
                                        for v in entry.change_list[field]]  # fmt: skip
    return entries
