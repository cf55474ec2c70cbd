"""The Plan my day form as a rep sends it, and a name that is markup, for pages to show escaped."""

HERE = {"lat": "41.8800", "lon": "-87.6300"}
FORM = {
    "start": "here",
    **HERE,
    "end": "start",
    "day_starts": "08:00",
    "day_ends": "17:00",
    "visit_minutes": "30",
}
HOSTILE = "<img src=x onerror=alert(1)>"
