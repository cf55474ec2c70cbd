"""History: one way of recording every change to an account, touchpoint, contact or task, whether
made through the ORM, a bulk statement, an import or the command line."""

import ast
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from tpweb.domain import history
from tpweb.extensions import db
from tpweb.models import Account, Contact, History, Touchpoint, TouchpointRecord

from .factories import TEST_DATA


def entries(subject=None):
    query = select(History).order_by(History.id)
    if subject:
        query = query.where(History.subject == subject)
    return db.session.scalars(query).all()


def test_setting_a_customer_inactive_writes_a_history_row_for_each_of_its_touchpoints(
    client, make, manager
):
    customer = make.customer(rep=make.rep(), name="Closing Co")
    site = make.jobsite(customer, name="Closing Site")
    mine, theirs = make.touchpoint(customer), make.touchpoint(site, comment="Gate")
    make.touchpoint(customer, last_call=date(2025, 1, 1), inactive=True)  # already ended
    before = len(entries())

    response = client.post(f"/customers/{customer.id}/status", data={"active": "0"})

    assert response.status_code == 303
    rows = entries("touchpoint")[-2:]
    assert len(entries()) == before + 4  # two accounts, two touchpoints
    assert {(r.subject_id, r.account_id) for r in rows} == {
        (mine.id, customer.id),
        (theirs.id, site.id),
    }
    for row in rows:
        assert (row.action, row.user_id) == ("set inactive", manager.id)
        assert json.loads(row.changes) == {"inactive": [False, True]}
    page = client.get(f"/customers/{customer.id}").text
    assert "Touchpoint set inactive by Mona Manager" in page


def test_a_bulk_update_through_the_session_is_recorded_row_by_row(make):
    anna, ben = make.rep(), make.rep()
    moved = [make.customer(rep=anna), make.customer(rep=anna)]
    make.customer(rep=ben)  # not matched: no row

    db.session.execute(
        update(Account).where(Account.sales_rep_id == anna.id).values(sales_rep_id=ben.id)
    )
    db.session.commit()

    rows = entries("account")[-2:]
    assert sorted(r.account_id for r in rows) == sorted(a.id for a in moved)
    assert {(r.action, r.user_id, r.changes) for r in rows} == {
        ("reassigned", None, json.dumps({"sales_rep_id": [anna.id, ben.id]}))
    }
    assert len(entries("account")) == 5  # three created, two reassigned


def test_a_bulk_update_of_one_whole_number_is_recorded_by_the_database_as_row_by_row(make):
    # One INSERT … SELECT (history._record_in_database, B5): the rows and JSON text that row
    # by row gave, None as null, an unchanged row left out, the author as `acting` says.
    anna, ben = make.rep(), make.rep()
    annas, nobodys, bens = make.customer(rep=anna), make.customer(), make.customer(rep=ben)
    ids = [annas.id, nobodys.id, bens.id]

    def moved(before, after):  # the text row by row wrote: json.dumps's, spaces and all
        return json.dumps({"sales_rep_id": [before, after]})

    with history.acting(anna.id, history.VIA_REMINDER):
        db.session.execute(update(Account).where(Account.id.in_(ids)).values(sales_rep_id=ben.id))
    db.session.execute(update(Account).where(Account.id == annas.id).values(sales_rep_id=None))

    rows = [(r.account_id, r.subject_id, r.action, r.changes, r.user_id, r.via)
            for r in entries("account")[-3:]]  # fmt: skip
    assert sorted(rows[:2]) == sorted([
        (annas.id, annas.id, "reassigned", moved(anna.id, ben.id), anna.id, "reminder"),
        (nobodys.id, nobodys.id, "reassigned", moved(None, ben.id), anna.id, "reminder"),
    ])  # fmt: skip
    assert rows[2] == (annas.id, annas.id, "reassigned", moved(ben.id, None), None, "")


def test_a_bulk_update_of_a_task_goes_in_its_customers_history(make):
    rep, other = make.rep(), make.rep()
    customer = make.customer(rep=rep)
    task = make.record(make.contact(customer), rep, response_required=True)
    db.session.execute(
        update(TouchpointRecord)
        .where(TouchpointRecord.id == task.id)
        .values(assigned_to_id=other.id, date_due=date(2026, 12, 1))
    )
    (row,) = entries("task")[-1:]
    assert (row.account_id, row.subject_id, row.action) == (customer.id, task.id, "reassigned")
    assert json.loads(row.changes) == {
        "date_due": ["2026-11-08", "2026-12-01"],
        "assigned_to_id": [rep.id, other.id],
    }


