"""The Location fieldset of the account form in headless Chromium at 390x844: a manager taps the
small map for a new customer's location, an account's pin shows on its edit form, Clear location
takes it away, and Find from address says why it found nothing.

Nothing leaves the machine: the tiles are the app's own image, and the geocoder is pointed at a
closed port on loopback, so it fails as a geocoder that is down does (the places it finds are
tests/test_geocode.py's, with a fake)."""

import re
import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

# Every tile is the app's icon: a relative address, served by the test server itself.
TILES = "/static/icons/icon-192.png?z={z}&x={x}&y={y}"
# Leaflet's default pin is 25x41 with its tip at (12, 41).
TIP = (12, 41)

SERVER = (
    ("TPWEB_TILE_URL", TILES),
    ("TPWEB_GEOCODER", "nominatim"),
    ("TPWEB_GEOCODER_USER_AGENT", "tpweb browser tests"),
    ("TPWEB_GEOCODER_DOMAIN", "127.0.0.1:9"),  # the discard port: nothing listens there
    ("TPWEB_GEOCODER_TIMEOUT", "2"),
    # and no proxy to carry the request elsewhere (geopy reads them from the environment)
    *((name, "") for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")),
)

pytestmark = pytest.mark.parametrize("server", [SERVER], indirect=True, ids=["tiles-geocoder"])


def stored(server, sql, **values):
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(sql), values).one()
    finally:
        engine.dispose()


def tip(pin):
    """Where the pin points, in page pixels."""
    box = pin.bounding_box()
    return box["x"] + TIP[0], box["y"] + TIP[1]


def settled_tip(pin, target, seconds=5):
    """The pin's tip once the map has stopped moving, or its last place when it never reached
    `target` (within 2 pixels)."""
    deadline = time.monotonic() + seconds
    while True:
        x, y = tip(pin)
        if abs(x - target[0]) <= 2 and abs(y - target[1]) <= 2 or time.monotonic() > deadline:
            return x, y
        time.sleep(0.1)


def centre(locator):
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_a_manager_taps_the_map_for_a_new_customers_location(page, server, sign_in, screenshot):
    sign_in("manager1")
    page.goto(server.url + "/customers")
    page.get_by_role("button", name="New customer").tap()
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()
    latitude, longitude = page.get_by_label("Latitude"), page.get_by_label("Longitude")
    expect(latitude).to_have_value("")

    # The map: shown, phone-sized, with the app's own tiles in it, and no pin yet.
    box = page.locator(".location-map")
    expect(box).to_be_visible()
    expect(box.locator("img.leaflet-tile-loaded").first).to_be_visible()
    size = box.bounding_box()
    assert size["width"] >= 300 and size["height"] >= 180, size
    pin = box.locator("[data-location-pin]")
    expect(pin).to_have_count(0)
    expect(page.get_by_role("button", name="Clear location")).to_be_hidden()
    box.scroll_into_view_if_needed()
    screenshot("location-new")

    # Zoomed out, a tap puts the pin there and comes closer around it, twice.
    box.tap(position={"x": size["width"] * 0.7, "y": size["height"] * 0.35})
    expect(pin).to_be_visible()
    expect(latitude).to_have_value(re.compile(r"^-?\d+\.\d{6}$"))
    expect(longitude).to_have_value(re.compile(r"^-?\d+\.\d{6}$"))
    assert settled_tip(pin, centre(box)) == pytest.approx(centre(box), abs=2)
    first = latitude.input_value(), longitude.input_value()
    box.tap(position={"x": size["width"] * 0.5, "y": size["height"] * 0.5})
    assert settled_tip(pin, centre(box)) == pytest.approx(centre(box), abs=2)

    # Close in, the pin goes exactly where the finger does, and the fields follow.
    size = box.bounding_box()  # where it is now, in the viewport
    finger = size["x"] + size["width"] * 0.3, size["y"] + size["height"] * 0.65
    page.touchscreen.tap(*finger)
    assert settled_tip(pin, finger) == pytest.approx(finger, abs=2)
    expect(latitude).not_to_have_value(first[0])
    chosen = latitude.input_value(), longitude.input_value()
    assert -90 <= float(chosen[0]) <= 90 and -180 <= float(chosen[1]) <= 180
    expect(page.get_by_role("button", name="Clear location")).to_be_visible()
    screenshot("location-tapped")

    page.get_by_label("Name").fill("Tapped Location Co")
    page.get_by_role("button", name="Save").tap()
    expect(page.get_by_role("heading", name="Tapped Location Co")).to_be_visible()
    # The page gives Directions to the very spot (reach.directions), not the raw numbers.
    spot = ",".join(str(round(float(degrees), 5)) for degrees in chosen)
    directions = page.locator(".summary").get_by_role("link", name="Directions")
    expect(directions).to_have_attribute("href", re.compile(re.escape(f"destination={spot}") + "$"))
    account = stored(
        server,
        "SELECT latitude, longitude FROM accounts WHERE name = :name",
        name="Tapped Location Co",
    )
    assert tuple(account) == (float(chosen[0]), float(chosen[1]))


