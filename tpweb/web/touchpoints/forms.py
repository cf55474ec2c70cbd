"""The call log form (Complete, step one) and the touchpoint form (Add, Reschedule, step two)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from tpweb.domain import rules
from tpweb.domain.schedule import next_call
from tpweb.web.forms import DayField, WholeNumberField, longest, strip


class CallLogForm(FlaskForm):
    called_on = DayField("Call date", validators=[InputRequired("Enter the date of the call.")])
    duration_minutes = WholeNumberField(
        "Duration (minutes)",
        default=15,
        validators=[
            InputRequired("Enter the duration in minutes."),
            NumberRange(*rules.DURATION_MINUTES, "Duration is %(min)s to %(max)s minutes."),
        ],
    )
    call_type = SelectField("Call type", coerce=int, validate_choice=True)
    contact_id = SelectField("Spoke to", coerce=int, default=0)
    notes = TextAreaField("Notes", filters=[strip], validators=[longest("notes")])

    def validate_called_on(self, field):
        if field.data and self.today and field.data > self.today:
            raise ValidationError("A call cannot be logged in the future.")

    def __init__(self, *args, call_types=(), contacts=(), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.call_type.choices = [(t.id, t.name) for t in call_types]
        self.contact_id.choices = [(0, "—")] + [(c.id, c.name) for c in contacts]
        self.call_type.validators = [InputRequired("Choose a call type.")]


class TouchpointForm(FlaskForm):
    last_call = DayField(
        "Last Call", validators=[InputRequired("Enter the date of the last call.")]
    )
    frequency_days = WholeNumberField(
        "Frequency (days)",
        validators=[
            InputRequired("Enter the number of days between touchpoints."),
            NumberRange(*rules.FREQUENCY_DAYS, "Frequency is %(min)s to %(max)s days."),
        ],
    )
    next_call = DayField("Next Call", validators=[Optional()])
    comment = TextAreaField("Comment", filters=[strip], validators=[longest("comment")])
    inactive = BooleanField("Inactive")
    version = HiddenField()

    def validate_next_call(self, field):
        if field.data and self.last_call.data and field.data < self.last_call.data:
            raise ValidationError("Next Call cannot be before Last Call.")

    def validate(self, extra_validators=None):
        # Not an inline validator: a blank Next Call (Optional()) ends its field's chain.
        valid = super().validate(extra_validators)
        if valid and self.next_call.data is None and (problem := self.next_call_problem()):
            self.next_call.errors.append(problem)
            return False
        return valid

    def apply_to(self, tp):
        """Copy the valid form onto `tp`; a blank Next Call is Last Call + Frequency."""
        tp.last_call = self.last_call.data
        tp.frequency_days = self.frequency_days.data
        tp.next_call = self.next_call.data or next_call(tp.last_call, tp.frequency_days)
        tp.comment = self.comment.data
        tp.inactive = self.inactive.data

    def next_call_problem(self):
        """Why the Next Call worked out from valid Last Call and Frequency cannot be saved."""
        return rules.next_call_problem(self.last_call.data, self.frequency_days.data)
