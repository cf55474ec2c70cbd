"""The command line: create-user, seed-demo, and import of call logs and records."""

from datetime import timedelta

from sqlalchemy import func, select

from tpweb.domain.schedule import DUE_STATES, due_state, today_in
from tpweb.extensions import db
from tpweb.models import (
    Account,
    CallLog,
    CallLogType,
    Contact,
    Touchpoint,
    TouchpointRecord,
    User,
)


def test_create_user_who_can_then_sign_in(runner, client):
    result = runner.invoke(
        args=["create-user", "dana", "--name", "Dana Diaz", "--role", "manager",
              "--email", "dana@example.com", "--password", "s3cret-pass"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).filter_by(username="dana")).one()
    assert (user.name, user.role, user.email, user.timezone) == (
        "Dana Diaz", "manager", "dana@example.com", "America/Chicago"
    )  # fmt: skip
    assert user.password_hash != "s3cret-pass"
    response = client.post("/login", data={"username": "dana", "password": "s3cret-pass"})
    assert response.status_code == 303


def test_create_user_refuses_a_taken_name_a_bad_role_and_an_unknown_zone(runner, make):
    make.rep(username="taken")
    taken = runner.invoke(args=["create-user", "taken", "--password", "x"])
    role = runner.invoke(args=["create-user", "new", "--role", "boss", "--password", "x"])
    zone = runner.invoke(args=["create-user", "new", "--timezone", "Mars/Base", "--password", "x"])
    assert "already exists" in taken.output
    assert "boss" in role.output
    assert "unknown time zone" in zone.output
    assert all(r.exit_code != 0 for r in (taken, role, zone))
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_seed_demo_loads_a_whole_team_with_every_due_state(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for login in ("admin", "manager1", "manager2", "rep1", "rep8"):
        assert login in result.output
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"admin": 1, "manager": 2, "rep": 8}
    kinds = dict(
        db.session.execute(select(Account.kind, func.count()).group_by(Account.kind)).all()
    )
    assert kinds["customer"] >= 350 and kinds["jobsite"] >= 150
    today = today_in("America/Chicago")
    active = db.session.scalars(select(Touchpoint).where(~Touchpoint.inactive)).all()
    assert {due_state(tp.next_call, today) for tp in active} == set(DUE_STATES)
    assert db.session.scalar(select(func.count(Contact.id))) > 0
    assert db.session.scalar(select(func.count(CallLog.id))) > 0
    types = db.session.scalars(select(CallLogType.name).order_by(CallLogType.position)).all()
    assert types[:2] == ["Phone", "Visit"]
    assert all(tp.last_call < today + timedelta(days=1) for tp in active)


def test_seed_demo_gives_a_rep_unassigned_accounts_and_leaves_some_without_a_rep(runner):
    runner.invoke(args=["seed-demo"])
    assert db.session.scalar(select(func.count(Account.id)).where(Account.sales_rep_id.is_(None)))
    has_active = select(Touchpoint.account_id).where(~Touchpoint.inactive)
    unassigned = select(func.count(Account.id)).where(
        Account.sales_rep_id.is_not(None), Account.id.not_in(has_active)
    )
    assert db.session.scalar(unassigned) > 0


def test_seed_demo_refuses_a_database_with_users_and_if_empty_skips_quietly(runner, make):
    make.rep()
    refused = runner.invoke(args=["seed-demo"])
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert refused.exit_code != 0 and "empty" in refused.output
    assert skipped.exit_code == 0 and "not loaded again" in skipped.output
    assert db.session.scalar(select(func.count(User.id))) == 1


CALL_LOGS = (
    "external_id,called_on,account_kind,account_external_id,user,call_type,notes\n"
    "L1,2026-03-01,customer,C1,ann,Phone,First\n"
    "L2,2026-03-01,customer,C1,ann,Phone,Second\n"
    "L3,2026-13-01,customer,C1,ann,Phone,Bad date\n"
)


def test_import_reads_a_call_log_file_back_with_a_progress_bar_and_each_bad_row(
    runner, make, tmp_path
):
    ann = make.rep(username="ann")
    make.customer(rep=ann, external_id="C1")
    make.call_type("Phone")
    path = tmp_path / "calls.csv"
    path.write_text(CALL_LOGS)
    dry = runner.invoke(args=["import", "--dry-run", str(path)])
    assert dry.exit_code == 1
    assert "call log: 2 to create, 0 to update, 0 unchanged" in dry.stdout
    assert db.session.scalar(select(func.count(CallLog.id))) == 0
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1  # a bad row: saved the rest, and says so
    assert "Checking" in result.stderr and "Saving" in result.stderr
    assert result.stdout.splitlines() == [
        "3 rows read.",
        "  call log: 2 created, 0 updated, 0 unchanged",
        "1 bad row, not imported:",
        "  line 4: called_on '2026-13-01' is not a date (YYYY-MM-DD)",
    ]
    notes = db.session.scalars(select(CallLog.notes).order_by(CallLog.external_id)).all()
    assert notes == ["First", "Second"]
    again = runner.invoke(args=["import", str(path)])
    assert "call log: 0 created, 0 updated, 2 unchanged" in again.stdout


def test_import_refuses_a_record_file_missing_a_required_column(runner, tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(
        "external_id,contact_external_id,description,date_completed\nR1,P1,x,2026-01-01\n"
    )
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "missing required column: author (touchpoint record rows need it" in result.output
    assert db.session.scalar(select(func.count(TouchpointRecord.id))) == 0
