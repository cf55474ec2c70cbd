"""Web Push reminders: the sweep pushes through the email's ledger to a push service on loopback
(tests/webpush.py) that decrypts every message with the device's own keys."""

import signal
import socket
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, func, select

from tpweb.config import check_push
from tpweb.domain import one_tap
from tpweb.domain.reminders import TASK, TOUCHPOINT
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.jobs.counters import REMINDERS
from tpweb.jobs.sweep import run_sweep
from tpweb.models import PushSubscription, ReminderDelivery, Touchpoint, TouchpointRecord

from .conftest import snapshot
from .push_keys import SUBJECT, VAPID
from .sweeping import DEC1, TOKYO_SIX, enqueue_sweep, start_worker, task, tokyo_rep, work
from .webpush import Device, Receiver, unb64


@pytest.fixture
def receiver(app, monkeypatch):
    """The push service on loopback, and the app's VAPID keys set."""
    for name, value in VAPID.items():
        monkeypatch.setitem(app.config, name, value)
    with Receiver() as service:
        yield service


def subscribe(user, device, label="Chrome on Android"):
    db.session.add(PushSubscription(user_id=user.id, label=label, **device.form()))
    db.session.commit()


def ledger(**filters):
    query = select(func.count(ReminderDelivery.id)).filter_by(**filters)
    return db.session.scalar(query.where(ReminderDelivery.item_kind != "day"))


def devices():
    return sorted(db.session.scalars(select(PushSubscription.endpoint)))


def kenji_with_two_items(make, receiver, **fields):
    """Kenji (Tokyo) with a task for Dana Diaz of Acme & Sons and a touchpoint of its North Yard
    jobsite, both due December 1, and two phones."""
    kenji = tokyo_rep(make, **fields)
    customer = make.customer(rep=kenji, name="Acme & Sons")
    dana = make.contact(customer, name="Dana Diaz")
    record = task(make, kenji, dana, DEC1, "Reactivate the membership")
    site = make.jobsite(customer, rep=kenji, name="North Yard")
    touchpoint = make.touchpoint(site, last_call=DEC1 - timedelta(days=30), frequency_days=30)
    for phone in ("phone", "tablet"):
        subscribe(kenji, receiver.device(phone))
    return kenji, record, touchpoint


def test_each_item_is_pushed_once_to_every_device_and_decrypts_to_its_words_and_link(
    app, make, receiver, outbox
):
    _, record, touchpoint = kenji_with_two_items(make, receiver)
    counted = {name: REMINDERS.labels(name, "sent")._value.get() for name in ("email", "push")}
    run_sweep(now=TOKYO_SIX - timedelta(hours=1))
    assert receiver.texts() == []
    run_sweep(now=TOKYO_SIX)
    run_sweep(now=TOKYO_SIX + timedelta(hours=1))  # the next hour sends nothing again
    for phone in ("phone", "tablet"):
        by_title = {text["title"]: text for text in receiver.texts(phone)}
        assert sorted(by_title) == ["Dana Diaz · Acme & Sons", "North Yard · Acme & Sons"]
        shown = by_title["Dana Diaz · Acme & Sons"]
        assert shown["body"] == (
            "A task titled Reactivate the membership for contact Dana Diaz assigned to you is due"
            " today."
        )
        assert shown["url"] == f"https://tpweb.example/tasks/{record.id}/response"
        site = by_title["North Yard · Acme & Sons"]
        assert site["url"] == f"https://tpweb.example/touchpoints/{touchpoint.id}/complete"
        assert site["body"].startswith("A touchpoint for jobsite North Yard of customer Acme")
    # The same items by email too: each channel once.
    assert sorted(m.subject for m in outbox) == [
        "Due today: Reactivate the membership",
        "Due today: Touchpoint: North Yard",
    ]
    assert (ledger(channel="email", status="sent"), ledger(channel="push", status="sent")) == (2, 2)
    # The operator's counters (/metrics) by channel: two items each.
    for name in ("email", "push"):
        assert REMINDERS.labels(name, "sent")._value.get() - counted[name] == 2
    message = receiver.messages[0]
    assert message.claims["sub"] == SUBJECT
    assert message.headers["ttl"] == str(12 * 3600)
    # The topic and the tag are the row's: a repeat replaces the first, on the service and phone.
    assert message.headers["topic"] == message.data["tag"]


