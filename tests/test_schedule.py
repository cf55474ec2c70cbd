"""The schedule's rules, without an app: next call, due states, a user's today around midnight."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tpweb.domain.schedule import (
    DUE_TODAY,
    OVERDUE,
    UPCOMING,
    after_call,
    due_label,
    due_state,
    next_call,
    today_in,
)


def test_next_call_adds_the_frequency_across_month_and_leap_day():
    assert next_call(date(2026, 11, 23), 30) == date(2026, 12, 23)
    assert next_call(date(2028, 2, 28), 1) == date(2028, 2, 29)
    assert next_call(date(2026, 12, 31), 1) == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("day", "state"),
    [
        (date(2026, 11, 22), OVERDUE),
        (date(2026, 11, 23), DUE_TODAY),
        (date(2026, 11, 24), UPCOMING),
    ],
)
def test_due_state_against_today(day, state):
    assert due_state(day, date(2026, 11, 23)) == state


# 05:30 UTC on 24 November is still the 23rd in the Americas and already the 24th east of them.
INSTANT = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "today"),
    [
        ("America/Chicago", date(2026, 11, 23)),
        ("America/Los_Angeles", date(2026, 11, 23)),
        ("UTC", date(2026, 11, 24)),
        ("Europe/Berlin", date(2026, 11, 24)),
        ("Pacific/Auckland", date(2026, 11, 24)),
    ],
)
def test_today_is_the_users_own_date(zone, today):
    assert today_in(zone, INSTANT) == today


def test_a_touchpoint_due_today_in_chicago_is_overdue_once_chicago_passes_midnight():
    due = date(2026, 11, 23)
    before_midnight = datetime(2026, 11, 24, 5, 59, tzinfo=UTC)  # 23:59 in Chicago
    after_midnight = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 00:00 in Chicago
    assert due_state(due, today_in("America/Chicago", before_midnight)) == DUE_TODAY
    assert due_state(due, today_in("America/Chicago", after_midnight)) == OVERDUE
    # The same instant is already the next day (and so overdue) in Tokyo.
    assert due_state(due, today_in("Asia/Tokyo", before_midnight)) == OVERDUE


def test_naive_instants_are_read_as_utc():
    assert today_in("America/Chicago", datetime(2026, 11, 24, 5, 30)) == date(2026, 11, 23)


def test_after_call_moves_last_and_next_call_from_the_call_date():
    assert after_call(date(2026, 10, 1), date(2026, 10, 31), 30, date(2026, 11, 23)) == (
        date(2026, 11, 23),
        date(2026, 12, 23),
    )


def test_a_call_older_than_last_call_leaves_the_schedule_alone():
    schedule = (date(2026, 11, 1), date(2026, 12, 1))
    assert after_call(*schedule, 30, date(2026, 10, 15)) == schedule


def test_a_call_the_day_before_last_call_leaves_the_schedule_alone():
    schedule = (date(2026, 11, 23), date(2026, 11, 26))
    assert after_call(*schedule, 30, date(2026, 11, 22)) == schedule


def test_a_call_on_the_same_day_as_last_call_counts_and_resets_a_custom_next_call():
    """A second call on the day of the last call is a call: Next Call is that day + Frequency,
    even where Next Call had been set to a custom date in between."""
    custom = date(2026, 11, 26)
    assert after_call(date(2026, 11, 23), custom, 30, date(2026, 11, 23)) == (
        date(2026, 11, 23),
        date(2026, 12, 23),
    )


@pytest.mark.parametrize(
    "days, label",
    [
        (-3, "Overdue 3 days"),
        (-1, "Overdue 1 day"),
        (0, "Due today"),
        (1, "Upcoming · in 1 day"),
        (9, "Upcoming · in 9 days"),
    ],
)
def test_a_badge_says_how_far_a_due_date_is(days, label):
    today = date(2026, 11, 30)
    assert due_label(today + timedelta(days=days), today) == label
