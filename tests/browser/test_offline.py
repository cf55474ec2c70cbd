"""Offline-first in headless Chromium at 390x844: the service worker keeps the rep's week, writes
made with no network wait on the phone and reach the server once each, conflicts come back to the
rep, and a session that ran out offline loses nothing.

Each test has a rep of its own with a small world (two customers with touchpoints, a contact), on
the harness's server and database, so what one test queues or changes no other test sees.
"""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import func, select

from tpweb.models import (
    CallLog,
    CallLogType,
    History,
    Touchpoint,
    TouchpointRecord,
)

from .conftest import PHONE, TIMEZONE, open_more
from .offline_tools import card, ready_offline, rows, waiting


def settled(form):
    """`form` once htmx has swapped it in and bound its fields (typing sooner would be missed)."""
    expect(form).not_to_have_class(re.compile(r"htmx-(added|settling)"))
    return form


def test_the_list_an_account_and_the_map_open_offline_from_the_cache(
    page, server, sign_in, world, screenshot
):
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=list")
    page.context.set_offline(True)

    page.reload()
    banner = page.locator(".offline-banner")
    expect(banner).to_contain_text("Offline — showing data from")
    expect(card(page, world.overdue.name)).to_be_visible()
    expect(card(page, world.soon.name)).to_be_visible()
    screenshot("offline-list")

    card(page, world.overdue.name).get_by_role("link", name=world.overdue.name).click()
    expect(page.get_by_role("heading", name=world.overdue.name)).to_be_visible()
    expect(banner).to_contain_text("Offline — showing data from")

    page.goto(server.url + "/touchpoints?view=map")
    expect(banner).to_contain_text("Offline — showing data from")
    frame = page.frame_locator("[data-map-frame]")
    expect(frame.locator(".tp-pin")).to_have_count(2)
    screenshot("offline-map")


def test_complete_and_a_record_made_offline_reach_the_server_once(
    page, server, server_app, sign_in, world, screenshot
):
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=list")
    page.context.set_offline(True)

    # Complete, both steps, with no network.
    card(page, world.overdue.name).get_by_role("button", name="Complete").click()
    page.locator("form.tp-form").get_by_role("button", name="Save call log").click()
    step = page.locator(".offline-step")
    expect(step).to_contain_text("Call log saved on this phone — will send when online")
    expect(step.locator("form")).to_contain_text("Step 2 of 2")
    # Step two shows the dates the server would have: Last Call today, Next Call + 30 days.
    today, next_call = world.today, world.today + timedelta(days=30)
    expect(step.locator("input[name=last_call]")).to_have_value(today.isoformat())
    expect(step.locator("input[name=next_call]")).to_have_value(next_call.isoformat())
    step.get_by_role("button", name="Save touchpoint").click()
    pending = page.locator("article.tp--pending")
    expect(pending).to_contain_text("Saved on this phone — will send when online")
    expect(waiting(page)).to_have_text("2 changes waiting to send")
    screenshot("offline-complete-pending")

    # Log activity on the contact, still offline.
    page.goto(f"{server.url}/contacts/{world.contact.id}")
    page.get_by_role("button", name="Log activity").click()
    page.get_by_label("Description", exact=True).fill("Asked for a quote, from the basement")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("article.entry--pending")).to_contain_text("Saved on this phone")
    expect(waiting(page)).to_have_text("3 changes waiting to send")

    page.context.set_offline(False)
    expect(page.locator("#offline-bar")).to_contain_text("All changes sent.", timeout=15_000)
    expect(waiting(page)).to_have_count(0)
    expect(page.locator("article.entry--pending")).to_contain_text("Sent to the server.")

    calls = rows(
        server_app,
        select(CallLog.called_on).where(CallLog.touchpoint_id == world.overdue.touchpoint),
    )
    assert calls == [(today,)]
    records = rows(
        server_app,
        select(TouchpointRecord.description).where(TouchpointRecord.contact_id == world.contact.id),
    )
    assert records == [("Asked for a quote, from the basement",)]
    schedule = rows(
        server_app,
        select(Touchpoint.last_call, Touchpoint.next_call).where(
            Touchpoint.id == world.overdue.touchpoint
        ),
    )
    assert schedule == [(today, next_call)]


