"""Overnight reminders, end to end: real Redis, real RQ workers, a real SMTP server on loopback.

Each email the seed promises arrives once, at the user's send hour in the user's zone, whatever
retries, second workers, killed workers or missed nights do.
"""

import email
import email.policy
import signal
import time
from datetime import UTC, date, datetime, timedelta

from flask_mailman import EmailMultiAlternatives
from sqlalchemy import func, select

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.jobs.mail import Wire
from tpweb.jobs.sweep import SEND_REMINDERS, USERS_PER_SHARE, run_sweep, share_count
from tpweb.models import ReminderDelivery

from .sweeping import DEC1, TOKYO_SIX, enqueue_sweep, start_worker, task, tokyo_rep, work


def ledger(**filters):
    query = select(func.count(ReminderDelivery.id)).filter_by(**filters)
    return db.session.scalar(query.where(ReminderDelivery.item_kind != "day"))


def test_the_seed_sentence_arrives_at_six_on_the_due_date_in_the_users_zone(
    app, make, queue, inbox
):
    kenji = tokyo_rep(make)
    customer = make.customer(rep=kenji, name="Acme & Sons")
    dana = make.contact(customer, name="Dana Diaz")
    task(make, kenji, dana, DEC1, "Reactivate the membership")
    task(make, kenji, dana, DEC1 + timedelta(days=2), "Not yet")
    site = make.jobsite(customer, rep=kenji, name="North Yard")
    make.touchpoint(site, last_call=DEC1 - timedelta(days=30), frequency_days=30)

    enqueue_sweep(queue, TOKYO_SIX - timedelta(hours=1))  # 05:00 in Tokyo: not yet
    work(app, queue)
    assert inbox.messages == []
    enqueue_sweep(queue, TOKYO_SIX)
    work(app, queue)
    assert [rcpt for rcpt, _, _ in inbox.received] == [["kenji@example.com"]] * 2
    task_mail, touchpoint_mail = sorted(inbox.messages, key=lambda m: m["Subject"])
    assert task_mail["Subject"] == "Due today: Reactivate the membership"
    assert task_mail["To"] == "Kenji Sato <kenji@example.com>"
    text = task_mail.get_body(("plain",)).get_content()
    seed = "A task titled {} for contact {} assigned to you is due today."
    assert seed.format("Reactivate the membership", "Dana Diaz") in text
    assert "Due: Tuesday, December 1, 2026" in text and "Customer: Acme & Sons" in text
    html = task_mail.get_body(("html",)).get_content()
    assert f'href="https://tpweb.example/contacts/{dana.id}"' in html
    assert "Customer: Acme &amp; Sons" in html
    assert (
        "A touchpoint for jobsite North Yard of customer Acme &amp; Sons assigned to you is due"
        " today." in touchpoint_mail.get_body(("html",)).get_content()
    )

    # Every other hour of that day and the next: nothing more, and nothing early for December 3.
    for hour in range(1, 27):
        enqueue_sweep(queue, TOKYO_SIX + timedelta(hours=hour))
    work(app, queue)
    assert len(inbox.messages) == 2
    assert ledger(status="sent") == 2


def test_nothing_is_planned_or_sent_for_a_user_without_an_email_address(app, make, queue, inbox):
    nobody = make.rep(timezone="Asia/Tokyo", email=None)
    blank = make.rep(timezone="Asia/Tokyo", email="")
    for user in (nobody, blank):
        contact = make.contact(make.customer(rep=user))
        task(make, user, contact, DEC1, "Call back")
        make.touchpoint(contact.customer, last_call=DEC1 - timedelta(days=7), frequency_days=7)
    enqueue_sweep(queue, TOKYO_SIX)
    work(app, queue)
    assert inbox.messages == []
    assert db.session.scalar(select(func.count(ReminderDelivery.id))) == 0


