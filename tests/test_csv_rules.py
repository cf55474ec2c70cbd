"""The CSV rules at their edges, one behaviour per test, on a file's text (`make mutants`)."""

import codecs
import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.orm.exc import StaleDataError

from tpweb.domain import csvio, rules
from tpweb.domain.csvio import assign_external_ids, export_lines, importer, logs, report_lines
from tpweb.domain.csvio.sheet import FileError, escape_cell, parse, read, unescape_cell
from tpweb.domain.rules import EARLIEST, LATEST
from tpweb.extensions import db
from tpweb.models import Account, Contact, History, TouchpointRecord, User

from .factories import TEST_DATA


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


ACCOUNT_HEADER = ("kind", "external_id", "name", "latitude", "longitude", "active")
TOUCHPOINT_HEADER = ("kind", "account_kind", "account_external_id", "last_call", "frequency_days",
                     "next_call", "inactive")  # fmt: skip


def customer(name="Acme", latitude="", longitude="", active=""):
    return parse(2, ["customer", "C1", name, latitude, longitude, active], ACCOUNT_HEADER)


def touchpoint(last_call="2026-11-01", days="30", next_call="", inactive="", account="customer"):
    cells = ["touchpoint", account, "C1", last_call, days, next_call, inactive]
    return parse(2, cells, TOUCHPOINT_HEADER)


@pytest.mark.parametrize(
    ("latitude", "longitude"), [("90", "180"), ("-90", "-180"), ("0", "0"), (".5", "+1.")]
)
def test_coordinates_on_their_bounds_are_taken(latitude, longitude):
    row = customer(latitude=latitude, longitude=longitude)
    assert row.reasons == []
    assert (row.values["latitude"], row.values["longitude"]) == (float(latitude), float(longitude))


@pytest.mark.parametrize(
    ("latitude", "longitude", "reason"),
    [
        ("90.01", "0", "latitude 90.01 is outside -90..90"),
        ("0", "-180.5", "longitude -180.5 is outside -180..180"),
        ("1e3", "0", "latitude '1e3' is not a number"),
        ("nan", "0", "latitude 'nan' is not a number"),
        ("1", "", "give both latitude and longitude, or neither"),
        ("", "1", "give both latitude and longitude, or neither"),
    ],
)
def test_coordinates_off_their_bounds_or_alone_are_refused(latitude, longitude, reason):
    assert customer(latitude=latitude, longitude=longitude).reasons == [reason]


def test_no_location_at_all_is_fine():
    row = customer()
    assert row.reasons == [] and row.values["latitude"] is row.values["longitude"] is None


def test_text_up_to_its_columns_length_is_taken_and_one_more_is_refused():
    assert customer(name="n" * 200).values["name"] == "n" * 200
    assert customer(name="n" * 201).reasons == ["name is 201 characters long, more than 200"]
    assert customer(name="  Acme  ").values["name"] == "Acme"


@pytest.mark.parametrize(("days", "value"), [("1", 1), ("3650", 3650), (" 0030 ", 30)])
def test_frequencies_on_their_bounds_are_taken(days, value):
    row = touchpoint(days=days)
    assert row.reasons == [] and row.values["frequency_days"] == value


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        ("3651", "frequency_days 3651 is outside 1..3650"),
        ("10000", "frequency_days 10000 is outside 1..3650"),
        ("-1", "frequency_days '-1' is not a whole number of days"),
        ("٣", "frequency_days '٣' is not a whole number of days"),
        ("", "frequency_days is required"),
    ],
)
def test_frequencies_off_their_bounds_are_refused(days, reason):
    assert touchpoint(days=days).reasons == [reason]


