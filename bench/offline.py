"""B4: a rep opens their list in headless Chromium from the service worker's cache with the
network off, against the same page opened online with a warm cache.

The app is served by gunicorn on loopback, as for B1 (cookies without the Secure flag, as on a
developer's machine: the page is plain HTTP). The rep signs in and waits until the service worker
says their week is kept; then the list is opened online and offline in turns, each time a new
navigation, and timed by the browser's own Navigation Timing (start to the load event).
"""

import shutil
import statistics
from pathlib import Path

from . import load
from .report import Row

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PHONE = {"width": 390, "height": 844}
REP, PASSWORD = "rep3", "tpweb-demo"
LIST = "/touchpoints?view=list"
ROOT = Path(__file__).resolve().parent.parent
NAVIGATION = """() => {
  const [entry] = performance.getEntriesByType("navigation");
  return entry.loadEventEnd - entry.startTime;
}"""


def missing():
    """Why B4 cannot run here, or None."""
    if not (ROOT / "static" / "sw.js").exists():
        return "no service worker yet (static/sw.js): B4 waits for the offline issue"
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    return None


def run(url, repeat, workers):
    reason = missing()
    if reason:
        return [Row("B4", "rep's list offline from the service worker's cache", "not run",
                    "the same page online, warm cache", "—", "offline no slower than online",
                    None, reason)]  # fmt: skip
    from playwright.sync_api import sync_playwright

    env = {"TPWEB_ENV": "development"}
    with load.gunicorn(url, workers, env) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            times = _measure(browser, server.base, repeat)
        finally:
            browser.close()
    online, offline = (statistics.median(times[k]) for k in ("online", "offline"))
    ratio = offline / online
    return [
        Row("B4", "rep's list (whole page) offline, from the service worker's cache",
            f"{offline:.0f} ms to load (median of {repeat})",
            f"the same page online, warm cache: {online:.0f} ms", f"{ratio:.3f}",
            "offline <= online (ratio <= 1)", ratio <= 1.0,
            "navigation start to the load event, by the browser's Navigation Timing"),
    ]  # fmt: skip


def _measure(browser, base, repeat):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", REP)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda address: "/login" not in address)
    # The service worker fetches the rep's week after sign-in and says so on the page.
    page.locator("[data-offline-saved]").wait_for(state="visible")
    times = {"online": [], "offline": []}
    for _ in range(3):  # warm: the page, its fragments and the shell, in both caches
        page.goto(base + LIST)
    for _ in range(repeat):
        for mode in ("online", "offline"):
            context.set_offline(mode == "offline")
            page.goto(base + LIST)
            if mode == "offline":
                banner = page.locator(".offline-banner")
                assert "Offline" in banner.inner_text(), "the list did not come from the cache"
            times[mode].append(page.evaluate(NAVIGATION))
    context.set_offline(False)
    context.close()
    return times
