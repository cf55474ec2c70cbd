"""Reminder planning's rules, one behaviour per test (kept by `make mutants`)."""

from datetime import date

from tpweb.reminders import days_to_sweep


def test_missed_nights_come_back_oldest_first_without_those_already_swept():
    latest = date(2026, 11, 23)
    swept = {date(2026, 11, 21)}
    assert days_to_sweep(latest, swept, date(2026, 11, 1), 4) == [
        date(2026, 11, 20),
        date(2026, 11, 22),
        date(2026, 11, 23),
    ]