def test_next_call_defaults_to_last_call_plus_frequency_and_may_be_last_call_itself():
    assert touchpoint().values["next_call"] == date(2026, 12, 1)
    same_day = touchpoint(next_call="2026-11-01")
    assert same_day.reasons == [] and same_day.values["next_call"] == date(2026, 11, 1)
    assert touchpoint(next_call="2026-10-31").reasons == [
        "next_call 2026-10-31 is before last_call 2026-11-01"
    ]
    assert touchpoint(days="x").values.get("next_call") is None


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (f"{EARLIEST:%Y-%m-%d}", None),
        (f"{LATEST:%Y-%m-%d}", None),
        (f"{EARLIEST - timedelta(1):%Y-%m-%d}", "is outside 1990..2199"),
        (f"{LATEST + timedelta(1):%Y-%m-%d}", "is outside 1990..2199"),
        ("2026-1-1", "is not a date (YYYY-MM-DD)"),
    ],
)
def test_dates_between_the_earliest_and_latest_are_taken(day, reason):
    # A good day's next_call given as that day: the latest stays in the window (rules).
    row = touchpoint(last_call=day, days="1", next_call=day if reason is None else "")
    if reason is None:
        assert row.reasons == [] and row.values["last_call"] == date.fromisoformat(day)
    else:
        [found] = row.reasons
        assert found.startswith("last_call ") and found.endswith(reason)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("", True), ("yes", True), (" Y ", True), ("TRUE", True), ("1", True),
     ("no", False), ("n", False), ("False", False), ("0", False)],
)  # fmt: skip
def test_flags_read_yes_and_no_words_and_default_when_empty(cell, value):
    assert customer(active=cell).values["active"] is value
    assert touchpoint(inactive=cell).values["inactive"] is (value if cell else False)


def test_an_empty_account_kind_is_left_for_the_import_to_refuse():
    assert touchpoint(account="").values["account_kind"] == ""
    assert touchpoint(account=" Jobsite ").values["account_kind"] == "jobsite"


def test_a_row_of_the_wrong_width_or_kind_says_so():
    assert parse(3, ["customer", "C1"], ACCOUNT_HEADER).reasons == ["2 cells, the header has 6"]
    row = parse(3, [" Customer ", "C1", "Acme", "", "", ""], ACCOUNT_HEADER)
    assert (row.kind, row.key, row.line, row.reasons) == ("customer", "C1", 3, [])
    wide = "v" * 40
    assert (
        parse(3, [wide, "", "", "", "", ""], ACCOUNT_HEADER)
        .reasons[0]
        .startswith(f"kind '{wide}' is not one of")
    )
    assert (
        parse(3, [wide + "w", "", "", "", "", ""], ACCOUNT_HEADER)
        .reasons[0]
        .startswith(f"kind '{wide[:39]}…' is not one of")
    )


def test_a_header_is_read_whatever_its_case_spaces_and_byte_order_mark():
    sheet = read(codecs.BOM_UTF8 + b" Kind ,External_ID,name,\ncustomer,C1,Acme,\n\n,,,\n")
    assert sheet.columns == ("kind", "external_id", "name", "")
    assert sheet.records == [(2, ["customer", "C1", "Acme", ""])]


def test_a_records_line_is_where_it_starts_when_a_cell_runs_over_lines():
    sheet = read(b'kind,external_id,name,notes\ncustomer,C1,Acme,"one\ntwo"\ncustomer,C2,Birch,\n')
    assert [line for line, _ in sheet.records] == [2, 4]


def test_a_utf16_file_from_either_end_and_a_bad_byte_line_are_named():
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        with pytest.raises(FileError, match="this is UTF-16 text"):
            read(bom + "kind".encode("utf-16-le"))
    with pytest.raises(FileError, match="line 3 has bytes"):
        read(b"kind,name\ncustomer,A\ncustomer,Caf\xe9\n")


def test_a_kind_column_the_rows_need_is_asked_for_only_when_such_a_row_is_there():
    assert read(b"kind,external_id,name\ncustomer,C1,Acme\n").columns[0] == "kind"
    with pytest.raises(FileError, match="missing required column: customer_external_id"):
        read(b"kind,external_id,name\njobsite,J1,Yard\n")
    with pytest.raises(FileError, match="missing required column: contact_external_id"):
        read(b"external_id,date_completed\n")


def test_the_accounts_export_writes_each_kind_and_flag_in_the_words_import_reads(app, make):
    rep = make.rep(username="ann")
    acme = make.customer(rep=rep, name="Acme", external_id="A1", active=False)
    make.touchpoint(acme, inactive=True)
    make.contact(acme, name="Dana", external_id="Z1")
    rows = exported("accounts")
    assert [(r["kind"], r["active"], r["inactive"]) for r in rows] == [
        ("customer", "no", ""),
        ("contact", "yes", ""),
        ("touchpoint", "", "yes"),
    ]