def test_the_same_key_sent_three_times_gives_one_call_log(page, server_app, sign_in, world):
    ready_offline(page, sign_in, world.username)
    # A response lost on the way back: the phone sends the same write again, twice.
    phone = rows(server_app, select(CallLogType.id).filter_by(name="Phone"))[0][0]
    answers = page.evaluate(
        """async ([url, callType, today]) => {
            // The menu's sign-out form has this session's token.
            const token = document.querySelector(".topbar input[name=csrf_token]").value;
            const body = new URLSearchParams({
                called_on: today, duration_minutes: "20",
                call_type: callType,
                contact_id: "0", notes: "Sent three times", csrf_token: token,
            });
            const answers = [];
            for (let i = 0; i < 3; i++) {
                const response = await fetch(url, {
                    method: "POST", body, headers: {
                        "HX-Request": "true", "X-CSRFToken": token,
                        "Idempotency-Key": "lost-response-1",
                    },
                });
                answers.push([response.status, response.headers.get("Idempotent-Replayed")]);
            }
            return answers;
        }""",
        # The rep's own today: the browser's UTC date is tomorrow for Chicago's evening.
        [f"/touchpoints/{world.soon.touchpoint}/complete", str(phone), world.today.isoformat()],
    )
    assert answers == [[200, None], [200, "true"], [200, "true"]]
    calls = rows(
        server_app,
        select(func.count(CallLog.id)).where(CallLog.touchpoint_id == world.soon.touchpoint),
    )
    assert calls == [(1,)]


def manager_reschedules(browser, server, touchpoint_id, frequency, comment):
    """manager1, at a desk and online, changes the touchpoint in a browser of their own."""
    context = browser.new_context(viewport=PHONE)
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(server.url + "/") else route.abort()
        ),
    )
    try:
        desk = context.new_page()
        desk.goto(server.url + "/login")
        desk.fill("input[name=username]", "manager1")
        desk.fill("input[name=password]", "tpweb-demo")
        desk.click("button[type=submit]")
        desk.wait_for_url(server.url + "/")
        desk.goto(f"{server.url}/touchpoints/{touchpoint_id}/edit")
        desk.get_by_label("Frequency (days)").fill(str(frequency))
        desk.get_by_label("Comment").fill(comment)
        desk.get_by_role("button", name="Save touchpoint").click()
        expect(desk.get_by_text(f"every {frequency} days")).to_be_visible()
    finally:
        context.close()