def test_digest_mode_sends_one_message_listing_every_item(app, make, queue, inbox):
    kenji = tokyo_rep(make, reminder_digest=True)
    customer = make.customer(rep=kenji, name="Birch Supply")
    contact = make.contact(customer, name="Ann Lee")
    for description in ("Send the quote", "Confirm delivery"):
        task(make, kenji, contact, DEC1, description)
    make.touchpoint(customer, last_call=DEC1 - timedelta(days=14), frequency_days=14)
    enqueue_sweep(queue, TOKYO_SIX)
    enqueue_sweep(queue, TOKYO_SIX)  # RQ is at-least-once: a retried job sends nothing again
    work(app, queue)
    [digest] = inbox.messages
    assert (
        digest["Subject"] == "Your reminders for Tuesday, December 1, 2026: 3 due today, 0 overdue"
    )
    text = digest.get_body(("plain",)).get_content()
    seed = "A task titled {} for contact Ann Lee assigned to you is due today."
    for description in ("Send the quote", "Confirm delivery"):
        assert seed.format(description) in text
    assert "A touchpoint for customer Birch Supply assigned to you is due today." in text
    assert ledger(status="sent") == 3


def reps_with_tasks(make, reps, tasks_each, due=DEC1):
    """`reps` Tokyo reps with `tasks_each` tasks due on `due`: Task 00, Task 01, ..."""
    n = 0
    for r in range(reps):
        rep = tokyo_rep(make, email=f"rep{r}@example.com")
        contact = make.contact(make.customer(rep=rep))
        for _ in range(tasks_each):
            task(make, rep, contact, due, f"Task {n:02d}")
            n += 1
    db.session.commit()
    return [f"Due today: Task {i:02d}" for i in range(n)]


def test_two_workers_at_once_send_each_item_once(app, make, queue, inbox, database_url):
    expected = reps_with_tasks(make, reps=8, tasks_each=2)
    inbox.rendezvous = 2  # the first send waits until the other worker is sending too
    for _ in range(2):
        enqueue_sweep(queue, TOKYO_SIX)
    workers = [start_worker(queue, database_url, inbox, n) for n in (1, 2)]
    for process in workers:
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
    assert len(inbox.senders()) == 2  # both sweeps were mid-batch at the same time
    assert sorted(m["Subject"] for m in inbox.messages) == expected
    db.session.expire_all()
    assert ledger(status="sent") == 16


def test_a_worker_killed_between_sending_and_marking_loses_and_doubles_nothing_else(
    app, make, queue, inbox, database_url
):
    expected = reps_with_tasks(make, reps=3, tasks_each=2)
    enqueue_sweep(queue, TOKYO_SIX)
    process = start_worker(queue, database_url, inbox, 1)
    inbox.kill_pid, inbox.kill_at = process.pid, 3  # killed as the third message arrives
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    db.session.expire_all()
    # The first rep's two are sent; the second rep's are held (one in flight); the third's wait.
    assert (ledger(status="sent"), ledger(status="sending"), ledger(status="pending")) == (2, 2, 2)

    # The next hourly run: the dead worker's claims are past their lease, so they go again.
    enqueue_sweep(queue, TOKYO_SIX + timedelta(hours=1))
    work(app, queue)
    subjects = [m["Subject"] for m in inbox.messages]
    assert sorted(set(subjects)) == expected
    [twice] = [s for s in set(subjects) if subjects.count(s) > 1]
    assert subjects.count(twice) == 2 and twice == subjects[2]  # the one in flight, no other
    ids = [m["Message-ID"] for m in inbox.messages if m["Subject"] == twice]
    assert ids[0] == ids[1]  # the same Message-ID, so a mail system can fold the two
    assert ledger(status="sent") == 6


