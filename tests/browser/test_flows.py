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
