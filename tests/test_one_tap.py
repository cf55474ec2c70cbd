"""A reminder's one-tap actions: every link of a real email opened changes nothing, a snooze's
button moves the date once and a second press says so, and a link expired, altered, someone
else's, or for an item no longer the user's or already done is refused with a page that says why."""

import html
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from tpweb.domain import one_tap
from tpweb.domain.one_tap import DONE, NEXT_WEEK, TOMORROW, Action
from tpweb.domain.reminders import TASK, TOUCHPOINT
from tpweb.extensions import db
from tpweb.jobs.sweep import run_sweep
from tpweb.models import (
    ActionUse,
    History,
    ReminderDelivery,
    Touchpoint,
    TouchpointRecord,
    User,
)

from .conftest import snapshot
from .signing_in import csrf_sign_in

TABLES = (Touchpoint, TouchpointRecord, History, ActionUse, ReminderDelivery, User)


@pytest.fixture
def due(make, rep, customer, contact, today):
    """Rita's touchpoint and task, both due today."""
    rep.email = "rita@example.com"
    db.session.commit()
    return {
        TOUCHPOINT: make.touchpoint(customer, last_call=today - timedelta(days=30)),
        TASK: make.record(contact, rep, response_required=True, date_due=today,
                          description="Send the quote"),
    }  # fmt: skip


def sign(app, user, kind, item, action, due_on=None):
    """The path of a one-tap link, as the email's."""
    day = due_on or (item.next_call if kind == TOUCHPOINT else item.date_due)
    token = one_tap.sign(app.config["SECRET_KEY"], Action(user.id, kind, item.id, day, action))
    return f"/actions/{token}"


def action_links(message, label):
    """The links named `label` in an email's HTML part, and the same in its text part."""
    body = message.get_body(("html",)).get_content()
    in_html = [html.unescape(h) for h in re.findall(rf'<a href="([^"]+)"[^>]*>{label}</a>', body)]
    text = message.get_body(("plain",)).get_content()
    in_text = re.findall(rf"^  {label}: (\S+)\r?$", text, re.M)
    assert in_html == in_text, label
    return in_html


def path(link):
    parts = urlsplit(link)
    assert parts.scheme == "https" and parts.netloc == "tpweb.example"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_every_link_of_a_sent_reminder_changes_nothing_and_the_button_snoozes_once(
    app,
    client,
    inbox,
    due,
    rep,
    today,
    customer,
):
    run_sweep(day=today)
    messages = inbox.messages
    assert len(messages) == 2
    links = set()
    for message in messages:
        body = message.get_body(("html",)).get_content()
        links |= {html.unescape(h) for h in re.findall(r'href="([^"]+)"', body)}
        text = message.get_body(("plain",)).get_content()
        links |= set(re.findall(r"https://tpweb\.example/\S+", text))
        for label in ("Done", "Snooze to tomorrow", "Next week"):
            assert len(action_links(message, label)) == 1
    assert len(links) == 2 * 4 + 1  # each item's page and three actions, and Settings
    before = snapshot(*TABLES)
    visitor = app.test_client()  # a mail scanner, or the phone where no one is signed in
    for link in sorted(links):
        response = visitor.get(path(link))
        assert response.status_code in (200, 302, 303), link
        assert snapshot(*TABLES) == before, f"GET {link} changed the database"
    for link in sorted(links):  # signed in, following every redirect: Done opens the forms
        response = client.get(path(link), follow_redirects=True)
        assert response.status_code == 200, link
        assert snapshot(*TABLES) == before, f"GET {link} (signed in) changed the database"

    [touchpoint_mail] = [m for m in messages if "Touchpoint" in m["Subject"]]
    [snooze] = action_links(touchpoint_mail, "Snooze to tomorrow")
    page = visitor.get(path(snooze)).text
    tomorrow = today + timedelta(days=1)
    assert "Snooze to tomorrow?" in page and f"Snooze to {tomorrow:%A, %B} {tomorrow.day}" in page
    done = visitor.post(path(snooze))
    assert done.status_code == 200 and "Snoozed" in done.text
    tp = db.session.get(Touchpoint, due[TOUCHPOINT].id)
    db.session.refresh(tp)
    assert tp.next_call == tomorrow
    [entry] = db.session.scalars(
        select(History).where(History.subject == "touchpoint", History.action != "created")
    ).all()
    assert (entry.user_id, entry.via) == (rep.id, "reminder")
    assert '"next_call": ["' in entry.changes
    after = snapshot(*TABLES)
    again = visitor.post(path(snooze))
    assert again.status_code == 200 and "Already done" in again.text
    assert snapshot(*TABLES) == after
    [week] = action_links(touchpoint_mail, "Next week")
    late = visitor.post(path(week))
    assert late.status_code == 409 and "already done or moved" in late.text
    assert snapshot(*TABLES) == after
    account_page = client.get(f"/customers/{customer.id}").text
    assert "by Rita Rep from a reminder" in account_page

    [task_mail] = [m for m in messages if "Touchpoint" not in m["Subject"]]
    [week] = action_links(task_mail, "Next week")
    assert visitor.post(path(week)).status_code == 200
    task = db.session.get(TouchpointRecord, due[TASK].id)
    db.session.refresh(task)
    assert task.date_due == today + timedelta(days=7)


