"""The rules a saved value keeps (tpweb.domain.rules), at their edges, and the same rule heard
from every way a value arrives: the forms, the CSV import, the command line and the admin."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import String, func, select
from wtforms.validators import Length

from tpweb.domain import rules
from tpweb.domain.csvio import sheet
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Contact, TouchpointRecord, User
from tpweb.web.accounts.forms import AccountForm, ContactForm
from tpweb.web.admin import CallTypeForm, NewUserForm
from tpweb.web.contacts.forms import RecordForm
from tpweb.web.tasks import ResponseForm
from tpweb.web.touchpoints.forms import CallLogForm, TouchpointForm


@pytest.mark.parametrize(
    ("day", "refused"),
    [
        (date(1989, 12, 31), True),
        (date(1990, 1, 1), False),
        (date(2199, 12, 31), False),
        (date(2200, 1, 1), True),
    ],
)
def test_a_date_is_saved_only_inside_the_window(day, refused):
    assert (rules.date_problem(day) is not None) == refused


def test_a_next_call_worked_out_past_the_window_is_refused_with_the_date_it_would_be():
    assert rules.next_call_problem(rules.LATEST - timedelta(days=3650), 3650) is None
    assert rules.next_call_problem(rules.LATEST - timedelta(days=1), 1) is None
    problem = rules.next_call_problem(date(2199, 12, 31), 3650)
    assert problem == (
        "Last Call + 3650 days is 2209-12-29, after 2199-12-31: choose an earlier Last Call or "
        "fewer days."
    )
    assert rules.next_call_problem(date(2199, 12, 31), 1) is not None


def test_a_sales_rep_is_an_active_user_with_the_sales_rep_role(make):
    rep, gone = make.rep(), make.rep(active=False)
    manager, admin = make.manager(), make.user("admin")
    assert [rules.is_sales_rep(u) for u in (rep, gone, manager, admin, None)] == [
        True,
        False,
        False,
        False,
        False,
    ]
    # The SQL form of the rule picks the same users.
    assert db.session.scalars(select(User).where(rules.SALES_REP)).all() == [rep]
    assert [rules.not_a_sales_rep(u) for u in (gone, manager, admin)] == [
        "deactivated",
        "a manager",
        "an admin",
    ]


def test_a_task_goes_to_an_active_user_of_any_role(make):
    users = [make.rep(), make.manager(), make.user("admin"), make.rep(active=False)]
    assert [rules.is_task_assignee(u) for u in users] == [True, True, True, False]
    assignees = db.session.scalars(select(User).where(rules.TASK_ASSIGNEE)).all()
    assert set(assignees) == set(users[:3])


COLUMNS = {
    "name": (Account.name, Contact.name),
    "address": (Account.address,),
    "city": (Account.city,),
    "phone": (Account.phone, Contact.phone),
    "email": (Contact.email,),
    "title": (Contact.title,),
    "external_id": (Account.external_id, Contact.external_id),
    "description": (TouchpointRecord.description,),
    "username": (User.username,),
    "user_name": (User.name,),
}


@pytest.mark.parametrize("field", sorted(COLUMNS))
def test_every_length_fits_its_database_column(field):
    for column in COLUMNS[field]:
        assert isinstance(column.type, String)
        assert column.type.length is None or rules.LENGTHS[field] <= column.type.length


def _form_lengths(form):
    for name, field in form._fields.items():
        for validator in field.validators:
            if isinstance(validator, Length):
                yield name, validator.max


FORMS = [
    (AccountForm, {}),
    (ContactForm, {}),
    (TouchpointForm, {}),
    (CallLogForm, {}),
    (RecordForm, {}),
    (ResponseForm, {}),
    (NewUserForm, {"name": "user_name"}),
    (CallTypeForm, {"name": "call_type"}),
]


@pytest.mark.parametrize(("form_class", "renamed"), FORMS, ids=[f.__name__ for f, _ in FORMS])
def test_the_forms_and_the_import_take_the_rules_lengths(app, form_class, renamed):
    with app.test_request_context():
        lengths = dict(_form_lengths(form_class(meta={"csrf": False})))
    assert lengths
    for name, longest in lengths.items():
        assert longest == rules.LENGTHS[renamed.get(name, name)], name
        if name in sheet.LENGTHS and not renamed:
            assert sheet.LENGTHS[name] == longest, name


def test_the_import_takes_the_rules_numbers_and_patterns():
    assert sheet.BOUNDS == {"latitude": rules.LATITUDE, "longitude": rules.LONGITUDE}
    assert sheet.WHOLE["frequency_days"][1] == rules.FREQUENCY_DAYS
    assert sheet.WHOLE["duration_minutes"][1] == rules.DURATION_MINUTES
    assert (sheet.EARLIEST, sheet.LATEST) == (rules.EARLIEST, rules.LATEST)


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"phone": "call me"}, "phone 'call me' may hold only digits, spaces and + ( ) - . x /"),
        ({"email": "zoe@"}, "email 'zoe@' is not an email address"),
        ({"name": "x" * 201}, "name is 201 characters long, more than 200"),
    ],
)
def test_the_import_refuses_what_the_contact_form_refuses(cells, reason):
    values = {"external_id": "P1", "customer_external_id": "C1", "name": "Zoë", **cells}
    row = sheet.parse(2, ["contact", *values.values()], ("kind", *values), None)
    assert row.reasons == [reason]


def test_the_import_refuses_a_worked_out_next_call_past_the_window():
    values = {"account_kind": "customer", "account_external_id": "C1", "last_call": "2199-12-31",
              "frequency_days": "3650", "next_call": ""}  # fmt: skip
    row = sheet.parse(2, ["touchpoint", *values.values()], ("kind", *values), None)
    assert row.reasons == [
        "next_call is empty, and Last Call + 3650 days is 2209-12-29, after 2199-12-31: choose "
        "an earlier Last Call or fewer days."
    ]


def test_an_answer_imported_says_what_it_was():
    values = {"external_id": "R1", "contact_external_id": "P1", "description": "Quote",
              "date_completed": "2026-03-01", "author": "ann", "assigned_to": "ann",
              "responded_on": "2026-03-02", "response_note": ""}  # fmt: skip
    row = sheet.parse(2, list(values.values()), tuple(values), "touchpoint record")
    assert row.reasons == ["response_note is required when responded_on is given"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Dana"], "use 2 to 80 of a-z, 0-9, dot, dash and underscore"),
        (["dana", "--password", "short"], "use 10 to 200 characters"),
        (["dana", "--email", "dana@"], "give an email address like name@example.com"),
        (["dana", "--name", "D" * 121], "give a name of 1 to 120 characters"),
    ],
)
def test_create_user_on_the_command_line_keeps_the_admin_forms_rules(runner, args, message):
    args = ["create-user", *args]
    if "--password" not in args:
        args += ["--password", "long enough pass"]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_create_user_on_the_command_line_takes_the_edges(runner):
    result = runner.invoke(
        args=["create-user", "d" * 80, "--name", "D" * 120, "--email", "a" * 242 + "@example.com",
              "--password", "p" * 10]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.name)) == "D" * 120


def test_the_admin_refuses_to_change_the_role_of_a_sales_rep_who_holds_accounts(client, make, auth):
    admin = make.user("admin", timezone="America/Chicago")
    auth.login(admin)
    ann = make.rep(name="Ann")
    held = make.customer(rep=ann, active=False)  # an inactive account counts too
    form = {"name": "Ann", "email": "", "role": "manager", "manager_id": 0,
            "timezone": "America/Chicago"}  # fmt: skip

    refused = client.post(f"/admin/users/{ann.id}", data=form)

    assert refused.status_code == 422
    assert (
        "Ann is the sales rep of 1 account(s): move them to another rep first, or they would "
        "have no valid sales rep."
    ) in refused.text
    db.session.refresh(ann)
    assert ann.role == "rep"
    held.sales_rep_id = None
    db.session.commit()
    assert client.post(f"/admin/users/{ann.id}", data=form).status_code == 303
    db.session.refresh(ann)
    assert ann.role == "manager"


@pytest.mark.parametrize("who", ["manager", "deactivated rep"])
def test_accounts_cannot_be_moved_to_someone_who_is_not_a_sales_rep(client, make, manager, who):
    anna = make.rep(name="Anna")
    target = make.manager() if who == "manager" else make.rep(active=False)
    mine = make.customer(rep=anna)
    response = client.post(
        f"/reps/{anna.id}/reassign", data={"account_ids": [mine.id], "to_rep_id": target.id}
    )
    assert response.status_code == 422
    assert "Choose the rep who takes these accounts over." in response.text
    db.session.refresh(mine)
    assert mine.sales_rep_id == anna.id


def test_the_account_form_offers_and_takes_only_sales_reps(client, make, manager):
    ann, gone, other = make.rep(name="Ann"), make.rep(name="Gone", active=False), make.manager()
    form = client.get("/customers/new").text
    assert "Ann" in form and "Gone" not in form and other.name not in form
    for user in (gone, other, manager):
        response = client.post("/customers/new", data={"name": "Co", "sales_rep_id": user.id})
        assert response.status_code == 422
    assert (
        client.post("/customers/new", data={"name": "Co", "sales_rep_id": ann.id}).status_code
        == 303
    )
    assert db.session.scalars(select(Account.sales_rep_id)).all() == [ann.id]


def test_an_account_whose_rep_is_no_sales_rep_keeps_them_until_changed(client, make, manager):
    # Saved before the rule, when managers were offered: editing the name leaves the rep alone.
    boss = make.manager(name="Old Boss")
    account = make.customer(rep=boss, name="Old Co")
    assert "Old Boss" in client.get(f"/customers/{account.id}/edit").text
    data = {"name": "Old Co Renamed", "sales_rep_id": boss.id}
    assert client.post(f"/customers/{account.id}/edit", data=data).status_code == 303
    db.session.refresh(account)
    assert (account.name, account.sales_rep_id) == ("Old Co Renamed", boss.id)


def test_the_import_refuses_a_call_or_an_answer_dated_in_the_future():
    ahead = (rules.latest_today() + timedelta(days=1)).isoformat()
    today = rules.latest_today().isoformat()
    call = {"external_id": "L1", "called_on": ahead, "account_kind": "customer",
            "account_external_id": "C1", "user": "ann", "call_type": "Phone"}  # fmt: skip
    row = sheet.parse(2, list(call.values()), tuple(call), "call log")
    assert row.reasons == [f"called_on {ahead} is in the future"]
    row = sheet.parse(2, [*list(call.values())[:1], today, *list(call.values())[2:]], tuple(call),
                      "call log")  # fmt: skip
    assert row.reasons == []
    answer = {"external_id": "R1", "contact_external_id": "P1", "description": "Quote",
              "date_completed": "2026-03-01", "author": "ann", "assigned_to": "ann",
              "responded_on": ahead, "response_note": "Sent"}  # fmt: skip
    row = sheet.parse(2, list(answer.values()), tuple(answer), "touchpoint record")
    assert row.reasons == [f"responded_on {ahead} is in the future"]


def test_no_call_logged_through_the_form_is_later_than_the_imports_today():
    # The form's today is a user's, in some zone: never later than the latest one on Earth.
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Chicago"):
        assert today_in(zone, now) <= rules.latest_today(now)
