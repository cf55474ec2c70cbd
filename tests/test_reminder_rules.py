"""Reminder planning's rules, one behaviour per test (kept by `make mutants`)."""

import re
import smtplib
import time
from collections import namedtuple
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tpweb.domain.reminders import (
    CHUNK,
    DAY,
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
from tpweb.extensions import db
from tpweb.jobs import delivery
from tpweb.jobs.delivery import SweepSettings, prepare, send_share, sweep
from tpweb.jobs.mail import Mailer
from tpweb.models import ReminderDelivery, TouchpointRecord

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


# The ledger: claims, leases, attempts. 06:00 in Tokyo on December 1 is 21:00 UTC on November 30.
TOKYO_SIX = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
LEASE = timedelta(minutes=15)


def tokyo_tasks(make, count, **fields):
    rep = make.rep(name="Kenji Sato", email="kenji@example.com", timezone="Asia/Tokyo", **fields)
    contact = make.contact(make.customer(rep=rep))
    for n in range(count):
        make.record(contact, rep, response_required=True, date_due=DEC1, description=f"Task {n}")
    return rep


def ledger_rows():
    db.session.expire_all()
    query = select(ReminderDelivery).where(ReminderDelivery.item_kind != DAY)
    return db.session.scalars(query.order_by(ReminderDelivery.id)).all()


def logged(caplog, level):
    return [r.getMessage() for r in caplog.records if r.levelname == level]


def run(now, mailer=None, **settings):
    with Mailer() as real:
        return sweep(db.session, mailer or real, now, SweepSettings(lease=LEASE, **settings))


def test_a_claim_whose_sender_died_goes_again_only_once_its_lease_is_over(app, make, outbox):
    tokyo_tasks(make, 1)
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    [row] = ledger_rows()
    # A sender claimed the row and died before sending.
    row.status, row.claim_token, row.attempts = "sending", "dead", 1
    row.claimed_at = TOKYO_SIX.replace(tzinfo=None)
    db.session.commit()

    assert run(TOKYO_SIX + LEASE - timedelta(seconds=1)).items_sent == 0
    assert [r.status for r in ledger_rows()] == ["sending"]
    prepare(db.session, TOKYO_SIX + LEASE + timedelta(seconds=1), SweepSettings(lease=LEASE))
    assert [(r.status, r.claim_token) for r in ledger_rows()] == [("pending", None)]
    assert run(TOKYO_SIX + LEASE + timedelta(seconds=1)).items_sent == 1
    [row] = ledger_rows()
    assert (row.status, row.attempts, row.claim_token) == ("sent", 2, None)
    assert [m.subject for m in outbox] == ["Due today: Task 0"]


def test_a_row_out_of_attempts_is_given_up_not_sent(app, make, outbox):
    tokyo_tasks(make, 2)
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    tired, fresh = ledger_rows()
    tired.attempts, fresh.attempts = 3, 2
    tired.status, tired.claim_token = "sending", "dead"
    tired.claimed_at = (TOKYO_SIX - LEASE * 2).replace(tzinfo=None)
    db.session.commit()
    report = run(TOKYO_SIX + timedelta(minutes=1), max_attempts=3)
    assert report.items_sent == 1
    assert [(r.status, r.attempts, r.claim_token) for r in ledger_rows()] == [
        ("failed", 3, None),
        ("sent", 3, None),
    ]


class FakeMonotonic:
    """The sweep's own stopwatch, moved on by the slow mail server below."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now


class SlowMailServer:
    """The app's mailer on a mail server that takes `minutes` per message; `during(n)` runs
    while the n-th message (from 1) is in flight."""

    def __init__(self, mailer, stopwatch, minutes, during):
        self.mailer, self.stopwatch, self.minutes, self.during = mailer, stopwatch, minutes, during
        self.count = 0

    def compose(self, *args):
        return self.mailer.compose(*args)

    def send(self, message):
        self.count += 1
        self.stopwatch.now += self.minutes * 60
        self.during(self.count)
        self.mailer.send(message)


def test_a_batch_that_outlives_its_lease_keeps_its_claims_and_is_not_sent_twice(
    app, make, outbox, monkeypatch
):
    stopwatch = FakeMonotonic()
    monkeypatch.setattr(delivery, "time", stopwatch)
    tokyo_tasks(make, 5)
    tokyo_tasks(make, 1, username="gone")
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    # Another sender claimed the second user's row five minutes ago and died.
    dead = ledger_rows()[-1]
    dead.status, dead.claim_token, dead.attempts = "sending", "dead", 1
    dead.claimed_at = (TOKYO_SIX - timedelta(minutes=5)).replace(tzinfo=None)
    db.session.commit()
    second = []

    def second_sender(n):
        # Another hourly sweep starts while the fifth message is in flight, 30 minutes (two
        # leases) after the first sender claimed its rows.
        if n == 5:
            with Session(db.engine) as other, Mailer() as mailer:
                now = TOKYO_SIX + timedelta(seconds=stopwatch.now)
                second.append(sweep(other, mailer, now, SweepSettings(lease=LEASE)))

    with Mailer() as real:
        slow = SlowMailServer(real, stopwatch, 6, second_sender)
        first = sweep(db.session, slow, TOKYO_SIX, SweepSettings(lease=LEASE))
    # The first sender renews its own claims only: the dead sender's row goes with the second.
    assert first.items_sent == 5 and second[0].items_sent == 1
    assert sorted(m.subject for m in outbox) == sorted(
        [f"Due today: Task {n}" for n in range(5)] + ["Due today: Task 0"]
    )
    assert [(r.status, r.attempts) for r in ledger_rows()] == [("sent", 1)] * 5 + [("sent", 2)]


@pytest.mark.parametrize(
    ("minutes", "renewed"),
    [
        # A quarter lease (3:45) a message: renewed before each message but the first, exactly a
        # quarter lease after the last.
        (3.75, [0, 3.75, 7.5]),
        # Less: the second message goes under the first claim, the third renews it.
        (3.5, [0, 0, 7]),
    ],
)
def test_a_sender_renews_its_claims_once_a_quarter_lease_has_gone_by(
    app, make, outbox, monkeypatch, minutes, renewed
):
    stopwatch = FakeMonotonic()
    monkeypatch.setattr(delivery, "time", stopwatch)
    tokyo_tasks(make, 3)
    claimed = []

    def look(n):
        claimed.append(sorted({r.claimed_at for r in ledger_rows() if r.status == "sending"}))

    with Mailer() as real:
        run(TOKYO_SIX, SlowMailServer(real, stopwatch, minutes, look))
    six = TOKYO_SIX.replace(tzinfo=None)
    assert claimed == [[six + timedelta(minutes=m)] for m in renewed]


def test_a_lease_is_over_only_once_strictly_older_than_its_length(app, make, outbox):
    tokyo_tasks(make, 1)
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    [row] = ledger_rows()
    row.status, row.claim_token, row.attempts = "sending", "dead", 1
    row.claimed_at = TOKYO_SIX.replace(tzinfo=None)
    db.session.commit()
    assert run(TOKYO_SIX + LEASE).items_sent == 0
    assert [r.status for r in ledger_rows()] == ["sending"]


def test_a_manual_date_is_swept_once_it_is_today_where_the_user_is(app, make, outbox):
    tokyo_tasks(make, 1)
    before = TOKYO_SIX - timedelta(hours=7)  # 23:00 on November 30 in Tokyo
    assert sweep(db.session, Mailer(), before, day=DEC1).items_sent == 0
    midnight = TOKYO_SIX - timedelta(hours=6)  # 00:00 on December 1 in Tokyo, before six
    assert sweep(db.session, Mailer(), midnight, day=DEC1).items_sent == 1
    assert [m.subject for m in outbox] == ["Due today: Task 0"]


def test_a_share_sends_only_the_rows_of_its_users(app, make, outbox):
    reps = [tokyo_tasks(make, 1, username=f"kenji{n}") for n in range(4)]
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    with Mailer() as mailer:
        even = send_share(db.session, mailer, TOKYO_SIX, SweepSettings(), share=(0, 2))
    assert sorted(s.to for s in even.sent) == ["kenji@example.com"] * 2
    sent = {r.user_id for r in ledger_rows() if r.status == "sent"}
    assert sent == {rep.id for rep in reps if rep.id % 2 == 0}
    heard = []
    with Mailer() as mailer:
        odd = send_share(db.session, mailer, TOKYO_SIX, SweepSettings(), share=(1, 2),
                         progress=lambda n, total: heard.append(total))  # fmt: skip
    assert odd.items_sent == 2 and {r.status for r in ledger_rows()} == {"sent"}
    assert heard == [2, 2]  # of the share's own pending rows


def test_progress_hears_of_every_row_handled_sent_or_skipped(app, make, outbox):
    rep = tokyo_tasks(make, 3)
    tokyo_tasks(make, 2, username="digest", reminder_digest=True)
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    answered = db.session.scalars(select(TouchpointRecord).filter_by(assigned_to_id=rep.id)).first()
    answered.responded_on = DEC1
    db.session.commit()
    heard = []
    with Mailer() as mailer:
        report = send_share(
            db.session,
            mailer,
            TOKYO_SIX,
            SweepSettings(),
            progress=lambda n, t: heard.append((n, t)),
        )
    assert (report.items_sent, report.skipped, len(report.sent)) == (4, 1, 3)
    assert heard == [(1, 5), (1, 5), (1, 5), (2, 5)]


def test_an_inactive_users_rows_are_skipped_not_sent(app, make, outbox):
    rep = tokyo_tasks(make, 2)
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    rep.active = False
    db.session.commit()
    report = run(TOKYO_SIX + timedelta(minutes=1))
    assert (report.items_sent, report.skipped, outbox) == (0, 2, [])
    assert [r.status for r in ledger_rows()] == ["skipped", "skipped"]


def test_a_pending_row_out_of_attempts_is_not_claimed_by_a_share(app, make, outbox):
    tokyo_tasks(make, 1)
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    [row] = ledger_rows()
    row.attempts = 5
    db.session.commit()
    with Mailer() as mailer:
        report = send_share(db.session, mailer, TOKYO_SIX, SweepSettings(max_attempts=5))
    assert report.items_sent == 0 and outbox == []


class RefusingMailServer:
    """The app's mailer on a mail server that refuses every message with a long reason."""

    def __init__(self, mailer):
        self.mailer = mailer

    def compose(self, *args):
        return self.mailer.compose(*args)

    def send(self, message):
        raise smtplib.SMTPDataError(554, "Refused: " + "x" * 500)


def test_a_refused_message_is_given_back_with_its_reason_cut_to_300_characters(
    app, make, outbox, caplog
):
    rep = tokyo_tasks(make, 2)
    with Mailer() as mailer:
        report = sweep(db.session, RefusingMailServer(mailer), TOKYO_SIX)
    assert (report.failed, report.items_sent) == (2, 0)
    assert logged(caplog, "ERROR") == [f"reminder to user {rep.id} failed"] * 2
    rows = ledger_rows()
    assert [(r.status, r.attempts, r.claim_token) for r in rows] == [("pending", 1, None)] * 2
    assert rows[0].last_error == repr(smtplib.SMTPDataError(554, "Refused: " + "x" * 500))[:300]
    assert len(rows[0].last_error) == 300


def test_a_digest_is_one_message_marked_sent_with_every_row_and_the_same_id_for_the_same_rows(
    app, make, outbox
):
    tokyo_tasks(make, 2, reminder_digest=True)
    report = run(TOKYO_SIX)
    assert (report.planned, report.items_sent, len(outbox)) == (2, 2, 1)
    # Stamped with the sweep's own clock: `now`, and the seconds the sweep has taken since.
    for row in ledger_rows():
        assert timedelta(0) <= row.sent_at - TOKYO_SIX.replace(tzinfo=None) < timedelta(minutes=1)
    assert [(r.status, r.overdue) for r in ledger_rows()] == [("sent", False)] * 2
    ids = [r.id for r in ledger_rows()]
    assert delivery.message_key(ids) == delivery.message_key(list(reversed(ids)))
    assert delivery.message_key(ids) != delivery.message_key(ids[:1])
    assert re.fullmatch(r"<digest-[0-9a-f]{20}@[\w.]+>", outbox[0].extra_headers["Message-ID"])


def test_a_dry_run_reports_each_email_and_keeps_nothing(app, make, outbox):
    tokyo_tasks(make, 2, reminder_digest=True)
    tokyo_tasks(make, 2, username="single")
    report = sweep(db.session, Mailer(), TOKYO_SIX, dry_run=True)
    assert (report.planned, report.items_sent, len(report.sent)) == (4, 4, 3)
    assert outbox == [] and ledger_rows() == []


def test_a_stale_row_is_skipped_and_the_rows_after_it_still_load(app, make):
    rep = make.rep()
    contact = make.contact(make.customer(rep=rep))
    moved = make.record(contact, rep, response_required=True, date_due=DEC1 + timedelta(1))
    due = make.record(contact, rep, response_required=True, date_due=DEC1)
    rescheduled = make.touchpoint(contact.customer, last_call=DEC1, frequency_days=30)
    held = make.touchpoint(make.customer(rep=rep), last_call=DEC1 - timedelta(30))
    rows = [
        LedgerRow(1, rep.id, TASK, moved.id, DEC1),
        LedgerRow(2, rep.id, TASK, due.id, DEC1),
        LedgerRow(3, rep.id, TOUCHPOINT, rescheduled.id, DEC1),
        LedgerRow(4, rep.id, TOUCHPOINT, held.id, DEC1),
    ]
    assert sorted(load_reminders(db.session, rows, DEC1)) == [2, 4]


def test_due_items_over_more_dates_than_one_query_takes_are_all_found_once(app, make):
    rep = make.rep()
    customer = make.customer(rep=rep)
    days = [DEC1 + timedelta(n) for n in range(CHUNK + 1)]
    # The first date goes in the first query, the last alone in the second.
    task = make.record(make.contact(customer), rep, response_required=True, date_due=days[0])
    tp = make.touchpoint(customer, last_call=days[-1] - timedelta(30), frequency_days=30)
    assert sorted(due_items(db.session, {rep.id: days}), key=lambda d: d.kind) == [
        Due(rep.id, TASK, task.id, days[0]),
        Due(rep.id, TOUCHPOINT, tp.id, days[-1]),
    ]


def test_a_send_instant_is_in_utc_whatever_the_servers_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        six = send_instant(DEC1, 6, "Asia/Tokyo")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert six.utcoffset() == timedelta(0)
    assert (six.hour, six.day) == (21, 30)


def test_a_dry_run_previews_each_users_pending_rows_by_due_date(app, make, outbox):
    rep = tokyo_tasks(make, 0)
    contact = make.contact(make.customer(rep=rep))
    later = make.record(contact, rep, response_required=True, date_due=DEC1, description="Later")
    sooner = make.record(contact, rep, response_required=True, date_due=DEC1 - timedelta(1),
                         description="Sooner")  # fmt: skip
    done = make.record(contact, rep, response_required=True, date_due=DEC1, description="Done")
    # Planned out of date order; one already sent.
    for task, status in [(later, "pending"), (sooner, "pending"), (done, "sent")]:
        db.session.add(ReminderDelivery(user_id=rep.id, item_kind=TASK, item_id=task.id,
                                        due_date=task.date_due, status=status))  # fmt: skip
    db.session.commit()
    report = sweep(db.session, Mailer(), TOKYO_SIX, dry_run=True)
    assert [s.subject for s in report.sent] == ["Overdue: Sooner", "Due today: Later"]


def test_a_user_with_an_unknown_zone_gets_no_manual_dates_reminders_and_the_log_says_so(
    app, make, outbox, caplog
):
    tokyo_tasks(make, 1)
    lost = tokyo_tasks(make, 1, username="lost")
    lost.timezone = "Mars/Olympus"
    db.session.commit()
    with caplog.at_level("WARNING", logger="tpweb.jobs.delivery"):
        report = sweep(db.session, Mailer(), TOKYO_SIX, day=DEC1)
    assert report.items_sent == 1
    assert [r.user_id for r in ledger_rows()] == [lost.id - 1]
    unknown = f"user {lost.id} has an unknown time zone 'Mars/Olympus'; no reminders"
    assert logged(caplog, "WARNING") == [unknown]


class TakenOverMailServer(SlowMailServer):
    """A slow mail server that refuses the message in flight after another sender took its row."""

    def send(self, message):
        self.count += 1
        self.during(self.count)
        raise smtplib.SMTPDataError(451, "Try again later")


def test_a_failed_message_gives_back_only_rows_its_sender_still_holds(app, make, outbox):
    tokyo_tasks(make, 1)

    def taken_over(n):
        # The row's lease ran out and another sender claimed it before this one heard back.
        row = ledger_rows()[0]
        row.claim_token, row.attempts = "other", 2
        db.session.commit()

    with Mailer() as real:
        report = run(TOKYO_SIX, TakenOverMailServer(real, None, 0, taken_over))
    assert report.failed == 1
    [row] = ledger_rows()
    assert (row.status, row.claim_token, row.last_error) == ("sending", "other", "")


def test_a_user_made_inactive_after_a_sweep_does_not_stop_the_next_one(app, make, outbox):
    kenji = tokyo_tasks(make, 1)
    gone = tokyo_tasks(make, 1, username="gone")
    run(TOKYO_SIX)
    gone.active = False
    db.session.commit()
    contact = make.contact(make.customer(rep=kenji))
    make.record(contact, kenji, response_required=True, date_due=DEC1 + timedelta(1),
                description="Next")  # fmt: skip
    assert run(TOKYO_SIX + timedelta(days=1)).items_sent == 1
    assert outbox[-1].subject == "Due today: Next"


def test_a_date_run_by_hand_is_still_planned_by_the_hourly_sweep_for_items_added_since(
    app, make, outbox
):
    rep = tokyo_tasks(make, 1)
    run(TOKYO_SIX - timedelta(days=1))  # the hourly sweep of November 30: nothing due
    midnight = TOKYO_SIX - timedelta(hours=6)  # December 1 has begun in Tokyo
    assert sweep(db.session, Mailer(), midnight, day=DEC1).items_sent == 1
    contact = make.contact(make.customer(rep=rep))
    make.record(contact, rep, response_required=True, date_due=DEC1, description="Added since")
    assert run(TOKYO_SIX).items_sent == 1
    assert [m.subject for m in outbox] == ["Due today: Task 0", "Due today: Added since"]


def test_the_hourly_sweep_logs_a_user_with_an_unknown_zone_and_goes_on(app, make, outbox, caplog):
    tokyo_tasks(make, 1)
    lost = tokyo_tasks(make, 1, username="lost")
    lost.timezone = "Mars/Olympus"
    db.session.commit()
    with caplog.at_level("WARNING", logger="tpweb.jobs.delivery"):
        assert run(TOKYO_SIX).items_sent == 1
    unknown = f"user {lost.id} has an unknown time zone 'Mars/Olympus'; no reminders"
    assert logged(caplog, "WARNING") == [unknown]


def test_a_task_added_for_a_day_already_swept_waits_for_no_second_sweep_that_day(app, make, outbox):
    rep = tokyo_tasks(make, 1)
    run(TOKYO_SIX - timedelta(days=1))  # the user's first night: November 30
    assert run(TOKYO_SIX).items_sent == 1
    contact = make.contact(make.customer(rep=rep))
    make.record(contact, rep, response_required=True, date_due=DEC1, description="Late")
    assert run(TOKYO_SIX + timedelta(hours=1)).items_sent == 0


def test_each_user_catches_up_the_nights_missed_since_their_own_first_sweep(app, make, outbox):
    reps = [tokyo_tasks(make, 0, username=name) for name in ("ann", "bo")]
    run(TOKYO_SIX - timedelta(days=2))  # November 29 swept for both; November 30 missed
    for rep in reps:
        contact = make.contact(make.customer(rep=rep))
        make.record(contact, rep, response_required=True, date_due=DEC1 - timedelta(1),
                    description=f"Missed {rep.username}")  # fmt: skip
    assert run(TOKYO_SIX).items_sent == 2
    assert sorted(m.subject for m in outbox) == ["Overdue: Missed ann", "Overdue: Missed bo"]


def test_a_date_run_by_hand_is_no_first_night_to_catch_up_from(app, make, outbox):
    rep = tokyo_tasks(make, 0)
    contact = make.contact(make.customer(rep=rep))
    old = DEC1 - timedelta(days=3)
    make.record(contact, rep, response_required=True, date_due=old, description="Old")
    assert sweep(db.session, Mailer(), TOKYO_SIX, day=old).items_sent == 1
    make.record(contact, rep, response_required=True, date_due=DEC1 - timedelta(1),
                description="Before the first night")  # fmt: skip
    assert run(TOKYO_SIX).items_sent == 0


def test_each_users_messages_go_oldest_due_first_and_every_skip_is_counted(app, make, outbox):
    rep = tokyo_tasks(make, 0)
    other = tokyo_tasks(make, 1, username="other")
    contact = make.contact(make.customer(rep=rep))
    later = make.record(contact, rep, response_required=True, date_due=DEC1, description="Later")
    sooner = make.record(contact, rep, response_required=True, date_due=DEC1 - timedelta(1),
                         description="Sooner")  # fmt: skip
    gone = make.record(contact, rep, response_required=True, date_due=DEC1, description="Gone")
    # Planned out of date order, and one item of each user answered since.
    for task in (later, sooner, gone):
        db.session.add(ReminderDelivery(user_id=rep.id, item_kind=TASK, item_id=task.id,
                                        due_date=task.date_due))  # fmt: skip
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    gone.responded_on = DEC1
    for task in db.session.scalars(select(TouchpointRecord).filter_by(assigned_to_id=other.id)):
        task.responded_on = DEC1
    db.session.commit()
    report = run(TOKYO_SIX)
    assert report.skipped == 2
    assert [m.subject for m in outbox] == ["Overdue: Sooner", "Due today: Later"]


def test_a_row_another_sender_claims_first_is_left_to_it(app, make, outbox):
    rep = tokyo_tasks(make, 2)
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    answered, live = db.session.scalars(select(TouchpointRecord).filter_by(assigned_to_id=rep.id))
    answered.responded_on = DEC1
    db.session.commit()

    def other_sender_claims(n, total):
        # Between this sender's read of its rows and its claim, another sender claims one.
        if not any(r.claim_token == "other" for r in ledger_rows()):
            row = next(r for r in ledger_rows() if r.item_id == live.id)
            row.status, row.claim_token, row.attempts = "sending", "other", 1
            db.session.commit()

    with Mailer() as mailer:
        report = send_share(db.session, mailer, TOKYO_SIX, SweepSettings(),
                            progress=other_sender_claims)  # fmt: skip
    assert (report.items_sent, outbox) == (0, [])
    assert sorted((r.status, r.claim_token) for r in ledger_rows()) == [
        ("sending", "other"),
        ("skipped", None),
    ]


def test_a_user_whose_address_or_zone_went_bad_after_planning_is_skipped_or_logged(
    app, make, outbox, caplog
):
    tokyo_tasks(make, 1)
    no_address = tokyo_tasks(make, 1, username="no_address")
    lost = tokyo_tasks(make, 1, username="lost")
    prepare(db.session, TOKYO_SIX, SweepSettings(lease=LEASE))
    no_address.email = None
    lost.timezone = "Mars/Olympus"
    db.session.commit()
    with caplog.at_level("WARNING", logger="tpweb.jobs.delivery"):
        report = run(TOKYO_SIX + timedelta(minutes=1))
    assert (report.items_sent, report.skipped, len(outbox)) == (1, 1, 1)
    assert logged(caplog, "WARNING") == [
        f"user {lost.id} has an unknown time zone 'Mars/Olympus'; no reminders",
        f"user {lost.id} has an unknown time zone 'Mars/Olympus'",
    ]


def test_times_are_stored_in_utc_whatever_the_servers_zone(app, make, outbox, monkeypatch):
    tokyo_tasks(make, 1)
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        run(TOKYO_SIX)
    finally:
        monkeypatch.undo()
        time.tzset()
    [row] = ledger_rows()
    assert timedelta(0) <= row.sent_at - TOKYO_SIX.replace(tzinfo=None) < timedelta(minutes=1)
    assert timedelta(0) <= row.claimed_at - TOKYO_SIX.replace(tzinfo=None) < timedelta(minutes=1)


def test_a_report_counts_every_message_and_lists_only_the_first_ones():
    """A sweep of 100,000 items sends 200,000 messages: its Report (and the shares' it adds up)
    counts them all by channel and keeps LISTED of them for the CLI to print."""
    report, share = delivery.Report(), delivery.Report(skipped=2, failed=1)
    for n in range(delivery.LISTED + 5):
        report.add(delivery.Sent(f"u{n}@example.com", "Due today: Call", 1))
    share.add(delivery.Sent("Kenji", "2 reminders", 2, delivery.PUSH))
    report.merge(share)
    assert len(report.sent) == delivery.LISTED and report.sent[0].to == "u0@example.com"
    assert report.messages == {delivery.EMAIL: delivery.LISTED + 5, delivery.PUSH: 1}
    assert (report.items_sent, report.skipped, report.failed) == (delivery.LISTED + 7, 2, 1)
    small = delivery.Report()
    small.merge(share)
    assert [s.to for s in small.sent] == ["Kenji"] and small.items_sent == 2