def test_a_record_without_an_external_id_gets_tpweb_and_its_id_or_a_random_tail(app, make):
    rep = make.rep()
    fresh, clash = make.customer(rep=rep), make.customer(rep=rep)
    # An account imported from another database already has the name `clash` would get.
    make.customer(rep=rep, external_id=f"tpweb-{clash.id}")
    given = assign_external_ids(db.session)
    db.session.expire_all()
    assert given == 2
    assert fresh.external_id == f"tpweb-{fresh.id}"
    assert re.fullmatch(rf"tpweb-{clash.id}-[0-9a-f]{{8}}", clash.external_id)


CONTACT_HEADER = ("kind", "external_id", "customer_external_id", "name", "email", "active")


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["contact", "P1", "C1", "Dana", "not-an-email", ""],
         "email 'not-an-email' is not an email address"),
        (["contact", "P1", "C1", "Dana", "a@b.c", "maybe"], "active 'maybe' is not yes or no"),
        (["contact", "P1", "C1", "", "", ""], "name is required"),
        (["contact", "", "C1", "Dana", "", ""], "external_id is required"),
        (["vendor", "P1", "C1", "Dana", "", ""],
         "kind 'vendor' is not one of customer, jobsite, contact, touchpoint"),
    ],
)  # fmt: skip
def test_each_bad_cell_says_which_column_and_what_it_holds(cells, reason):
    row = parse(7, cells, CONTACT_HEADER)
    assert (row.line, row.reasons) == (7, [reason])


def test_a_row_of_the_wrong_width_is_reported_on_its_own_line_with_no_kind_or_key():
    row = parse(9, ["contact", "P1"], CONTACT_HEADER)
    assert (row.line, row.kind, row.key, row.reasons) == (9, "", "", ["2 cells, the header has 6"])


def test_a_short_row_before_the_kind_column_is_left_for_its_row_check():
    sheet = read(b"external_id,kind,name\nC1\ncustomer\n")
    assert sheet.records == [(2, ["C1"]), (3, ["customer"])]


def test_a_missing_column_error_quotes_a_long_header_cut_short():
    header = "kind,account_kind,account_external_id,frequency_days,comment" + "," * 200
    with pytest.raises(FileError) as error:
        read(f"{header}\ntouchpoint,customer,C1,7\n".encode())
    assert str(error.value) == (
        f"missing required column: last_call (touchpoint rows need it; the header line is: "
        f"{header[:199]}…)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"kind\ncustomer\n",
         "missing required column: external_id (customer rows need it; the header line is: kind)"),
        (b"kind,latitude\n", "latitude and longitude go together: give both columns or neither"),
        (codecs.BOM_UTF8,
         "missing required column: kind (the header line is: ); a call log export has called_on, "
         "a touchpoint record export date_completed"),
    ],
)  # fmt: skip
def test_a_header_error_says_exactly_what_is_wrong(data, message):
    with pytest.raises(FileError) as error:
        read(data)
    assert str(error.value) == message


def test_a_header_without_kind_is_quoted_cut_short_when_long():
    header = "name" + ",city" * 60
    with pytest.raises(FileError) as error:
        read(header.encode())
    assert f"(the header line is: {header[:199]}…)" in str(error.value)


def test_a_cell_quoted_in_a_reason_has_its_spaces_collapsed():
    row = parse(2, ["a  b\nc", "P1", "C1", "Dana", "", ""], CONTACT_HEADER)
    assert row.reasons[0].startswith("kind 'a b c' is not one of")
    assert (row.kind, row.key) == ("a  b\nc", "")


def test_a_rows_key_is_its_external_id_or_empty():
    assert touchpoint().key == ""
    assert customer().key == "C1"


