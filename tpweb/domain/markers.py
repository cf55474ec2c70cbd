"""What the map shows of a touchpoint: its colour, its marker row, a position. No Flask here."""

import re
from datetime import date

from tpweb.domain.reach import row_reach
from tpweb.domain.schedule import DUE_TODAY, OVERDUE, UPCOMING, due_state

LATER = "later"
MAP_STATES = (OVERDUE, DUE_TODAY, UPCOMING, LATER)
MAP_LABELS = {
    OVERDUE: "Overdue",
    DUE_TODAY: "Due today",
    UPCOMING: "Upcoming",
    LATER: "Later",
}
# A rep plans the coming week: a pin further out than this is "later" and drawn muted, so the
# overdue, today and this-week pins stand out. Weekly accounts are never "later".
UPCOMING_DAYS = 7
# A whole-number or decimal degree, no exponent: short enough to reject junk before float().
DEGREES = re.compile(r"-?\d{1,3}(\.\d{1,12})?")
# The popup shows the start of a comment, as the list's card does.
COMMENT_CHARS = 160


def map_state(next_call_on: date, today: date) -> str:
    """Overdue, due today, upcoming (within UPCOMING_DAYS) or later, as seen on `today`."""
    state = due_state(next_call_on, today)
    if state == UPCOMING and (next_call_on - today).days > UPCOMING_DAYS:
        return LATER
    return state


def marker_row(row, today: date, show_rep: bool = False) -> list:
    """One marker as a compact JSON array; the browser's popup reads it by position.

    [lat, lon, touchpoint id, state, account name, customer name (jobsites), next call,
    last call, comment, account id, sales rep name, and for the popup's Call, Text and Email
    (reach.py, "" for none) the number as `+` and digits and the email address, percent-encoded].
    Data, not links, to keep a map of thousands small: the popup adds the scheme, and its
    Directions are reach.TO_LOCATION and the pin's own lat,lon. Every string is data: the browser
    puts it in the page with textContent, never as HTML.
    """
    reach = row_reach(row)
    comment = row.comment or ""
    if len(comment) > COMMENT_CHARS:
        comment = comment[: COMMENT_CHARS - 1].rstrip() + "…"
    return [
        round(row.latitude, 5),
        round(row.longitude, 5),
        row.id,
        map_state(row.next_call, today),
        row.name,
        row.customer_name or "",
        row.next_call.isoformat(),
        row.last_call.isoformat(),
        comment,
        row.account_id,
        (row.rep_name or "") if show_rep else "",
        reach.number,
        reach.mailbox,
    ]


def has_location(row) -> bool:
    return row.latitude is not None and row.longitude is not None


def parse_position(lat: str, lon: str) -> tuple[float, float] | None:
    """(lat, lon) from two query strings, None when both are blank; ValueError otherwise."""
    if not lat and not lon:
        return None
    if not (DEGREES.fullmatch(lat or "") and DEGREES.fullmatch(lon or "")):
        raise ValueError("lat and lon must both be decimal degrees.")
    position = float(lat), float(lon)
    if not (-90 <= position[0] <= 90 and -180 <= position[1] <= 180):
        raise ValueError("lat must be -90 to 90 and lon -180 to 180.")
    return position


def bounds(rows) -> list[list[float]] | None:
    """The south-west and north-east corners around every row's location, or None."""
    if not rows:
        return None
    lats = [r.latitude for r in rows]
    lons = [r.longitude for r in rows]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]