def test_done_opens_complete_or_record_response(app, due, rep):
    visitor = app.test_client()
    complete = visitor.get(sign(app, rep, TOUCHPOINT, due[TOUCHPOINT], DONE))
    assert complete.status_code == 303
    assert complete.location == f"/touchpoints/{due[TOUCHPOINT].id}/complete"
    respond = visitor.get(sign(app, rep, TASK, due[TASK], DONE))
    assert respond.location == f"/tasks/{due[TASK].id}/response"
    # Not signed in on this device: the app's own sign-in, then the form.
    assert "/login" in visitor.get(respond.location).location


def test_an_expired_link_is_refused_and_changes_nothing(app, due, rep, monkeypatch):
    eight_days_ago = int(TimestampSigner.get_timestamp(None)) - 8 * 24 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
    link = sign(app, rep, TOUCHPOINT, due[TOUCHPOINT], TOMORROW)
    monkeypatch.undo()
    before = snapshot(*TABLES)
    for method in ("get", "post"):
        response = getattr(app.test_client(), method)(link)
        assert response.status_code == 410
        assert "This link has expired" in response.text and "7 days" in response.text
    assert snapshot(*TABLES) == before


def _altered(token):
    middle = len(token) // 2
    swapped = "A" if token[middle] != "A" else "B"
    return token[:middle] + swapped + token[middle + 1 :]


@pytest.mark.parametrize(
    "change",
    [
        _altered,
        lambda token: token[:-3],
        lambda token: token + "x",
        lambda token: token.replace(".", "", 1),
        lambda token: "x",
        lambda token: "A" * 5000,
        lambda token: "%C3%A9%F0%9F%98%80",
        lambda token: "..%2F..%2Fetc%2Fpasswd",
        lambda token: "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        # Signed with the app's key for something else: a session, a CSRF token, another salt.
        lambda token: URLSafeTimedSerializer("test").dumps([1, "p", 1, "2026-12-01", "t"]),
        lambda token: URLSafeTimedSerializer("test", salt="cookie-session").dumps({"a": 1}),
        lambda token: URLSafeTimedSerializer("wrong key", salt=one_tap.SALT).dumps(
            [1, "p", 1, "2026-12-01", "t"]
        ),
    ],
)
def test_an_altered_or_foreign_link_is_refused_and_changes_nothing(app, due, rep, change):
    token = sign(app, rep, TOUCHPOINT, due[TOUCHPOINT], TOMORROW).removeprefix("/actions/")
    before = snapshot(*TABLES)
    for method in ("get", "post"):
        response = getattr(app.test_client(), method)(f"/actions/{change(token)}")
        assert response.status_code in (400, 404), response.status_code
        if response.status_code == 404:
            assert "This link is not valid" in response.text or "Not found" in response.text
    assert snapshot(*TABLES) == before


def test_another_users_link_is_refused_where_someone_else_is_signed_in(app, auth, make, due, rep):
    link = sign(app, rep, TOUCHPOINT, due[TOUCHPOINT], TOMORROW)
    bob_device = app.test_client()
    signed_in = {"username": make.rep(name="Bob Other").username, "password": "correct horse"}
    assert bob_device.post("/login", data=signed_in).status_code == 303
    before = snapshot(*TABLES)
    for method in ("get", "post"):
        response = getattr(bob_device, method)(link)
        assert response.status_code == 403
        assert "This link is someone else&#39;s" in response.text and "Rita Rep" in response.text
    assert snapshot(*TABLES) == before


def test_an_item_handed_over_or_set_inactive_is_refused(app, make, due, rep, customer, boss):
    links = {
        TOUCHPOINT: sign(app, rep, TOUCHPOINT, due[TOUCHPOINT], TOMORROW),
        TASK: sign(app, rep, TASK, due[TASK], NEXT_WEEK),
    }
    bob = make.rep(name="Bob Other")
    customer = db.session.get(type(customer), customer.id)
    customer.sales_rep = bob  # a manager's reassignment
    db.session.get(TouchpointRecord, due[TASK].id).assigned_to = bob
    db.session.commit()
    before = snapshot(*TABLES)
    for kind, link in links.items():
        for method in ("get", "post"):
            response = getattr(app.test_client(), method)(link)
            assert response.status_code == 404
            assert f"This {kind} is no longer yours" in response.text
    assert snapshot(*TABLES) == before
    customer.sales_rep = rep
    db.session.get(Touchpoint, due[TOUCHPOINT].id).inactive = True
    db.session.commit()
    response = app.test_client().post(links[TOUCHPOINT])
    assert response.status_code == 404 and "no longer yours" in response.text


