"""The CSV rules at their edges, one behaviour per test, on a file's text (`make mutants`)."""

import csv
import io

import pytest

from tpweb.csvio import export_lines
from tpweb.csvio.sheet import escape_cell, unescape_cell
from tpweb.extensions import db


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-1", "@me", "\tx", "\rx", "'=x", "''"])
def test_a_would_be_formula_is_quoted_on_export_and_restored_on_import(text):
    assert escape_cell(text) == "'" + text
    assert unescape_cell(escape_cell(text)) == text


@pytest.mark.parametrize("text", ["plain", "it's", "'plain", "", "'"])
def test_other_text_goes_out_and_comes_back_unchanged(text):
    assert escape_cell(text) == text
    assert unescape_cell(text) == text


def exported(what):
    return list(csv.DictReader(io.StringIO("".join(export_lines(db.session, what)))))


def test_records_export_in_the_order_they_were_written_whatever_their_contacts(app, make):
    rep = make.rep()
    first, second = (make.contact(make.customer(rep=rep), name=n) for n in ("Zed", "Abe"))
    for n, contact in enumerate([second, first, second, first]):
        make.record(contact, rep, description=f"Record {n}", external_id=f"R{n}")
    assert [row["external_id"] for row in exported("touchpoint-records")] == [
        "R0",
        "R1",
        "R2",
        "R3",
    ]


def test_a_records_row_names_its_contact_and_customer_beside_their_ids(app, make):
    ann, bo = make.rep(username="ann"), make.rep(username="bo")
    customer = make.customer(rep=ann, name="Acme", external_id="A1")
    other = make.customer(rep=ann, name="Birch", external_id="B1")
    make.contact(other, name="Not this one", external_id="Y1")
    contact = make.contact(customer, name="Dana", external_id="Z1")
    make.record(contact, ann, assigned_to=bo, description="Call", external_id="R1")
    [row] = exported("touchpoint-records")
    assert {k: row[k] for k in list(row)[:6]} == {
        "external_id": "R1",
        "contact_external_id": "Z1",
        "contact_name": "Dana",
        "customer_external_id": "A1",
        "customer_name": "Acme",
        "description": "Call",
    }
    assert (row["author"], row["assigned_to"], row["responded_by"]) == ("ann", "bo", "")


def test_a_call_logs_row_names_who_called_not_the_accounts_rep(app, make):
    ann, bo = make.rep(username="ann"), make.rep(username="bo")
    visit = make.call_type("Visit")
    make.call_type("Phone", position=1)
    account = make.customer(rep=ann, name="Acme", external_id="A1")
    make.call_log(account, bo, visit, external_id="L1")
    [row] = exported("call-logs")
    assert (row["external_id"], row["account_name"], row["user"], row["call_type"]) == (
        "L1",
        "Acme",
        "bo",
        "Visit",
    )