def test_a_bulk_update_that_changes_nothing_tracked_writes_no_row(make):
    customer = make.customer()
    before = len(entries())
    db.session.execute(update(Account).values(external_id="tpweb-x"))
    db.session.execute(update(Account).where(Account.id == customer.id).values(name=customer.name))
    assert len(entries()) == before


@pytest.mark.parametrize(
    "statement",
    [
        # An UPDATE by primary key, many parameter sets: the session cannot read it.
        lambda tp: (update(Touchpoint), [{"id": tp.id, "comment": "Changed"}]),
        lambda tp: (update(Touchpoint.__table__), [{"comment": "Changed"}]),
        lambda tp: (update(Touchpoint.__table__), {"comment": "Changed"}),
        lambda tp: (insert(Contact), [{"customer_id": tp.account_id, "name": "New"}]),
        lambda tp: (Touchpoint.__table__.delete(), None),
    ],
    ids=["update by primary key", "core executemany", "core values given", "insert", "delete"],
)
def test_an_unmarked_bulk_change_it_cannot_record_is_refused(make, statement):
    tp = make.touchpoint(make.customer(), comment="Before")
    before = len(entries())
    with pytest.raises(history.UnrecordedChange):
        db.session.execute(*statement(tp))
    db.session.rollback()
    assert db.session.get(Touchpoint, tp.id).comment == "Before"
    assert db.session.scalar(select(func.count(Contact.id))) == 0
    assert len(entries()) == before


def test_a_statement_marked_recorded_is_left_to_its_caller(make):
    customer = make.customer()
    contact = make.contact(customer, title="Buyer")
    db.session.execute(
        update(Contact),
        [{"id": contact.id, "title": "Owner"}],
        execution_options={history.HOW: history.RECORDED},
    )
    changes = {"title": ["Buyer", "Owner"]}
    history.write(db.session, "contact", [(customer.id, contact.id, changes, False)], None)
    (row,) = entries("contact")[-1:]
    assert (row.account_id, row.action, json.loads(row.changes)) == (
        customer.id,
        "updated",
        changes,
    )
    assert db.session.scalar(select(func.count(History.id))) == 3  # two created, one updated


def test_test_data_written_in_bulk_is_marked(make):
    # The mark tests use for their own bulk rows: no history, no error.
    row = {"kind": "customer", "name": "Bulk", "address": "", "city": "", "phone": "", "notes": ""}
    db.session.execute(insert(Account).execution_options(**TEST_DATA), [row])
    assert entries() == []


ACCOUNTS_FILE = (
    "kind,external_id,name,sales_rep,account_kind,account_external_id,last_call,frequency_days\n"
    "customer,C1,Cli Co,ann,,,,\n"
    "touchpoint,,,,customer,C1,2026-03-01,30\n"
)


def test_changes_imported_from_the_command_line_are_in_the_history(runner, make, tmp_path):
    make.rep(username="ann")
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS_FILE)
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    path.write_text(ACCOUNTS_FILE.replace("Cli Co", "Cli Company").replace(",30", ",14"))
    assert runner.invoke(args=["import", str(path)]).exit_code == 0

    customer = db.session.scalar(select(Account).where(Account.external_id == "C1"))
    tp = db.session.scalar(select(Touchpoint))
    got = [(e.subject, e.subject_id, e.account_id, e.action, e.user_id) for e in entries()]
    assert got == [
        ("account", customer.id, customer.id, "created", None),
        ("touchpoint", tp.id, customer.id, "created", None),
        ("account", customer.id, customer.id, "updated", None),
        ("touchpoint", tp.id, customer.id, "updated", None),
    ]
    assert json.loads(entries()[-1].changes) == {
        "frequency_days": [30, 14],
        "next_call": ["2026-03-31", "2026-03-15"],
    }


def test_demo_data_loaded_from_the_command_line_is_in_the_history(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    accounts = db.session.scalar(select(func.count(Account.id)))
    created = select(func.count(History.id)).where(
        History.subject == "account", History.action == "created"
    )
    assert accounts and db.session.scalar(created) == accounts


def test_history_knows_no_flask():
    source = Path(history.__file__).read_text()
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(name.split(".")[0].startswith("flask") for name in imported)
