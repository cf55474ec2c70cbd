"""The app as a rep holds it, in headless Chromium at 390x844: no page scrolls sideways, every
target fits a thumb, the tab bar and More, one tap to call or drive, task badges that stay one
line, and a Complete that shows it is working and cannot be sent twice.
"""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tpweb.domain.schedule import today_in
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

from .conftest import TIMEZONE, new_rep, open_more
from .layout_probes import SIDEWAYS, SMALL_TARGETS

LONG_EMAIL = "a" * 100 + "@" + "b" * 11 + ".example"
LONG_NAME = "Bartholomew" * 8
LONG_TITLE = "Send the revised quote for the north warehouse racking and the loading dock doors"


@pytest.fixture
def world(server_app):
    """A rep of the test's own: an overdue customer with a phone, an address and a pin; a
    contact with a 120-character email and a long unbroken name; two open tasks with long
    titles (one overdue, one due in four days); and an account with no touchpoint."""
    today = today_in(TIMEZONE)
    with server_app.app_context():
        rep, n = new_rep("phone")
        customer = Account(
            kind="customer",
            name=f"Prairie Ridge Plumbing and Heating Supply {n}",
            sales_rep=rep,
            phone="+1 (815) 555-0142",
            address="1200 W Jefferson St",
            city="Joliet",
            latitude=41.52503,
            longitude=-88.0817,
        )
        contact = Contact(customer=customer, name=LONG_NAME, email=LONG_EMAIL, phone="815 555 0199")
        unassigned = Account(kind="customer", name=f"No Touchpoint Yet {n}", sales_rep=rep)
        touchpoint = Touchpoint(
            account=customer,
            last_call=today - timedelta(days=33),
            frequency_days=30,
            next_call=today - timedelta(days=3),
            comment="https://example.com/" + "x" * 150,
        )
        tasks = [
            TouchpointRecord(
                contact=contact,
                author=rep,
                assigned_to=rep,
                description=f"{LONG_TITLE} ({when})",
                response_required=True,
                date_due=today + timedelta(days=days),
                date_completed=today,
            )
            for when, days in (("soon", 4), ("late", -2))
        ]
        db.session.add_all([rep, customer, contact, unassigned, touchpoint, *tasks])
        db.session.commit()
        yield SimpleNamespace(
            username=rep.username,
            customer=customer.id,
            customer_name=customer.name,
            contact=contact.id,
            touchpoint=touchpoint.id,
        )
        db.session.remove()


