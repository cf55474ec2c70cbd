"""Reminder notifications in Chromium: a push delivered to the app's service worker through the
DevTools protocol (ServiceWorker.deliverPushMessage) shows its notification, and tapping it opens
the item. The payload is the app's own (tpweb.jobs.push.notification); the sweep's encryption and
delivery to a push service are tests/test_push.py's."""

import functools
import json
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tpweb.domain.reminders import TOUCHPOINT, Reminder
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.jobs.mail import ActionLinks, public_urls
from tpweb.jobs.push import new_vapid_keys, notification
from tpweb.models import Account, PushSubscription, Touchpoint, User

from ..webpush import Device
from .conftest import TIMEZONE, open_more

PUBLIC, PRIVATE = new_vapid_keys()
VAPID = (
    ("VAPID_PUBLIC_KEY", PUBLIC),
    ("VAPID_PRIVATE_KEY", PRIVATE),
    ("VAPID_SUBJECT", "mailto:ops@tpweb.example"),
)
pytestmark = pytest.mark.parametrize("server", [VAPID], indirect=True, ids=["push"])

NOTIFICATIONS = """() => navigator.serviceWorker.ready
  .then((registration) => registration.getNotifications())
  .then((shown) => shown.map((n) => (
    { title: n.title, body: n.body, tag: n.tag, data: n.data })))"""
# The tap: the worker's own notificationclick handler, given the notification it is showing (and
# the button tapped: "" for the notification itself).
TAP = """async (action) => {
  const [shown] = await self.registration.getNotifications();
  self.dispatchEvent(new NotificationEvent("notificationclick", { notification: shown, action }));
}"""


def notifications(page, at_least=1):
    """The notifications the service worker shows, once there are `at_least` (10 s at most)."""
    deadline = time.monotonic() + 10
    while (shown := page.evaluate(NOTIFICATIONS)) == [] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(shown) >= at_least, "no notification shown"
    return shown


def controlled(page):
    """The page once the service worker controls it (it claims the tab when it activates)."""
    # Polled from here: wait_for_function's string is eval'd in the page, which the CSP refuses.
    deadline = time.monotonic() + 20
    while not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        assert time.monotonic() < deadline, "the service worker never took the page"
        time.sleep(0.1)
    return page


def registration_id(cdp, scope):
    """The service worker's registration id, as the DevTools protocol reports it."""
    found = {}
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.update(
            (r["scopeURL"], r["registrationId"]) for r in event["registrations"]
        ),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while scope not in found and time.monotonic() < deadline:
        cdp.send("Runtime.evaluate", {"expression": "1"})  # lets the events in
        time.sleep(0.05)
    return found[scope]


def due_touchpoint(server_app, server):
    """rep1's first due touchpoint, and the notification the app's sweep would push for it
    (with its one-tap actions' links, signed with the server's key)."""
    with server_app.app_context():
        rep = db.session.scalar(select(User).filter_by(username="rep1"))
        tp, name = db.session.execute(
            select(Touchpoint, Account.name)
            .join(Touchpoint.account)
            .where(Account.sales_rep_id == rep.id, Account.kind == "customer", ~Touchpoint.inactive)
            .order_by(Touchpoint.next_call, Touchpoint.id)
        ).first()
        today = today_in(TIMEZONE)
        reminder = Reminder(TOUCHPOINT, tp.id, tp.next_call, tp.next_call < today, name,
                            account=name)  # fmt: skip
        server_app.config["TPWEB_PUBLIC_URL"] = server.url
        act = functools.partial(ActionLinks(), rep.id)
        shown = notification([reminder], today, public_urls(), act)
        return tp.id, name, {**shown, "tag": f"reminder-{tp.id}"}


def push(page, server, data):
    """`data` (text) pushed to the page's service worker, as a push service would."""
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server.url,
            "registrationId": registration_id(cdp, server.url + "/"),
            "data": data,
        },
    )


