"""A server that answers 503 (its database busy) while the rep is online, in headless Chromium at
390x844: the write stays on the phone, says it is waiting, and is sent once the server recovers.

The 503 is real: the test holds the server's SQLite write lock from a connection of its own, so
the server's write waits its lock timeout (3 s) and answers 503 "busy" with Retry-After: 5.
"""

import sqlite3
import time

from playwright.sync_api import expect
from sqlalchemy import func, make_url, select

from tpweb.models import CallLog

from .offline_tools import card, ready_offline, rows, waiting


def test_a_complete_answered_503_stays_queued_and_is_sent_once_the_server_recovers(
    page,
    server,
    server_app,
    sign_in,
    world,
    screenshot,
):
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=list")
    call_logs = select(func.count(CallLog.id)).where(
        CallLog.touchpoint_id == world.overdue.touchpoint
    )

    writer = sqlite3.connect(make_url(server.database_url).database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another writer holds the database
        card(page, world.overdue.name).get_by_role("button", name="Complete").click()
        page.locator("form.tp-form").get_by_role("button", name="Save call log").click()

        step = page.locator(".offline-step")
        expect(step).to_contain_text("the server is busy; sending it again shortly")
        expect(step.locator(".badge--pending")).to_have_text("Waiting to send")
        expect(waiting(page)).to_have_text("1 change waiting to send")
        expect(page.locator("#offline-bar")).to_contain_text("it will be tried again")
        page.locator("#offline-bar").scroll_into_view_if_needed()
        screenshot("busy-server-queued")
        # Past the first retry (5 s on, answered 503 again 3 s later): still waiting, not stored.
        time.sleep(9)
        expect(waiting(page)).to_have_text("1 change waiting to send")
        assert rows(server_app, call_logs) == [(0,)]
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    expect(page.locator("#offline-bar")).to_contain_text("All changes sent.", timeout=20_000)
    expect(waiting(page)).to_have_count(0)
    assert rows(server_app, call_logs) == [(1,)]
