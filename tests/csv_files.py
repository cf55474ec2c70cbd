"""CSV files as a manager writes them: rows of each kind, their text and its upload to /imports;
and the accounts wiped, or read back as plain values keyed by external ids."""

import csv
import io

from sqlalchemy import delete, select

from tpweb.domain import csvio
from tpweb.extensions import db
from tpweb.models import Account, CallLog, Contact, History, Touchpoint, TouchpointRecord

from .factories import TEST_DATA

BOUNDARY = "tpweb-test-boundary"


def csv_text(rows, columns=csvio.COLUMNS):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def customer(key, **cells):
    return {"kind": "customer", "external_id": key, "name": f"Customer {key}", **cells}


def jobsite(key, parent, **cells):
    cells = {"name": f"Jobsite {key}", **cells}
    return {"kind": "jobsite", "external_id": key, "customer_external_id": parent, **cells}


def contact(key, parent, **cells):
    cells = {"name": f"Contact {key}", **cells}
    return {"kind": "contact", "external_id": key, "customer_external_id": parent, **cells}


def touchpoint(kind, key, last="2026-03-02", days="30", **cells):
    ref = {"account_kind": kind, "account_external_id": key}
    return {"kind": "touchpoint", **ref, "last_call": last, "frequency_days": days, **cells}


def wipe_accounts():
    """An empty database, as far as accounts go: the users stay, to be named as sales reps."""
    for model in (History, CallLog, TouchpointRecord, Touchpoint, Contact):
        db.session.execute(delete(model).execution_options(**TEST_DATA))
    db.session.execute(
        delete(Account).where(Account.kind == "jobsite").execution_options(**TEST_DATA)
    )
    db.session.execute(delete(Account).execution_options(**TEST_DATA))
    db.session.commit()


def normalised():
    """Every account, contact and touchpoint as plain values, keyed by external ids, not ids."""
    accounts = db.session.scalars(select(Account).order_by(Account.kind, Account.external_id))
    contacts = db.session.scalars(select(Contact).order_by(Contact.external_id))
    touchpoints = db.session.scalars(select(Touchpoint).order_by(Touchpoint.id))
    return (
        [(a.kind, a.external_id, a.customer and a.customer.external_id, a.name, a.address,
          a.city, a.phone, a.notes, a.latitude, a.longitude,
          a.sales_rep and a.sales_rep.username, a.active) for a in accounts],
        [(c.external_id, c.customer.external_id, c.name, c.title, c.email, c.phone, c.notes,
          c.active) for c in contacts],
        [(t.account.kind, t.account.external_id, t.last_call, t.frequency_days, t.next_call,
          t.comment, t.inactive) for t in touchpoints],
    )  # fmt: skip


def upload(client, data, name="team.csv", **kwargs):
    """Post `data` as the file field, encoded here: the test client spools a big body to a
    temporary file it never closes."""
    if isinstance(data, str):
        data = data.encode()
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    body = (
        f"{head}Content-Type: text/csv\r\n\r\n".encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    return client.post("/imports", data=body, content_type=content_type, **kwargs)
