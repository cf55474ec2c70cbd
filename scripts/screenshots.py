"""`make screenshots`: every main screen at phone size (390 × 844), light and dark, written to
docs/screens/ — the rep's day, My tasks, the map, a customer and a contact, the list offline,
My cadence, Plan my day (and a stop's Why not?), Settings, a reminder's one-tap page, and the
manager's team, Team health and Unassigned — from the demo data, in Debian's Chromium.

The app runs as `make run` runs it (development settings, a SQLite file of its own, the demo
data), with no map tiles: nothing leaves the machine.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tpweb import create_app
from tpweb.domain import one_tap
from tpweb.domain.demo import seed_demo
from tpweb.domain.reminders import TOUCHPOINT
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, User

ROOT = Path(__file__).resolve().parent.parent
SCREENS = ROOT / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
PASSWORD = "tpweb-demo"
# Where rep1 plans the day from: the Loop, among the demo's accounts.
POSITION = {"latitude": 41.8781, "longitude": -87.6298}
ZONE = "America/Chicago"
SECRET_KEY = "screenshots-" + "x" * 40
# `python scripts/screenshots.py 11 12`: only the screens whose names start so (default: all).
ONLY = tuple(sys.argv[1:])


def seed(database_url):
    """The demo data; the ids of rep1's first customer, one of its contacts and rep1, and the
    path of a reminder's Snooze to tomorrow link for rep1's most overdue touchpoint."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        upgrade()
        seed_demo(today_in(ZONE))
        rep = db.session.scalar(select(User).filter_by(username="rep1"))
        customer = db.session.scalar(
            select(Account).filter_by(kind="customer", sales_rep_id=rep.id).order_by(Account.name)
        )
        contact = db.session.scalar(select(Contact).filter_by(customer_id=customer.id))
        # A reminder's link is for an item due: rep1's most overdue one.
        touchpoint = db.session.scalar(
            select(Touchpoint)
            .join(Account)
            .filter(Account.sales_rep_id == rep.id, ~Touchpoint.inactive)
            .order_by(Touchpoint.next_call)
        )
        snooze = one_tap.Action(
            rep.id, TOUCHPOINT, touchpoint.id, touchpoint.next_call, one_tap.TOMORROW
        )
        return customer.id, contact.id, rep.id, f"/actions/{one_tap.sign(SECRET_KEY, snooze)}"


def serve(database_url, production=False):
    """The app on a free port of loopback, as `make run` serves it, or with `production` as
    docs/deploy.md does (gunicorn, compressed pages, hashed and precompressed static files)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "TPWEB_ENV": "development",
        "TPWEB_TILE_URL": "none",
        "TPWEB_TIMEZONE": ZONE,
        # Plan my day as planned in the morning, whatever the hour the screens are taken at
        # (after the working day's end there is nothing left to plan).
        "TPWEB_PLAN_NOW": "08:30",
    }
    command = [sys.executable, "-m", "flask", "--app", "tpweb", "run", "--port", str(port)]
    if production:
        env.update(TPWEB_ENV="production", TPWEB_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2")
        env["TPWEB_INSTANCE_PATH"] = str(Path(make_url(database_url).database).parent)
        command = [sys.executable, "-m", "gunicorn", "-c", "python:tpweb.gunicorn_conf",
                   "tpweb.wsgi:app"]  # fmt: skip
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):  # a loaded machine starts it slowly
        try:
            urllib.request.urlopen(url + "/login", timeout=2)
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit("the app did not start")


def shots(browser, url, scheme, customer_id, contact_id, rep_id, snooze):
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        color_scheme=scheme,
        geolocation=POSITION,
        permissions=["geolocation"],
    )
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(url) else route.abort(),
    )
    tab = context.new_page()

    def save(name, full_page=False):
        if ONLY and not name.startswith(ONLY):
            return
        tab.wait_for_load_state("networkidle")
        tab.screenshot(path=str(SCREENS / f"{name}-{scheme}.png"), full_page=full_page)

    def sign_in(username):
        tab.goto(url + "/login")
        if scheme == "light" and username == "rep1":
            save("01-sign-in")
        tab.fill("input[name=username]", username)
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(url + "/")

    sign_in("rep1")
    save("02-today")
    tab.goto(url + "/tasks")
    save("03-my-tasks")
    tab.goto(url + "/touchpoints?view=map")
    tab.wait_for_timeout(1500)  # the map's frame draws its pins
    save("04-map")
    tab.goto(url + f"/customers/{customer_id}")
    save("05-customer")
    tab.goto(url + f"/contacts/{contact_id}")
    save("06-contact")
    tab.goto(url + "/reports/me")
    save("12-my-cadence")
    tab.goto(url + "/plan")
    if not tab.locator(".plan-stop").count():  # the light pass's plan is kept for the dark one
        tab.get_by_role("button", name="Use my position").click()
        tab.get_by_role("button", name="Plan", exact=True).click()
    tab.locator(".plan-stop").first.wait_for()
    tab.wait_for_timeout(1500)  # the map's frame draws the route
    save("13-plan", full_page=True)
    why_not = tab.locator(".plan-why-not button")
    if why_not.count():  # a day with a stop left out for want of time
        why_not.first.click()
        answer = tab.locator(".plan-why-not [role=status]").first
        answer.wait_for()
        answer.scroll_into_view_if_needed()
        save("14-plan-why-not")
    tab.goto(url + "/settings")
    save("15-settings", full_page=True)
    tab.goto(url + snooze)
    save("16-one-tap-snooze")
    # Offline: the list the phone kept, with no network at all.
    tab.goto(url + "/touchpoints")
    tab.wait_for_timeout(4000)  # the worker keeps the day's pages
    context.set_offline(True)
    tab.reload()
    save("07-offline-list")
    context.set_offline(False)
    tab.goto(url + "/")
    tab.click("text=Sign out") if tab.locator("text=Sign out").is_visible() else None
    context.clear_cookies()
    sign_in("manager1")
    save("08-manager-dashboard")
    tab.goto(url + "/reps")
    save("09-team")
    tab.goto(url + f"/reps/{rep_id}")
    save("10-sales-rep")
    tab.goto(url + "/reports/team?weeks=12#cadence")
    save("11-team-health")
    tab.goto(url + "/unassigned")
    save("17-unassigned")
    context.close()


def main():
    SCREENS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{folder}/screens.sqlite"
        ids = seed(database_url)
        process, url = serve(database_url)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                for scheme in ("light", "dark"):
                    shots(browser, url, scheme, *ids)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"screens written to {SCREENS.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
