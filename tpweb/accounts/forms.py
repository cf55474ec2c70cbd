"""Forms for customers, jobsites and contacts."""

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..forms import strip

PHONE = re.compile(r"[0-9+().\- x/]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def phone_number(form, field):
    if field.data and not PHONE.fullmatch(field.data):
        raise ValidationError("Use digits, spaces and + ( ) - . only.")


def email_address(form, field):
    if field.data and not EMAIL.fullmatch(field.data):
        raise ValidationError("Enter an email address like name@example.com.")


class LocationMixin:
    """Latitude and longitude, typed or set by tapping the map on the form."""

    latitude = FloatField(
        "Latitude", validators=[Optional(), NumberRange(-90, 90, "Latitude is -90 to 90.")]
    )
    longitude = FloatField(
        "Longitude",
        validators=[Optional(), NumberRange(-180, 180, "Longitude is -180 to 180.")],
    )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        latitude, longitude = self.latitude, self.longitude
        if valid and (latitude.data is None) != (longitude.data is None):
            missing = latitude if latitude.data is None else longitude
            missing.errors = ["Give both latitude and longitude, or neither."]
            return False
        return valid


class LocationForm(LocationMixin, FlaskForm):
    """The location fields alone: what Find from address answers with."""


class AccountForm(LocationMixin, FlaskForm):
    """A customer or a jobsite, as a manager edits it."""

    name = StringField(
        "Name", filters=[strip], validators=[DataRequired("Enter a name."), Length(max=200)]
    )
    address = StringField("Address", filters=[strip], validators=[Length(max=300)])
    city = StringField("City", filters=[strip], validators=[Length(max=120)])
    phone = StringField("Phone", filters=[strip], validators=[Length(max=40), phone_number])
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=5000)])
    sales_rep_id = SelectField("Sales Rep", coerce=int)

    def __init__(self, *args, reps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sales_rep_id.choices = [(0, "— No sales rep —")] + [(u.id, u.name) for u in reps]


class NotesForm(FlaskForm):
    """What a rep may change on their own account."""

    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=5000)])


class ContactForm(FlaskForm):
    name = StringField(
        "Name", filters=[strip], validators=[DataRequired("Enter a name."), Length(max=200)]
    )
    title = StringField("Title", filters=[strip], validators=[Length(max=120)])
    email = StringField("Email", filters=[strip], validators=[Length(max=254), email_address])
    phone = StringField("Phone", filters=[strip], validators=[Length(max=40), phone_number])
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=5000)])
    active = BooleanField("Active (still works here)", default=True)
