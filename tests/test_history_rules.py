"""History in words (tpweb.domain.history_words), on hand-made entries: no app, no database."""

from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from tpweb.domain import history_words
from tpweb.domain.history_words import sentence

CHICAGO = "America/Chicago"
TODAY = date(2026, 12, 4)


def entry(subject, action, changes, at=datetime(2026, 12, 1, 22, 5), who="Maria Kowalski"):
    label = "contact Dana Freeze" if subject == "contact" else subject
    return SimpleNamespace(
        subject=subject, action=action, change_list=changes, at=at, who=who, label=label
    )


def test_set_inactive_in_the_viewers_zone():
    row = entry("account", "set inactive", {"active": [True, False]})
    assert sentence(row, CHICAGO, TODAY) == "Set inactive by Maria Kowalski, Tue Dec 1, 4:05 PM"
    assert sentence(row, "UTC", TODAY) == "Set inactive by Maria Kowalski, Tue Dec 1, 10:05 PM"


@pytest.mark.parametrize(
    ("at", "words"),
    [
        # 21:05 UTC: 4:05 PM in Chicago on daylight time (UTC-5), the day before it ends...
        (datetime(2026, 10, 31, 21, 5), "Sat Oct 31, 4:05 PM"),
        # ...and 3:05 PM on standard time (UTC-6), the day after: the same UTC clock reading.
        (datetime(2026, 11, 2, 21, 5), "Mon Nov 2, 3:05 PM"),
        # The night it ends: 06:30 UTC is 1:30 AM the second time round (standard time).
        (datetime(2026, 11, 1, 7, 30), "Sun Nov 1, 1:30 AM"),
        (datetime(2026, 11, 1, 6, 30), "Sun Nov 1, 1:30 AM"),
        # Spring forward: 08:30 UTC on Mar 8 is 3:30 AM CDT (2:30 never happens).
        (datetime(2026, 3, 8, 8, 30), "Sun Mar 8, 3:30 AM"),
    ],
)
def test_times_across_daylight_saving_changes(at, words):
    row = entry("touchpoint", "updated", {"frequency_days": [30, 14]}, at=at)
    assert sentence(row, CHICAGO, TODAY) == (
        f"Frequency changed from 30 days to 14 days by Maria Kowalski, {words}"
    )


def test_dates_are_words_and_the_year_shows_only_when_it_differs():
    row = entry("touchpoint", "updated", {"next_call": ["2026-10-15", "2026-11-02"]})
    assert sentence(row, CHICAGO, TODAY) == (
        "Next Call moved from Oct 15 to Nov 2 by Maria Kowalski, Tue Dec 1, 4:05 PM"
    )
    later = entry("touchpoint", "updated", {"next_call": ["2026-12-20", "2027-01-03"]})
    assert "Next Call moved from Dec 20 to Jan 3, 2027" in sentence(later, CHICAGO, TODAY)
    old = entry("touchpoint", "updated", {"last_call": [None, "2026-11-01"]}, datetime(2025, 5, 1))
    assert sentence(old, CHICAGO, TODAY) == (
        "Last Call set to Nov 1 by Maria Kowalski, Wed Apr 30, 2025, 7:00 PM"
    )


def test_people_by_name_and_each_action_in_words():
    moved = entry("account", "reassigned", {"sales_rep_id": ["Anna", "Ben"]})
    assert sentence(moved, CHICAGO, TODAY).startswith("Sales Rep changed from Anna to Ben by")
    task = entry("task", "reassigned", {"assigned_to_id": ["Anna", "Ben"]})
    assert sentence(task, CHICAGO, TODAY).startswith("Task: assigned to Ben (was Anna) by")
    answered = entry(
        "task", "answered", {"responded_on": [None, "2026-12-01"], "response_note": [None, "Done"]}
    )
    assert sentence(answered, CHICAGO, TODAY).startswith("Task answered; Response set to “Done”")
    created = entry("contact", "created", {"name": [None, "Dana Freeze"]})
    assert sentence(created, CHICAGO, TODAY).startswith("Contact Dana Freeze created by")
    back = entry("touchpoint", "reactivated", {"inactive": [True, False]})
    assert sentence(back, CHICAGO, TODAY).startswith("Touchpoint reactivated by")
    located = entry("account", "updated", {"latitude": [None, 41.8], "longitude": [None, -87.6]})
    assert sentence(located, CHICAGO, TODAY).startswith("Location set by")
    system = entry("account", "updated", {"city": ["Joliet", "Aurora"]}, who="System")
    assert sentence(system, CHICAGO, TODAY).startswith(
        "City changed from “Joliet” to “Aurora” by System,"
    )


def test_long_text_is_said_to_change_not_quoted():
    notes = entry("account", "updated", {"notes": ["short", "x" * 200]})
    assert sentence(notes, CHICAGO, TODAY).startswith("Notes edited by")


def test_the_wording_knows_no_flask():
    source = Path(history_words.__file__).read_text()
    assert "flask" not in source.lower() and "jinja" not in source.lower()