def test_a_batch_that_outlives_its_lease_keeps_its_rows_from_a_second_sender(
    app, make, queue, inbox, database_url, monkeypatch
):
    """A sender whose batch takes longer than the lease renews its claims as it goes: a sweep
    run meanwhile finds nothing to take, and no message goes twice."""
    lease, tasks = 2, 16
    today = today_in("Asia/Tokyo")
    kenji = tokyo_rep(make, reminder_hour=0)  # past the send hour, whenever the test runs
    contact = make.contact(make.customer(rep=kenji))
    for n in range(tasks):
        task(make, kenji, contact, today, f"Task {n:02d}")
    expected = [f"Due today: Task {n:02d}" for n in range(tasks)]
    inbox.delay = 0.5  # 8 s for the batch: four leases
    monkeypatch.setitem(app.config, "TPWEB_REMINDER_LEASE_SECONDS", lease)
    # Both sweeps run on the real clock, as the hourly job does: their leases compare.
    queue.enqueue(SEND_REMINDERS, job_id=f"{queue.name}-first", job_timeout=120)
    first = start_worker(queue, database_url, inbox, 1, TPWEB_REMINDER_LEASE_SECONDS=str(lease))
    try:
        for _ in range(600):  # 30 s at most for the worker to start and send 6 messages
            if len(inbox.messages) >= 6:
                break
            time.sleep(0.05)
        started = len(inbox.messages)  # 6 are 2.5 s and more into the batch: past its first claim
        second = queue.enqueue(SEND_REMINDERS, job_id=f"{queue.name}-second", job_timeout=120)
        work(app, queue)
        overlapped = first.poll() is None
    finally:
        output, _ = first.communicate(timeout=60)

    assert first.returncode == 0, output
    assert started >= 6 and overlapped  # the second sweep ran while the first batch went on
    assert sorted(m["Subject"] for m in inbox.messages) == expected  # each exactly once
    assert second.return_value()["emails"] == 0
    assert len({m["Message-ID"] for m in inbox.messages}) == tasks
    db.session.expire_all()
    assert ledger(status="sent") == tasks


def test_three_nights_skipped_then_one_run_sends_each_missed_item_once_marked_overdue(
    app, make, outbox
):
    rep = make.rep(email="pat@example.com", timezone="America/Chicago")
    contact = make.contact(make.customer(rep=rep), name="Lee Park")
    days = [date(2026, 11, 30) + timedelta(days=n) for n in range(6)]
    for day in days:
        task(make, rep, contact, day, f"Due {day:%b %d}")
    answered = task(make, rep, contact, days[2], "Answered meanwhile")

    def run(day, hour=7):  # 07:00 in Chicago is 13:00 UTC in winter
        run_sweep(now=datetime(day.year, day.month, day.day, hour + 6, tzinfo=UTC))
        subjects = [m.subject for m in outbox]
        outbox.clear()
        return sorted(subjects)

    assert run(days[0]) == ["Due today: Due Nov 30"]
    answered.responded_on = days[2]  # no runs on December 1, 2 and 3
    db.session.commit()
    assert run(days[4]) == [
        "Due today: Due Dec 04",
        "Overdue: Due Dec 01",
        "Overdue: Due Dec 02",
        "Overdue: Due Dec 03",
    ]
    assert run(days[4], hour=8) == []
    assert run(days[5]) == ["Due today: Due Dec 05"]
    assert ledger(status="sent", overdue=True) == 3
    assert ledger(status="sent", overdue=False) == 3