def test_each_push_carries_the_emails_one_tap_actions_signed_for_its_user_item_and_action(
    app, make, receiver, outbox
):
    kenji, record, touchpoint = kenji_with_two_items(make, receiver)
    run_sweep(now=TOKYO_SIX)
    items = {"Dana Diaz · Acme & Sons": (TASK, record.id), "North Yard · Acme & Sons": (
        TOUCHPOINT, touchpoint.id)}  # fmt: skip
    links = {}
    for text in receiver.texts("phone"):
        kind, item_id = items[text["title"]]
        assert [(a["action"], a["title"]) for a in text["actions"]] == [
            ("done", "Done"),
            ("tomorrow", "Snooze to tomorrow"),
            ("week", "Next week"),
        ]
        for action in text["actions"]:
            parts = urlsplit(action["url"])
            assert (parts.scheme, parts.netloc) == ("https", "tpweb.example")
            token = parts.path.removeprefix("/actions/")
            assert parts.path == f"/actions/{token}"
            # What the link allows, read back with the app's key: this user, item, due date, action.
            allowed = one_tap.read(app.config["SECRET_KEY"], token)
            assert allowed == one_tap.Action(kenji.id, kind, item_id, DEC1, action["action"])
            links[kind, action["action"]] = parts.path
    # Opening each of them, as the notification's buttons do, changes nothing...
    tables = (Touchpoint, TouchpointRecord, ReminderDelivery)
    before = snapshot(*tables)
    phone = app.test_client()  # signed in nowhere
    for link in links.values():
        assert phone.get(link).status_code in (200, 303)
        assert snapshot(*tables) == before
    assert phone.get(links[TASK, "done"]).location == f"/tasks/{record.id}/response"
    page = phone.get(links[TOUCHPOINT, "tomorrow"]).text
    assert "Snooze to tomorrow?" in page and "North Yard" in page
    # ...and the page's one button does it, once.
    assert "Snoozed" in phone.post(links[TOUCHPOINT, "tomorrow"]).text
    assert "Already done" in phone.post(links[TOUCHPOINT, "tomorrow"]).text
    db.session.expire_all()
    tomorrow = today_in(kenji.timezone) + timedelta(days=1)
    assert db.session.get(Touchpoint, touchpoint.id).next_call == tomorrow


def test_the_digest_is_one_push_naming_everyone_and_opening_my_tasks(app, make, receiver, outbox):
    kenji_with_two_items(make, receiver, reminder_digest=True)
    run_sweep(now=TOKYO_SIX)
    [shown] = receiver.texts("phone")
    assert "actions" not in shown  # which item would they be for?
    assert shown["title"] == "2 reminders for Tuesday, December 1, 2026"
    assert shown["body"] == (
        "2 due today, 0 overdue: Dana Diaz · Acme & Sons, North Yard · Acme & Sons"
    )
    assert shown["url"] == "https://tpweb.example/tasks"
    assert len(outbox) == 1 and ledger(channel="push", status="sent") == 2


def test_a_user_with_a_device_and_no_email_address_gets_pushes_only(app, make, receiver, outbox):
    kenji_with_two_items(make, receiver, email=None)
    run_sweep(now=TOKYO_SIX)
    assert len(receiver.texts("phone")) == 2 and outbox == []
    assert ledger() == ledger(channel="push", status="sent") == 2


def test_a_device_its_push_service_calls_gone_is_forgotten_and_the_others_still_get_it(
    app, make, receiver, outbox
):
    receiver.answers["tablet"] = 410
    kenji_with_two_items(make, receiver)
    run_sweep(now=TOKYO_SIX)
    assert len(receiver.texts("phone")) == 2 and receiver.texts("tablet") == []
    assert devices() == [receiver.devices["phone"].endpoint]
    assert receiver.refused == [("tablet", 410)]  # asked once, then never again
    assert ledger(channel="push", status="sent") == 2


def test_with_every_device_gone_the_pushes_are_skipped_and_the_emails_still_go(
    app, make, receiver, outbox
):
    receiver.answers.update(phone=404, tablet=410)
    kenji_with_two_items(make, receiver)
    run_sweep(now=TOKYO_SIX)
    assert receiver.texts() == [] and devices() == []
    assert ledger(channel="push", status="skipped") == 2
    assert ledger(channel="email", status="sent") == 2 and len(outbox) == 2
    run_sweep(now=TOKYO_SIX + timedelta(hours=1))
    assert sorted(receiver.refused) == [("phone", 404), ("tablet", 410)]


def test_a_failing_push_service_is_tried_again_next_hour_and_each_push_arrives_once(
    app, make, receiver, outbox
):
    receiver.answers.update(phone=[500, 500], tablet=[503, 503])
    kenji_with_two_items(make, receiver)
    report = run_sweep(now=TOKYO_SIX)
    assert report.failed == 2 and receiver.texts() == []
    rows = db.session.scalars(select(ReminderDelivery).filter_by(channel="push")).all()
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1)] * 2
    assert "500 from 127.0.0.1" in rows[0].last_error and "503" in rows[0].last_error
    assert len(devices()) == 2  # a failure is not a goodbye
    run_sweep(now=TOKYO_SIX + timedelta(hours=1))
    assert len(receiver.texts("phone")) == len(receiver.texts("tablet")) == 2
    run_sweep(now=TOKYO_SIX + timedelta(hours=2))
    assert len(receiver.texts()) == 4 and len(outbox) == 2
    assert ledger(channel="push", status="sent") == 2