def test_an_accounts_pin_shows_on_its_form_and_clear_location_takes_it_away(
    page, server, sign_in, screenshot
):
    account = stored(
        server,
        "SELECT id, name, latitude, longitude FROM accounts WHERE kind = 'customer'"
        " AND latitude IS NOT NULL ORDER BY id LIMIT 1",
    )
    sign_in("manager1")
    page.goto(f"{server.url}/customers/{account.id}")
    page.get_by_role("button", name="Edit", exact=True).tap()
    latitude, longitude = page.get_by_label("Latitude"), page.get_by_label("Longitude")
    assert float(latitude.input_value()) == pytest.approx(account.latitude)

    box = page.locator(".location-map")
    pin = box.locator("[data-location-pin]")
    expect(pin).to_be_visible()
    box.scroll_into_view_if_needed()
    # The form opens on the account's own place: its pin in the middle of the map.
    assert settled_tip(pin, centre(box)) == pytest.approx(centre(box), abs=2)
    screenshot("location-edit")

    # Typed numbers move the pin there, and the map with it (a pan: its panes shift).
    pane = box.locator(".leaflet-map-pane")
    before = pane.get_attribute("style")
    latitude.fill(f"{account.latitude + 0.002:.6f}")
    longitude.fill(f"{account.longitude - 0.002:.6f}")
    longitude.press("Tab")
    expect(pane).not_to_have_attribute("style", before)
    assert settled_tip(pin, centre(box)) == pytest.approx(centre(box), abs=2)

    page.get_by_role("button", name="Clear location").tap()
    expect(latitude).to_have_value("")
    expect(longitude).to_have_value("")
    expect(pin).to_have_count(0)
    expect(page.get_by_role("button", name="Clear location")).to_be_hidden()
    page.get_by_role("button", name="Save").tap()

    expect(page.locator(".summary")).to_contain_text("no location")
    cleared = stored(
        server, "SELECT latitude, longitude FROM accounts WHERE id = :id", id=account.id
    )
    assert tuple(cleared) == (None, None)


def test_find_from_address_says_why_beside_the_fields_and_keeps_the_pin(
    page, server, sign_in, screenshot
):
    sign_in("manager1")
    page.goto(server.url + "/customers/new")
    latitude, longitude = page.get_by_label("Latitude"), page.get_by_label("Longitude")
    box = page.locator(".location-map")
    expect(box.locator("img.leaflet-tile-loaded").first).to_be_visible()
    box.scroll_into_view_if_needed()
    box.tap()
    pin = box.locator("[data-location-pin]")
    expect(pin).to_be_visible()
    tapped = latitude.input_value(), longitude.input_value()
    find = page.get_by_role("button", name="Find from address")
    note = page.locator(".location-note")

    find.tap()
    expect(note).to_have_text("Enter an address to look up.")

    page.get_by_label("Address", exact=True).fill("1200 W Main St")
    page.get_by_label("City").fill("Naperville")
    find.tap()
    expect(note).to_have_text("The geocoder is unavailable: type the location or tap the map.")
    expect(note).to_have_attribute("role", "alert")
    # The fieldset came back whole: what was tapped, its pin, a map that still takes taps.
    expect(latitude).to_have_value(tapped[0])
    expect(longitude).to_have_value(tapped[1])
    expect(pin).to_be_visible()
    screenshot("location-geocoder-down")
    page.get_by_role("button", name="Clear location").tap()
    expect(latitude).to_have_value("")
    box.tap()
    expect(latitude).not_to_have_value("")
    expect(pin).to_be_visible()