def pushed_reminder(page, server, server_app, sign_in):
    """rep1's phone, notifications allowed, showing a reminder pushed for a touchpoint due today:
    the touchpoint's id and name, and the notification."""
    page.context.grant_permissions(["notifications"], origin=server.url)
    sign_in("rep1")
    controlled(page)
    touchpoint_id, name, payload = due_touchpoint(server_app, server)
    push(page, server, json.dumps(payload))
    [shown] = notifications(page)
    return touchpoint_id, name, shown


def test_a_pushed_reminder_is_shown_and_tapping_it_opens_complete(
    page, server, server_app, sign_in, screenshot
):
    touchpoint_id, name, shown = pushed_reminder(page, server, server_app, sign_in)
    assert shown["title"] == name
    assert shown["body"].startswith(f"A touchpoint for customer {name} assigned to you ")
    assert shown["tag"] == f"reminder-{touchpoint_id}"
    complete = f"{server.url}/touchpoints/{touchpoint_id}/complete"
    assert shown["data"]["url"] == complete
    assert sorted(shown["data"]["actions"]) == ["done", "tomorrow", "week"]

    [worker] = page.context.service_workers
    worker.evaluate(TAP, "")
    page.wait_for_url(complete)
    expect(page.get_by_role("heading", name=f"Complete: {name}")).to_be_visible()
    assert page.evaluate(NOTIFICATIONS) == []  # the tap closed it
    screenshot("push-tapped-complete")


def test_tapping_a_pushed_reminders_snooze_opens_its_page_whose_button_snoozes_it(
    page, server, server_app, sign_in, screenshot
):
    touchpoint_id, name, shown = pushed_reminder(page, server, server_app, sign_in)
    [worker] = page.context.service_workers
    worker.evaluate(TAP, "tomorrow")
    page.wait_for_url(shown["data"]["actions"]["tomorrow"])
    expect(page.get_by_role("heading", name="Snooze to tomorrow?")).to_be_visible()
    expect(page.locator("#one-tap")).to_contain_text(name)
    assert page.evaluate(NOTIFICATIONS) == []
    screenshot("push-snooze-page")
    tomorrow = today_in(TIMEZONE) + timedelta(days=1)
    page.get_by_role("button", name=f"Snooze to {tomorrow:%A, %B} {tomorrow.day}").click()
    expect(page.get_by_role("heading", name="Snoozed")).to_be_visible()
    with server_app.app_context():
        assert db.session.get(Touchpoint, touchpoint_id).next_call == tomorrow


def test_a_push_that_cannot_be_read_still_shows_a_notification(page, server, sign_in):
    page.context.grant_permissions(["notifications"], origin=server.url)
    sign_in("rep2")
    controlled(page)
    push(page, server, "<not json>")
    [shown] = notifications(page)
    assert (shown["title"], shown["body"]) == ("Touchpoints", "You have reminders due.")
    assert shown["data"] == {"url": server.url + "/tasks"}  # and no buttons


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_settings_explains_notifications_and_offers_the_button_at_phone_size(
    page, server, server_app, sign_in, screenshot, scheme
):
    page.emulate_media(color_scheme=scheme)
    with server_app.app_context():
        rep = db.session.scalar(select(User).filter_by(username="rep3"))
        device = Device("tablet", f"https://push.example.com/send/{scheme}").form()
        db.session.add(PushSubscription(user_id=rep.id, label="Chrome on Android", **device))
        db.session.commit()
    sign_in("rep3")
    open_more(page).get_by_role("link", name="Settings").click()
    section = page.locator("#push-settings")
    expect(section.get_by_role("heading", name="Notifications on this device")).to_be_visible()
    expect(section).to_contain_text("iOS 16.4 or later")
    button = section.get_by_role("button", name="Turn on notifications on this device")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Nothing was asked: the browser's prompt waits for the tap.
    assert page.evaluate("Notification.permission") == "default"
    device = section.locator("li", has_text="Chrome on Android")
    turn_off = device.get_by_role("button", name="Turn off")
    assert turn_off.bounding_box()["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    section.scroll_into_view_if_needed()
    screenshot(f"push-settings-{scheme}")
    turn_off.click()
    expect(section.locator("#push-devices")).to_contain_text("None yet.")
