"""Admin: users (create, role, manager, reset password, reactivate) and call log types."""

import functools

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from tpweb.domain import rules
from tpweb.domain.zones import zone_choices
from tpweb.extensions import db
from tpweb.models import ROLES, CallLogType, User
from tpweb.web.forms import longest, matching, optional_email, strip, zones
from tpweb.web.pages import render
from tpweb.web.writes import write

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    """Admins only; anyone else is told the page does not exist."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.role != "admin":
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def new_password(form, field):
    if field.data and len(field.data) < rules.PASSWORD_MIN:
        raise ValidationError(f"At least {rules.PASSWORD_MIN} characters.")


class UserForm(FlaskForm):
    name = StringField(
        "Name", filters=[strip], validators=[DataRequired("Enter a name."), longest("user_name")]
    )
    email = StringField("Email", filters=[strip], validators=[longest("email"), optional_email])
    role = SelectField("Role", choices=[SelectChoice(r, r.title()) for r in ROLES])
    manager_id = SelectField("Manager", coerce=int)
    timezone = SelectField("Time zone", validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only managers manage: an admin is not offered as anyone's manager.
        managers = db.session.scalars(
            select(User).where(User.role == "manager", User.active).order_by(User.name)
        ).all()
        self.manager_id.choices = [(0, "— None —")] + [(m.id, m.name) for m in managers]
        self.timezone.choices = zone_choices(self.timezone.data)

    def validate_timezone(self, field):
        if field.data not in zones():
            raise ValidationError("Choose a time zone from the list.")


class NewUserForm(UserForm):
    username = StringField(
        "Username",
        filters=[lambda v: (v or "").strip().lower()],
        validators=[
            DataRequired("Enter a username."),
            longest("username"),
            matching(rules.USERNAME, "2 to 80 of a-z, 0-9, dot, dash and underscore."),
        ],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Set a password."), longest("password"), new_password]
    )

    def validate_username(self, field):
        if db.session.scalar(select(User.id).where(User.username == field.data)) is not None:
            raise ValidationError("That username is taken.")


class PasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Set a password."), longest("password"), new_password],
    )


class CallTypeForm(FlaskForm):
    name = StringField(
        "Name", filters=[strip], validators=[DataRequired("Enter a name."), longest("call_type")]
    )
    active = BooleanField("Offered on the call log form", default=True)

    def __init__(self, *args, call_type=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.call_type = call_type

    def validate_name(self, field):
        clash = select(CallLogType.id).where(func.lower(CallLogType.name) == field.data.lower())
        if self.call_type is not None:
            clash = clash.where(CallLogType.id != self.call_type.id)
        if db.session.scalar(clash) is not None:
            raise ValidationError("There is a call log type of that name already.")


def users_page(form=None, status=200):
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()
    return render("admin/users.html", "content", status, users=users, form=form or new_user_form())


def new_user_form():
    form = NewUserForm()
    if request.method == "GET":
        form.timezone.data = current_user.timezone
        form.timezone.choices = zone_choices(form.timezone.data)
        form.manager_id.data = 0
    return form


@bp.get("/users")
@admin_required
def users():
    """Every user, active first, and a form for a new one."""
    return users_page()


@bp.post("/users")
@admin_required
@write
def create_user():
    """Create a user who can sign in."""
    form = new_user_form()
    if not form.validate():
        return users_page(form, 422)
    user = User(username=form.username.data, password_hash="")
    _apply(form, user)
    user.set_password(form.password.data)
    db.session.add(user)
    db.session.flush()
    flash(f"{user.name} can now sign in as {user.username}.", "info")
    return redirect(url_for(".users"), 303)


def _apply(form, user):
    user.name = form.name.data
    user.email = form.email.data or None
    user.role = form.role.data
    user.timezone = form.timezone.data
    user.manager_id = form.manager_id.data or None


def _user_or_404(user_id):
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
@write
def edit_user(user_id):
    """Change a user's name, email, role, manager or time zone."""
    user = _user_or_404(user_id)
    form = UserForm(obj=user)
    if request.method == "GET":
        form.manager_id.data = user.manager_id or 0
        return render("admin/user.html", "content", user=user, form=form, password=PasswordForm())
    if form.manager_id.data == user.id:
        form.manager_id.errors = ["A user cannot be their own manager."]
    if not form.validate() or form.manager_id.errors:
        return render(
            "admin/user.html", "content", 422, user=user, form=form, password=PasswordForm()
        )
    if user.id == current_user.id and form.role.data != "admin":
        form.role.errors = ["You cannot take away your own admin role."]
    elif problem := rules.role_change_problem(db.session, user, form.role.data):
        form.role.errors = [problem]
    if form.role.errors:
        return render(
            "admin/user.html", "content", 422, user=user, form=form, password=PasswordForm()
        )
    _apply(form, user)
    flash(f"{user.name} is saved.", "info")
    return redirect(url_for(".users"), 303)


@bp.post("/users/<int:user_id>/password")
@admin_required
@write
def reset_password(user_id):
    """Set a new password; every session of that user ends."""
    user = _user_or_404(user_id)
    password = PasswordForm()
    if not password.validate():
        form = UserForm(obj=user)
        return render("admin/user.html", "content", 422, user=user, form=form, password=password)
    user.set_password(password.password.data)
    user.session_version += 1
    flash(f"{user.name} has a new password and must sign in again.", "info")
    return redirect(url_for(".users"), 303)


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
@write
def reactivate(user_id):
    """Let a deactivated user sign in again."""
    user = _user_or_404(user_id)
    user.active = True
    flash(f"{user.name} can sign in again.", "info")
    return redirect(url_for(".users"), 303)


def call_types_page(form=None, status=200):
    types = db.session.scalars(
        select(CallLogType).order_by(CallLogType.position, CallLogType.id)
    ).all()
    return render(
        "admin/call_types.html", "content", status, types=types, form=form or CallTypeForm()
    )


@bp.get("/call-types")
@admin_required
def call_types():
    """The call log types reps choose from when they log a call."""
    return call_types_page()


@bp.post("/call-types")
@admin_required
@write
def add_call_type():
    """Add a call log type at the end of the list."""
    form = CallTypeForm()
    if not form.validate():
        return call_types_page(form, 422)
    last = db.session.scalar(select(func.max(CallLogType.position))) or 0
    db.session.add(CallLogType(name=form.name.data, active=form.active.data, position=last + 1))
    return redirect(url_for(".call_types"), 303)


@bp.post("/call-types/<int:type_id>")
@admin_required
@write
def edit_call_type(type_id):
    """Rename a call log type, or stop offering it; call logs that used it keep it."""
    call_type = db.session.get(CallLogType, type_id) or abort(404)
    form = CallTypeForm(call_type=call_type)
    if not form.validate():
        return call_types_page(form, 422)
    call_type.name = form.name.data
    call_type.active = form.active.data
    return redirect(url_for(".call_types"), 303)
