"""The signed-in user's own settings: where and when reminder emails arrive."""

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from tpweb.domain.rules import LENGTHS
from tpweb.domain.zones import zone_choices
from tpweb.web.forms import optional_email, strip, zones
from tpweb.web.pages import render
from tpweb.web.writes import write

bp = Blueprint("settings", __name__)

PAGE = "settings/index.html"
DELIVERY = {"item": "One email per item", "digest": "One daily digest listing them all"}


def hour(value):
    """A posted hour as a number; anything else becomes -1, which validation refuses."""
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else -1


class SettingsForm(FlaskForm):
    email = StringField(
        "Email address",
        filters=[strip],
        validators=[
            Length(max=LENGTHS["email"], message="At most 254 characters."),
            optional_email,
        ],
        description="Reminders go here. Leave it empty to get no reminder emails.",
    )
    timezone = SelectField(
        "Time zone", validators=[InputRequired("Choose a time zone.")], validate_choice=False
    )
    reminder_hour = SelectField(
        "Send reminders at",
        coerce=hour,
        choices=[SelectChoice(hour, f"{hour:02d}:00") for hour in range(24)],
        validators=[InputRequired("Choose an hour from 00:00 to 23:00.")],
        validate_choice=False,
    )
    delivery = RadioField(
        "Emails",
        choices=[SelectChoice(value, label) for value, label in DELIVERY.items()],
        validators=[InputRequired("Choose one email per item or a daily digest.")],
        validate_choice=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_choices(self.timezone.data)

    def validate_timezone(self, field):
        if field.data not in zones():
            raise ValidationError("Choose a time zone from the list.")

    def validate_reminder_hour(self, field):
        if not 0 <= field.data <= 23:
            raise ValidationError("Choose an hour from 00:00 to 23:00.")

    def validate_delivery(self, field):
        if field.data not in DELIVERY:
            raise ValidationError("Choose one email per item or a daily digest.")


@bp.route("/settings", methods=["GET", "POST"])
@write
def index():
    """Reminder emails: address, time zone, send hour, one per item or a digest."""
    user = current_user
    form = SettingsForm(obj=user, delivery="digest" if user.reminder_digest else "item")
    if request.method == "GET":
        return render(PAGE, "form", form=form, saved="saved" in request.args)
    if not form.validate():
        return render(PAGE, "form", 422, form=form, saved=False)
    user.email = form.email.data or None
    user.timezone = form.timezone.data
    user.reminder_hour = form.reminder_hour.data
    user.reminder_digest = form.delivery.data == "digest"
    return redirect(url_for("settings.index", saved=1), 303)
