"""Validators and fields that several areas' forms share."""

from datetime import date

from wtforms import DateField
from wtforms.validators import ValidationError

# Real dates only: far-off years are typing mistakes, and date arithmetic must not overflow.
EARLIEST = date(1990, 1, 1)
LATEST = date(2199, 12, 31)


def sane_date(form, field):
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(f"Enter a date between {EARLIEST:%Y} and {LATEST:%Y}.")


class DayField(DateField):
    """A date typed as YYYY-MM-DD (the phone's date picker), within sane years."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, [*(validators or []), sane_date], **kwargs)


def strip(value):
    """A text field's value without surrounding blanks; missing text is empty text."""
    return (value or "").strip()
