"""The browser harness: the app served by a real server process on loopback, on its own SQLite
file with the demo data, and Debian's Chromium driven by Playwright at a phone's size.

Every request that is not to the app's own origin is blocked, and a test that attempted one fails.
Screenshots go to tests/browser/screenshots/, which git ignores. Without Chromium or Playwright the
tests skip with the reason, except under CI=true, where they must run.

The server's database is its own, whatever the pass: `pytest` alone runs every browser test in
the SQLite pass and none in the PostgreSQL one; `make test` (TPWEB_TEST_BROWSER=sqlite or
postgres) shares them between its two passes, which run side by side, so both end about together.
"""

import itertools
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from tpweb import create_app
from tpweb.domain.demo import seed_demo
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, User
from tpweb.web import statics

CI = os.environ.get("CI") == "true"
CHROMIUM = "/usr/bin/chromium"
# No sandbox: CI runs as root. The rest keeps Chromium from calling home on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "tpweb-demo"
HOSTILE = "<img src=x onerror=alert(1)>${alert(2)}"
HOSTILE_COMMENT = "`${alert(3)}` <b onmouseover=alert(4)>bold</b>"
TIMEZONE = "America/Chicago"
# The phones' own zone, not the reps': a rep's phone may be set to another zone (travel, a setting),
# and "today" is the rep's own (DESIGN 15). UTC+14 puts the phone on another date than Chicago's
# for twenty hours of every day, so a date taken from the phone's zone shows in the suite.
PHONE_ZONE = "Pacific/Kiritimati"
SECRET_KEY = secrets.token_hex(32)
# The browser modules `make test` runs in its PostgreSQL pass; the others run in its SQLite pass.
# Chosen so that the two passes end together (fresh clone, 20:47 UTC: SQLite 7.2 min, PostgreSQL
# 9.0 min with the last three below in this set; the PostgreSQL pass's own tests are the slower).
POSTGRES_PASS = {"test_every_page", "test_reports", "test_push"}
PASS = "postgres" if os.environ.get("TPWEB_TEST_POSTGRES") else "sqlite"


def pytest_collection_modifyitems(config, items):
    """Under `make test`, this pass's share of the browser tests only."""
    if not os.environ.get("TPWEB_TEST_BROWSER"):
        return
    here = Path(__file__).resolve().parent

    def elsewhere(item):
        in_postgres = item.path.stem in POSTGRES_PASS
        return item.path.parent == here and in_postgres != (PASS == "postgres")

    dropped = [item for item in items if elsewhere(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not elsewhere(item)]


def _missing():
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(database_url):
    """The demo data, and a customer of rep1 whose name and comment are attacks."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        upgrade()
        today = today_in(TIMEZONE)
        seed_demo(today)
        rep = db.session.scalar(select(User).filter_by(username="rep1"))
        # Away from the demo's accounts, so it is a pin of its own at the first zoom.
        hostile = Account(
            kind="customer", name=HOSTILE, sales_rep=rep, latitude=41.25, longitude=-88.75
        )
        db.session.add(hostile)
        db.session.add(
            Touchpoint(
                account=hostile,
                last_call=today - timedelta(days=33),
                frequency_days=30,
                next_call=today - timedelta(days=3),
                comment=HOSTILE_COMMENT,
            )
        )
        db.session.commit()
        located = db.session.scalar(
            select(func.count(Touchpoint.id))
            .join(Touchpoint.account)
            .where(
                Account.sales_rep_id == rep.id,
                Account.active,
                ~Touchpoint.inactive,
                Account.latitude.is_not(None),
            )
        )
        db.session.remove()
        db.engine.dispose()
    return located


def _wait_until_serving(url, process, log):
    # Starting takes a few seconds of CPU; on a machine shared with other work, many more.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text()[-2000:]}")
        # Our own server's answer, not another's: two test runs side by side (make test's two
        # passes) may each be handed the same free port, and the second server then cannot bind.
        ours = f"Running on {url}" in log.read_text()
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:
                if response.status == 200 and ours:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not answer within 90 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def server(request, tmp_path_factory):
    """The app in its own process (flask run) on a free loopback port, with the demo data.

    No map tiles. A test may pass more environment as a parameter (indirect=True), a tuple of
    (name, value) pairs such as (("TPWEB_TILE_URL", ...),): it then gets a server of its own.
    """
    if PASS == "postgres" and not os.environ.get("TPWEB_TEST_BROWSER"):
        pytest.skip("the browser tests run once, in the SQLite pass")
    reason = _missing()
    if reason and CI:
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{folder / 'browser.sqlite'}"
    located = _seed(database_url)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    static_root = tmp_path_factory.getbasetemp() / "static"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        # Plain HTTP on loopback: cookies without the Secure flag, as on a developer's machine.
        "TPWEB_ENV": "development",
        "TPWEB_TILE_URL": "none",
        "TPWEB_TIMEZONE": TIMEZONE,
        # Plan my day plans from this time of day, not the clock: the same plan at any hour.
        "TPWEB_PLAN_NOW": "07:00",
        "TPWEB_PLAN_SECONDS": "0.3",
        "PYTHONUNBUFFERED": "1",
        # Static files as production serves them: hashed names, precompressed, by WhiteNoise;
        # the service worker must keep working offline with them (tpweb.web.statics).
        "TPWEB_STATIC_BUILD": "1",
        "TPWEB_STATIC_ROOT": str(static_root),
        **dict(getattr(request, "param", ())),
    }
    # Built here, once for every server of the run, rather than while the first one starts.
    statics.build(ROOT / "static", static_root)
    log = folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "tpweb", "run"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_serving(url, process, log)
        yield SimpleNamespace(url=url, rep1_located=located, database_url=database_url, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


_serial = itertools.count(1)


def new_rep(kind):
    """A rep of a test's own (not yet added), signing in with the demo password, and its number:
    a name no other test's rep has."""
    n = next(_serial)
    demo = db.session.scalar(select(User).filter_by(username="rep1"))
    rep = User(
        username=f"{kind}{n}",
        name=f"{kind.title()} Rep {n}",
        role="rep",
        timezone=TIMEZONE,
        password_hash=demo.password_hash,
    )
    return rep, n


@pytest.fixture(scope="module")
def server_app(server):
    """The app on the server's own database, for the tests to set up and check rows."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": server.database_url, "SECRET_KEY": SECRET_KEY})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def offsite(server):
    """Requests the page tried to send anywhere but the app: each was blocked."""
    return []


@pytest.fixture
def dialogs():
    """Messages of every alert, confirm or prompt the page opened: each was dismissed."""
    return []


@pytest.fixture
def page(browser, server, offsite, dialogs):
    """A phone-sized tab that reaches only the app; a test fails if it left a request off the
    app, a script error, or anything the Content-Security-Policy refused."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id=PHONE_ZONE
    )
    context.set_default_timeout(10_000)
    errors = []

    def only_the_app(route):
        if route.request.url.startswith(server.url + "/"):
            return route.continue_()
        offsite.append(route.request.url)
        return route.abort()

    context.route("**/*", only_the_app)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on(
        "console",
        lambda message: "Content Security Policy" in message.text and errors.append(message.text),
    )
    yield tab
    context.close()
    assert offsite == [], f"requests outside the app were attempted: {offsite}"
    assert errors == [], errors


