"""Signing in and out (who may reach which view is tpweb.web.access)."""

import functools
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from tpweb.extensions import db, limiter
from tpweb.models import User
from tpweb.web.pages import render

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device")


@functools.cache
def _nobodys_hash():
    return generate_password_hash(secrets.token_hex())


def _password_matches(user, password):
    """Whether this is the user's password; an unknown or inactive user costs the same hash work,
    so the time of a refusal does not tell which usernames exist."""
    if user is None or not user.active:
        check_password_hash(_nobodys_hash(), password)
        return False
    return user.check_password(password)


def _safe_next(target):
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return url_for("dashboard.index")
    return target


def _failed(response):
    """Only refused sign-ins count towards the limits: a user who gets in is not slowed."""
    return response.status_code != 303


def _username_key():
    return "username:" + request.form.get("username", "").strip().lower()[:80]


SLOW_DOWN = "Too many sign-in attempts. Wait a minute, then try again."


@bp.route("/login", methods=["GET", "POST"])
# Nine refusals a minute from one address; a username attacked from many addresses is slowed
# later, so that its owner, from their own phone, can still get in.
@limiter.limit("9 per minute", methods=["POST"], deduct_when=_failed, error_message=SLOW_DOWN)
@limiter.limit(
    "30 per minute",
    key_func=_username_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message=SLOW_DOWN,
)
def login():
    """Sign in with a username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("auth/login.html", "content", status, form=form)
    user = db.session.scalar(select(User).filter_by(username=form.username.data.strip()))
    if not _password_matches(user, form.password.data):
        form.password.errors.append("Wrong username or password.")
        return render("auth/login.html", "content", 422, form=form)
    session.clear()  # a new session on every sign-in
    login_user(user, remember=form.remember.data)
    return redirect(_safe_next(request.args.get("next")), 303)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out, here and on every other device: the session version moves on."""
    current_user.session_version += 1
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"), 303)
