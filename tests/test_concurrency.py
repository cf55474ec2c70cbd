"""Writes that race: ten at once at one record answer 2xx, 3xx or 409, never 500, and leave
what is stored consistent; the database itself keeps one active touchpoint per account; two
requests with one Idempotency-Key write once."""

import json
import os
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, insert, select, update

from tpweb.domain import history
from tpweb.extensions import db
from tpweb.models import (
    CallLog,
    History,
    IdempotencyKey,
    Touchpoint,
    TouchpointRecord,
    User,
)

from .factories import PASSWORD

N = 10
HTMX = {"HX-Request": "true"}


# Racing ----------------------------------------------------------------------------------------


@pytest.fixture
def race_app(client_of):
    """A second app on the test database whose requests each run in their own app context (and
    so their own session and connection), as in a server; a crash is a 500, as a user sees it."""
    # Ten password hashes in a row outlast the 3 s lock timeout on a loaded CI machine; a busy
    # database's 503 is tests/test_busy_database.py's, so these wait as long as they need.
    return client_of(PROPAGATE_EXCEPTIONS=False, TPWEB_DB_LOCK_TIMEOUT=60).application


def clients_of(app, user, n=N):
    """`n` clients of `app`, each signed in as `user`: one sign-in, its cookie on every client."""
    first = app.test_client()
    signed_in = first.post("/login", data={"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 303
    cookie = first.get_cookie("session").value
    clients = [first]
    for _ in range(n - 1):
        clients.append(app.test_client())
        clients[-1].set_cookie("session", cookie)
    return clients


def post(url, data=None, headers=None):
    """A POST for `race` to send: worked out beforehand, as the threads cannot read the rows."""
    return url, data or {}, headers or {}


def race(app, user, send, n=N, refusals=(409,)):
    """The POST `send(i)` from the i-th of `n` clients signed in as `user`, each in its own
    thread, all at once: each request is held at its first transaction until every one has
    begun, then all go. Each answer a success or one of `refusals`; all of them, in order."""
    clients = clients_of(app, user, n)
    posts = [send(i) for i in range(n)]
    barrier = threading.Barrier(len(clients))
    held = threading.local()

    def hold(conn):
        if not getattr(held, "done", False):
            held.done = True
            barrier.wait(timeout=60)

    answers = [None] * len(clients)

    def run(i):
        url, data, headers = posts[i]
        answers[i] = clients[i].post(url, data=data, headers=headers)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "begin", hold)
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sa.event.remove(engine, "begin", hold)
    assert not barrier.broken, "the requests did not all run at once"
    statuses = [answer.status_code for answer in answers]
    assert all(s < 400 or s in refusals for s in statuses), statuses
    db.session.expire_all()
    return answers


def won(answers):
    """The indexes of the requests that were answered with a success."""
    return [i for i, answer in enumerate(answers) if answer.status_code < 400]


def keyed(i):
    """Every other request as the offline queue sends it, with its own Idempotency-Key."""
    return {**HTMX, "Idempotency-Key": f"race-{i}"} if i % 2 else {}


def changes(subject, subject_id, *actions):
    """The History of one record since it was created (or only `actions`): its rows'
    {field: [before, after]}, oldest first."""
    query = select(History.changes).filter_by(subject=subject, subject_id=subject_id)
    if actions:
        query = query.where(History.action.in_(actions))
    else:
        query = query.where(History.action != "created")
    return [json.loads(row) for row in db.session.scalars(query.order_by(History.id))]


def assert_one_chain(subject, subject_id, field, first, last, winners):
    """Each successful write changed `field` from what the one before it stored: one chain of
    History from `first` to `last`, a link per success; no write worked from a stale read."""
    links = [c[field] for c in changes(subject, subject_id) if field in c]
    assert len(links) == len(winners)
    assert [before for before, _ in links] == [first] + [after for _, after in links[:-1]]
    assert links[-1][1] == last


@pytest.fixture
def phone(make):
    return make.call_type("Phone")


@pytest.fixture
def anna(make, boss):
    return make.rep(name="Anna Rep", manager=boss, username="anna")


@pytest.fixture
def ben(make, boss):
    return make.rep(name="Ben Rep", manager=boss, username="ben")


@pytest.fixture
def mona(make):
    return make.manager(name="Mona Manager", username="mona")


@pytest.fixture
def ada(make):
    return make.user("admin", name="Ada Admin", username="ada")


@pytest.fixture
def acme(make, anna):
    return make.customer(rep=anna, name="Acme")


@pytest.fixture
def tp(make, acme, today):
    return make.touchpoint(acme, last_call=today - timedelta(days=40), frequency_days=30)


# Each kind of write, ten at once at one record -------------------------------------------------


def test_racing_completes_each_log_one_call_and_move_the_schedule_once(
    race_app, anna, tp, phone, today
):
    days = [today - timedelta(days=N - 1 - i) for i in range(N)]

    def complete(i):
        data = {"called_on": days[i].isoformat(), "duration_minutes": "5", "call_type": phone.id}
        return post(f"/touchpoints/{tp.id}/complete", data=data, headers=keyed(i))

    winners = won(race(race_app, anna, complete))

    assert winners  # some Completes went through; the others were told to try again
    logged = db.session.scalars(select(CallLog.called_on).filter_by(touchpoint_id=tp.id)).all()
    assert sorted(logged) == sorted(days[i] for i in winners)
    assert tp.last_call == max(days[i] for i in winners)
    assert tp.next_call == tp.last_call + timedelta(days=30)
    assert tp.version == 1 + len(changes("touchpoint", tp.id, "updated"))
    keys = db.session.scalar(select(func.count(IdempotencyKey.id)))
    assert keys == len([i for i in winners if i % 2])


def test_racing_reschedules_of_one_version_save_exactly_one(race_app, anna, tp, today):
    def reschedule(i):
        data = {
            "last_call": tp.last_call.isoformat(),
            "frequency_days": "30",
            "next_call": (today + timedelta(days=1 + i)).isoformat(),
            "comment": f"Try {i}",
            "version": "1",
        }
        return post(f"/touchpoints/{tp.id}/edit", data=data, headers=keyed(i))

    answers = race(race_app, anna, reschedule)

    [winner] = won(answers)
    assert (tp.version, tp.comment) == (2, f"Try {winner}")
    assert tp.next_call == today + timedelta(days=1 + winner)
    assert all(
        "Someone changed this touchpoint" in a.text for a in answers if a is not answers[winner]
    )


def test_racing_add_touchpoints_leave_exactly_one_active(race_app, anna, acme, today):
    def add(i):
        data = {"last_call": today.isoformat(), "frequency_days": str(7 + i), "comment": f"{i}"}
        return post(f"/customers/{acme.id}/touchpoints/new", data=data, headers=keyed(i))

    answers = race(race_app, anna, add)

    [winner] = won(answers)
    active = db.session.scalars(select(Touchpoint).filter_by(account_id=acme.id)).all()
    assert [(t.frequency_days, t.inactive) for t in active] == [(7 + winner, False)]
    assert all(a.status_code == 409 for a in answers if a is not answers[winner])


def test_racing_answers_to_one_task_close_it_once(race_app, make, anna, acme, today):
    contact = make.contact(acme, name="Dana")
    task = make.record(contact, anna, response_required=True)

    def answer(i):
        data = {"responded_on": today.isoformat(), "response_note": f"Answer {i}"}
        return post(f"/tasks/{task.id}/response", data=data, headers=keyed(i))

    answers = race(race_app, anna, answer)

    [winner] = won(answers)
    assert task.response_note == f"Answer {winner}"
    assert len(changes("task", task.id, "answered")) == 1
    assert all("already closed" in a.text for a in answers if a is not answers[winner])


def test_racing_records_on_one_contact_are_each_stored_once(race_app, make, anna, acme, today):
    contact = make.contact(acme, name="Dana")

    def create(i):
        data = {
            "description": f"Visit {i}",
            "date_completed": today.isoformat(),
            "assigned_to": anna.id,
        }
        return post(f"/contacts/{contact.id}/touchpoints", data=data, headers=keyed(i))

    winners = won(race(race_app, anna, create))

    stored = db.session.scalars(select(TouchpointRecord.description)).all()
    assert sorted(stored) == sorted(f"Visit {i}" for i in winners)


def test_racing_contact_edits_each_change_what_the_one_before_saved(race_app, make, anna, acme):
    contact = make.contact(acme, name="Dana")

    def rename(i):
        data = {"name": f"Dana {i}", "active": "y"}
        return post(f"/contacts/{contact.id}/edit", data=data, headers=keyed(i))

    winners = won(race(race_app, anna, rename))

    assert_one_chain("contact", contact.id, "name", "Dana", contact.name, winners)


def test_racing_account_notes_each_change_what_the_one_before_saved(race_app, anna, acme):
    def note(i):
        url = f"/customers/{acme.id}/edit"
        return post(url, data={"notes": f"Note {i}"}, headers=keyed(i))

    winners = won(race(race_app, anna, note))

    assert_one_chain("account", acme.id, "notes", "", acme.notes, winners)


def test_racing_account_edits_by_managers(race_app, mona, anna, acme):
    def rename(i):
        data = {"name": f"Acme {i}", "sales_rep_id": anna.id, "city": "Austin"}
        return post(f"/customers/{acme.id}/edit", data=data, headers=keyed(i))

    winners = won(race(race_app, mona, rename))

    assert_one_chain("account", acme.id, "name", "Acme", acme.name, winners)


def test_racing_set_inactive_sets_the_account_and_its_touchpoint_inactive_once(
    race_app, mona, acme, tp
):
    def set_inactive(i):
        url = f"/customers/{acme.id}/status"
        return post(url, data={"active": "0"}, headers=keyed(i))

    race(race_app, mona, set_inactive)

    assert (acme.active, tp.inactive, tp.version) == (False, True, 2)


def test_racing_reassignments_of_one_account_move_it_once(race_app, mona, anna, ben, acme):
    def reassign(i):
        data = {"account_ids": [acme.id], "to_rep_id": ben.id}
        return post(f"/reps/{anna.id}/reassign", data=data, headers=keyed(i))

    answers = race(race_app, mona, reassign)

    [winner] = won(answers)
    assert acme.sales_rep_id == ben.id
    assert len(changes("account", acme.id, "reassigned")) == 1
    assert all(a.status_code == 409 for a in answers if a is not answers[winner])


def test_racing_deactivations_of_one_rep_end_their_sessions_once_each(race_app, mona, ben):
    def deactivate(i):
        return post(f"/reps/{ben.id}/deactivate", headers=keyed(i))

    # Once one has deactivated him, Ben is no rep to the other pages: 404 (scope.rep_or_404).
    winners = won(race(race_app, mona, deactivate, refusals=(404, 409)))

    assert not ben.active
    assert ben.session_version == 1 + len(winners)


def test_racing_settings_of_one_user(race_app, anna):
    def save(i):
        data = {"timezone": "America/Chicago", "reminder_hour": str(i), "delivery": "item"}
        return post("/settings", data=data, headers=keyed(i))

    winners = won(race(race_app, anna, save))

    assert anna.reminder_hour in winners


def test_racing_password_resets_end_the_users_sessions_once_each(race_app, ada, ben):
    def reset(i):
        url = f"/admin/users/{ben.id}/password"
        return post(url, data={"password": f"a new secret {i}"}, headers=keyed(i))

    winners = won(race(race_app, ada, reset))

    assert ben.session_version == 1 + len(winners)
    assert any(ben.check_password(f"a new secret {i}") for i in winners)


def test_racing_user_and_call_type_edits_by_admins(race_app, ada, ben, phone):
    def edit(i):
        if i % 2:
            return post(f"/admin/call-types/{phone.id}", data={"name": f"Phone {i}"})
        data = {"name": f"Ben {i}", "role": "rep", "manager_id": "0", "timezone": "UTC"}
        return post(f"/admin/users/{ben.id}", data=data)

    winners = won(race(race_app, ada, edit))

    assert ben.name in {f"Ben {i}" for i in winners if not i % 2}
    assert phone.name in {f"Phone {i}" for i in winners if i % 2}


def test_deactivating_a_rep_while_accounts_move_to_them_leaves_no_account_on_an_inactive_rep(
    race_app, mona, anna, ben, acme
):
    """Two writes to different rows that each read the other's: one of them runs again."""

    def either(i):
        if i % 2:
            return post(f"/reps/{ben.id}/deactivate")
        data = {"account_ids": [acme.id], "to_rep_id": ben.id}
        return post(f"/reps/{anna.id}/reassign", data=data)

    # The reassignment run again finds Ben inactive: the form's own refusal, 422.
    race(race_app, mona, either, n=2, refusals=(409, 422))

    assert ben.active or acme.sales_rep_id == anna.id


# The database's own rule: one active touchpoint per account ------------------------------------


def test_the_database_refuses_a_second_active_touchpoint(app, acme, tp, today):
    row = {
        "account_id": acme.id,
        "last_call": today,
        "frequency_days": 7,
        "next_call": today + timedelta(days=7),
        "comment": "",
        "version": 1,
        "created_at": tp.created_at,
        "updated_at": tp.created_at,
    }
    # Straight into the table, past the app's checks and History: the database's own index refuses.
    unchecked = {"history": history.NOT_A_CHANGE}
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            insert(Touchpoint).values(**row, inactive=False), execution_options=unchecked
        )
    db.session.rollback()
    # An inactive one beside it is history, not a second schedule; reactivating it is refused.
    old = db.session.execute(
        insert(Touchpoint).values(**row, inactive=True), execution_options=unchecked
    ).inserted_primary_key
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(update(Touchpoint).where(Touchpoint.id == old[0]).values(inactive=False))
    db.session.rollback()
    active = select(func.count(Touchpoint.id)).where(Touchpoint.account_id == acme.id)
    assert db.session.scalar(active.where(~Touchpoint.inactive)) == 1
    assert db.session.scalar(active) == 2


