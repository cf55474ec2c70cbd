"""The Plan my day form: where the day starts and ends, its hours, one length for every visit
(or each by its call type)."""

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from tpweb.domain.markers import parse_position
from tpweb.web.forms import TimeField, WholeNumberField, hours_in_order, strip, visit_length

STARTS = {"here": "Where I am now", "home": "My home base"}
ENDS = {"start": "Back where I started", "anywhere": "Anywhere (at the last stop)"}


def choice(label, options, message):
    """One of `options` (value: label), as radio buttons; anything else is `message`."""
    return RadioField(
        label,
        choices=[SelectChoice(value, text) for value, text in options.items()],
        validators=[InputRequired(message)],
        validate_choice=False,
    )


def text(label, most, message):
    return StringField(label, filters=[strip], validators=[Length(max=most, message=message)])


class PlanForm(FlaskForm):
    start = choice("Start from", STARTS, "Choose where the day starts.")
    lat = text("Latitude", 20, "At most 20 characters.")
    lon = text("Longitude", 20, "At most 20 characters.")
    end = choice("End", ENDS, "Choose where the day ends.")
    day_starts = TimeField(
        "From", filters=[strip], validators=[Length(max=5, message="Enter a time as HH:MM.")]
    )
    day_ends = TimeField(
        "Until", filters=[strip], validators=[Length(max=5, message="Enter a time as HH:MM.")]
    )
    # Empty: each visit as long as the rep's length for its call type (Settings).
    visit_minutes = WholeNumberField(
        "Minutes per visit",
        validators=[Optional(), visit_length],
    )

    def __init__(self, *args, home=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.home = home
        self.position = None

    def validate_start(self, field):
        if field.data not in STARTS:
            raise ValidationError("Choose where the day starts.")
        if field.data == "home":
            if self.home is None:
                raise ValidationError(
                    "You have no home base yet: set one in Settings, or start from where you are."
                )
            self.position = self.home
            return
        try:
            self.position = parse_position(self.lat.data, self.lon.data)
        except ValueError as error:
            raise ValidationError(f"Your position is not valid: {error}") from error
        if self.position is None:
            raise ValidationError(
                "Your position is not known: tap Use my position (allow location), "
                "or start from your home base."
            )

    def validate_end(self, field):
        if field.data not in ENDS:
            raise ValidationError("Choose where the day ends.")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        return hours_in_order(self.day_starts, self.day_ends) and valid
