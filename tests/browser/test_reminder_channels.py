"""Reminders where people look, on a phone at 390x844, light and dark: Settings turns the
calendar feed on and Copy puts its link on the clipboard; a one-tap link opened with no one
signed in shows one button, which snoozes the touchpoint once."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tpweb.domain import one_tap
from tpweb.domain.reminders import TOUCHPOINT
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Touchpoint

from .conftest import SECRET_KEY, TIMEZONE, new_rep
from .layout_probes import SIDEWAYS, SMALL_TARGETS


@pytest.fixture
def world(server_app):
    """A rep of the test's own with a touchpoint due today."""
    today = today_in(TIMEZONE)
    with server_app.app_context():
        rep, n = new_rep("channels")
        customer = Account(kind="customer", name=f"Lakeshore Fixtures {n}", sales_rep=rep)
        tp = Touchpoint(account=customer, last_call=today - timedelta(days=14), frequency_days=14,
                        next_call=today)  # fmt: skip
        db.session.add_all([rep, customer, tp])
        db.session.commit()
        token = one_tap.sign(
            SECRET_KEY, one_tap.Action(rep.id, TOUCHPOINT, tp.id, today, one_tap.TOMORROW)
        )
        yield SimpleNamespace(username=rep.username, touchpoint=tp.id, token=token, today=today)
        db.session.remove()


def fits_a_phone(page, name):
    assert page.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways"
    small = page.evaluate(SMALL_TARGETS)
    assert small == [], f"{name} has targets under 44x44: {small}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_settings_turn_the_feed_on_and_copy_its_link(
    page, server, sign_in, world, screenshot, scheme
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.emulate_media(color_scheme=scheme)
    sign_in(world.username)
    page.goto(server.url + "/settings")
    page.check("#calendar_feed")
    page.locator("#reminder-channels").get_by_role("button", name="Save").click()
    link = page.locator("#calendar-link")
    expect(link).to_be_visible()
    url = link.input_value()
    assert url.startswith("http") and "/calendar/" in url and url.endswith(".ics")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#calendar-link-note")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.locator("#reminder-channels details").first.locator("summary").click()
    expect(page.get_by_text("has no refresh button")).to_be_visible()
    fits_a_phone(page, "settings with the calendar link")
    screenshot(f"reminders-settings-{scheme}")
    # Shown once: the next visit says how to get a new one instead.
    page.goto(server.url + "/settings")
    expect(page.locator("#calendar-link")).to_have_count(0)
    expect(page.get_by_role("button", name="Reset link")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_snooze_link_shows_one_button_and_snoozes_once(
    page, server, server_app, world, screenshot, scheme
):
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{server.url}/actions/{world.token}")  # no one signed in on this phone
    button = page.get_by_role("button", name="Snooze to")
    expect(button).to_have_count(1)
    fits_a_phone(page, "the one-tap page")
    screenshot(f"reminders-action-{scheme}")
    with server_app.app_context():
        before = db.session.get(Touchpoint, world.touchpoint).next_call
        db.session.remove()
    button.click()
    expect(page.get_by_role("heading", name="Snoozed")).to_be_visible()
    with server_app.app_context():
        after = db.session.get(Touchpoint, world.touchpoint).next_call
        db.session.remove()
    assert (before, after) == (world.today, world.today + timedelta(days=1))
    page.goto(f"{server.url}/actions/{world.token}")
    expect(page.get_by_role("heading", name="Already done")).to_be_visible()
    fits_a_phone(page, "already done")
