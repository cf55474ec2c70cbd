"""Validators and fields that several areas' forms share."""

from datetime import date

from wtforms import DateField, IntegerField
from wtforms.validators import StopValidation, ValidationError

from .web import whole_number

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


class WholeNumberField(IntegerField):
    """A count typed as digits 0-9 (and a minus sign) and nothing else: int() would take " 30",
    "+30", "3_0" and "٣٠", and a value like "30.7" or "1e3" is refused beside the field, never
    rounded."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] == "":
            # Left empty: InputRequired or Optional says what that means for the field.
            self.data = None
            return
        # A minus sign is read, so that the field's range says what is wrong with "-1".
        raw = valuelist[0]
        number = whole_number(raw.removeprefix("-"), digits=9)
        if number is None:
            self.data = None
            raise ValueError("Enter a whole number, in digits only (like 30).")
        self.data = -number if raw.startswith("-") else number

    def pre_validate(self, form):
        # That message alone: the range check would add a second one about a value not read.
        if self.process_errors:
            raise StopValidation()