def test_a_conflict_with_the_manager_comes_back_to_the_rep_and_nothing_is_lost(
    page, browser, server, server_app, sign_in, world, screenshot
):
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=list")
    page.context.set_offline(True)
    card(page, world.soon.name).get_by_role("button", name="Reschedule").click()
    form = settled(page.locator("form.tp-form"))
    form.get_by_label("Frequency (days)").fill("14")
    # Next Call follows as the rep types, worked out on the phone with no server to ask.
    rescheduled = world.today - timedelta(days=27) + timedelta(days=14)
    expect(form.get_by_label("Next Call")).to_have_value(rescheduled.isoformat())
    form.get_by_label("Comment").fill("Rep: call after harvest")
    form.get_by_role("button", name="Save touchpoint").click()
    expect(page.locator("article.tp--pending")).to_contain_text("Saved on this phone")

    manager_reschedules(browser, server, world.soon.touchpoint, 45, "Manager: quarterly now")

    page.context.set_offline(False)
    attention = page.locator("#offline-bar .offline-attention-link")
    expect(attention).to_have_text("1 change needs your attention", timeout=15_000)
    expect(page.locator("article.tp--pending")).to_contain_text("The server did not take this")
    # The server kept the manager's change; the phone keeps the rep's.
    touchpoint = select(Touchpoint.frequency_days, Touchpoint.comment).where(
        Touchpoint.id == world.soon.touchpoint
    )
    assert rows(server_app, touchpoint) == [(45, "Manager: quarterly now")]

    attention.click()
    item = page.locator(".attention-item")
    expect(item).to_contain_text("Someone changed this on the server while you were offline")
    expect(item.locator(".offline-fields")).to_contain_text("14")
    expect(item.locator(".offline-fields")).to_contain_text("Rep: call after harvest")
    server_form = item.locator(".attention-server")
    expect(server_form.get_by_label("Frequency (days)")).to_have_value("45")
    expect(server_form).to_contain_text("you had 14")
    screenshot("offline-attention", full_page=True)

    # The rep decides: theirs goes over the manager's, and History still has both.
    item.get_by_role("button", name="Send mine again, over theirs").click()
    expect(page.locator(".attention-item")).to_have_count(0)
    expect(page.locator("#offline-bar")).to_contain_text("All changes sent.", timeout=15_000)
    assert rows(server_app, touchpoint) == [(14, "Rep: call after harvest")]
    changes = [
        row.changes
        for row in rows(
            server_app,
            select(History.changes)
            .where(History.subject == "touchpoint", History.subject_id == world.soon.touchpoint)
            .order_by(History.id),
        )
    ]
    assert any("Manager: quarterly now" in change for change in changes), changes
    assert "Rep: call after harvest" in changes[-1]


def test_a_session_that_expires_offline_sends_the_queue_after_signing_in_again(
    page, server, server_app, sign_in, world, dialogs
):
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=list")
    page.context.set_offline(True)
    card(page, world.overdue.name).get_by_role("button", name="Reschedule").click()
    form = page.locator("form.tp-form")
    form.get_by_label("Frequency (days)").fill("21")
    form.get_by_role("button", name="Save touchpoint").click()
    expect(waiting(page)).to_have_text("1 change waiting to send")

    # Signing out now would leave a write behind: the app asks first (the test says no).
    open_more(page).get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert [re.sub(r"\s+", " ", d) for d in dialogs] == [
        "1 change has not been sent yet. Sign out anyway? "
        "They stay on this phone and are sent when you sign in again."
    ]
    page.locator(".topbar .more-nav > summary").click()  # the menu closed again

    page.context.clear_cookies()  # the session runs out while the phone has no signal
    page.context.set_offline(False)
    sign_in_link = page.locator("#offline-bar .offline-signin a")
    expect(page.locator("#offline-bar .offline-signin")).to_contain_text(
        "Signed out. Sign in to send 1 waiting change.", timeout=15_000
    )
    assert waiting(page).count() == 1

    sign_in_link.click()
    page.fill("input[name=username]", world.username)
    page.fill("input[name=password]", "tpweb-demo")
    page.click("button[type=submit]")
    expect(page.locator("#offline-bar")).to_contain_text("All changes sent.", timeout=15_000)
    expect(waiting(page)).to_have_count(0)
    expect(page.locator("#offline-bar .offline-signin")).to_have_count(0)
    frequency = select(Touchpoint.frequency_days).where(Touchpoint.id == world.overdue.touchpoint)
    assert rows(server_app, frequency) == [(21,)]


