"""`make screenshots`: every main screen at phone size (390 × 844), light and dark, written to
docs/screens/ — the rep's day, My tasks, the map, a customer and a contact, the list offline,
My cadence, and the manager's team and Team health — from the demo data, in Debian's Chromium.

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

from tpweb import create_app
from tpweb.domain.demo import seed_demo
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Contact, User

ROOT = Path(__file__).resolve().parent.parent
SCREENS = ROOT / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
PASSWORD = "tpweb-demo"
ZONE = "America/Chicago"
SECRET_KEY = "screenshots-" + "x" * 40
# `python scripts/screenshots.py 11 12`: only the screens whose names start so (default: all).
ONLY = tuple(sys.argv[1:])


def seed(database_url):
    """The demo data; the ids of rep1's first customer and one of its contacts."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        upgrade()
        seed_demo(today_in(ZONE))
        rep = db.session.scalar(select(User).filter_by(username="rep1"))
        customer = db.session.scalar(
            select(Account).filter_by(kind="customer", sales_rep_id=rep.id).order_by(Account.name)
        )
        contact = db.session.scalar(select(Contact).filter_by(customer_id=customer.id))
        return customer.id, contact.id, rep.id


def serve(database_url):
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
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "tpweb", "run", "--port", str(port)],
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


def shots(browser, url, scheme, customer_id, contact_id, rep_id):
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, color_scheme=scheme
    )
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(url) else route.abort(),
    )
    tab = context.new_page()

    def save(name):
        if ONLY and not name.startswith(ONLY):
            return
        tab.wait_for_load_state("networkidle")
        tab.screenshot(path=str(SCREENS / f"{name}-{scheme}.png"))

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
