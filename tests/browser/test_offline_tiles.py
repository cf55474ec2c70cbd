"""Streets offline, in headless Chromium at 390x844: the tiles the map has shown are kept by the
service worker, only those, and the map shows them again with no network.

The tiles are an image of the app's own (a relative URL template, as in test_location_picker.py),
so nothing leaves the machine; it is not one of the shell's files, which the worker keeps apart.
"""

import pytest
from playwright.sync_api import expect

from .offline_tools import TILES, kept_tiles, ready_offline

TILE = "/static/vendor/leaflet-1.9.4/images/marker-icon.png?z="

pytestmark = pytest.mark.parametrize(
    "server", [(("TPWEB_TILE_URL", TILES),)], indirect=True, ids=["own-tiles"]
)


def test_tiles_shown_online_are_kept_and_shown_offline(
    page,
    server,
    sign_in,
    world,
    screenshot,
):
    asked = []
    page.on("request", lambda request: TILE in request.url and asked.append(request.url))
    ready_offline(page, sign_in, world.username)
    page.goto(server.url + "/touchpoints?view=map")
    frame = page.frame_locator("[data-map-frame]")
    loaded = frame.locator("img.leaflet-tile-loaded")
    expect(loaded.first).to_be_visible()
    shown = set(loaded.evaluate_all("(tiles) => tiles.map((tile) => tile.src)"))
    assert shown and all(TILE in url for url in shown)

    # Kept: what the map showed, and nothing it did not ask for (no prefetch).
    kept = kept_tiles(page, len(shown))
    assert shown <= kept
    assert kept <= set(asked)
    # In the tiles' own bounded cache only, not with the shell's files.
    elsewhere = page.evaluate(
        """async (tile) => {
            const found = [];
            for (const name of await caches.keys()) {
                if (name === "tpweb-tiles") continue;
                const urls = (await (await caches.open(name)).keys()).map((request) => request.url);
                found.push(...urls.filter((url) => url.includes(tile)));
            }
            return found;
        }""",
        TILE,
    )
    assert elsewhere == []

    page.context.set_offline(True)
    page.reload()
    expect(page.locator(".offline-banner")).to_contain_text("Offline — showing data from")
    expect(loaded.first).to_be_visible()
    assert set(loaded.evaluate_all("(tiles) => tiles.map((tile) => tile.src)")) <= kept
    expect(frame.locator("img.leaflet-tile-error")).to_have_count(0)
    screenshot("offline-map-tiles")
