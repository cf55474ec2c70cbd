"""Flows at 390x844 that only a browser shows: a change updates the screen with no reload (the
card, the tabs, the navigation's count, a status line), the reassign confirmation, and a failed
form putting its first error in front of the user."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, CallLogType, Contact, Touchpoint

from .conftest import TIMEZONE, new_rep


@pytest.fixture
def world(server_app):
    """A rep of the test's own with two overdue customers and one due today."""
    today = today_in(TIMEZONE)
    with server_app.app_context():
        rep, n = new_rep("flows")
        accounts, touchpoints = [], []
        due = ((f"Gravel Pit {n}", -4), (f"Lakeside Tile {n}", -1), (f"Today Co {n}", 0))
        for name, days in due:
            account = Account(kind="customer", name=name, sales_rep=rep)
            touchpoints.append(
                Touchpoint(
                    account=account,
                    last_call=today + timedelta(days=days - 30),
                    frequency_days=30,
                    next_call=today + timedelta(days=days),
                )
            )
            accounts.append(account)
        contact = Contact(customer=accounts[0], name=f"Ada Buyer {n}")
        if db.session.query(CallLogType).count() == 0:
            db.session.add(CallLogType(name="Phone", position=0))
        db.session.add_all([rep, contact, *accounts, *touchpoints])
        db.session.commit()
        yield SimpleNamespace(
            username=rep.username,
            today=today,
            names=[account.name for account in accounts],
            touchpoints=[tp.id for tp in touchpoints],
            contact=contact.id,
        )
        db.session.remove()


def no_reload(page):
    """Mark the document: a reload or a new page loses the mark (see still_same_document)."""
    page.evaluate("window.tpwebMark = 'kept'")
    return page.url


def still_same_document(page, url):
    assert page.evaluate("window.tpwebMark") == "kept", "the page was reloaded"
    assert page.url == url, "the address changed"


def tab_count(page, label):
    tab = page.locator("#touchpoint-tabs a", has_text=label)
    return int(tab.locator(".count").inner_text())


def test_completing_a_card_moves_it_and_updates_every_count_without_a_reload(
    page, server, sign_in, world, screenshot
):
    sign_in(world.username)
    page.goto(server.url + "/touchpoints?view=list&state=overdue")
    expect(page.locator("#nav-task-count")).to_have_text("3")
    assert tab_count(page, "Overdue") == 2 and tab_count(page, "Upcoming") == 0
    url = no_reload(page)
    card = page.locator(f"#touchpoint-{world.touchpoints[0]}")

    card.get_by_role("button", name="Complete").click()
    form = page.locator(f"#complete-{world.touchpoints[0]}")
    form.get_by_label("Duration (minutes)").fill("15")
    form.get_by_role("button", name="Save call log").click()

    status = page.locator("#status-line")
    expect(status).to_contain_text(f"Call logged for {world.names[0]}")
    step_two = page.locator("form.tp-form", has_text="Step 2 of 2")
    expect(step_two).to_contain_text("Complete")
    # Logged: the schedule moved on, and every count with it, before step two is saved.
    expect(page.locator("#nav-task-count")).to_have_text("2")
    expect(page.locator("#touchpoint-tabs a", has_text="Overdue").locator(".count")).to_have_text(
        "1"
    )
    expect(page.locator("#touchpoint-tabs a", has_text="Upcoming").locator(".count")).to_have_text(
        "1"
    )
    screenshot("flows-complete-step-two")

    step_two.get_by_role("button", name="Save touchpoint").click()
    expect(status).to_contain_text(f"{world.names[0]}: Next Call")
    moved = page.locator(f"#touchpoint-{world.touchpoints[0]}")
    expect(moved).to_have_class(re.compile(r"\btp--upcoming\b"))
    expect(moved).to_be_hidden()  # it left the Overdue tab
    expect(page.locator(f"#touchpoint-{world.touchpoints[1]}")).to_be_visible()
    screenshot("flows-complete-done")
    # The status line says it, then goes.
    expect(status.locator("p")).to_be_hidden(timeout=8_000)
    still_same_document(page, url)


@pytest.fixture
def two_reps(server_app):
    """A rep of the test's own with five customers, and another rep to take some over."""
    with server_app.app_context():
        giver, n = new_rep("giver")
        taker, _ = new_rep("taker")
        accounts = [
            Account(kind="customer", name=f"Quarry {n}-{i}", sales_rep=giver, city="Joliet")
            for i in range(5)
        ]
        db.session.add_all([giver, taker, *accounts])
        db.session.commit()
        yield SimpleNamespace(
            giver=giver.id, taker=taker.id, taker_name=taker.name, names=[a.name for a in accounts]
        )
        db.session.remove()


