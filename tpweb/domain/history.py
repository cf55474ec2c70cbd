"""History: every change to an account, its touchpoint, a contact or a task, recorded one way; a
contact's and a task's go in the history of the contact's customer.

`init(session, who)` switches it on for a session factory. Changes made through the ORM are
recorded as they are flushed. A bulk UPDATE of those tables run through the session is recorded
as it runs: each row it changes, with its values before and after. Any other statement that
writes to them (an import's bulk INSERT, a bulk UPDATE by primary key) must say, with the execution
option `HOW`, that its caller records it with `write` (`RECORDED`) or that it changes nothing the
history shows (`NOT_A_CHANGE`); unmarked, it raises UnrecordedChange, so no path can forget.
No Flask here: `who()` says which user is making the change, or None; inside `acting(user_id,
via)` the changes are that user's, made that way (a reminder's one-tap action, with no one
signed in on the device).
"""

import json
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    cast,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    type_coerce,
)

from tpweb.models import Account, Contact, History, Touchpoint, TouchpointRecord, User, utcnow

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
TABLES = {model.__tablename__: model for model in TRACKED}
# Fields that hold a user's id: shown by name.
USER_FIELDS = {"sales_rep_id", "assigned_to_id"}
# The execution option saying how a statement writing to a tracked table is in the history.
HOW = "history"
RECORDED = "recorded by the caller"
NOT_A_CHANGE = "not a change"

# Values a new record's history leaves out.
EMPTY = (None, "", False)


class UnrecordedChange(RuntimeError):
    """A statement would change accounts, touchpoints, contacts or tasks with no History row."""


def _nobody():
    return None


_who = _nobody
# (user id, how) while `acting`: who makes the changes and through what, whoever is signed in.
_acting = ContextVar("tpweb_history_acting", default=None)
# How a change made through a reminder's one-tap action is marked (History.via).
VIA_REMINDER = "reminder"


@contextmanager
def acting(user_id, via):
    """Record the changes made inside as `user_id`'s, made through `via` (e.g. VIA_REMINDER)."""
    token = _acting.set((user_id, via))
    try:
        yield
    finally:
        _acting.reset(token)


def _author():
    """(user id, via) of the change being recorded."""
    return _acting.get() or (_who(), "")


def init(session, who=_nobody):
    """Record every change made through `session` (a Session class, sessionmaker or
    scoped_session) in the history, as made by the user whose id `who()` gives."""
    global _who
    _who = who
    for name, listener in (("after_flush", _record_flush), ("do_orm_execute", _check_statement)):
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)


def plain(value):
    """`value` as the history's JSON holds it: a date or time in ISO form."""
    return value.isoformat() if isinstance(value, date | datetime) else value


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
    if subject == "task" and "assigned_to_id" in changes:
        return "reassigned"
    return "updated"


def write(session, subject, entries, user_id=None):
    """The history of records saved by a statement marked RECORDED: `entries` holds (account id,
    subject id, changes, new) for each record; one with no changes has no row."""
    rows = [_row(subject, *entry) for entry in entries if entry[2]]
    _insert(session.connection(), rows, (user_id, ""))


def _row(subject, account_id, subject_id, changes, new):
    return {
        "account_id": account_id,
        "subject": subject,
        "subject_id": subject_id,
        "action": action_for(subject, changes, new),
        "changes": json.dumps(changes),
    }


def _insert(connection, rows, author):
    if rows:
        user_id, via = author
        now = utcnow()
        marks = {"user_id": user_id, "via": via, "at": now}
        connection.execute(insert(History), [row | marks for row in rows])


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


def _owner(obj, subject):
    """The id of the account whose history a change to `obj` goes in; a task's: its contact's."""
    if subject == "account":
        return obj.id
    if subject == "touchpoint":
        return obj.account_id
    if subject == "contact":
        return obj.customer_id
    return None


def _record_flush(session, flush_context):
    """Every ORM change to a tracked record, as it is flushed."""
    entries = []
    for obj in [*session.new, *session.dirty]:
        tracked = TRACKED.get(type(obj))
        if tracked is None:
            continue
        subject, fields = tracked
        new = obj in session.new
        changes = _changes(obj, fields, new)
        if changes:
            entries.append((obj, _row(subject, _owner(obj, subject), obj.id, changes, new)))
    if not entries:
        return
    connection = session.connection()
    contact_ids = {obj.contact_id for obj, row in entries if row["account_id"] is None}
    if contact_ids:
        query = select(Contact.id, Contact.customer_id).where(Contact.id.in_(contact_ids))
        customers = dict(connection.execute(query).all())
        for obj, row in entries:
            if row["account_id"] is None:
                row["account_id"] = customers[obj.contact_id]
    _insert(connection, [row for _, row in entries], _author())