def test_an_item_already_completed_or_moved_is_refused(app, client, due, rep, today):
    task, tp = due[TASK], due[TOUCHPOINT]
    links = [sign(app, rep, TASK, task, TOMORROW), sign(app, rep, TASK, task, DONE)]
    answer = {"responded_on": today.isoformat(), "response_note": "Sent"}
    assert client.post(f"/tasks/{task.id}/response", data=answer).status_code == 303
    snooze = sign(app, rep, TOUCHPOINT, tp, TOMORROW)
    tp = db.session.get(Touchpoint, tp.id)
    tp.next_call = today + timedelta(days=30)  # completed meanwhile
    db.session.commit()
    before = snapshot(*TABLES)
    for link in links:
        response = app.test_client().get(link)
        assert response.status_code == 409 and "already completed" in response.text
    response = app.test_client().post(snooze)
    assert response.status_code == 409 and "already done or moved" in response.text
    assert snapshot(*TABLES) == before


def test_a_deactivated_users_link_is_refused(app, due, rep):
    link = sign(app, rep, TASK, due[TASK], TOMORROW)
    db.session.get(User, rep.id).active = False
    db.session.commit()
    before = snapshot(*TABLES)
    response = app.test_client().post(link)
    assert response.status_code == 404 and "no longer valid" in response.text
    assert snapshot(*TABLES) == before


def test_a_snooze_that_would_put_next_call_before_last_call_is_refused(app, make, rep, today):
    customer = make.customer(rep=rep)
    tp = make.touchpoint(customer, last_call=today + timedelta(days=3), frequency_days=1)
    before = snapshot(*TABLES)
    response = app.test_client().post(sign(app, rep, TOUCHPOINT, tp, TOMORROW))
    assert response.status_code == 409 and "cannot be snoozed" in response.text
    assert snapshot(*TABLES) == before


def test_the_button_works_with_no_session_but_needs_the_pages_csrf_token(
    app, client_of, due, rep, today
):
    device = client_of(WTF_CSRF_ENABLED=True)  # never signed in
    link = sign(app, rep, TASK, due[TASK], NEXT_WEEK)
    before = snapshot(*TABLES)
    assert device.post(link).status_code == 400  # no token
    assert device.post(link, data={"csrf_token": "forged"}).status_code == 400
    assert snapshot(*TABLES) == before
    page = device.get(link).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = device.post(link, data={"csrf_token": token})
    assert response.status_code == 200 and "Snoozed" in response.text
    db.session.expire_all()
    assert db.session.get(TouchpointRecord, due[TASK].id).date_due == today + timedelta(days=7)


def test_a_signed_in_owner_and_an_htmx_post_with_a_key_work_too(app, client_of, due, rep):
    device = client_of(WTF_CSRF_ENABLED=True)
    csrf_sign_in(device, rep)
    link = sign(app, rep, TOUCHPOINT, due[TOUCHPOINT], TOMORROW)
    token = re.search(r'name="csrf_token" value="([^"]+)"', device.get(link).text).group(1)
    headers = {"HX-Request": "true", "Idempotency-Key": "one-tap-1", "X-CSRFToken": token}
    response = device.post(link, headers=headers)
    assert response.status_code == 200 and "Snoozed" in response.text
    again = device.post(link, headers=headers)  # the replayed answer, or "already done"
    assert again.status_code == 200
    assert db.session.query(ActionUse).count() == 1
    anonymous = app.test_client()
    other = sign(app, rep, TASK, due[TASK], TOMORROW)
    keyed = anonymous.post(other, headers={"HX-Request": "true", "Idempotency-Key": "k"})
    assert keyed.status_code == 200 and "Snoozed" in keyed.text


def test_email_reminders_off_plans_no_email(app, client, inbox, due, rep, today):
    assert client.post("/settings/reminders", data={}).status_code == 303
    run_sweep(day=today)
    assert inbox.messages == []
    assert db.session.query(ReminderDelivery).count() == 0
    client.post("/settings/reminders", data={"email_reminders": "y"})
    run_sweep(day=today)
    assert len(inbox.messages) == 2


@pytest.mark.parametrize("kind", [TASK, TOUCHPOINT])
@pytest.mark.parametrize("action", [DONE, TOMORROW, NEXT_WEEK])
def test_a_token_reads_back_and_is_itsdangerous_own_signature(kind, action):
    """The fast signer (one HMAC call, the key derived once) signs as itsdangerous' stock
    TimestampSigner does: either verifies the other's tokens."""
    act = Action(2_147_483_647, kind, 12, date(2199, 12, 31), action)
    token = one_tap.sign("a key of the app", act)
    assert one_tap.read("a key of the app", token) == act
    stock = TimestampSigner("a key of the app", salt=one_tap.SALT)
    assert stock.unsign(token).decode() == token.rsplit(".", 2)[0]
    assert one_tap.read("a key of the app", stock.sign(token.rsplit(".", 2)[0]).decode()) == act
    with pytest.raises(one_tap.Refused):
        one_tap.read("another key", token)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", token) and len(token) < 80
