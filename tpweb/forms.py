"""Validators and fields that several areas' forms share, each one of tpweb.rules."""

import re

from wtforms import DateField
from wtforms.validators import Length, ValidationError

from . import rules


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


def longest(name):
    """The Length validator of the text field `name` (rules.LENGTHS)."""
    return Length(max=rules.LENGTHS[name])


def matching(pattern: re.Pattern, message):
    """A validator: a text field, when filled, matches `pattern` (one of tpweb.rules')."""

    def check(form, field):
        if field.data and not pattern.fullmatch(field.data):
            raise ValidationError(message)

    return check


phone_number = matching(rules.PHONE, "Use digits, spaces and + ( ) - . only.")
email_address = matching(rules.EMAIL, "Enter an email address like name@example.com.")
