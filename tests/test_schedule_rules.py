"""The schedule's edge rules, one behaviour per test, without an app (kept by `make mutants`)."""

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tpweb.domain.schedule import after_call, due_label, today_in


def test_a_call_on_the_day_of_last_call_moves_next_call_from_that_day():
    # A rescheduled next call is replaced by the frequency counted from the day's call.
    last_call = date(2026, 11, 23)
    assert after_call(last_call, date(2027, 3, 1), 30, last_call) == (
        last_call,
        date(2026, 12, 23),
    )


@pytest.mark.parametrize(("days", "label"), [(-2, "Overdue 2 days"), (2, "Upcoming · in 2 days")])
def test_two_days_either_way_are_plural(days, label):
    today = date(2026, 11, 30)
    assert due_label(date.fromordinal(today.toordinal() + days), today) == label


def test_an_instant_given_in_another_zone_is_read_as_that_instant():
    # 08:00 in Tokyo on the 24th is 23:00 UTC on the 23rd, 17:00 in Chicago.
    tokyo_morning = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert today_in("America/Chicago", tokyo_morning) == date(2026, 11, 23)
    assert today_in("UTC", tokyo_morning) == date(2026, 11, 23)


# 14 hours east and 12 west of UTC: at any hour of the day, in one of them, the server's own date
# is not UTC's, so reading the server's wall clock as UTC gives a wrong date in at least one.
@pytest.fixture(params=["Pacific/Kiritimati", "Etc/GMT+12"])
def server_zone(request, monkeypatch):
    """The server's own clock zone, far from UTC."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_today_does_not_depend_on_the_servers_own_zone(server_zone):
    assert today_in("UTC") == datetime.now(UTC).date()
    assert today_in("Asia/Tokyo") == datetime.now(ZoneInfo("Asia/Tokyo")).date()


@pytest.mark.parametrize("hour", [1, 23])
def test_an_instant_without_a_zone_is_utc_whatever_the_servers_zone(server_zone, hour):
    assert today_in("UTC", datetime(2026, 11, 23, hour, 0)) == date(2026, 11, 23)
