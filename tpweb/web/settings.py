"""The signed-in user's own settings: where and when reminder emails arrive; Plan my day's
home base, working hours and visit lengths."""

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from tpweb.domain.markers import parse_position
from tpweb.domain.rules import LENGTHS
from tpweb.domain.zones import zone_choices
from tpweb.web.forms import TimeField, clock, hours_in_order, optional_email, strip, zones
from tpweb.web.pages import render
from tpweb.web.visit_lengths import visit_lengths_form
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


class PlanDefaultsForm(FlaskForm):
    """Plan my day's defaults: the home base a day may start from, the hours."""

    home_latitude = StringField(
        "Home base latitude",
        filters=[strip],
        validators=[Length(max=20, message="At most 20 characters.")],
    )
    home_longitude = StringField(
        "Home base longitude",
        filters=[strip],
        validators=[Length(max=20, message="At most 20 characters.")],
    )
    day_starts = TimeField(
        "Day starts", filters=[strip], validators=[Length(max=5, message="Enter a time as HH:MM.")]
    )
    day_ends = TimeField(
        "Day ends", filters=[strip], validators=[Length(max=5, message="Enter a time as HH:MM.")]
    )
    home = None

    def validate_home_latitude(self, field):
        try:
            self.home = parse_position(field.data, self.home_longitude.data)
        except ValueError as error:
            raise ValidationError(
                "Enter both as decimal degrees (latitude -90 to 90, longitude -180 to 180), "
                "or leave both empty."
            ) from error

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        return hours_in_order(self.day_starts, self.day_ends) and valid


def plan_defaults(user, formdata=None):
    data = {
        "home_latitude": "" if user.home_latitude is None else f"{user.home_latitude:.6f}",
        "home_longitude": "" if user.home_longitude is None else f"{user.home_longitude:.6f}",
        "day_starts": clock(user.day_starts),
        "day_ends": clock(user.day_ends),
    }
    return PlanDefaultsForm(formdata=formdata, data=data)


def reminders_form(user):
    return SettingsForm(obj=user, delivery="digest" if user.reminder_digest else "item")


def page(form, plan_form, status=200, block="content", **flags):
    if "visit_form" not in flags:
        flags["visit_form"] = visit_lengths_form(current_user)
    return render(PAGE, block, status, form=form, plan_form=plan_form, **flags)


@bp.route("/settings", methods=["GET", "POST"])
@write
def index():
    """Reminder emails: address, time zone, send hour, one per item or a digest."""
    user = current_user
    form = reminders_form(user)
    if request.method == "GET":
        saved, args = "saved" in request.args, request.args
        return page(
            form,
            plan_defaults(user),
            saved=saved,
            plan_saved="plan_saved" in args,
            lengths_saved="lengths_saved" in args,
        )
    if not form.validate():
        return page(form, plan_defaults(user), 422, block="form", saved=False)
    user.email = form.email.data or None
    user.timezone = form.timezone.data
    user.reminder_hour = form.reminder_hour.data
    user.reminder_digest = form.delivery.data == "digest"
    return redirect(url_for("settings.index", saved=1), 303)


@bp.post("/settings/plan")
@write
def plan():
    """Plan my day's defaults: home base, working hours."""
    user = current_user
    plan_form = plan_defaults(user, formdata=request.form)
    if not plan_form.validate():
        return page(reminders_form(user), plan_form, 422, block="plan_form")
    user.home_latitude, user.home_longitude = plan_form.home or (None, None)
    user.day_starts, user.day_ends = plan_form.day_starts.minutes, plan_form.day_ends.minutes
    return redirect(url_for("settings.index", plan_saved=1), 303)


@bp.post("/settings/visit-lengths")
@write
def visit_lengths():
    """Plan my day: how long a visit of each call type takes, and at an account not called yet."""
    user = current_user
    visit_form = visit_lengths_form(user, formdata=request.form)
    if not visit_form.validate():
        form, plan_form = reminders_form(user), plan_defaults(user)
        return page(form, plan_form, 422, "visit_lengths_form", visit_form=visit_form)
    visit_form.save(user)
    return redirect(url_for("settings.index", lengths_saved=1), 303)
