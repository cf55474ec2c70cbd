"""The touchpoint record form (seed 000)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from tpweb.web.forms import DayField, longest, strip


class RecordForm(FlaskForm):
    description = StringField(
        "Description",
        filters=[strip],
        validators=[DataRequired("Describe what happened."), longest("description")],
    )
    details = TextAreaField(
        "Detailed description", filters=[strip], validators=[longest("details")]
    )
    response_required = BooleanField("Requires a follow-up response")
    date_due = DayField("Date due", validators=[Optional()])
    date_completed = DayField(
        "Date completed", validators=[InputRequired("Enter the date this happened.")]
    )
    assigned_to = SelectField("Assigned to", coerce=int)

    def __init__(self, *args, assignees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assigned_to.choices = [(user.id, user.name) for user in assignees]

    def validate(self, extra_validators=None):
        # Not an inline validate_date_due: Optional() ends the field's chain on a blank date
        # before inline validators run, so a blank date due would pass.
        valid = super().validate(extra_validators)
        if self.response_required.data and self.date_due.data is None and not self.date_due.errors:
            self.date_due.errors.append("A follow-up response needs a date due.")
            return False
        return valid