def test_user_text_is_escaped_in_the_html_part_and_kept_in_the_text_part(app, make, outbox):
    rep = tokyo_rep(make)
    contact = make.contact(make.customer(rep=rep), name='Bo "B" <Bolt>')
    task(make, rep, contact, DEC1, "<script>alert(1)</script> & more")
    run_sweep(now=TOKYO_SIX)
    [message] = outbox
    html = message.alternatives[0][0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html and "<script>" not in html
    assert "Bo &#34;B&#34; &lt;Bolt&gt;" in html
    assert "A task titled <script>alert(1)</script> & more for contact" in message.body


def test_send_reminders_from_the_command_line_without_redis(runner, make, outbox):
    rep = make.rep(email="pat@example.com", timezone="America/Chicago")
    contact = make.contact(make.customer(rep=rep), name="Lee Park")
    day = today_in("America/Chicago") - timedelta(days=2)
    for n in range(60):
        task(make, rep, contact, day, f"Call back {n:02d}")
    args = ["send-reminders", "--date", day.isoformat()]
    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would send to pat@example.com: Overdue: Call back 00" in dry.output
    assert outbox == [] and db.session.scalar(select(func.count(ReminderDelivery.id))) == 0
    sent = runner.invoke(args=args)
    assert "Sending reminders" in sent.output  # a progress bar for a long run
    assert "Sent to pat@example.com: Overdue: Call back 59" in sent.output
    assert "Sent 60 emails for 60 items" in sent.output and len(outbox) == 60
    assert "Sent 0 emails" in runner.invoke(args=args).output and len(outbox) == 60
    future = runner.invoke(args=["send-reminders", "--date", "2199-01-01"])
    assert "Sent 0 emails" in future.output
    # A manual date leaves no swept night behind: the hourly schedule goes on as it was.
    days = select(func.count(ReminderDelivery.id)).filter_by(item_kind="day")
    assert db.session.scalar(days) == 0


def test_a_mail_server_error_is_tried_again_next_hour_and_given_up_after_five(
    app, make, queue, inbox
):
    expected = reps_with_tasks(make, reps=2, tasks_each=1)
    inbox.refuse = "Task 00"
    for hour in range(5):
        enqueue_sweep(queue, TOKYO_SIX + timedelta(hours=hour))
        work(app, queue)
    assert [m["Subject"] for m in inbox.messages] == expected[1:]  # the rest went on
    row = db.session.scalars(select(ReminderDelivery).filter_by(status="pending")).one()
    assert row.attempts == 5 and "554" in row.last_error
    enqueue_sweep(queue, TOKYO_SIX + timedelta(hours=5))
    work(app, queue)
    assert ledger(status="failed") == 1 and len(inbox.messages) == 1


def test_a_refusing_mail_server_that_recovers_gets_every_item_once(app, make, queue, inbox):
    expected = reps_with_tasks(make, reps=2, tasks_each=2)
    inbox.refuse = "Task 0"  # the server refuses everything for an hour
    enqueue_sweep(queue, TOKYO_SIX)
    work(app, queue)
    assert inbox.messages == [] and ledger(status="sent") == 0

    inbox.refuse = ""
    for hour in (1, 2):
        enqueue_sweep(queue, TOKYO_SIX + timedelta(hours=hour))
        work(app, queue)

    assert sorted(m["Subject"] for m in inbox.messages) == sorted(expected)
    assert ledger(status="sent") == len(expected)


def test_non_ascii_names_arrive_intact_over_smtp(app, make, queue, inbox):
    zoe = make.rep(name="Zoë Ångström", email="zoe@example.com", timezone="Asia/Tokyo")
    contact = make.contact(make.customer(rep=zoe, name="Café & Co"), name="Jürgen")
    task(make, zoe, contact, DEC1, "Confirm «crème brûlée» order")
    enqueue_sweep(queue, TOKYO_SIX)
    work(app, queue)
    [message] = inbox.messages
    assert message["Subject"] == "Due today: Confirm «crème brûlée» order"
    assert message["To"] == "Zoë Ångström <zoe@example.com>"
    assert message["Message-ID"].startswith("<reminder-")
    text = message.get_body(("plain",)).get_content()
    assert "Hello Zoë Ångström," in text
    assert "A task titled Confirm «crème brûlée» order for contact Jürgen" in text
    assert "Customer: Café &amp; Co" in message.get_body(("html",)).get_content()


def test_a_line_too_long_for_smtp_goes_quoted_printable_and_arrives_whole(app):
    body = "Ünïcode " * 200  # 1,800 bytes on one line: over SMTP's 998
    message = EmailMultiAlternatives("Long", body, to=["Pat <pat@example.com>"])
    message.attach_alternative(f"<p>{body}</p>", "text/html")
    message.envelope_to = "pat@example.com"
    raw = Wire("tpweb <reminders@localhost>").bytes(message)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_body(("plain",)).get_content() == body
    assert parsed.get_body(("html",)).get_content() == f"<p>{body}</p>"


def test_the_command_line_sends_from_several_processes_each_item_once(
    runner, make, inbox, database_url
):
    today = today_in("Asia/Tokyo")
    expected = reps_with_tasks(make, reps=4, tasks_each=3, due=today)
    inbox.rendezvous = 2  # the first send waits until the other process is sending too
    args = ["send-reminders", "--date", today.isoformat(), "--workers", "2"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Sent 12 emails for 12 items" in result.output
    assert len(inbox.senders()) == 2  # two SMTP connections, sending at the same time
    assert sorted(m["Subject"] for m in inbox.messages) == expected
    db.session.expire_all()
    assert ledger(status="sent") == 12

    again = runner.invoke(args=args)
    assert "Sent 0 emails" in again.output and len(inbox.messages) == 12


def test_the_command_line_refuses_a_number_of_workers_below_one(runner, make, inbox):
    reps_with_tasks(make, reps=1, tasks_each=1)
    result = runner.invoke(args=["send-reminders", "--date", DEC1.isoformat(), "--workers", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--workers'" in result.output
    assert inbox.messages == [] and ledger() == 0


def test_the_hourly_job_split_in_shares_is_sent_by_two_workers_at_once(
    app, make, queue, inbox, database_url
):
    expected = reps_with_tasks(make, reps=6, tasks_each=2)
    inbox.rendezvous = 2  # the first send waits until the other worker is sending too
    job_id = f"{queue.name}-split"
    queue.enqueue(SEND_REMINDERS, TOKYO_SIX.isoformat(), 2, job_id=job_id, job_timeout=120)
    first = start_worker(queue, database_url, inbox, 1)
    sweep = queue.fetch_job(job_id)
    for _ in range(400):  # the job enqueues the second share before it sends anything
        if sweep.get_status() != "queued" and queue.count:
            break
        time.sleep(0.05)
    second = start_worker(queue, database_url, inbox, 2)
    for process in (first, second):
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
    assert len(inbox.senders()) == 2
    assert sorted(m["Subject"] for m in inbox.messages) == expected
    assert sweep.return_value()["shares"] == 2
    db.session.expire_all()
    assert ledger(status="sent") == 12


def test_a_sweep_is_split_only_between_workers_with_users_enough():
    assert share_count(workers=1, users=10_000) == 1
    assert share_count(workers=4, users=USERS_PER_SHARE * 2) == 2
    assert share_count(workers=4, users=USERS_PER_SHARE - 1) == 1
    assert share_count(workers=0, users=0) == 1


def test_each_message_costs_one_sql_statement_whatever_the_sweep_size(
    app, make, outbox, count_queries
):
    def sweep_with(tasks):
        rep = make.rep(email=f"rep{tasks}@example.com", timezone="Asia/Tokyo")
        contact = make.contact(make.customer(rep=rep))
        for n in range(tasks):
            task(make, rep, contact, DEC1, f"Call {n}")
        db.session.commit()
        count_queries.clear()
        report = run_sweep(now=TOKYO_SIX, day=DEC1)
        assert report.items_sent == tasks
        return len(count_queries)

    small, big = sweep_with(10), sweep_with(30)
    # Per message: the UPDATE marking its row sent, nothing else (its claim is one per user).
    assert big - small == 20
    assert len(outbox) == 40 and ledger(status="sent") == 40
