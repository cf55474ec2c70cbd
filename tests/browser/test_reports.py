"""Team health and My cadence in Chromium, on a phone (390 x 844) and at a desk (1280 x 800),
light and dark: the charts drawn, no sideways scroll, each chart's numbers in a table a screen
reader finds by its caption, a rep's bar leading to their filtered Sales Rep page, and axe-core
finding nothing to fix."""

from pathlib import Path

import pytest

from .conftest import CHROMIUM_ARGS, PASSWORD  # noqa: F401

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 800}}


@pytest.fixture
def tab(browser, server, request):
    """A tab of the given size and colour scheme that reaches only the app, failing the test on
    a script error or anything the Content-Security-Policy refused."""
    size, scheme = request.param
    context = browser.new_context(
        viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone",
        color_scheme=scheme,
    )  # fmt: skip
    context.set_default_timeout(10_000)
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(server.url + "/") else route.abort()
        ),
    )
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and errors.append(message.text),
    )
    yield page
    context.close()
    assert errors == [], errors


def sign_in(page, server, username):
    page.goto(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")


def axe_violations(page):
    """axe-core's violations on the page as it stands: (rule, the first element's selector)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: npm ci")
    # Evaluated, not add_script_tag(path=...): that inserts an inline <script>, which the app's
    # Content-Security-Policy refuses (as it should); an evaluation is the browser's own.
    page.evaluate(AXE.read_text())
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [(v["id"], v["nodes"][0]["target"], v["help"]) for v in found]


def check_layout(page):
    charts = page.locator("svg.chart")
    assert charts.count() == 9
    for n in range(charts.count()):
        box = charts.nth(n).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 25
    width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


@pytest.mark.parametrize(
    "tab", [("phone", "light"), ("phone", "dark"), ("desk", "light"), ("desk", "dark")],
    indirect=True,
)  # fmt: skip
def test_team_health_for_a_manager(tab, server):
    sign_in(tab, server, "manager1")
    tab.goto(server.url + "/reports/team?weeks=12")

    check_layout(tab)
    table = tab.get_by_role("table", name="Cadence kept, per rep")
    # manager1's own team: four of the demo's eight reps.
    assert table.get_by_role("rowheader").count() == 4
    assert table.get_by_role("columnheader", name="Calls on time").count() == 1
    assert tab.get_by_role("table", name="Open tasks by age, per rep").is_visible()
    assert axe_violations(tab) == []

    # A rep's bar opens their Sales Rep page with the overdue touchpoints the chart counted.
    tab.locator("#cadence svg.chart").nth(1).locator("a").first.click(force=True)
    tab.wait_for_url("**/reps/*?state=overdue*")
    assert tab.locator("#touchpoint-widget [aria-current]").count() >= 1


@pytest.mark.parametrize("tab", [("phone", "light"), ("desk", "dark")], indirect=True)
def test_my_cadence_for_a_rep(tab, server):
    sign_in(tab, server, "rep1")
    tab.goto(server.url + "/reports/me?weeks=52")

    check_layout(tab)
    rows = tab.get_by_role("table", name="Cadence kept, per rep").get_by_role("rowheader")
    assert rows.count() == 1
    assert axe_violations(tab) == []


@pytest.mark.parametrize("tab", [("desk", "light")], indirect=True)
def test_team_health_prints_its_week_by_week_tables(tab, server):
    sign_in(tab, server, "manager1")
    tab.goto(server.url + "/reports/team?weeks=12")
    weekly = tab.locator("details.weekly table")
    assert weekly.count() == 4
    assert not any(weekly.nth(n).is_visible() for n in range(4))  # folded on screen

    tab.emulate_media(media="print")
    for n in range(4):
        assert weekly.nth(n).is_visible()
        assert weekly.nth(n).bounding_box()["height"] > 100  # twelve weeks' rows
    assert not tab.locator("details.weekly > summary").first.is_visible()
    assert tab.get_by_role("table", name="Calls on time, week by week").is_visible()

    tab.emulate_media(media="screen")
    assert not weekly.first.is_visible()
