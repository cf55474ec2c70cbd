"""Streets ahead of a visit, where the operator's own tile server allows it (TPWEB_TILE_PREFETCH=1):
after sign-in the phone keeps the tiles around the week's accounts without the map being opened.
(OpenStreetMap's tiles are never fetched ahead: tests/test_offline.py checks the server refuses.)
"""

import math

import pytest

from .offline_tools import TILES, kept_tiles, ready_offline

pytestmark = pytest.mark.parametrize(
    "server",
    [(("TPWEB_TILE_URL", TILES), ("TPWEB_TILE_PREFETCH", "1"))],
    indirect=True,
    ids=["own-tiles-ahead"],
)


def tile(server, lat, lng, zoom):
    n = 2**zoom
    x = int((lng + 180) / 360 * n)
    rad = math.radians(lat)
    y = int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    return server.url + TILES.format(z=zoom, x=x, y=y)


def test_the_weeks_accounts_streets_are_kept_before_the_map_is_opened(
    page,
    server,
    sign_in,
    world,
):
    asked = []
    page.on("request", lambda request: "marker-icon.png?z=" in request.url and asked.append(1))
    ready_offline(page, sign_in, world.username)
    # The world's two accounts: a 3x3 block at zooms 14 to 16 around each.
    kept = kept_tiles(page, 54, seconds=45)  # two at a time, after Ready offline
    assert len(kept) == 54, len(kept)
    for lat, lng in ((41.9, -87.9), (41.7, -88.1)):
        for zoom in (14, 15, 16):
            assert tile(server, lat, lng, zoom) in kept
    assert asked == []  # no map on screen asked for any
