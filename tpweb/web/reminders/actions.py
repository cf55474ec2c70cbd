"""A reminder's one-tap action, from its signed link: Done opens Complete or Record response; a
snooze shows one button (opening the link changes nothing: mail scanners open every link) whose
POST moves the date once. No session needed: the token names the user."""

from flask import current_app, redirect, request, url_for
from flask_login import current_user

from tpweb.domain import one_tap
from tpweb.domain.reminders import TOUCHPOINT
from tpweb.web.pages import render
from tpweb.web.reminders import bp
from tpweb.web.writes import write

PAGE = "reminders/action.html"


@bp.route("/actions/<token>", methods=["GET", "POST"])
@write
def action(token):
    """GET: what the link will do, with its one button; POST: do it, once."""
    try:
        act = one_tap.read(current_app.config["SECRET_KEY"], token)
        user = one_tap.owner(act)
        if current_user.is_authenticated and current_user.id != user.id:
            raise one_tap.Refused(
                403,
                "This link is someone else's",
                f"It was sent to {user.name}, and {current_user.name} is signed in here.",
            )
        if act.action == one_tap.DONE:
            one_tap.check(user, act)
            return redirect(_done_url(act), 303)
        used = one_tap.use_of(token)
        if used is not None:
            return render(PAGE, "content", act=act, user=user, used=used)
        if request.method == "GET":
            item = one_tap.check(user, act)
            target = one_tap.target_day(user, act)
            context = {"act": act, "user": user, "label": _label(act, item), "target": target}
            return render(PAGE, "content", **context)
        moved_to = one_tap.snooze(user, act, token)
        return render(PAGE, "content", act=act, user=user, moved_to=moved_to)
    except one_tap.Refused as refused:
        return render(PAGE, "content", refused.status, refused=refused)


def _done_url(act):
    """Complete for a touchpoint, Record response for a task: the app's pages, sign-in and all."""
    if act.kind == TOUCHPOINT:
        return url_for("touchpoints.complete", touchpoint_id=act.item_id)
    return url_for("tasks.respond", record_id=act.item_id)


def _label(act, item):
    """What the item is called on the page: the touchpoint's account, the task's description."""
    if act.kind == TOUCHPOINT:
        account = item.account
        if account.is_jobsite:
            return f"Next Call at {account.name} ({account.customer.name})"
        return f"Next Call at {account.name}"
    return f"Task “{item.description}” for {item.contact.name}"