# One Idempotency-Key sent twice at once ------------------------------------------------------


def test_one_key_sent_by_many_at_once_writes_once_and_replays_to_the_rest(
    race_app, anna, tp, phone, today
):
    data = {"called_on": today.isoformat(), "duration_minutes": "5", "call_type": phone.id}
    headers = {**HTMX, "Idempotency-Key": "sent-twice"}

    def complete(i):
        return post(f"/touchpoints/{tp.id}/complete", data=data, headers=headers)

    answers = race(race_app, anna, complete)

    assert db.session.scalar(select(func.count(CallLog.id))) == 1
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1
    assert {(a.status_code, a.text) for a in answers} == {(200, answers[0].text)}
    replayed = [a.headers.get("Idempotent-Replayed") for a in answers]
    assert sorted(replayed, key=str) == [None] + ["true"] * (N - 1)
    assert tp.version == 2


# The user, read again inside the write ---------------------------------------------------------


def test_a_write_by_a_user_signed_out_everywhere_meanwhile_saves_nothing(
    race_app, anna, tp, phone, today
):
    """Signed out everywhere after the request read the user, before its write began."""
    [client] = clients_of(race_app, anna, 1)
    data = {"called_on": today.isoformat(), "duration_minutes": "5", "call_type": phone.id}
    url = f"/touchpoints/{tp.id}/complete"
    signed_out = update(User).where(User.id == anna.id).values(session_version=2)
    main_engine = db.engine
    begun = []

    def sign_out_at_the_write(conn):
        begun.append(conn)
        if len(begun) == 2:  # the first read the user; the second is the write's
            with main_engine.begin() as other:
                other.execute(signed_out)

    with race_app.app_context():
        engine = db.engine
    sa.event.listen(engine, "begin", sign_out_at_the_write)
    try:
        response = client.post(url, data=data, headers=HTMX)
    finally:
        sa.event.remove(engine, "begin", sign_out_at_the_write)
    db.session.expire_all()

    assert response.status_code == 401 and "/login" in response.headers["HX-Redirect"]
    assert db.session.scalar(select(func.count(CallLog.id))) == 0
    assert tp.version == 1


