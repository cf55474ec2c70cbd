"""The Map view in headless Chromium at 390x844: a rep completes a touchpoint from its pin, hostile
text stays text, and the map loads nothing from outside the app."""

import html
import re
import time

from playwright.sync_api import expect

from tpweb.domain.reach import TO_LOCATION

from .conftest import HOSTILE, HOSTILE_COMMENT

# Any absolute or scheme-relative address.
ADDRESS = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?//[^\s"'<>)]+""", re.I)
INJECTED = "img[src=x], [onerror], [onmouseover]"


def the_map(page):
    return page.frame_locator("[data-map-frame]")


def shown_on_map(frame):
    """Touchpoints the map shows: the numbers on its clusters plus its lone pins."""
    clusters = frame.locator(".tp-cluster span").all_inner_texts()
    return sum(int(n) for n in clusters) + frame.locator(".tp-pin").count()


def wait_for_count(frame, expected, seconds=10):
    """The map's count once clustering and the opening zoom have settled."""
    deadline = time.monotonic() + seconds
    while (count := shown_on_map(frame)) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return count


def colour(locator):
    # The dot is the pin's ::before (the pin itself is a 44 px transparent target).
    return locator.evaluate("pin => getComputedStyle(pin, '::before').backgroundColor")


def test_a_rep_completes_a_touchpoint_from_its_pin_and_the_pin_changes_colour(
    page, server, sign_in, screenshot
):
    sign_in("rep1")
    page.locator(".segmented").get_by_role("link", name="Map").tap()
    frame = the_map(page)
    expect(frame.locator(".tp-pin, .tp-cluster").first).to_be_visible()

    assert wait_for_count(frame, server.rep1_located) == server.rep1_located
    screenshot("map")

    # Tap into the most urgent clusters until an overdue pin stands alone.
    pins = frame.locator('.tp-pin--overdue:not([title*="onerror"])')
    for _ in range(10):
        if pins.count():
            break
        frame.locator(".tp-cluster--overdue").first.tap()
        page.wait_for_timeout(700)
    pin = pins.first
    name = pin.get_attribute("title")
    before = colour(pin)
    overdue = int(page.locator('[data-map-count="overdue"]').inner_text())

    pin.tap()
    popup = frame.locator(".leaflet-popup")
    expect(popup.locator(".tp-popup-title")).to_have_text(name)
    expect(popup.locator(".tp-popup-dates")).to_contain_text("Next Call")
    expect(popup.locator(".tp-popup-dates")).to_contain_text("Last Call")
    expect(popup).to_have_css("opacity", "1")
    screenshot("map-popup")

    popup.get_by_role("button", name="Complete").tap()
    panel = page.locator("#map-panel")
    expect(panel).to_contain_text("Step 1 of 2")
    expect(panel).to_contain_text(name)
    panel.get_by_role("button", name="Save call log").tap()
    expect(panel).to_contain_text("Step 2 of 2")

    pin = frame.get_by_title(name, exact=True)
    expect(pin).to_have_class(re.compile(r"tp-pin--(upcoming|later)\b"))
    assert colour(pin) != before
    expect(page.locator('[data-map-count="overdue"]')).to_have_text(str(overdue - 1))
    page.locator(".map-box").scroll_into_view_if_needed()
    expect(popup).to_have_css("opacity", "1")
    assert screenshot("map-after-complete").stat().st_size > 10_000


def test_a_hostile_customer_name_is_text_in_the_popup_list_and_page(
    page, server, sign_in, dialogs, screenshot
):
    sign_in("rep1")
    page.goto(server.url + "/touchpoints?view=map")
    frame = the_map(page)

    frame.get_by_title(HOSTILE, exact=True).tap()
    popup = frame.locator(".leaflet-popup")
    expect(popup.locator(".tp-popup-title")).to_have_text(HOSTILE)
    expect(popup.locator(".tp-popup-comment")).to_have_text(HOSTILE_COMMENT)
    assert frame.locator(INJECTED).count() == 0
    expect(popup).to_have_css("opacity", "1")
    screenshot("hostile-popup")

    page.locator(".segmented").get_by_role("link", name="List").tap()
    account = page.get_by_role("link", name=HOSTILE, exact=True)
    expect(account).to_be_visible()
    expect(page.get_by_text(HOSTILE_COMMENT)).to_be_visible()
    assert page.locator(INJECTED).count() == 0

    account.click()
    expect(page.get_by_role("heading", name=HOSTILE)).to_be_visible()
    assert HOSTILE in page.title()
    assert page.locator(INJECTED).count() == 0
    # Long enough for an injected image's onerror to have fired.
    page.wait_for_timeout(300)
    assert dialogs == []


def test_the_map_names_and_loads_nothing_outside_the_app(page, server, sign_in):
    sign_in("rep1")
    served = page.goto(server.url + "/touchpoints?view=map").text()
    frame = the_map(page)
    expect(frame.locator(".tp-pin, .tp-cluster").first).to_be_visible()
    frame_url = page.locator("[data-map-frame]").get_attribute("src")
    served_frame = page.request.get(server.url + frame_url).text()

    # No tile URL is configured here, so no address but the popups' Directions link (a tap
    # away, never loaded by the page).
    assert ADDRESS.findall(served) == []
    assert ADDRESS.findall(served_frame) == [html.escape(TO_LOCATION)]
    loads = "() => performance.getEntriesByType('resource').map(entry => entry.name)"
    for loaded in (page.evaluate(loads), frame.locator("html").evaluate(loads)):
        assert loaded and all(url.startswith(server.url + "/") for url in loaded), loaded


# The page tells the map's frame what waits on the phone whenever its queue changes, which may be
# while the frame is still loading: before the frame's map script has drawn a pin. The frame's
# document is served with a script of the test's own right after map-frame.js, which tells it
# then (dispatchEvent runs the frame's listener at once).
TOLD_EARLY = """
window.dispatchEvent(new MessageEvent("message", {
  origin: location.origin, source: window.parent,
  data: { type: "tpweb:waiting", touchpoints: {} },
}));
window.toldEarly = true;
"""


def test_a_map_told_what_waits_before_its_pins_are_drawn_draws_them_all(page, server, sign_in):
    def frame_telling_early(route):
        response = route.fetch()
        body, n = re.subn(r'(<script[^>]*src="[^"]*map-frame[^"]*"[^>]*></script>)',
                          r'\1<script src="/told-early.js"></script>', response.text())  # fmt: skip
        assert n == 1, "map-frame.js is no longer one script tag of the frame"
        route.fulfill(response=response, body=body)

    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.route("**/touchpoints/map-frame*", frame_telling_early)
    page.context.route("**/told-early.js", lambda route: route.fulfill(
        body=TOLD_EARLY, content_type="text/javascript"))  # fmt: skip
    try:
        sign_in("rep1")
        page.goto(server.url + "/touchpoints?view=map")
        frame = the_map(page)
        expect(frame.locator(".tp-pin, .tp-cluster").first).to_be_visible()
        assert frame.locator("body").evaluate("() => window.toldEarly")
        assert wait_for_count(frame, server.rep1_located) == server.rep1_located
        assert errors == []
    finally:
        # The service worker fetches the frame too, in its own time: a fetch of it still under
        # way when the tab closes must not fail a later test (the browser is shared).
        page.context.unroute_all(behavior="ignoreErrors")
