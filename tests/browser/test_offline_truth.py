"""The phone shows what it has done offline, in headless Chromium at 390x844: a touchpoint
completed with no signal shows as completed and waiting to send, with the Next Call the server
will work out, and cannot be completed twice; once the queue has gone the list shows the server's
own cards without a reload.
"""

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import func, select, update

from tpweb.extensions import db
from tpweb.models import Account, CallLog

from .conftest import TIMEZONE
from .offline_tools import card, ready_offline, rows, waiting


def inside(outer, inner):
    """Whether `inner`'s box lies within `outer`'s (to the pixel)."""
    a, b = outer.bounding_box(), inner.bounding_box()
    return (
        b["x"] >= a["x"] - 0.5
        and b["y"] >= a["y"] - 0.5
        and b["x"] + b["width"] <= a["x"] + a["width"] + 0.5
        and b["y"] + b["height"] <= a["y"] + a["height"] + 0.5
    )


def test_a_touchpoint_completed_offline_shows_so_and_is_completed_once(
    page,
    server,
    server_app,
    sign_in,
    world,
    screenshot,
):
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=list")
    page.context.set_offline(True)
    card(page, world.overdue.name).get_by_role("button", name="Complete").click()
    page.locator("form.tp-form").get_by_role("button", name="Save call log").click()
    expect(page.locator(".offline-step")).to_contain_text("Call log saved on this phone")

    # The list again, as kept before the call: the phone shows what it has done since.
    page.reload()
    done = card(page, world.overdue.name)
    next_call = world.today + timedelta(days=30)
    expect(done.locator(".tp-offline-badges")).to_have_text("CompletedWaiting to send")
    shown = done.locator(".tp-dates time").first
    expect(shown).to_have_text(next_call.strftime("%a %b %-d, %Y"))
    expect(shown).to_have_attribute("datetime", next_call.isoformat())
    expect(done.get_by_role("button", name="Complete")).to_be_hidden()
    expect(done.get_by_role("button", name="Reschedule")).to_be_visible()
    # Its badges stay inside the card at 390 px, and the page does not scroll sideways.
    for badge in done.locator(".badge:visible").all():
        assert inside(done, badge), badge.text_content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The tabs count it where it now is: no longer overdue, upcoming.
    tabs = page.locator("#touchpoint-widget .tabs")
    expect(tabs.locator(".tab--overdue .count")).to_have_text("0")
    expect(tabs.locator(".tab--upcoming .count")).to_have_text("2")
    expect(tabs.locator(".tab--all .count")).to_have_text("2")
    # The other card is as the server drew it.
    expect(card(page, world.soon.name).locator(".tp-offline-badges")).to_have_count(0)
    # docs/screens/offline-list-waiting-{light,dark}.png are copies of these two.
    done.scroll_into_view_if_needed()
    screenshot("offline-list-waiting-light")
    page.emulate_media(color_scheme="dark")
    screenshot("offline-list-waiting-dark")
    page.emulate_media(color_scheme="light")

    # A second Complete of the same touchpoint (a form opened from another kept page): the queue
    # refuses it, and says why.
    answer = page.evaluate(
        """async ([url, today]) => {
            const response = await fetch(url, {
                method: "POST",
                body: new URLSearchParams({called_on: today, duration_minutes: "3"}),
                headers: {"HX-Request": "true", "Idempotency-Key": "second-complete"},
            });
            return [response.status, decodeURIComponent(response.headers.get("X-Offline-Refused"))];
        }""",
        [f"/touchpoints/{world.overdue.touchpoint}/complete", world.today.isoformat()],
    )
    assert answer == [
        409,
        "Already completed on this phone: its call log is waiting to send. It was not saved twice.",
    ]
    expect(waiting(page)).to_have_text("1 change waiting to send")

    # Back online: sent once, and the list shows the server's cards by itself (no reload).
    page.evaluate("window.tpwebSamePage = true")
    page.context.set_offline(False)
    expect(page.locator("#offline-bar")).to_contain_text("All changes sent.", timeout=15_000)
    fresh = card(page, world.overdue.name)
    expect(fresh.locator("header .badge")).to_have_text("Upcoming · in 30 days")
    # The list page is no longer the kept copy: no banner offering Refresh.
    expect(page.locator(".offline-banner")).to_have_count(0)
    expect(fresh.get_by_role("button", name="Complete")).to_be_visible()
    expect(fresh).not_to_have_attribute("data-offline-drawn", re.compile(".*"))
    assert page.evaluate("window.tpwebSamePage") is True
    calls = rows(
        server_app,
        select(func.count(CallLog.id)).where(CallLog.touchpoint_id == world.overdue.touchpoint),
    )
    assert calls == [(1,)]


