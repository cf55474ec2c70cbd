"""When reminders go out: each user's send hour in their own zone, across clock changes.

Hourly runs sweep each (user, local date) exactly once, at the first run on or after that date's
send hour: a property checked over every zone, around the months clocks change.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import available_timezones

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tpweb.domain.reminders import days_to_sweep, latest_due_day, send_instant
from tpweb.extensions import db
from tpweb.jobs.sweep import run_sweep
from tpweb.models import ReminderDelivery, TouchpointRecord

from .factories import TEST_DATA


def test_the_send_hour_on_days_the_clocks_change():
    chicago = "America/Chicago"
    # Clocks forward: 02:00 never happens in Chicago on 8 March 2026; 03:00 CDT is the moment.
    assert send_instant(date(2026, 3, 8), 2, chicago) == datetime(2026, 3, 8, 8, tzinfo=UTC)
    # Clocks back: 01:00 happens twice on 1 November 2026; the first (CDT) is the moment.
    assert send_instant(date(2026, 11, 1), 1, chicago) == datetime(2026, 11, 1, 6, tzinfo=UTC)


def hourly(start, hours):
    return [start + timedelta(hours=n) for n in range(hours)]


DST_MONTHS = st.sampled_from([3, 4, 9, 10, 11])  # when most zones change their clocks
ZONES = st.sampled_from(sorted(available_timezones()))


@settings(max_examples=200, deadline=None)
@given(
    zone=ZONES,
    hour=st.integers(0, 23),
    start=st.builds(datetime, st.integers(1995, 2037), DST_MONTHS, st.integers(1, 28),
                    st.integers(0, 23), st.integers(0, 59), tzinfo=st.just(UTC)),
)  # fmt: skip
@example(zone="America/Chicago", hour=2, start=datetime(2026, 3, 5, tzinfo=UTC))
@example(zone="America/Chicago", hour=1, start=datetime(2026, 10, 29, 0, 30, tzinfo=UTC))
@example(zone="Australia/Lord_Howe", hour=2, start=datetime(2026, 10, 1, tzinfo=UTC))
@example(zone="America/Santiago", hour=0, start=datetime(2026, 9, 3, tzinfo=UTC))
@example(zone="Pacific/Apia", hour=6, start=datetime(2011, 12, 27, tzinfo=UTC))  # no 30 Dec
@example(zone="Asia/Kathmandu", hour=6, start=datetime(2026, 3, 1, 0, 15, tzinfo=UTC))
def test_hourly_runs_sweep_each_local_date_exactly_once(zone, hour, start):
    swept = {}
    first = None
    for now in hourly(start, 24 * 10):
        for day in days_to_sweep(latest_due_day(zone, hour, now), set(swept), first, 7):
            assert day not in swept
            swept[day] = now
            first = first or day
    days = sorted(swept)
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]
    for day in days[1:]:
        # Swept by the first run at or after that date's send hour: never early, never late.
        due = send_instant(day, hour, zone)
        assert due <= swept[day] < due + timedelta(hours=1)


@settings(
    max_examples=5,
    deadline=None,
    # The example's data is cleared by the example itself; the app is the session's.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(zone=ZONES, hour=st.integers(0, 23), month=DST_MONTHS, day=st.integers(1, 25))
@example(zone="Europe/London", hour=1, month=3, day=27)  # 01:00 is skipped on 29 March 2026
def test_the_real_sweep_sends_each_days_item_once_at_that_days_send_hour(
    app, make, outbox, zone, hour, month, day
):
    for table in (ReminderDelivery, TouchpointRecord):
        db.session.execute(table.__table__.delete().execution_options(**TEST_DATA))
    db.session.commit()
    rep = make.rep(email="r@example.com", timezone=zone, reminder_hour=hour)
    contact = make.contact(make.customer(rep=rep))
    start = date(2026, month, day)
    for n in range(5):
        due_on = start + timedelta(days=n)
        make.record(contact, rep, response_required=True, date_due=due_on, description=f"Due {n}")
    runs = hourly(datetime(2026, month, day, tzinfo=UTC), 24 * 3)
    sent_at = {}
    for now in runs:
        run_sweep(now=now)
        for message in outbox:
            assert message.subject not in sent_at
            sent_at[message.subject] = now
        outbox.clear()
    first = latest_due_day(zone, hour, runs[0])  # a new user starts here, with no history
    for n in range(5):
        due_on, due = start + timedelta(days=n), send_instant(start + timedelta(days=n), hour, zone)
        sent = sent_at.pop(f"Due today: Due {n}", None)
        if due_on == first:
            assert sent == runs[0]
        elif first < due_on and due <= runs[-1]:
            assert due <= sent < due + timedelta(hours=1)
        else:
            assert sent is None
    assert sent_at == {}