def test_a_page_is_labelled_when_kept_and_an_older_workers_copy_still_says_when(
    page, server, sign_in, world
):
    ready_offline(page, sign_in, world.username)
    url = server.url + "/touchpoints?view=list"
    page.goto(url)
    # What the worker keeps is already labelled, so the offline answer is that copy as it is.
    kept = page.evaluate(
        """async (url) => {
            const kept = await (await caches.open("tpweb-pages")).match(url, {ignoreVary: true});
            return {when: kept.headers.get("X-Offline-From"),
                    stored: kept.headers.get("X-Tpweb-Stored"), html: await kept.text()};
        }""",
        url,
    )
    assert kept["when"] and kept["when"] == kept["stored"]
    assert f'<body data-offline-from="{kept["when"]}"' in kept["html"]

    # A copy kept by the worker before this one was not labelled: it still shows when it was kept.
    page.evaluate(
        """async ([url, when]) => {
            const cache = await caches.open("tpweb-pages");
            const kept = await cache.match(url, {ignoreVary: true});
            const headers = new Headers(kept.headers);
            headers.delete("X-Offline-From");
            headers.set("X-Tpweb-Stored", when);
            const html = (await kept.text()).replace(/ data-offline-from="[^"]*"/, "");
            await cache.put(url, new Response(html, {status: 200, headers}));
        }""",
        [url, "2026-01-05T15:04:00.000Z"],
    )
    page.context.set_offline(True)
    page.reload()
    expect(page.locator(".offline-banner")).to_contain_text("Offline — showing data from")
    expect(page.locator(".offline-banner time")).to_have_attribute(
        "datetime", "2026-01-05T15:04:00.000Z"
    )
    expect(card(page, world.overdue.name)).to_be_visible()


def test_the_servers_form_saved_in_needs_your_attention_after_signing_in_again(
    page, browser, server, server_app, sign_in, world
):
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=list")
    page.context.set_offline(True)
    card(page, world.soon.name).get_by_role("button", name="Reschedule").click()
    form = settled(page.locator("form.tp-form"))
    form.get_by_label("Frequency (days)").fill("10")
    form.get_by_role("button", name="Save touchpoint").click()
    expect(page.locator("article.tp--pending")).to_contain_text("Saved on this phone")
    manager_reschedules(browser, server, world.soon.touchpoint, 40, "Manager: monthly-ish")
    page.context.set_offline(False)
    attention = page.locator("#offline-bar .offline-attention-link")
    expect(attention).to_have_text("1 change needs your attention", timeout=15_000)

    # A new session (and so a new CSRF token) before the rep resolves it, signed in in place.
    open_more(page).get_by_role("button", name="Sign out").click()
    page.fill("input[name=username]", world.username)
    page.fill("input[name=password]", "tpweb-demo")
    page.click("button[type=submit]")
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    page.locator("#offline-bar .offline-attention-link").click()
    server_form = page.locator(".attention-item .attention-server form")
    expect(server_form.get_by_label("Frequency (days)")).to_have_value("40")
    server_form.get_by_label("Comment").fill("Settled: every 20 days")
    server_form.get_by_label("Frequency (days)").fill("20")
    server_form.get_by_role("button", name="Save touchpoint").click()
    expect(page.locator(".attention-item")).to_have_count(0)
    touchpoint = select(Touchpoint.frequency_days, Touchpoint.comment).where(
        Touchpoint.id == world.soon.touchpoint
    )
    assert rows(server_app, touchpoint) == [(20, "Settled: every 20 days")]


def test_a_form_kept_overnight_opens_on_the_day_it_is_used(page, server, sign_in, world):
    """A Complete kept on the phone yesterday says today's date when opened offline the next
    morning (the server filled in yesterday's); the date a rep types is left alone."""
    ready_offline(page, sign_in, world.username)
    saved = page.locator("[data-offline-saved]")
    expect(saved).to_contain_text("Ready offline: 2 due touchpoints · saved")
    page.goto(server.url + "/touchpoints?view=list")
    page.context.set_offline(True)
    morning = world.today + timedelta(days=1)
    at = datetime.combine(morning, time(8, 30), ZoneInfo(TIMEZONE))
    page.clock.install(time=at)
    page.reload()

    card(page, world.overdue.name).get_by_role("button", name="Complete").click()
    called_on = settled(page.locator("form.tp-form")).get_by_label("Call date")
    expect(called_on).to_have_value(morning.isoformat())
    called_on.fill(world.today.isoformat())  # the call was yesterday's, logged late
    # htmx's load again (what a swap does): the typed date stays.
    page.evaluate("htmx.trigger(document.querySelector('form.tp-form'), 'htmx:load')")
    expect(called_on).to_have_value(world.today.isoformat())
