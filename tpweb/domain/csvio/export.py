"""CSV out: customers, jobsites, contacts and touchpoints in one file, call logs and touchpoint
records each in their own; every one a form the import reads back. Streamed a batch at a time."""

import csv
import io
import secrets
from datetime import date

from sqlalchemy import String, cast, exists, literal, select, update
from sqlalchemy.orm import aliased

from tpweb.domain.csvio.sheet import CALL_LOG_COLUMNS, COLUMNS, RECORD_COLUMNS, escape_cell
from tpweb.models import Account, CallLog, CallLogType, Contact, Touchpoint, TouchpointRecord, User

# Rows fetched per round trip, and written per chunk of the stream.
BATCH = 1000

Customer = aliased(Account, name="customer")
Author = aliased(User, name="author")
Assignee = aliased(User, name="assignee")
Responder = aliased(User, name="responder")


def _accounts(kind):
    query = (
        select(
            *(Account.external_id, Customer.external_id.label("customer_external_id")),
            *(Account.name, Account.address, Account.city, Account.phone, Account.notes),
            *(Account.latitude, Account.longitude, User.username.label("sales_rep")),
            Account.active,
        )
        .outerjoin(Customer, Account.customer_id == Customer.id)
        .outerjoin(User, Account.sales_rep_id == User.id)
        .where(Account.kind == kind)
        .order_by(Account.id)
    )
    return {"kind": kind}, query


def _contacts():
    query = (
        select(
            *(Contact.external_id, Customer.external_id.label("customer_external_id")),
            *(Contact.name, Contact.title, Contact.email, Contact.phone, Contact.notes),
            Contact.active,
        )
        .join(Customer, Contact.customer_id == Customer.id)
        .order_by(Contact.id)
    )
    return {"kind": "contact"}, query


def _touchpoints():
    query = (
        select(
            Account.kind.label("account_kind"),
            Account.external_id.label("account_external_id"),
            *(Touchpoint.last_call, Touchpoint.frequency_days, Touchpoint.next_call),
            *(Touchpoint.comment, Touchpoint.inactive),
        )
        .join(Account, Touchpoint.account_id == Account.id)
        # Oldest first: an import creates them in this order, so a second export matches.
        .order_by(Touchpoint.id)
    )
    return {"kind": "touchpoint"}, query


def _call_logs():
    query = (
        select(
            *(CallLog.external_id, CallLog.called_on),
            Account.kind.label("account_kind"),
            Account.external_id.label("account_external_id"),
            Account.name.label("account_name"),
            User.username.label("user"),
            Contact.external_id.label("contact_external_id"),
            Contact.name.label("contact_name"),
            CallLogType.name.label("call_type"),
            *(CallLog.duration_minutes, CallLog.notes),
        )
        .join(Account, CallLog.account_id == Account.id)
        .join(User, CallLog.user_id == User.id)
        .join(CallLogType, CallLog.call_type_id == CallLogType.id)
        .outerjoin(Contact, CallLog.contact_id == Contact.id)
        .order_by(CallLog.id)
    )
    return {}, query


def _records():
    record = TouchpointRecord
    query = (
        select(
            record.external_id,
            Contact.external_id.label("contact_external_id"),
            Contact.name.label("contact_name"),
            Customer.external_id.label("customer_external_id"),
            Customer.name.label("customer_name"),
            *(record.description, record.details, record.response_required),
            *(record.date_due, record.date_completed, Author.username.label("author")),
            *(Assignee.username.label("assigned_to"), record.responded_on),
            *(Responder.username.label("responded_by"), record.response_note),
        )
        .join(Contact, record.contact_id == Contact.id)
        .join(Customer, Contact.customer_id == Customer.id)
        .join(Author, record.author_id == Author.id)
        .join(Assignee, record.assigned_to_id == Assignee.id)
        .outerjoin(Responder, record.responded_by_id == Responder.id)
        .order_by(record.id)
    )
    return {}, query


# What can be exported: a title, the columns, and the queries whose rows fill them, in order.
EXPORTS = {
    "accounts": (
        "Customers, jobsites, contacts and touchpoints",
        COLUMNS,
        lambda: [_accounts("customer"), _accounts("jobsite"), _contacts(), _touchpoints()],
    ),
    "call-logs": ("Call logs", CALL_LOG_COLUMNS, lambda: [_call_logs()]),
    "touchpoint-records": ("Touchpoint records", RECORD_COLUMNS, lambda: [_records()]),
}


def export_lines(session, what):
    """The export `what` as CSV text, a chunk of rows at a time, header first."""
    _title, columns, queries = EXPORTS[what]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for fixed, query in queries():
        found = session.execute(query.execution_options(yield_per=BATCH)).mappings()
        for n, row in enumerate(found, 1):
            values = fixed | dict(row)
            writer.writerow([_cell(values.get(column)) for column in columns])
            if n % BATCH == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return escape_cell(value)
    # Numbers: repr gives back the very float on import.
    return repr(value)


def assign_external_ids(session):
    """Give every account, contact, call log and record without an external id one, `tpweb-<id>`,
    so that an export names each the way its import finds it again. Returns how many got one."""
    given = 0
    for model in (Account, Contact, CallLog, TouchpointRecord):
        other = aliased(model)
        candidate = literal("tpweb-") + cast(model.id, String)
        taken = exists().where(other.external_id == candidate)
        if model is Account:
            taken = taken.where(other.kind == Account.kind)
        result = session.execute(
            update(model)
            .where(model.external_id.is_(None), ~taken)
            .values(external_id=candidate)
            .execution_options(synchronize_session=False)
        )
        given += result.rowcount
        # Rare: tpweb-<id> already names another record, one imported from another database.
        for id_ in session.scalars(select(model.id).where(model.external_id.is_(None))).all():
            external_id = f"tpweb-{id_}-{secrets.token_hex(4)}"
            session.execute(
                update(model)
                .where(model.id == id_)
                .values(external_id=external_id)
                .execution_options(synchronize_session=False)
            )
            given += 1
    return given