def pages(world):
    return {
        "dashboard": "/",
        "list": "/touchpoints?view=list",
        "tasks": "/tasks",
        "contact": f"/contacts/{world.contact}",
        "account": f"/customers/{world.customer}",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_scrolls_sideways_and_every_target_fits_a_thumb(
    page, server, sign_in, world, screenshot, scheme
):
    page.emulate_media(color_scheme=scheme)
    sign_in(world.username)
    for name, path in pages(world).items():
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways"
        small = page.evaluate(SMALL_TARGETS)
        screenshot(f"phone-{name}-{scheme}")
        assert small == [], f"{name} has targets under 44x44: {small}"
        screenshot(f"phone-{name}-{scheme}")
    # The long email and name wrap inside the page.
    page.goto(server.url + f"/contacts/{world.contact}")
    email = page.locator(".summary").get_by_role("link", name=LONG_EMAIL)
    assert email.bounding_box()["x"] + email.bounding_box()["width"] <= 390


def test_the_tab_bar_holds_the_four_places_and_more_holds_the_rest(
    page, server, sign_in, world, screenshot
):
    sign_in(world.username)
    bar = page.locator(".topbar .places")
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(844, abs=1), "fixed to the bottom"
    places = bar.locator(":scope > li > a.place")
    # The rep's places (Plan my day among them), each a full-width share of the bar.
    expect(places.locator(".place-label")).to_have_text(
        ["Today", "Map", "Plan", re.compile(r"^Tasks \d+$"), "Contacts"]
    )
    for i in range(places.count()):
        assert places.nth(i).bounding_box()["width"] >= 56
    expect(places.first).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()

    more = open_more(page)
    for name in ("Settings", "Customers", "Unassigned", "Touchpoints"):
        expect(more.get_by_role("link", name=name)).to_be_visible()
    sign_out = more.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    assert sign_out.bounding_box()["y"] + sign_out.bounding_box()["height"] <= box["y"]
    assert page.evaluate(SMALL_TARGETS) == []
    screenshot("phone-more")

    more.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings$"))
    expect(page.locator(".topbar details.more-nav")).not_to_have_attribute("open", "")

    # Tasks, then Today again: one tap each, and the bar says where the rep is.
    bar.get_by_role("link", name="Tasks").click()
    expect(page).to_have_url(re.compile(r"/tasks$"))
    expect(bar.get_by_role("link", name="Tasks")).to_have_attribute("aria-current", "page")


def test_at_a_desk_the_menu_is_at_the_top(page, server, sign_in, world):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(world.username)
    bar = page.locator(".topbar .places")
    assert bar.bounding_box()["y"] < 100
    open_more(page)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_today_reaches_unassigned_in_one_tap_and_the_tabs_fit(page, server, sign_in, world):
    sign_in(world.username)
    tabs = page.locator("#touchpoint-widget .tabs .tab")
    expect(tabs).to_have_count(4)
    for i in range(4):
        box = tabs.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, tabs.nth(i).text_content()
    chip = page.locator(".quick-links").get_by_role("link", name=re.compile("Unassigned"))
    expect(chip).to_contain_text(re.compile(r"\d"))
    chip.click()
    expect(page.locator("#unassigned-widget")).to_be_in_viewport()
    expect(page.get_by_text(re.compile("No Touchpoint Yet"))).to_be_visible()


def test_a_card_calls_and_gives_directions_in_one_tap(page, server, sign_in, world):
    sign_in(world.username)
    page.goto(server.url + "/touchpoints?view=list")
    card = page.locator(f"#touchpoint-{world.touchpoint}")
    for name, href in {
        "Call": "tel:+18155550142",
        "Text": "sms:+18155550142",
        "Email": "mailto:" + LONG_EMAIL,
        "Directions": "https://www.google.com/maps/dir/?api=1&destination=41.52503,-88.0817",
    }.items():
        expect(card.get_by_role("link", name=name, exact=True)).to_have_attribute("href", href)
    expect(card).to_contain_text("1200 W Jefferson St, Joliet")

    page.goto(server.url + f"/customers/{world.customer}")
    summary = page.locator(".summary")
    expect(summary.get_by_role("link", name="Directions")).to_be_visible()
    expect(summary).not_to_contain_text("41.52503")


def test_a_task_badge_stays_one_line_when_its_title_wraps(page, server, sign_in, world, screenshot):
    sign_in(world.username)
    for path in ("/tasks", f"/contacts/{world.contact}"):
        page.goto(server.url + path)
        for when, colour in (("soon", "upcoming"), ("late", "overdue")):
            entry = page.locator("article.entry--open", has_text=f"({when})").first
            title = entry.locator(":scope > header strong")
            badge = entry.locator(":scope > header .badge")
            assert title.bounding_box()["height"] > 40, "the title wraps"
            line, padding = badge.evaluate(
                """b => { const s = getComputedStyle(b); return [parseFloat(s.lineHeight),
                    parseFloat(s.paddingTop) + parseFloat(s.paddingBottom)]; }"""
            )
            assert badge.bounding_box()["height"] <= line + padding + 1
            assert badge.evaluate("b => b.scrollWidth <= b.clientWidth")  # nothing clipped
            edge = entry.evaluate("e => getComputedStyle(e).borderLeftColor")
            expected = page.evaluate(
                f"""() => {{ const probe = document.createElement("i");
                probe.style.color = "var(--tp-{colour})"; document.body.append(probe);
                const colour = getComputedStyle(probe).color; probe.remove(); return colour; }}"""
            )
            assert edge == expected, f"{when}: {edge} is not {colour}"
    page.locator("#open-title").scroll_into_view_if_needed()
    page.evaluate(
        "window.scrollBy(0, document.querySelector('#open-title').getBoundingClientRect().top - 60)"
    )
    screenshot("phone-contact-tasks")


def shows_spinner(button):
    """Wait until `button` shows its spinner: the ring app.css draws before its label while its
    form is at work."""
    button.page.wait_for_function(
        """b => { const s = getComputedStyle(b, "::before"); return s.content !== "none"
            && parseFloat(s.width) > 8 && s.borderRadius === "50%"; }""",
        arg=button.element_handle(),
        timeout=5_000,
    )


def call_logs(server_app, touchpoint_id):
    with server_app.app_context():
        try:
            return db.session.scalar(
                select(func.count(CallLog.id)).where(CallLog.touchpoint_id == touchpoint_id)
            )
        finally:
            db.session.remove()


def test_a_slow_complete_shows_it_is_working_and_a_double_tap_saves_one_call_log(
    page, server, server_app, sign_in, world, screenshot
):
    with server_app.app_context():
        if not db.session.scalar(select(func.count(CallLogType.id))):
            pytest.skip("no call log types in the demo data")
    sign_in(world.username)
    page.goto(server.url + "/touchpoints?view=list")
    card = page.locator(f"#touchpoint-{world.touchpoint}")
    card.get_by_role("button", name="Complete").click()
    form = page.locator(f"#complete-{world.touchpoint}")
    expect(form).to_be_visible()
    form.get_by_label("Duration").fill("12")

    held = []

    def slow(route):
        if route.request.method == "POST" and "/complete" in route.request.url:
            held.append(route)
        else:
            route.continue_()

    # On the context: the service worker's fetches pass there too, not through the page's routes.
    page.context.route("**/touchpoints/*/complete", slow)
    button = form.get_by_role("button", name="Save call log")
    button.click()
    expect(button).to_be_disabled()
    expect(form).to_have_class(re.compile(r"\bhtmx-request\b"))
    shows_spinner(button)
    screenshot("phone-complete-busy")
    box = button.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the second tap
    page.wait_for_timeout(300)
    assert len(held) == 1
    held[0].continue_()
    expect(page.get_by_text("Step 2 of 2")).to_be_visible()
    assert call_logs(server_app, world.touchpoint) == 1


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_the_sign_in_button_shows_it_is_working(page, server, world, motion):
    page.emulate_media(reduced_motion=motion)
    page.goto(server.url + "/login")
    page.fill("input[name=username]", world.username)
    page.fill("input[name=password]", "tpweb-demo")
    held = []
    page.context.route(
        "**/login*",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    button = page.get_by_role("button", name="Sign in")
    button.click()
    expect(button).to_be_disabled()
    shows_spinner(button)
    # It turns, unless the phone asks for less motion: then it stands still.
    turning = button.evaluate("b => getComputedStyle(b, '::before').animationName")
    assert turning == ("none" if motion == "reduce" else "tp-spin")
    held[0].continue_()
    expect(page.locator(".topbar .places")).to_be_visible()


def rep1_id(server_app):
    with server_app.app_context():
        try:
            return db.session.scalar(select(User.id).where(User.username == "rep1"))
        finally:
            db.session.remove()


def test_the_team_is_a_card_per_rep_on_a_phone(page, server, sign_in, screenshot):
    """Every count of every rep in sight at 390 px, each named, and the heads a row of sorts
    (every page at every size: tests/browser/test_every_page.py)."""
    sign_in("manager1")
    page.goto(server.url + "/reps")
    table = page.locator(".team")
    assert table.evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
    row = table.locator("tbody tr").first
    cells = row.locator("td")
    expect(cells).to_have_count(5)
    label = "td => getComputedStyle(td, '::before').content"
    names = [cells.nth(i).evaluate(label) for i in range(5)]
    assert names == ['"Overdue"', '"Due today"', '"Next 7 days"', '"Open tasks"', '"Unassigned"']
    for i in range(5):
        box = cells.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, names[i]
    table.get_by_role("link", name="Open tasks").click()
    expect(table.locator("th[aria-sort]")).to_have_text("Open tasks")
    screenshot("phone-team")


def test_a_sales_reps_page_on_a_phone_puts_the_accounts_in_reach(
    page, server, server_app, sign_in, screenshot
):
    sign_in("manager1")
    page.goto(server.url + f"/reps/{rep1_id(server_app)}")
    touchpoints = page.locator("#touchpoints-part")
    expect(touchpoints).not_to_have_attribute("open", "")
    summary = touchpoints.locator("summary")
    expect(summary).to_contain_text(re.compile(r"\d+ overdue · \d+ due today"))
    assert page.get_by_role("heading", name=re.compile("^Accounts")).bounding_box()["y"] < 844
    screenshot("phone-rep-page")
    summary.click()
    expect(page.locator("#touchpoint-widget .tp").first).to_be_visible()


def test_a_map_popup_calls_and_gives_directions_in_one_tap(
    page, server, sign_in, world, screenshot
):
    sign_in(world.username)
    page.goto(server.url + "/touchpoints?view=map")
    frame = page.frame_locator("[data-map-frame]")
    pin = frame.locator(".tp-pin").first
    expect(pin).to_have_attribute("title", world.customer_name)
    pin.tap()
    links = frame.locator(".leaflet-popup .tp-popup-reach a")
    expect(links).to_have_text(["Call", "Text", "Email", "Directions"])
    hrefs = [links.nth(i).get_attribute("href") for i in range(4)]
    assert hrefs == [
        "tel:+18155550142",
        "sms:+18155550142",
        "mailto:" + LONG_EMAIL,
        "https://www.google.com/maps/dir/?api=1&destination=41.52503,-88.0817",
    ]
    for i in range(4):
        box = links.nth(i).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
    assert links.nth(3).evaluate("a => a.scrollWidth <= a.clientWidth")  # "Directions" fits
    screenshot("phone-map-popup")


# The page's layout shifts since it loaded (not those right after a tap), as Lighthouse adds them.
LAYOUT_SHIFT = """() => new Promise((done) => {
    new PerformanceObserver((list) => done(list.getEntries()
        .filter((entry) => !entry.hadRecentInput).reduce((sum, entry) => sum + entry.value, 0)))
        .observe({type: "layout-shift", buffered: true});
    setTimeout(() => done(0), 1000);
})"""


def test_the_offline_line_fills_the_place_kept_for_it_and_nothing_jumps(
    page, server, sign_in, world
):
    sign_in(world.username)
    saved = page.locator("[data-offline-saved]")
    expect(saved).to_be_visible(timeout=20_000)
    for path in ("/contacts", "/touchpoints"):
        page.goto(server.url + path)
        expect(saved).to_be_visible()
        assert page.evaluate(LAYOUT_SHIFT) == 0, path
