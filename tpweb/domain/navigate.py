"""Handing a route to the phone's maps app: Google Maps directions URLs (legs of at most nine
waypoints), and Apple Maps, which takes one destination at a time. No Flask here."""

from urllib.parse import urlencode

GOOGLE_DIRECTIONS = "https://www.google.com/maps/dir/"
APPLE_MAPS = "https://maps.apple.com/"
# Google Maps' directions URLs take at most nine waypoints between origin and destination
# (its "Maps URLs" guide); a longer day is cut into legs, each starting where the last ended.
MAX_WAYPOINTS = 9


def _point(point):
    return f"{point[0]:.6f},{point[1]:.6f}"


def google_legs(points):
    """Directions URLs along `points` (lat, lon): the first is the origin; each leg's
    destination is the next leg's origin."""
    legs, origin, rest = [], points[0], list(points[1:])
    while rest:
        leg, rest = rest[: MAX_WAYPOINTS + 1], rest[MAX_WAYPOINTS + 1 :]
        query = {
            "api": "1",
            "origin": _point(origin),
            "destination": _point(leg[-1]),
            "travelmode": "driving",
        }
        if len(leg) > 1:
            query["waypoints"] = "|".join(_point(p) for p in leg[:-1])
        legs.append(GOOGLE_DIRECTIONS + "?" + urlencode(query))
        origin = leg[-1]
    return legs


def google_directions(point):
    """Directions from wherever the phone is to `point`."""
    return GOOGLE_DIRECTIONS + "?" + urlencode({"api": "1", "destination": _point(point)})


def apple_directions(origin, point):
    """Apple Maps driving directions from `origin` (or the phone's position, when None)."""
    query = {"daddr": _point(point), "dirflg": "d"}
    if origin is not None:
        query = {"saddr": _point(origin), **query}
    return APPLE_MAPS + "?" + urlencode(query)
