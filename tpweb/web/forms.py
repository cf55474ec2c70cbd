"""Validators and fields that several areas' forms share, each one of tpweb.domain.rules."""

import re
from functools import cache
from zoneinfo import available_timezones

from wtforms import DateField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, StopValidation, ValidationError

from tpweb.domain import rules
from tpweb.web.pages import whole_number


def sane_date(form, field):
    if field.data is not None and (problem := rules.date_problem(field.data)):
        raise ValidationError(problem)


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


def longest(name):
    """The Length validator of the text field `name` (rules.LENGTHS)."""
    return Length(max=rules.LENGTHS[name])


def matching(pattern: re.Pattern, message):
    """A validator: a text field, when filled, matches `pattern` (one of tpweb.domain.rules')."""

    def check(form, field):
        if field.data and not pattern.fullmatch(field.data):
            raise ValidationError(message)

    return check


phone_number = matching(rules.PHONE, "Use digits, spaces and + ( ) - . only.")
email_address = matching(rules.EMAIL, "Enter an email address like name@example.com.")
# Settings and the admin's user form: an address is optional there, and the message says so.
optional_email = matching(
    rules.EMAIL, "Enter an email address like name@example.com, or leave it empty."
)


@cache
def zones():
    # Read from the tz database on disk: once per process is enough.
    return frozenset(available_timezones())


# A time of day, HH:MM: Plan my day's hours and their defaults in Settings.
TIME = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)")


def minutes(text):
    """Minutes after midnight of a time typed as HH:MM (00:00 to 24:00), or None."""
    found = TIME.fullmatch(text or "")
    if not found:
        return None
    value = int(found.group(1)) * 60 + int(found.group(2))
    return value if value <= 24 * 60 else None


def clock(value):
    """Minutes after midnight as "HH:MM"."""
    return f"{value // 60:02d}:{value % 60:02d}"


def hours_in_order(day_starts, day_ends):
    """Whether a day's hours (two TimeFields) end after they start; if not, says so beside the
    end. Plan my day's form and its defaults in Settings."""
    begin, until = day_starts.minutes, day_ends.minutes
    if begin is not None and until is not None and until <= begin:
        day_ends.errors.append("The day must end after it starts (at most 24 hours).")
        return False
    return True


# A planned visit's length: Plan my day's form and the lengths per call type in Settings.
visit_length = NumberRange(
    1,
    rules.MAX_VISIT_MINUTES,
    f"A visit takes from 1 minute to 8 hours ({rules.MAX_VISIT_MINUTES} minutes).",
)


class TimeField(StringField):
    """A time of day as HH:MM (the phone's time picker), 00:00 to 24:00; .minutes holds it."""

    minutes = None

    def post_validate(self, form, validation_stopped):
        self.minutes = minutes(self.data)
        if not validation_stopped and self.minutes is None and not self.errors:
            self.errors.append("Enter a time as HH:MM, from 00:00 to 24:00.")