# Running a write again -------------------------------------------------------------------------


@pytest.mark.skipif(
    not os.environ.get("TPWEB_TEST_POSTGRES"),
    reason="needs PostgreSQL (the PostgreSQL pass): SQLite's writers never overlap",
)
# A write is run again up to 3 times: the fourth change meanwhile is answered 409.
@pytest.mark.parametrize("changes_meanwhile", [1, 3, 4])
def test_a_write_whose_record_changed_meanwhile_runs_again_then_is_refused(
    race_app, anna, tp, phone, today, changes_meanwhile
):
    """Someone changes the touchpoint after each try of a Complete has begun, before it reads
    the touchpoint: each try fails on PostgreSQL's check, and the next one starts afresh."""
    [client] = clients_of(race_app, anna, 1)
    data = {"called_on": today.isoformat(), "duration_minutes": "5", "call_type": phone.id}
    bump = update(Touchpoint).where(Touchpoint.id == tp.id).values(version=Touchpoint.version + 1)
    main_engine = db.engine
    tries = []

    def change_before_the_read(conn, cursor, statement, *args):
        if "FROM touchpoints" in statement and "FOR UPDATE" in statement:
            tries.append(statement)
            if len(tries) <= changes_meanwhile:
                with main_engine.begin() as other:
                    other.execute(bump)

    with race_app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", change_before_the_read)
    try:
        response = client.post(f"/touchpoints/{tp.id}/complete", data=data)
    finally:
        sa.event.remove(engine, "before_cursor_execute", change_before_the_read)
    db.session.expire_all()

    logs = db.session.scalar(select(func.count(CallLog.id)))
    if changes_meanwhile <= 3:
        assert (response.status_code, logs, len(tries)) == (303, 1, changes_meanwhile + 1)
        assert tp.version == changes_meanwhile + 2 and tp.last_call == today
    else:
        assert (response.status_code, logs, len(tries)) == (409, 0, 4)
        assert "Someone else changed this at the same moment" in response.text
        assert tp.version == changes_meanwhile + 1 and tp.last_call < today