def test_line_breaks_inside_a_quoted_cell_are_kept_as_written():
    sheet = read(b'kind,external_id,name,notes\r\ncustomer,C1,Acme,"one\r\ntwo"\r\n')
    assert sheet.records == [(2, ["customer", "C1", "Acme", "one\r\ntwo"])]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00", "this is a workbook or a zip file, not CSV: save it as CSV UTF-8"),
        (b"\nkind,name\ncustomer,Caf\xe9\n",
         "this is not a CSV file in UTF-8: line 3 has bytes that are not UTF-8 text; "
         "save it as CSV UTF-8"),
        (b"kind,name\ncustomer," + b"x" * 131073 + b"\n",
         "line 2: this is not valid CSV (field larger than field limit (131072))"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_csv_in_utf8_says_exactly_how_to_save_it(data, message):
    with pytest.raises(FileError) as error:
        read(data)
    assert str(error.value) == message


def test_a_long_export_streams_a_thousand_rows_at_a_time(app):
    rep = User(username="ann", name="Ann", role="rep", password_hash="x", timezone="UTC")
    db.session.add(rep)
    db.session.flush()
    rows = [{"kind": "customer", "name": f"C{n}", "external_id": f"C{n}", "sales_rep_id": rep.id}
            for n in range(2001)]  # fmt: skip
    db.session.execute(insert(Account), rows, execution_options=TEST_DATA)
    db.session.commit()
    chunks = list(export_lines(db.session, "accounts"))
    assert [chunk.count("\r\n") for chunk in chunks] == [1001, 1000, 1]
    rows = csv.DictReader(io.StringIO("".join(chunks)))
    assert [(row["kind"], row["external_id"]) for row in rows] == [
        ("customer", f"C{n}") for n in range(2001)
    ]


def planned(text):
    return csvio.plan(db.session, read(text.encode()))


LOG_HEADER = "external_id,called_on,account_kind,account_external_id,user,call_type\n"


@pytest.fixture
def yard(app, make):
    """A jobsite and, saved after it, a customer that share the external id X1; Ann and Bo."""
    ann, bo = make.rep(username="ann"), make.rep(username="bo")
    site = make.jobsite(make.customer(rep=ann, external_id="C0"), rep=bo, external_id="X1")
    make.customer(rep=ann, external_id="X1")
    return site, ann, bo


def test_a_call_log_finds_its_account_by_kind_and_external_id(yard, make):
    site, ann, bo = yard
    make.call_type("Visit")
    plan = planned(LOG_HEADER + "L1,2026-11-02,jobsite,X1,ann,Visit\n")
    assert plan.errors == []
    [(values, _, _)] = plan.inserts["call log"]
    assert (values["account_id"], values["user_id"]) == (site.id, ann.id)


def test_with_no_call_types_yet_a_call_log_says_an_admin_adds_them(yard):
    plan = planned(LOG_HEADER + "L1,2026-11-02,jobsite,X1,ann,Phone\n")
    assert [str(e) for e in plan.errors] == [
        "line 2: unknown call type 'Phone' (the call types are: none yet: an admin adds them)"
    ]


def test_rows_without_an_external_id_are_not_duplicates_of_each_other(yard, make):
    make.call_type("Visit")
    plan = planned(LOG_HEADER + ",2026-11-02,jobsite,X1,ann,Visit\n" * 2)
    assert [str(e) for e in plan.errors] == [
        "line 2: external_id is required",
        "line 3: external_id is required",
    ]


def test_a_records_assignee_and_responder_are_found_by_username(yard, make):
    site, ann, bo = yard
    cy = make.rep(username="cy")
    contact = make.contact(site.customer, external_id="Z1")
    header = ",".join(("external_id", "contact_external_id", "description", "date_completed",
                       "author", "assigned_to", "response_required", "date_due", "responded_on",
                       "responded_by", "response_note"))  # fmt: skip
    plan = planned(f"{header}\nR1,Z1,Call,2026-11-02,ann,bo,yes,2026-11-09,2026-11-03,cy,Quoted\n")
    assert plan.errors == []
    [(values, _, _)] = plan.inserts["touchpoint record"]
    assert (values["contact_id"], values["author_id"], values["assigned_to_id"]) == (
        contact.id,
        ann.id,
        bo.id,
    )
    assert values["responded_by_id"] == cy.id


@pytest.mark.parametrize(("bad", "heading"), [(1, "1 bad row, not imported:"),
                                              (2, "2 bad rows, not imported:")])  # fmt: skip
def test_the_report_counts_bad_rows_in_words(yard, make, bad, heading):
    make.call_type("Visit")
    plan = planned(LOG_HEADER + "L1,2026-11-02,jobsite,NOPE,ann,Visit\n" * bad)
    assert heading in list(report_lines(plan, done=False))


RECORD_HEADER = ("external_id,contact_external_id,description,date_completed,author,assigned_to,"
                 "responded_by\n")  # fmt: skip


@pytest.fixture
def dana(yard, make):
    site, ann, bo = yard
    return make.contact(site.customer, external_id="Z1")


def test_a_new_records_history_holds_its_values_but_not_its_empty_ones(dana):
    plan = planned(RECORD_HEADER + "R1,Z1,Call,2026-11-02,ann,bo,\n")
    [(values, changes, owner)] = plan.inserts["touchpoint record"]
    assert (values["responded_by_id"], owner) == (None, dana.customer_id)
    assert changes == {
        "description": [None, "Call"],
        "assigned_to_id": [None, values["assigned_to_id"]],
    }


def test_an_import_again_counts_each_record_updated_or_unchanged(dana, make):
    heard = []
    rows = "".join(f"R{n},Z1,Call,2026-11-02,ann,ann,\n" for n in range(4))
    csvio.apply(db.session, planned(RECORD_HEADER + rows), progress=heard.append)
    assert heard == [4]
    reassigned = rows.replace("R0,Z1,Call,2026-11-02,ann,ann", "R0,Z1,Call,2026-11-02,ann,bo")
    reassigned = reassigned.replace("R1,Z1,Call,2026-11-02,ann,ann", "R1,Z1,Call,2026-11-02,ann,bo")
    plan = planned(RECORD_HEADER + reassigned)
    assert plan.summary() == [("touchpoint record", 0, 2, 2)]
    csvio.apply(db.session, plan, progress=heard.append)
    assert heard == [4, 2]


def test_a_touchpoint_updated_by_an_import_is_stamped_with_the_time(app, make):
    account = make.customer(rep=make.rep(), external_id="A1")
    tp = make.touchpoint(account, last_call=date(2026, 1, 1))
    before = tp.updated_at
    text = "kind,account_kind,account_external_id,last_call,frequency_days\n"
    csvio.apply(db.session, planned(text + "touchpoint,customer,A1,2026-01-01,9\n"))
    db.session.commit()
    db.session.refresh(tp)
    assert (tp.frequency_days, tp.version) == (9, 2) and tp.updated_at > before


ACCOUNTS = "kind,external_id,customer_external_id,name,sales_rep\n"


def test_an_empty_sales_rep_cell_clears_the_rep_and_no_column_keeps_it(app, make):
    ann = make.rep(username="ann")
    acme = make.customer(rep=ann, name="Acme", external_id="A1")
    csvio.apply(db.session, planned("kind,external_id,name\ncustomer,A1,Acme Co\n"))
    db.session.commit()
    db.session.refresh(acme)
    assert (acme.name, acme.sales_rep_id) == ("Acme Co", ann.id)
    csvio.apply(db.session, planned(ACCOUNTS + "customer,A1,,Acme Co,\n"))
    db.session.commit()
    db.session.refresh(acme)
    assert acme.sales_rep_id is None


def test_an_imported_contact_lands_at_its_customer(app, make):
    acme = make.customer(rep=make.rep(username="ann"), external_id="A1")
    plan = planned(ACCOUNTS + "contact,P1,A1,Dana,\ncustomer,B1,,Birch,ann\n")
    assert plan.errors == []
    csvio.apply(db.session, plan)
    db.session.commit()
    [contact] = db.session.scalars(select(Contact)).all()
    assert (contact.name, contact.customer_id, contact.external_id) == ("Dana", acme.id, "P1")


def test_an_import_moves_a_jobsite_to_a_customer_the_same_file_creates(app, make):
    acme = make.customer(rep=make.rep(username="ann"), external_id="A1")
    site = make.jobsite(acme, external_id="J1", name="Yard")
    heard = []
    plan = planned(ACCOUNTS + "customer,B1,,Birch,ann\njobsite,J1,B1,Yard,\n")
    csvio.apply(db.session, plan, progress=heard.append)
    db.session.commit()
    db.session.refresh(site)
    birch = db.session.scalars(select(Account).filter_by(external_id="B1")).one()
    assert site.customer_id == birch.id
    assert heard == [1, 1]


def test_an_imports_history_has_each_update_and_create_under_its_account(app, make):
    make.customer(external_id="Z0")  # so that no account has the new contact's id
    acme = make.customer(rep=make.rep(username="ann"), external_id="A1", name="Acme")
    db.session.execute(delete(History))  # the factories' own entries
    plan = planned(ACCOUNTS + "customer,A1,,Acme Co,ann\ncustomer,B1,,Birch,ann\n"
                   "contact,P1,A1,Dana,\n")  # fmt: skip
    csvio.apply(db.session, plan)
    db.session.commit()
    birch = db.session.scalars(select(Account).filter_by(external_id="B1")).one()
    assert None not in db.session.scalars(select(History.at)).all()
    entries = db.session.execute(select(History.account_id, History.subject)).all()
    assert sorted(entries) == sorted(
        [(acme.id, "account"), (birch.id, "account"), (acme.id, "contact")]
    )


def test_a_touchpoint_changed_while_its_file_is_imported_stops_the_import_and_says_so(app, make):
    account = make.customer(rep=make.rep(), external_id="A1")
    tp = make.touchpoint(account, last_call=date(2026, 1, 1))
    text = "kind,account_kind,account_external_id,last_call,frequency_days\n"
    plan = planned(text + "touchpoint,customer,A1,2026-01-01,9\n")
    tp.comment = "Changed by the rep meanwhile"
    db.session.commit()
    with pytest.raises(StaleDataError) as error:
        csvio.apply(db.session, plan)
    assert str(error.value) == "a touchpoint changed while the file was imported: import it again"
    db.session.rollback()


def reasons(text):
    return [str(e) for e in planned(text).errors]


def test_a_duplicate_external_id_is_refused_per_kind_but_a_missing_one_is_no_duplicate(app, make):
    make.rep(username="ann")
    assert reasons(ACCOUNTS + "customer,A1,,Acme,ann\ncustomer,A1,,Acme again,ann\n"
                   "jobsite,J1,A1,Yard,\njobsite,J1,A1,Yard again,\n"
                   "contact,P1,A1,Dana,\ncontact,P1,A1,Dana again,\n"
                   "customer,,,No id,\ncustomer,,,No id either,\n") == [
        "line 3: duplicate customer external_id 'A1' (first on line 2)",
        "line 5: duplicate jobsite external_id 'J1' (first on line 4)",
        "line 7: duplicate contact external_id 'P1' (first on line 6)",
        "line 8: external_id is required",
        "line 9: external_id is required",
    ]  # fmt: skip


def test_a_jobsite_of_an_unknown_customer_says_so(app, make):
    assert reasons(ACCOUNTS + "jobsite,J1,NOPE,Yard,\n") == ["line 2: unknown customer 'NOPE'"]


def test_importing_saved_accounts_again_updates_them_and_creates_nothing(app, make):
    ann = make.rep(username="ann")
    acme = make.customer(rep=ann, external_id="A1", name="Acme")
    make.jobsite(acme, rep=ann, external_id="J1", name="Yard")
    make.jobsite(acme, rep=ann, external_id="J2", name="Dock")
    make.contact(acme, external_id="P1", name="Dana")
    plan = planned(ACCOUNTS + "customer,A1,,Acme,ann\njobsite,J1,A1,Yard 2,ann\n"
                   "jobsite,J2,A1,Dock 2,ann\ncontact,P1,A1,Dana,\n")  # fmt: skip
    assert plan.summary() == [
        ("customer", 0, 0, 1),
        ("jobsite", 0, 2, 0),
        ("contact", 0, 0, 1),
        ("touchpoint", 0, 0, 0),
    ]


def test_a_new_accounts_history_holds_its_values_but_not_its_empty_ones(app, make):
    make.rep(username="ann")
    plan = planned(ACCOUNTS + "customer,A1,,Acme,\n")
    [(values, changes)] = plan.inserts["customer"]
    assert changes == {"name": [None, "Acme"], "active": [None, True]}


def test_a_second_active_touchpoint_for_an_account_is_refused_and_the_rest_go_on(app, make):
    make.customer(rep=make.rep(), external_id="A1")
    make.customer(external_id="B1")
    text = "kind,account_kind,account_external_id,last_call,frequency_days\n"
    rows = ["customer,A1,2026-01-01,9", "customer,A1,2026-01-01,7", "customer,B1,2026-01-01,7"]
    plan = planned(text + "".join(f"touchpoint,{row}\n" for row in rows))
    assert [str(e) for e in plan.errors] == [
        "line 3: a second active touchpoint for customer 'A1' (first on line 2)"
    ]
    assert plan.created["touchpoint"] == 2


def test_a_file_of_jobsites_alone_finds_their_saved_customers(app, make):
    acme = make.customer(rep=make.rep(username="ann"), external_id="A1")
    plan = planned(ACCOUNTS + "jobsite,J9,A1,New yard,\n")
    assert plan.errors == []
    [(values, _)] = plan.inserts["jobsite"]
    assert values["customer_id"] == acme.id


def test_checking_a_file_reports_its_rows_read_in_one_step_below_a_thousand(app, make):
    make.rep(username="ann")
    heard = []
    rows = "".join(f"customer,A{n},,Acme {n},ann\n" for n in range(3))
    csvio.plan(db.session, read((ACCOUNTS + rows).encode()), progress=heard.append)
    assert heard[0] == 3


def test_past_touchpoints_are_matched_one_for_one_with_those_saved(app, make):
    account = make.customer(rep=make.rep(), external_id="A1")
    make.touchpoint(account, last_call=date(2025, 1, 1), frequency_days=30, inactive=True)
    text = "kind,account_kind,account_external_id,last_call,frequency_days,inactive\n"
    plan = planned(text + "touchpoint,customer,A1,2025-01-01,30,yes\n" * 2)
    assert plan.errors == []
    assert plan.summary()[-1] == ("touchpoint", 1, 0, 1)


# The rules a form applies, applied to a file's rows too; and every saved row's history, however
# many batches a big file takes (a batch of one row stands in for a thousand).

LOG_COLUMNS = ("external_id", "called_on", "account_kind", "account_external_id", "user",
               "call_type")  # fmt: skip
ANSWER_COLUMNS = ("external_id", "contact_external_id", "description", "date_completed", "author",
                  "responded_on", "response_note")  # fmt: skip


def test_a_call_dated_up_to_the_latest_today_anywhere_is_taken_and_a_day_later_refused():
    latest = rules.latest_today()
    for day, reasons in [
        (latest, []),
        (latest + timedelta(days=1), [f"called_on {latest + timedelta(days=1)} is in the future"]),
    ]:
        cells = ["L1", day.isoformat(), "customer", "C1", "ann", "Visit"]
        assert parse(2, cells, LOG_COLUMNS, "call log").reasons == reasons


def test_an_answer_needs_its_note_and_a_date_that_is_not_in_the_future():
    tomorrow = rules.latest_today() + timedelta(days=1)

    def answer(responded_on, note):
        cells = ["R1", "Z1", "Call", "2026-11-02", "ann", responded_on, note]
        return parse(2, cells, ANSWER_COLUMNS, "touchpoint record").reasons

    assert answer("2026-11-03", "Quoted") == []
    assert answer("2026-11-03", "") == ["response_note is required when responded_on is given"]
    assert answer(tomorrow.isoformat(), "Quoted") == [f"responded_on {tomorrow} is in the future"]


def test_an_empty_next_call_that_would_fall_after_the_latest_date_says_why():
    row = touchpoint(last_call="2199-12-01", days="60")
    assert row.reasons == [
        "next_call is empty, and Last Call + 60 days is 2200-01-30, after 2199-12-31: "
        "choose an earlier Last Call or fewer days."
    ]


def test_a_phone_with_letters_is_refused_quoting_it():
    columns = ("kind", "external_id", "customer_external_id", "name", "phone")
    row = parse(2, ["contact", "P1", "C1", "Dana", "call  Dana"], columns)
    assert row.reasons == ["phone 'call Dana' may hold only digits, spaces and + ( ) - . x /"]


@pytest.mark.parametrize(
    ("who", "what"), [({"role": "manager"}, "a manager"), ({"active": False}, "deactivated")]
)
def test_a_new_accounts_sales_rep_who_is_no_active_rep_is_refused_saying_why(app, make, who, what):
    make.user(username="mo", **{"role": "rep", **who})
    assert reasons(ACCOUNTS + "customer,A1,,Acme,mo\n") == [
        f"line 2: sales rep 'mo' is {what}: an account's sales rep is an active user with the "
        "sales rep role"
    ]


def test_an_account_imported_back_keeps_its_rep_who_was_deactivated_since(app, make):
    ann = make.rep(username="ann")
    acme = make.customer(rep=ann, external_id="A1", name="Acme")
    ann.active = False
    db.session.commit()
    plan = planned(ACCOUNTS + "customer,A1,,Acme Co,ann\n")
    assert plan.errors == []
    csvio.apply(db.session, plan)
    db.session.commit()
    db.session.refresh(acme)
    assert (acme.name, acme.sales_rep_id) == ("Acme Co", ann.id)


def test_a_task_for_a_deactivated_user_is_refused_new_or_handed_over(dana, make):
    ann, bo = db.session.scalars(
        select(User).where(User.username.in_(("ann", "bo"))).order_by(User.username)
    )
    make.record(dana, ann, assigned_to=ann, description="Call", external_id="R1")
    bo.active = False
    db.session.commit()
    deactivated = "assigned_to 'bo' is deactivated: a task goes to an active user"
    assert reasons(RECORD_HEADER + "R1,Z1,Call,2026-11-01,ann,bo,\nR2,Z1,Call,2026-11-01,ann,bo,\n"
                   "R3,Z1,Call,2026-11-01,ann,ann,\n") == [
        f"line 2: {deactivated}",
        f"line 3: {deactivated}",
    ]  # fmt: skip


def test_a_task_imported_back_keeps_its_assignee_who_was_deactivated_since(dana, make):
    ann, bo = db.session.scalars(
        select(User).where(User.username.in_(("ann", "bo"))).order_by(User.username)
    )
    make.record(dana, ann, assigned_to=bo, description="Call", external_id="R1")
    bo.active = False
    db.session.commit()
    plan = planned(RECORD_HEADER + "R1,Z1,Call,2026-11-01,ann,bo,\n")
    assert plan.errors == []
    assert plan.summary() == [("touchpoint record", 0, 0, 1)]


def history_of(subject):
    query = select(History.subject_id, History.action).where(History.subject == subject)
    return sorted(db.session.execute(query).all())


def test_accounts_in_many_batches_each_get_their_history_and_a_step(app, make, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 1)
    ann = make.rep(username="ann")
    saved = [make.customer(rep=ann, external_id=f"A{n}", name=f"Acme {n}") for n in range(3)]
    db.session.execute(delete(History))  # the factories' own entries
    rows = "".join(f"customer,A{n},,Acme Co {n},ann\n" for n in range(3))
    heard = []
    plan = planned(ACCOUNTS + rows + "customer,B1,,Birch,ann\ncustomer,B2,,Beech,ann\n")
    csvio.apply(db.session, plan, progress=heard.append)
    db.session.commit()
    assert heard == [1] * 5  # the progress bar moves a batch at a time
    new = db.session.scalars(select(Account.id).where(Account.external_id.in_(("B1", "B2"))))
    assert [i for i, _ in history_of("account")] == sorted([a.id for a in saved] + list(new))


def test_records_in_many_batches_each_get_their_history_and_a_step(dana, make, monkeypatch):
    monkeypatch.setattr(logs, "BATCH", 1)
    rows = "".join(f"R{n},Z1,Call,2026-11-02,ann,ann,\n" for n in range(2))
    csvio.apply(db.session, planned(RECORD_HEADER + rows))
    db.session.commit()
    db.session.execute(delete(History))
    handed = rows.replace(",ann,ann,", ",ann,bo,") + "".join(
        f"R{n},Z1,Call,2026-11-02,ann,ann,\n" for n in (2, 3)
    )
    plan = planned(RECORD_HEADER + handed)
    assert plan.summary() == [("touchpoint record", 2, 2, 0)]
    heard = []
    csvio.apply(db.session, plan, progress=heard.append)
    db.session.commit()
    assert heard == [1] * 4  # the progress bar moves a batch at a time
    records = dict(
        db.session.execute(select(TouchpointRecord.external_id, TouchpointRecord.id)).all()
    )
    assert [i for i, _ in history_of("task")] == sorted(records.values())
