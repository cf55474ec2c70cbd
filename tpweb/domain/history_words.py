"""History in words: each recorded change as a sentence a person reads, in their own time zone
("Next Call moved from Oct 15 to Nov 2 by Maria Kowalski, Tue Dec 1, 4:05 PM"). The one place
that words it: the account page shows these sentences."""

from datetime import UTC, date
from zoneinfo import ZoneInfo

# Each recorded field by the name the pages give it.
FIELD_NAMES = {
    "name": "Name",
    "address": "Address",
    "city": "City",
    "phone": "Phone",
    "email": "Email",
    "title": "Title",
    "notes": "Notes",
    "sales_rep_id": "Sales Rep",
    "last_call": "Last Call",
    "next_call": "Next Call",
    "frequency_days": "Frequency",
    "comment": "Comment",
    "description": "Description",
    "date_due": "Date due",
    "assigned_to_id": "Assigned to",
    "responded_on": "Response date",
    "response_note": "Response",
    "response_required": "Response required",
}
DATES = {"last_call", "next_call", "date_due", "responded_on"}
# How a change was made, when not on the app's pages (History.via).
VIA_WORDS = {"reminder": " from a reminder"}
# Text up to this long is quoted in full; longer text is only said to have changed.
QUOTED = 60


def when(at, zone, today=None):
    """A UTC instant (naive, as stored) in `zone`, in words: "Tue Dec 1, 4:05 PM"; the year too
    when it is not `today`'s."""
    local = at.replace(tzinfo=at.tzinfo or UTC).astimezone(ZoneInfo(zone))
    year = f", {local.year}" if today is not None and local.year != today.year else ""
    return f"{local:%a %b %-d}{year}, {local:%-I:%M %p}"


def day(value, today=None):
    """A stored ISO date in words: "Oct 15" (with the year when it is not `today`'s)."""
    if value is None:
        return None
    parsed = date.fromisoformat(value) if isinstance(value, str) else value
    if today is not None and parsed.year != today.year:
        return f"{parsed:%b %-d, %Y}"
    return f"{parsed:%b %-d}"


def _text(value):
    return f"“{value}”" if len(value) <= QUOTED else None


def _field(name, before, after, today):
    """One changed field as a phrase."""
    label = FIELD_NAMES.get(name, name.replace("_id", "").replace("_", " ").capitalize())
    if name in DATES:
        before, after = day(before, today), day(after, today)
        verb = "moved"
    elif name == "frequency_days":
        before, after = (f"{v} days" if v is not None else None for v in (before, after))
        verb = "changed"
    elif name == "response_required":
        return "Response required" if after else "No response required"
    elif name == "assigned_to_id":
        # Names already (history.account_history); "nobody" for none.
        was = f" (was {before})" if before not in (None, "nobody") else ""
        return f"Assigned to {after}{was}"
    elif name == "sales_rep_id":
        verb = "changed"
    else:
        if isinstance(before, str) and isinstance(after, str):
            before, after = _text(before), _text(after)
            if before is None or after is None:
                return f"{label} edited"
        elif isinstance(after, str):
            after = _text(after)
            if after is None:
                return f"{label} added"
        verb = "changed"
    if before in (None, "", "nobody"):
        return f"{label} set to {after}"
    if after in (None, "", "nobody"):
        return f"{label} cleared (was {before})"
    return f"{label} {verb} from {before} to {after}"


def _location(changes):
    before = [changes.get(k, [None, None])[0] for k in ("latitude", "longitude")]
    after = [changes.get(k, [None, None])[1] for k in ("latitude", "longitude")]
    if all(v is None for v in after):
        return "Location cleared"
    return "Location set" if all(v is None for v in before) else "Location moved"


def _subject(entry):
    """What changed, named: the account or its touchpoint need no name on their own page."""
    if entry.subject == "contact":
        return entry.label[0].upper() + entry.label[1:]  # "Contact Dana Freeze"
    return {"account": "Account", "touchpoint": "Touchpoint", "task": "Task"}[entry.subject]


def phrases(entry, today=None):
    """What an entry changed, as phrases: "Set inactive", "Next Call moved from Oct 15 to Nov 2"."""
    changes = dict(entry.change_list)
    subject = _subject(entry)
    if entry.action == "created":
        return [f"{subject} created"]
    if entry.action in ("set inactive", "reactivated"):
        for key in ("active", "inactive"):
            changes.pop(key, None)
        head = [f"{subject} {entry.action}" if entry.subject != "account" else entry.action]
    elif entry.action == "answered":
        head = [f"{subject} answered"]
        changes.pop("responded_on", None)
    else:
        head = []
    parts = []
    if {"latitude", "longitude"} & changes.keys():
        parts.append(_location(changes))
        changes.pop("latitude", None)
        changes.pop("longitude", None)
    parts += [_field(name, before, after, today) for name, (before, after) in changes.items()]
    if entry.subject in ("contact", "task") and not head:
        parts = [f"{subject}: {parts[0][0].lower()}{parts[0][1:]}", *parts[1:]] if parts else []
    phrases = head + parts
    return [p[0].upper() + p[1:] for p in phrases] or [f"{subject} {entry.action}"]


def sentence(entry, zone, today=None):
    """An entry of history.account_history as one sentence, its time in `zone`:
    "Set inactive by Maria Kowalski, Tue Dec 1, 4:05 PM"."""
    how = VIA_WORDS.get(getattr(entry, "via", ""), "")
    return f"{'; '.join(phrases(entry, today))} by {entry.who}{how}, {when(entry.at, zone, today)}"
