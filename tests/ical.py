"""An RFC 5545 check of a calendar feed's bytes, stricter than parsing it: the tests' validator.

The icalendar library reads leniently (it takes LF line ends, long lines, a missing UID), so a
feed that parses can still be one a calendar app refuses. This reads the raw bytes as the RFC
says they must be, and adds the icalendar library's own rules of which properties each
component requires, may hold once, and may not hold together.
"""

import re
from datetime import date, datetime

from icalendar import Calendar, Event

# RFC 5545, 3.1: a content line is name *(";" param) ":" value; names are iana or x- tokens.
CONTENT_LINE = re.compile(r"^([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:\"[^\"]*\"|[^;:,\"]*)"
                          r"(?:,(?:\"[^\"]*\"|[^;:,\"]*))*)*):(.*)$")  # fmt: skip
LINE_OCTETS = 75


def rfc5545_problems(body: bytes) -> list[str]:
    """Every way `body` breaks RFC 5545 that a feed could: [] for a valid one."""
    problems = []
    if not body.endswith(b"\r\n"):
        problems.append("the last line does not end with CRLF")
    physical = body.split(b"\r\n")[:-1] if body.endswith(b"\r\n") else body.split(b"\r\n")
    for number, raw in enumerate(physical, 1):
        if b"\n" in raw or b"\r" in raw:
            problems.append(f"line {number}: a bare LF or CR (lines end with CRLF)")
        if len(raw) > LINE_OCTETS:
            problems.append(f"line {number}: {len(raw)} octets, more than {LINE_OCTETS}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return [*problems, "not UTF-8"]
    lines = _unfolded(text)
    problems += _structure(lines)
    problems += _library_rules(body)
    return problems


def _unfolded(text):
    """Content lines: a CRLF followed by one space or tab continues the line before (3.1)."""
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]


def _structure(lines):
    problems, stack, components = [], [], []
    for number, line in enumerate(lines, 1):
        found = CONTENT_LINE.match(line)
        if found is None:
            problems.append(f"content line {number} is not name[;params]:value: {line[:60]!r}")
            continue
        name, params, value = found.group(1).upper(), found.group(2), found.group(3)
        if name == "BEGIN":
            stack.append(value.upper())
            components.append({"name": value.upper(), "props": []})
            continue
        if name == "END":
            if not stack or stack[-1] != value.upper():
                problems.append(f"content line {number}: END:{value} closes {stack[-1:]}")
            else:
                stack.pop()
            continue
        if not stack:
            problems.append(f"content line {number}: {name} outside any component")
            continue
        open_component = next(c for c in reversed(components) if c["name"] == stack[-1])
        open_component["props"].append((name, params, value))
    if stack:
        problems.append(f"components left open: {stack}")
    if not components or components[0]["name"] != "VCALENDAR":
        return [*problems, "the feed does not start with BEGIN:VCALENDAR"]
    calendar = components[0]
    names = [name for name, _, _ in calendar["props"]]
    for required in ("VERSION", "PRODID"):
        if names.count(required) != 1:
            problems.append(f"VCALENDAR has {names.count(required)} {required}, not one")
    if ("VERSION", "", "2.0") not in calendar["props"]:
        problems.append("VERSION is not 2.0")
    if len(components) < 2:
        problems.append("VCALENDAR holds no component (RFC 5545 asks for at least one)")
    zones = {
        value for c in components if c["name"] == "VTIMEZONE" for n, _, value in c["props"]
        if n == "TZID"
    }  # fmt: skip
    uids = []
    for event in (c for c in components if c["name"] == "VEVENT"):
        problems += _event_problems(event["props"], zones)
        uids += [value for name, _, value in event["props"] if name == "UID"]
    if len(uids) != len(set(uids)):
        problems.append("two events share a UID")
    return problems


def _event_problems(props, zones):
    problems = []
    names = [name for name, _, _ in props]
    uid = next((value for name, _, value in props if name == "UID"), "?")
    for required in ("UID", "DTSTAMP", "DTSTART"):
        if names.count(required) != 1:
            problems.append(f"event {uid}: {names.count(required)} {required}, not one")
    if "DTEND" in names and "DURATION" in names:
        problems.append(f"event {uid}: both DTEND and DURATION")
    values = {name: (params, value) for name, params, value in props}
    for name in ("DTSTAMP", "LAST-MODIFIED"):
        if name in values and not values[name][1].endswith("Z"):
            problems.append(f"event {uid}: {name} is not in UTC")
    for name in ("DTSTART", "DTEND"):
        tzid = re.search(r";TZID=([^;:]+)", values.get(name, ("", ""))[0])
        if tzid and tzid.group(1) not in zones:
            problems.append(f"event {uid}: {name}'s TZID {tzid.group(1)} has no VTIMEZONE")
    if "SEQUENCE" in values and not values["SEQUENCE"][1].isdigit():
        problems.append(f"event {uid}: SEQUENCE is not a whole number")
    if "DTSTART" in values and "DTEND" in values:
        start, end = (_moment(*values[name]) for name in ("DTSTART", "DTEND"))
        if type(start) is not type(end):
            problems.append(f"event {uid}: DTSTART and DTEND are not both dates or date-times")
        elif end <= start:
            problems.append(f"event {uid}: DTEND is not after DTSTART")
    return problems


def _moment(params, value):
    if "VALUE=DATE" in params.upper() and "DATE-TIME" not in params.upper():
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    return datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")


def _library_rules(body):
    """The icalendar library's own rules: what a VCALENDAR and a VEVENT require, hold once, and
    may not hold together."""
    problems = []
    calendar = Calendar.from_ical(body)
    try:
        calendar.validate()
    except Exception as error:  # noqa: BLE001  (its IncompleteComponent, reported as a problem)
        problems.append(f"icalendar: {error}")
    for event in calendar.walk("VEVENT"):
        uid = event.get("UID", "?")
        missing = [name for name in Event.required if name not in event]
        problems += [f"event {uid}: icalendar requires {name}" for name in missing]
        problems += [
            f"event {uid}: {name} more than once"
            for name in Event.singletons
            if isinstance(event.get(name), list)
        ]
        if sum(name in event for name in Event.exclusive) > 1:
            problems.append(f"event {uid}: more than one of {Event.exclusive}")
    return problems