@pytest.mark.parametrize("size", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}])
def test_a_manager_confirms_a_move_and_stays_on_the_reps_page(
    page, server, sign_in, two_reps, screenshot, size
):
    page.set_viewport_size(size)
    sign_in("manager1")
    rep_url = f"{server.url}/reps/{two_reps.giver}"
    page.goto(rep_url)
    bar = page.locator(".bulk-bar")
    expect(bar.locator(".bulk-count")).to_be_visible()
    for name in two_reps.names[:2]:
        page.get_by_label(f"Select {name}").check()
    count = bar.locator(".bulk-count")
    expect(count).to_have_text("2 selected")  # written by static/bulk.js, and read out:
    expect(count).to_have_attribute("aria-live", "polite")
    # Every row is a thumb's height, and its name is not part of the tick box.
    row = page.locator(".account-picks li").first
    assert row.bounding_box()["height"] >= 44
    assert page.locator(".account-picks label a").count() == 0
    bar.get_by_label("Move to").select_option(label=two_reps.taker_name)
    assert bar.bounding_box()["y"] + bar.bounding_box()["height"] <= size["height"]  # in reach
    screenshot(f"flows-reassign-{size['width']}")
    bar.get_by_role("button", name="Move…").click()

    heading = page.get_by_role("heading", name=f"Move 2 accounts to {two_reps.taker_name}?")
    expect(heading).to_be_visible()
    assert page.url == rep_url
    screenshot(f"flows-reassign-confirm-{size['width']}")
    page.get_by_role("button", name=f"Move 2 accounts to {two_reps.taker_name}").click()

    expect(page.locator(".flash")).to_contain_text("Moved 2 accounts from ")
    assert page.url == rep_url
    expect(page.locator(".account-picks")).not_to_contain_text(two_reps.names[0])
    expect(page.locator(".account-picks")).to_contain_text(two_reps.names[2])


@pytest.mark.parametrize(
    ("who", "path", "fill", "first_error"),
    [
        # The new-customer form: a latitude without its longitude.
        ("manager1", "/customers/new", {"name": "Half Co", "latitude": "41.8"}, "longitude"),
        # The admin's New user form, under the table of every user.
        ("admin", "/admin/users", {"username": "No!", "name": "N", "password": "x"}, "username"),
    ],
)
def test_a_failed_form_puts_its_first_error_in_focus_and_in_view(
    page, server, sign_in, screenshot, who, path, fill, first_error
):
    sign_in(who)
    page.goto(server.url + path)
    form = page.locator("form.tp-form").last
    for name, value in fill.items():
        form.locator(f'[name="{name}"]').fill(value)
    form.locator('[type="submit"]').last.click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator(f'a[href="#{first_error}"]')).to_be_visible()
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("name", first_error)
    assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"
    box = focused.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]
    screenshot(f"flows-form-error-{first_error}")


def test_a_manager_turns_the_dashboard_to_another_team_and_to_every_rep(page, server, sign_in):
    sign_in("manager1")
    board = page.locator("#board")
    team = board.locator("#team tbody th")

    def overdue_reps():
        return {text.removeprefix("Sales Rep: ") for text in
                board.locator(".tp-rep").all_inner_texts()}  # fmt: skip

    expect(board.get_by_role("heading", name="My team 4")).to_be_visible()
    # No touchpoints of their own: the phone says so in words, not as "0 due touchpoints".
    saved = page.locator("[data-offline-saved]")
    expect(saved).to_contain_text("Ready offline: nothing due · saved", timeout=20_000)
    mine = set(team.all_inner_texts())
    assert len(mine) == 4 and overdue_reps() and overdue_reps() <= mine

    board.get_by_label("Reps of").select_option(label="James O'Brien")
    expect(board.get_by_role("heading", name="James O'Brien’s team 4")).to_be_visible()
    theirs = set(team.all_inner_texts())
    assert not theirs & mine and overdue_reps() and overdue_reps() <= theirs
    expect(page).to_have_url(server.url + "/")  # the dashboard stays where it is

    board.get_by_label("Reps of").select_option(label="every manager")
    expect(board.get_by_role("heading", name=re.compile(r"^Every rep \d+$"))).to_be_visible()
    assert set(team.all_inner_texts()) >= mine | theirs

    # The whole Unassigned list keeps to the team shown, and Reps of turns it too.
    page.goto(server.url + "/unassigned")
    widget = page.locator("#unassigned-widget")
    reps = widget.locator("article.unassigned header > small")
    expect(reps.first).to_be_visible()
    assert set(reps.all_inner_texts()) <= mine
    widget.get_by_label("Reps of").select_option(label="James O'Brien")
    expect(reps.first).to_have_text(re.compile("^(" + "|".join(map(re.escape, theirs)) + ")$"))
    assert set(reps.all_inner_texts()) <= theirs