def test_a_push_service_that_does_not_answer_at_all_is_tried_again_next_hour(
    app, make, receiver, outbox
):
    kenji, _, _ = kenji_with_two_items(make, receiver)
    db.session.execute(delete(PushSubscription))
    with socket.socket() as closed:  # a port nothing listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    subscribe(kenji, Device("phone", f"http://127.0.0.1:{port}/push/phone"))
    report = run_sweep(now=TOKYO_SIX)
    assert report.failed == 2 and len(outbox) == 2
    rows = db.session.scalars(select(ReminderDelivery).filter_by(channel="push")).all()
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1)] * 2
    assert "Connection" in rows[0].last_error
    assert len(devices()) == 1  # no answer is not a goodbye


def test_one_device_failing_while_another_takes_it_counts_as_sent(app, make, receiver, outbox):
    receiver.answers["tablet"] = 500
    kenji_with_two_items(make, receiver)
    run_sweep(now=TOKYO_SIX)
    run_sweep(now=TOKYO_SIX + timedelta(hours=1))
    assert len(receiver.texts("phone")) == 2  # once each: the user has it
    assert ledger(channel="push", status="sent") == 2 and len(devices()) == 2


def test_without_vapid_keys_nothing_is_pushed(app, make, receiver, outbox, monkeypatch):
    kenji_with_two_items(make, receiver)
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", "")
    run_sweep(now=TOKYO_SIX)
    assert receiver.texts() == [] and len(outbox) == 2
    assert ledger(channel="push", status="skipped") == 2


def reps_with_pushes(make, receiver, reps, tasks_each):
    """`reps` Tokyo reps, each with one phone and `tasks_each` tasks due December 1."""
    n = 0
    for r in range(reps):
        rep = tokyo_rep(make, email=f"rep{r}@example.com")
        subscribe(rep, receiver.device(f"rep{r}"))
        contact = make.contact(make.customer(rep=rep))
        for _ in range(tasks_each):
            task(make, rep, contact, DEC1, f"Task {n:02d}")
            n += 1
    db.session.commit()
    return n


def test_a_worker_killed_mid_sweep_then_run_again_pushes_and_emails_each_item_once(
    app, make, queue, inbox, receiver, database_url
):
    items = reps_with_pushes(make, receiver, reps=3, tasks_each=2)
    enqueue_sweep(queue, TOKYO_SIX)
    process = start_worker(queue, database_url, inbox, 1, **VAPID)
    # Each rep's emails go, then their pushes: killed as the second rep's first push arrives.
    receiver.kill_pid, receiver.kill_at = process.pid, 3
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    db.session.expire_all()
    assert ledger(channel="email", status="sent") == 4
    assert (ledger(channel="push", status="sent"), ledger(channel="push", status="sending")) == (
        2,
        2,
    )
    assert ledger(status="pending") == 4  # the third rep's two emails and two pushes

    # The next hourly run, by a real RQ worker, and a retried job after it: the dead worker's
    # claims are past their lease, so they go again.
    enqueue_sweep(queue, TOKYO_SIX + timedelta(hours=1))
    enqueue_sweep(queue, TOKYO_SIX + timedelta(hours=1))
    work(app, queue)
    tags = [text["tag"] for text in receiver.texts()]
    assert len(set(tags)) == items
    [twice] = [tag for tag in set(tags) if tags.count(tag) > 1]
    assert tags.count(twice) == 2 and tags[2] == twice  # the one in flight, no other
    subjects = [m["Subject"] for m in inbox.messages]
    assert sorted(subjects) == sorted(set(subjects)) and len(subjects) == items
    assert ledger(status="sent") == 2 * items


def test_vapid_keys_prints_a_pair_the_sweep_can_sign_with(runner):
    result = runner.invoke(args=["vapid-keys"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.output.splitlines())
    public, private = lines["VAPID_PUBLIC_KEY"], lines["VAPID_PRIVATE_KEY"]
    assert len(unb64(public)) == 65 and unb64(public)[0] == 4  # what pushManager.subscribe takes
    assert len(unb64(private)) == 32
    assert lines["VAPID_SUBJECT"].startswith("mailto:")


@pytest.mark.parametrize(
    "subject", ["", "ops@example.com", "mailto:ops@localhost", "http://example.com", "mailto:x"]
)
def test_keys_without_a_real_subject_stop_the_app_from_starting(subject, capsys):
    with pytest.raises(SystemExit):
        check_push({**VAPID, "VAPID_SUBJECT": subject})
    assert "VAPID_SUBJECT must be a real mailto: or https: address" in capsys.readouterr().err


def test_a_real_subject_or_no_keys_start(capsys):
    check_push({**VAPID, "VAPID_SUBJECT": "https://tpweb.example.com/contact"})
    check_push({"VAPID_SUBJECT": ""})
    assert capsys.readouterr().err == ""