@pytest.fixture
def screenshot(page):
    """Save the tab as tests/browser/screenshots/<name>.png and return the path."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def save(name, **options):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), **options)
        return path

    return save


@pytest.fixture
def sign_in(page, server):
    """Sign the tab in as a demo user; it lands on the dashboard."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def sign_in(username):
        page.goto(server.url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        try:
            page.wait_for_url(server.url + "/")
        except PlaywrightTimeout:
            # What the page said, and what the server logged last: a sign-in that never lands.
            said = page.locator("main").inner_text(timeout=1000)[:500]
            tail = "\n".join(server.log.read_text().splitlines()[-15:])
            pytest.fail(f"{username} not signed in, at {page.url}: {said!r}\nserver log:\n{tail}")

    return sign_in


def open_more(page):
    """The menu's More, opened: on a phone Sign out, Settings and the rest are under it."""
    more = page.locator(".topbar details.more-nav")
    if more.get_attribute("open") is None:
        more.locator("summary").click()
    return more


@pytest.fixture
def world(server_app):
    """A rep of the test's own, signed in with the demo password, with two customers: one
    overdue (with a contact) and one due in three days. A module's own `world` takes its place."""
    today = today_in(TIMEZONE)
    with server_app.app_context():
        rep, n = new_rep("offline")
        overdue = Account(
            kind="customer",
            name=f"Basement Supply {n}",
            sales_rep=rep,
            latitude=41.9,
            longitude=-87.9,
        )
        soon = Account(
            kind="customer", name=f"Farm Road Co {n}", sales_rep=rep, latitude=41.7, longitude=-88.1
        )
        contact = Contact(customer=overdue, name=f"Pat Buyer {n}")
        first = Touchpoint(
            account=overdue,
            last_call=today - timedelta(days=32),
            frequency_days=30,
            next_call=today - timedelta(days=2),
        )
        second = Touchpoint(
            account=soon,
            last_call=today - timedelta(days=27),
            frequency_days=30,
            next_call=today + timedelta(days=3),
        )
        db.session.add_all([rep, overdue, soon, contact, first, second])
        db.session.commit()
        yield SimpleNamespace(
            username=rep.username,
            today=today,
            overdue=SimpleNamespace(id=overdue.id, name=overdue.name, touchpoint=first.id),
            soon=SimpleNamespace(id=soon.id, name=soon.name, touchpoint=second.id),
            contact=SimpleNamespace(id=contact.id, name=contact.name),
        )
        db.session.remove()