@pytest.mark.skipif(
    not os.environ.get("TPWEB_TEST_POSTGRES"),
    reason="needs PostgreSQL (the PostgreSQL pass): SQLite's writers never overlap",
)
def test_a_write_that_lost_its_key_to_a_twin_replays_the_twins_answer_and_nothing_else(
    race_app, mona, anna, ben, acme
):
    """The same key, sent by a twin request that commits just before this one does: this one's
    moves and its message are undone, and it answers what the twin stored."""
    [client] = clients_of(race_app, mona, 1)
    main_engine = db.engine
    twin = {"body": "", "status_code": 303, "headers": json.dumps({"Location": "/reps"})}

    def twin_commits_first(conn, cursor, statement, parameters, *args):
        if statement.startswith("INSERT INTO idempotency_keys") and "request_hash" not in twin:
            twin.update(user_id=parameters["user_id"], key=parameters["key"])
            twin["request_hash"] = parameters["request_hash"]
            with main_engine.begin() as other:
                other.execute(insert(IdempotencyKey).values(**twin))

    with race_app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", twin_commits_first)
    try:
        response = client.post(
            f"/reps/{anna.id}/reassign",
            data={"account_ids": [acme.id], "to_rep_id": ben.id},
            headers={"Idempotency-Key": "twins"},
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", twin_commits_first)
    db.session.expire_all()

    assert (response.status_code, response.location) == (303, "/reps")
    assert response.headers["Idempotent-Replayed"] == "true"
    assert acme.sales_rep_id == anna.id and changes("account", acme.id) == []
    assert "Moved 1 account" not in client.get(f"/reps/{anna.id}").text
