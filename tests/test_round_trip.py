"""A saved value is always one the import accepts: values at every edge the forms allow, saved
through the forms, exported and imported back, come back accepted and identical; and what the
forms refuse, the import refuses too, row by row, saving nothing."""

from datetime import date, timedelta

from sqlalchemy import func, select

from tpweb.domain import csvio
from tpweb.domain.rules import LATEST, LENGTHS
from tpweb.extensions import db
from tpweb.models import Account, CallLog, Contact, History, Touchpoint, TouchpointRecord

from .csv_files import csv_text, customer, jobsite, normalised, touchpoint, wipe_accounts


def text(field, lines=False):
    """The longest text `field` takes: letters from several scripts, an emoji, a formula sign
    and a quote mid-text, line breaks in long text; no blank at either end."""
    piece = "Zoë «Ωμέγα» 東京 🚚 =1+2 'x' ; \"q\", "
    if lines:
        piece += "\nsecond line\n"
    return ("=" + piece * LENGTHS[field])[: LENGTHS[field] - 1] + "."


PHONE = ("+1 (555) 010-0199 x12/34. " * 2)[: LENGTHS["phone"] - 1] + "9"
# The latest Last Call whose Next Call, 3650 days on, is the last date saved.
LAST_START = LATEST - timedelta(days=3650)
EMAIL = "z" * (LENGTHS["email"] - len("@example.com")) + "@example.com"


def posted(client, url, data, status=303):
    response = client.post(url, data=data)
    assert response.status_code == status, response.text[:2000]
    return response


def save_edges_through_the_forms(client, make, ann):
    account = {"address": text("address"), "city": text("city"), "phone": PHONE,
               "notes": text("notes", lines=True), "sales_rep_id": ann.id}  # fmt: skip
    posted(client, "/customers/new",
           {**account, "name": text("name"), "latitude": "90", "longitude": "-180"})  # fmt: skip
    posted(client, "/customers/new",
           {**account, "name": "South", "latitude": "-90", "longitude": "180"})  # fmt: skip
    north, south = db.session.scalars(select(Account).order_by(Account.id)).all()
    posted(client, f"/customers/{north.id}/jobsites/new",
           {"name": "Site", "sales_rep_id": ann.id, "latitude": "0", "longitude": "0"})  # fmt: skip
    site = db.session.scalar(select(Account).where(Account.kind == "jobsite"))
    posted(client, f"/customers/{north.id}/contacts/new",
           {"name": text("name"), "title": text("title"), "email": EMAIL, "phone": PHONE,
            "notes": text("notes", lines=True), "active": "y"})  # fmt: skip
    # The earliest Last Call with the longest frequency; the latest dates, Next Call typed; a
    # Next Call worked out to the very last day.
    schedules = [
        (north, {"last_call": "1990-01-01", "frequency_days": "3650", "next_call": "",
                 "comment": text("comment", lines=True)}),
        (south, {"last_call": "2199-12-31", "frequency_days": "3650", "next_call": "2199-12-31"}),
        (site, {"last_call": LAST_START.isoformat(), "frequency_days": "3650", "next_call": ""}),
    ]  # fmt: skip
    for account_, data in schedules:
        posted(client, f"/{account_.kind}s/{account_.id}/touchpoints/new", data)
    # Past the edge: whether the form takes it or not, what is saved must import back.
    latest = db.session.scalar(select(Touchpoint).where(Touchpoint.account_id == south.id))
    beyond = {"last_call": "2199-12-31", "frequency_days": "3650", "next_call": "",
              "version": latest.version}  # fmt: skip
    assert client.post(f"/touchpoints/{latest.id}/edit", data=beyond).status_code in (303, 422)
    contact = db.session.scalar(select(Contact))
    posted(client, f"/contacts/{contact.id}/touchpoints",
           {"description": text("description"), "details": text("details", lines=True),
            "response_required": "y", "date_due": "2199-12-31", "date_completed": "1990-01-01",
            "assigned_to": ann.id})  # fmt: skip
    phone = make.call_type("Phone")
    tp = db.session.scalar(select(Touchpoint).where(Touchpoint.account_id == north.id))
    posted(client, f"/touchpoints/{tp.id}/complete",
           {"called_on": "1990-01-01", "duration_minutes": "1440", "call_type": phone.id,
            "contact_id": contact.id, "notes": text("notes", lines=True)})  # fmt: skip


def exported(client, what):
    if what == "accounts":
        posted(client, "/exports/accounts.csv", {})
    download = client.get(f"/exports/{what}.csv")
    assert download.status_code == 200
    return download.get_data()


def import_back(data):
    plan = csvio.plan(db.session, csvio.read(data))
    csvio.apply(db.session, plan)
    db.session.commit()
    return plan