# Playwright cannot dial: the tap is kept from leaving the page, and the page is hidden and shown
# again as the phone's dialler would, its clock moved on meanwhile.
FAKE_DIALLER = """() => {
    window.addEventListener("click", (event) => {
        if (event.target.closest("a[href^='tel:']")) event.preventDefault();
    });
    let state = "visible";
    Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
    Object.defineProperty(document, "hidden", {configurable: true, get: () => state === "hidden"});
    window.tpwebVisibility = (next) => {
        state = next;
        document.dispatchEvent(new Event("visibilitychange"));
    };
}"""


def test_back_from_a_call_complete_opens_with_the_time_away(
    page,
    server,
    server_app,
    sign_in,
    world,
):
    with server_app.app_context():
        db.session.execute(
            update(Account).where(Account.id == world.overdue.id).values(phone="+1 312 555 0101")
        )
        db.session.commit()
        db.session.remove()
    page.clock.install()
    sign_in(world.username)
    # The touchpoint's own page (the list's cards get their Call links from the phone-first work).
    touchpoint = f"{server.url}/touchpoints/{world.overdue.touchpoint}"
    page.goto(touchpoint)
    call = card(page, world.overdue.name).locator("a[href^='tel:'][data-touchpoint-id]")
    expect(call).to_have_attribute("title", "Call +1 312 555 0101")
    page.evaluate(FAKE_DIALLER)

    call.click()
    page.evaluate("tpwebVisibility('hidden')")
    page.clock.fast_forward("07:30")
    page.evaluate("tpwebVisibility('visible')")

    form = page.locator(f"#complete-{world.overdue.touchpoint}")
    # Today where the rep is (their settings' zone), which the server checks the date against, not
    # the phone's own zone's date.
    rep_today = page.evaluate(f"new Date().toLocaleDateString('en-CA', {{timeZone: '{TIMEZONE}'}})")
    expect(form.get_by_label("Call date")).to_have_value(rep_today)
    duration = form.get_by_label("Duration (minutes)")
    expect(duration).to_have_value("8")  # 7 minutes 30 seconds, rounded up
    expect(duration).to_be_focused()
    duration.fill("9")  # the rep's own word over the estimate
    form.get_by_role("button", name="Save call log").click()
    expect(page.locator("form.tp-form")).to_contain_text("Step 2 of 2")
    logged = select(CallLog.duration_minutes).where(
        CallLog.touchpoint_id == world.overdue.touchpoint
    )
    assert rows(server_app, logged) == [(9,)]

    # A tap on the number that never left the app (the rep said no to the dialler) opens nothing.
    page.goto(touchpoint)
    page.evaluate(FAKE_DIALLER)
    card(page, world.overdue.name).get_by_role("link", name="Call", exact=True).click()
    page.clock.fast_forward("01:00")
    page.evaluate("tpwebVisibility('hidden')")
    page.evaluate("tpwebVisibility('visible')")
    page.wait_for_timeout(500)  # what a Complete opened would have taken
    assert page.locator("form.tp-form").count() == 0


def test_a_touchpoint_completed_offline_on_the_map_shows_so_on_its_pin(
    page,
    server,
    sign_in,
    world,
    screenshot,
):
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=map")
    frame = page.frame_locator("[data-map-frame]")
    pin = frame.get_by_title(world.overdue.name, exact=True)
    expect(pin).to_have_class(re.compile(r"\btp-pin--overdue\b"))
    page.context.set_offline(True)
    pin.tap()
    popup = frame.locator(".leaflet-popup")
    popup.get_by_role("button", name="Complete").tap()
    panel = page.locator("[data-map-panel]")
    panel.get_by_role("button", name="Save call log").click()
    expect(panel.locator(".offline-step")).to_contain_text("Call log saved on this phone")

    # The pin: ticked, ringed as waiting; its popup says so and offers no second Complete.
    expect(pin).to_have_class(re.compile(r"\btp-pin--done\b.*\btp-pin--waiting\b"))
    expect(page.locator('[data-map-count="overdue"]')).to_have_text("0")
    pin.tap()
    expect(popup.locator(".tp-badge")).to_have_text(["Completed", "Waiting to send"])
    expect(popup.get_by_role("button", name="Complete")).to_have_count(0)
    screenshot("offline-map-waiting")

    # Sent: the pin takes the server's colour, the call's new Next Call in 30 days.
    page.context.set_offline(False)
    expect(page.locator("#offline-bar")).to_contain_text("All changes sent.", timeout=15_000)
    expect(pin).to_have_class(re.compile(r"\btp-pin--(upcoming|later)\b"))
    expect(pin).not_to_have_class(re.compile(r"\btp-pin--waiting\b"))