def _check_statement(state):
    """A statement that writes to a tracked table: a bulk UPDATE recorded, the rest marked."""
    if not (state.is_update or state.is_insert or state.is_delete):
        return
    model = TABLES.get(state.statement.table.name)
    if model is None or state.execution_options.get(HOW) in (RECORDED, NOT_A_CHANGE):
        return
    if state.is_update and _record_update(state, model):
        return
    raise UnrecordedChange(
        f"a statement writes to {model.__tablename__} with no History row: let the session "
        f"record it, or write the rows with history.write and mark it "
        f"execution_options({HOW}=RECORDED), or mark it NOT_A_CHANGE"
    )


def _record_update(state, model):
    """Record a bulk UPDATE's changes before it runs; False for one it cannot read (by primary
    key, many parameter sets) that changes a tracked field."""
    subject, fields = TRACKED[model]
    given = state.parameters if state.is_executemany else [state.parameters or {}]
    if any(name in fields for params in given for name in params):
        return False  # new values in the parameters: only their caller knows the rows
    # The SET clause, which SQLAlchemy keeps only here: {column: new value or expression}.
    set_clause = state.statement._values or {}
    values = {getattr(key, "key", key): value for key, value in set_clause.items()}
    names = [name for name in fields if name in values]
    if not names:
        return True
    table = model.__table__
    if model is TouchpointRecord:
        contacts = Contact.__table__
        owner = select(contacts.c.customer_id).where(contacts.c.id == table.c.contact_id)
        owner = owner.scalar_subquery()
    else:
        owner = table.c[{"account": "id", "touchpoint": "account_id"}.get(subject, "customer_id")]
    if len(names) == 1 and _whole_number(table.c[names[0]]):
        _record_in_database(state, subject, table, owner, names[0], values[names[0]])
        return True
    # Each row's values before and, worked out by the database from the SET clause, after;
    # locked, so the UPDATE that follows changes them from exactly these.
    query = select(
        table.c.id.label("subject_id"),
        owner.label("account_id"),
        *(table.c[name].label(f"before_{name}") for name in names),
        *(type_coerce(values[name], table.c[name].type).label(f"after_{name}") for name in names),
    ).with_for_update(of=table)
    if state.statement.whereclause is not None:
        query = query.where(state.statement.whereclause)
    connection = state.session.connection()
    rows = []
    for row in connection.execute(query).mappings():
        both = {name: (row[f"before_{name}"], row[f"after_{name}"]) for name in names}
        changes = {
            name: [plain(old), plain(new)] for name, (old, new) in both.items() if old != new
        }
        if changes:
            rows.append(_row(subject, row["account_id"], row["subject_id"], changes, False))
    _insert(connection, rows, _author())
    return True


def _whole_number(column):
    """Whether `column` holds a whole number (an id, a count), whose JSON text is its SQL text."""
    return isinstance(column.type, Integer) and not isinstance(column.type, Boolean)


def _record_in_database(state, subject, table, owner, name, value):
    """A bulk UPDATE of one whole-number field (a reassignment's rep), recorded by one INSERT …
    SELECT: the History rows _record_update's Python would write (the same columns, the same JSON
    text), with no row read into Python. A thousand accounts moved cost a thousand rows
    fetched, turned into JSON one by one and sent back by executemany (docs/benchmarks.md, B5)."""
    column = table.c[name]
    after = cast(type_coerce(value, column.type), Integer)

    def text_of(number):  # json.dumps of an int or None
        return func.coalesce(cast(number, String), "null")

    user_id, via = _author()
    # json.dumps({name: [before, after]}), as _row writes it.
    changes = (
        literal(f"{{{json.dumps(name)}: [", String)
        + text_of(column)
        + literal(", ", String)
        + text_of(after)
        + literal("]}", String)
    )
    rows = select(
        owner,
        literal(subject, String),
        table.c.id,
        literal(action_for(subject, {name: None}, False), String),
        changes,
        literal(user_id, Integer),
        literal(via, String),
        literal(utcnow(), DateTime),
    ).where(column.is_distinct_from(after))
    if state.statement.whereclause is not None:
        rows = rows.where(state.statement.whereclause)
    # Locked, so the UPDATE that follows changes them from exactly these.
    rows = rows.with_for_update(of=table)
    fields = ("account_id", "subject", "subject_id", "action", "changes", "user_id", "via", "at")
    state.session.connection().execute(insert(History).from_select(fields, rows))


def account_history(session, account, limit=50):
    """The newest changes at an account, with user names resolved in one more query."""
    entries = session.scalars(
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
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    contact_ids = {e.subject_id for e in entries if e.subject == "contact"}
    contacts = {}
    if contact_ids:
        query = select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
        contacts = dict(session.execute(query).all())
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