def test_edge_values_saved_through_the_forms_export_and_import_back_identical(
    client, make, manager
):
    ann = make.rep(username="ann", name="Ann")
    save_edges_through_the_forms(client, make, ann)
    files = {what: exported(client, what) for what in ("accounts", "call-logs",
                                                        "touchpoint-records")}  # fmt: skip
    db.session.expire_all()
    saved = normalised()
    assert [t[2:5] for t in saved[2]] == [
        (date(1990, 1, 1), 3650, date(1999, 12, 30)),
        (date(2199, 12, 31), 3650, date(2199, 12, 31)),
        (LAST_START, 3650, LATEST),
    ]
    assert saved[0][0][3] == text("name") and saved[1][0][6] == text("notes", lines=True)
    histories = db.session.scalar(select(func.count(History.id)))

    # Imported back over themselves: every row accepted, nothing to change.
    for what, data in files.items():
        plan = import_back(data)
        assert plan.errors == [], what
        assert plan.changes == 0, (what, plan.summary())
    assert db.session.scalar(select(func.count(History.id))) == histories

    # Into an empty database: the same values again.
    record = db.session.scalar(select(TouchpointRecord))
    record_values = (record.description, record.details, record.date_due, record.date_completed)
    call = db.session.scalar(select(CallLog))
    call_values = (call.called_on, call.duration_minutes, call.notes)
    wipe_accounts()
    for what, data in files.items():
        plan = import_back(data)
        assert plan.errors == [] and plan.changes == plan.rows, (what, plan.summary())
    db.session.expire_all()
    assert normalised() == saved
    record = db.session.scalar(select(TouchpointRecord))
    assert (record.description, record.details, record.date_due, record.date_completed) == (
        record_values
    )
    call = db.session.scalar(select(CallLog))
    assert (call.called_on, call.duration_minutes, call.notes) == call_values


def test_a_reschedule_past_the_last_date_is_refused_beside_next_call(client, make, manager):
    account = make.customer(rep=make.rep())
    tp = make.touchpoint(account, last_call=date(2026, 11, 1), frequency_days=30)
    data = {"last_call": "2199-12-31", "frequency_days": "3650", "next_call": "",
            "version": tp.version}  # fmt: skip

    response = client.post(f"/touchpoints/{tp.id}/edit", data=data)

    assert response.status_code == 422
    problem = (
        "Last Call + 3650 days is 2209-12-29, after 2199-12-31: choose an earlier Last Call or "
        "fewer days."
    )
    assert problem in response.text
    field = response.text.split('name="next_call"')[1].split("</div>")[0]
    assert problem in field  # beside the Next Call it is about
    db.session.refresh(tp)
    assert (tp.last_call, tp.frequency_days, tp.next_call) == (
        date(2026, 11, 1),
        30,
        date(2026, 12, 1),
    )
    preview = client.get(
        "/touchpoints/next-call", query_string={"last_call": "2199-12-31", "frequency_days": "3650"}
    )
    assert problem in preview.text


def test_the_import_refuses_to_give_an_account_to_anyone_but_an_active_sales_rep(make):
    make.rep(username="ann")
    make.user("admin", username="root")
    make.manager(username="boss")
    make.rep(username="gone", active=False)
    rows = [
        customer("C1", sales_rep="ann"),
        customer("C2", sales_rep="root"),
        customer("C3", sales_rep="boss"),
        jobsite("J1", "C1", sales_rep="gone"),
    ]
    before = db.session.scalar(select(func.count(History.id)))

    plan = csvio.plan(db.session, csvio.read(csv_text(rows).encode()))

    rule = "an account's sales rep is an active user with the sales rep role"
    assert [str(error) for error in plan.errors] == [
        f"line 3: sales rep 'root' is an admin: {rule}",
        f"line 4: sales rep 'boss' is a manager: {rule}",
        f"line 5: sales rep 'gone' is deactivated: {rule}",
    ]
    csvio.apply(db.session, plan)
    db.session.commit()
    assert db.session.scalars(select(Account.external_id)).all() == ["C1"]
    assert db.session.scalar(select(func.count(History.id))) == before + 1


def test_an_account_keeps_the_rep_it_has_when_its_row_comes_back(make):
    # Saved before the rule (a manager was once offered as a sales rep): its export imports back,
    # and only a change to another rep is checked.
    boss = make.manager(username="boss")
    make.customer(rep=boss, external_id="C1", name="Old Co")
    plan = csvio.plan(
        db.session,
        csvio.read(csv_text([customer("C1", sales_rep="boss", name="Old Co Renamed")]).encode()),
    )
    assert plan.errors == [] and plan.summary()[0] == ("customer", 0, 1, 0)


def test_the_import_refuses_a_task_for_a_deactivated_user(make):
    ann, gone = make.rep(username="ann"), make.rep(username="gone", active=False)
    contact = make.contact(make.customer(rep=ann), external_id="P1")
    columns = csvio.sheet.RECORD_COLUMNS
    row = {"external_id": "R1", "contact_external_id": "P1", "description": "Quote",
           "date_completed": "2026-03-01", "author": "ann", "assigned_to": "gone",
           "response_required": "yes", "date_due": "2026-03-09"}  # fmt: skip
    plan = csvio.plan(db.session, csvio.read(csv_text([row], columns).encode()))
    assert [str(e) for e in plan.errors] == [
        "line 2: assigned_to 'gone' is deactivated: a task goes to an active user"
    ]
    assert db.session.scalar(select(func.count(TouchpointRecord.id))) == 0
    assert contact.id and gone.id


def test_the_import_refuses_a_touchpoint_whose_next_call_would_pass_the_last_date(make):
    make.customer(rep=make.rep(), external_id="C1")
    rows = [touchpoint("customer", "C1", last="2199-12-31", days="3650")]
    plan = csvio.plan(db.session, csvio.read(csv_text(rows).encode()))
    assert [str(e) for e in plan.errors] == [
        "line 2: next_call is empty, and Last Call + 3650 days is 2209-12-29, after 2199-12-31: "
        "choose an earlier Last Call or fewer days."
    ]
    assert plan.changes == 0
