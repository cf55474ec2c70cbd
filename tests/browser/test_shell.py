"""The page around every page, in headless Chromium at 390x844: its icon, and the CSRF token htmx
sends after the page was swapped in place by a boosted sign-in (the server runs with CSRF on).
"""

import re
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Touchpoint

from .conftest import PASSWORD, TIMEZONE, new_rep, open_more


@pytest.fixture
def rep(server_app):
    """A rep of the test's own with one customer due in three days: (username, name, id)."""
    today = today_in(TIMEZONE)
    with server_app.app_context():
        user, n = new_rep("shell")
        account = Account(kind="customer", name=f"Boosted Supply {n}", sales_rep=user)
        touchpoint = Touchpoint(
            account=account,
            last_call=today - timedelta(days=27),
            frequency_days=30,
            next_call=today + timedelta(days=3),
        )
        db.session.add_all([user, account, touchpoint])
        db.session.commit()
        yield user.username, account.name, touchpoint.id
        db.session.remove()


def frequency(server_app, touchpoint_id):
    with server_app.app_context():
        try:
            return db.session.scalar(
                select(Touchpoint.frequency_days).where(Touchpoint.id == touchpoint_id)
            )
        finally:
            db.session.remove()


def boosted_sign_in(page, username):
    """Fill the sign-in form already on the page; htmx posts it and swaps the body in place."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()


def favicon_asks(server):
    """How many times the server was asked for /favicon.ico: the browser's own asking, for a
    document that names no icon, is no request of the page's, so it shows only in the log."""
    log = Path(server.database_url.removeprefix("sqlite:///")).parent / "server.log"
    return log.read_text().count("GET /favicon.ico")


# The icon's URL, its name hashed as production serves static files (tpweb.web.statics).
ICON = re.compile(r"^/static/icons/icon-\d+\.[0-9a-f]{12}\.png$")


def test_every_page_names_its_icon_and_none_asks_for_favicon_ico(page, server, sign_in, rep):
    failed = []
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and response.request.resource_type != "document"
            and failed.append((response.status, response.url))
        ),
    )
    before = favicon_asks(server)
    page.goto(server.url + "/login")
    sign_in(rep[0])
    for path in (
        "/touchpoints?view=list",
        "/touchpoints?view=map",
        "/tasks",
        "/offline",
        "/nowhere",
    ):
        page.goto(server.url + path)
        icon = page.locator("head link[rel=icon]")
        expect(icon).to_have_attribute("href", ICON)
        page.wait_for_load_state("networkidle")

    href = page.locator("head link[rel=icon]").get_attribute("href")
    with urllib.request.urlopen(server.url + href) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"] == "image/png"
    assert favicon_asks(server) == before
    assert failed == []
    # The worker keeps the icon with the shell, so a page opened offline has it too.
    shell = page.evaluate(
        """async () => {
            const names = (await caches.keys()).filter((name) => name.startsWith("tpweb-shell-"));
            const cache = await caches.open(names[0]);
            return (await cache.keys()).map((request) => new URL(request.url).pathname);
        }"""
    )
    assert href in shell


def test_after_a_boosted_sign_in_htmx_sends_the_new_sessions_csrf_token(
    page, server, server_app, sign_in, rep
):
    username, name, touchpoint_id = rep
    sign_in(username)
    # Sign out and in again, all in the same document: htmx swaps only the body's content.
    open_more(page).get_by_role("button", name="Sign out").click()
    expect(page.locator("input[name=username]")).to_be_visible()
    boosted_sign_in(page, username)
    open_more(page).get_by_role("link", name="Touchpoints").click()
    expect(page).to_have_url(re.compile(r"/touchpoints\?view=list$"))
    expect(page.locator("main h1, main h2").first).to_be_visible()
    card = page.locator("article.tp", has=page.get_by_role("link", name=name, exact=True))
    card.get_by_role("button", name="Reschedule").click()
    form = page.locator("form.tp-form")
    expect(form).not_to_have_class(re.compile(r"htmx-(added|settling)"))
    form.get_by_label("Frequency (days)").fill("12")
    # The form's own token goes: the header htmx adds is then the only one the server sees.
    form.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    with page.expect_request(lambda request: request.method == "POST") as sent:
        form.get_by_role("button", name="Save touchpoint").click()
    expect(page.get_by_text("every 12 days")).to_be_visible()
    assert frequency(server_app, touchpoint_id) == 12

    # It was this session's token, the one the menu's sign-out form was rendered with.
    fresh = page.locator(".topbar input[name=csrf_token]").input_value()
    assert sent.value.headers["x-csrftoken"] == fresh
    # And the server checks it: the same write with a made-up token is refused, nothing saved.
    # Sent past the worker (which would queue a refused form to send again with a fresh token),
    # on the page's own cookies, as the form type: anything else is 415 before CSRF is checked.
    status = page.request.post(
        f"{server.url}/touchpoints/{touchpoint_id}/edit",
        form={"frequency_days": "5"},
        headers={"X-CSRFToken": "made-up", "HX-Request": "true"},
    ).status
    assert status == 400
    assert frequency(server_app, touchpoint_id) == 12


# Every layout shift the page makes, with what moved: Lighthouse's CLS, read in the page.
SHIFTS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__shifts.push({value: entry.value, moved: entry.sources.map((source) =>
      source.node ? source.node.id || source.node.className || source.node.nodeName : "?")});
  }
}).observe({type: "layout-shift", buffered: true});
"""


@pytest.mark.parametrize("path", ["/touchpoints", "/contacts", "/touchpoints?view=map"])
def test_a_page_does_not_move_as_the_offline_line_fills_in(page, server, sign_in, rep, path):
    """The line under the bar ("Saving your week…", "Ready offline…") appears after the page
    shows: its space is kept, so nothing below it moves (was Lighthouse's 0.033 on every page)."""
    username, _, _ = rep
    sign_in(username)
    page.context.add_init_script(SHIFTS)
    page.goto(server.url + path)
    expect(page.locator("#offline-bar .offline-saved")).to_be_visible()
    page.wait_for_timeout(300)  # a shift is reported a frame after it
    assert page.evaluate("window.__shifts") == []
