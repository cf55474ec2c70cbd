"""Forms for customers, jobsites and contacts."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from tpweb.domain.rules import LATITUDE, LONGITUDE
from tpweb.web.forms import email_address, longest, phone_number, strip


class LocationMixin:
    """Latitude and longitude, typed or set by tapping the map on the form."""

    latitude = FloatField(
        "Latitude",
        validators=[Optional(), NumberRange(*LATITUDE, "Latitude is %(min)s to %(max)s.")],
    )
    longitude = FloatField(
        "Longitude",
        validators=[Optional(), NumberRange(*LONGITUDE, "Longitude is %(min)s to %(max)s.")],
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
        "Name", filters=[strip], validators=[DataRequired("Enter a name."), longest("name")]
    )
    address = StringField("Address", filters=[strip], validators=[longest("address")])
    city = StringField("City", filters=[strip], validators=[longest("city")])
    phone = StringField("Phone", filters=[strip], validators=[longest("phone"), phone_number])
    notes = TextAreaField("Notes", filters=[strip], validators=[longest("notes")])
    sales_rep_id = SelectField("Sales Rep", coerce=int)

    def __init__(self, *args, reps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sales_rep_id.choices = [(0, "— No sales rep —")] + [(u.id, u.name) for u in reps]


class NotesForm(FlaskForm):
    """What a rep may change on their own account."""

    notes = TextAreaField("Notes", filters=[strip], validators=[longest("notes")])


class ContactForm(FlaskForm):
    name = StringField(
        "Name", filters=[strip], validators=[DataRequired("Enter a name."), longest("name")]
    )
    title = StringField("Title", filters=[strip], validators=[longest("title")])
    email = StringField("Email", filters=[strip], validators=[longest("email"), email_address])
    phone = StringField("Phone", filters=[strip], validators=[longest("phone"), phone_number])
    notes = TextAreaField("Notes", filters=[strip], validators=[longest("notes")])
    active = BooleanField("Active (still works here)", default=True)
