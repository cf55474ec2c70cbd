"""Reminder planning's rules, one behaviour per test (kept by `make mutants`)."""

from collections import namedtuple
from datetime import UTC, date, datetime, timedelta

from tpweb.extensions import db
from tpweb.reminders import (
    TASK,
    TOUCHPOINT,
    Due,
    Reminder,
    days_to_sweep,
    due_items,
    latest_due_day,
    load_reminders,
    send_instant,
)

DEC1 = date(2026, 12, 1)
# A ledger row as the sweep reads it.
LedgerRow = namedtuple("LedgerRow", "id user_id item_kind item_id due_date")


def test_the_send_hour_itself_is_the_first_instant_of_that_days_reminders():
    six = send_instant(DEC1, 6, "Asia/Tokyo")
    assert six == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    assert latest_due_day("Asia/Tokyo", 6, six) == DEC1
    assert latest_due_day("Asia/Tokyo", 6, six - timedelta(microseconds=1)) == DEC1 - timedelta(1)


def test_missed_nights_come_back_oldest_first_without_those_already_swept():
    latest = date(2026, 11, 23)
    swept = {date(2026, 11, 21)}
    assert days_to_sweep(latest, swept, date(2026, 11, 1), 4) == [
        date(2026, 11, 20),
        date(2026, 11, 22),
        date(2026, 11, 23),
    ]


def test_a_new_user_starts_with_the_latest_date_not_a_history():
    assert days_to_sweep(DEC1, set(), None, 7) == [DEC1]


def test_nothing_on_or_before_a_users_first_swept_date_is_planned():
    first = DEC1 - timedelta(days=2)
    assert days_to_sweep(DEC1, set(), first, 7) == [DEC1 - timedelta(days=1), DEC1]


def test_catching_up_stops_at_the_window():
    assert days_to_sweep(DEC1, set(), date(2026, 1, 1), 1) == [DEC1]
    assert days_to_sweep(DEC1, set(), date(2026, 1, 1), 0) == []


def test_due_items_are_open_tasks_assigned_and_active_touchpoints_held_on_the_users_dates(
    app, make
):
    rep, other = make.rep(), make.rep()
    customer = make.customer(rep=rep)
    contact = make.contact(customer)
    due = make.record(contact, other, assigned_to=rep, response_required=True, date_due=DEC1)
    # Not due for the rep on December 1: answered, another date, someone else's.
    make.record(contact, rep, response_required=True, date_due=DEC1, responded_on=DEC1)
    make.record(contact, rep, response_required=True, date_due=DEC1 + timedelta(1))
    make.record(contact, rep, assigned_to=other, response_required=True, date_due=DEC1)
    make.record(contact, rep, date_due=DEC1)  # a note, no answer wanted
    held = make.touchpoint(customer, last_call=DEC1 - timedelta(30), frequency_days=30)
    make.touchpoint(make.customer(rep=rep), last_call=DEC1 - timedelta(30), inactive=True)
    make.touchpoint(make.customer(rep=rep, active=False), last_call=DEC1 - timedelta(30))
    make.touchpoint(make.customer(rep=other), last_call=DEC1 - timedelta(30))
    make.touchpoint(make.customer(rep=rep), last_call=DEC1 - timedelta(29))

    assert sorted(due_items(db.session, {rep.id: [DEC1]}), key=lambda d: d.kind) == [
        Due(rep.id, TASK, due.id, DEC1),
        Due(rep.id, TOUCHPOINT, held.id, DEC1),
    ]
    assert due_items(db.session, {rep.id: [DEC1 - timedelta(1)]}) == []


def test_a_reminder_says_overdue_only_for_a_date_before_today(app, make):
    rep = make.rep()
    contact = make.contact(make.customer(rep=rep, name="Acme"), name="Dana")
    task = make.record(contact, rep, response_required=True, date_due=DEC1, description="Call")
    rows = [LedgerRow(1, rep.id, TASK, task.id, DEC1)]
    due_today = Reminder(
        TASK, task.id, DEC1, False, "Call", "Dana", "customer", "Acme", "", contact.id
    )
    assert load_reminders(db.session, rows, DEC1) == {1: due_today}
    overdue = load_reminders(db.session, rows, DEC1 + timedelta(1))
    assert overdue[1].overdue is True


def test_a_jobsites_touchpoint_names_the_jobsite_and_its_customer(app, make):
    rep = make.rep()
    site = make.jobsite(make.customer(name="Acme"), rep=rep, name="North Yard")
    tp = make.touchpoint(site, last_call=DEC1 - timedelta(30), frequency_days=30)
    own = make.touchpoint(make.customer(rep=rep, name="Birch"), last_call=DEC1 - timedelta(30))
    rows = [
        LedgerRow(1, rep.id, TOUCHPOINT, tp.id, DEC1),
        LedgerRow(2, rep.id, TOUCHPOINT, own.id, DEC1),
    ]
    assert load_reminders(db.session, rows, DEC1) == {
        1: Reminder(TOUCHPOINT, tp.id, DEC1, False, "North Yard", account_kind="jobsite",
                    account="North Yard", customer="Acme"),
        2: Reminder(TOUCHPOINT, own.id, DEC1, False, "Birch", account="Birch"),
    }  # fmt: skip


def test_an_item_changed_since_it_was_planned_has_no_reminder(app, make):
    rep, other = make.rep(), make.rep()
    customer = make.customer(rep=rep)
    contact = make.contact(customer)
    moved = make.record(contact, rep, response_required=True, date_due=DEC1 + timedelta(1))
    handed = make.record(contact, rep, assigned_to=other, response_required=True, date_due=DEC1)
    answered = make.record(contact, rep, response_required=True, date_due=DEC1, responded_on=DEC1)
    rescheduled = make.touchpoint(customer, last_call=DEC1, frequency_days=30)
    inactive = make.touchpoint(make.customer(rep=rep), last_call=DEC1 - timedelta(30))
    inactive.inactive = True
    closed = make.touchpoint(make.customer(rep=rep), last_call=DEC1 - timedelta(30))
    closed.account.active = False
    given = make.touchpoint(make.customer(rep=other), last_call=DEC1 - timedelta(30))
    db.session.commit()
    rows = [
        LedgerRow(1, rep.id, TASK, moved.id, DEC1),
        LedgerRow(2, rep.id, TASK, handed.id, DEC1),
        LedgerRow(3, rep.id, TASK, answered.id, DEC1),
        LedgerRow(4, rep.id, TOUCHPOINT, rescheduled.id, DEC1),
        LedgerRow(5, rep.id, TOUCHPOINT, inactive.id, DEC1),
        LedgerRow(6, rep.id, TOUCHPOINT, closed.id, DEC1),
        LedgerRow(7, rep.id, TOUCHPOINT, given.id, DEC1),
        LedgerRow(8, rep.id, TASK, 10**6, DEC1),
    ]
    assert load_reminders(db.session, rows, DEC1) == {}
