"""The widget's list, a touchpoint's card, Complete in two steps, Reschedule and Inactive."""

import functools
import re
from datetime import date

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from tpweb.domain.schedule import after_call, due_label, next_call
from tpweb.domain.scope import may_change, touchpoint_or_404
from tpweb.domain.touchpoints import active_touchpoints
from tpweb.extensions import db
from tpweb.models import CallLog, CallLogType, Touchpoint
from tpweb.web.caching import revalidated, widget_lists
from tpweb.web.pages import changed, choice_arg, day_words, render, set_today, user_today
from tpweb.web.touchpoints import bp
from tpweb.web.touchpoints.forms import CallLogForm, TouchpointForm
from tpweb.web.touchpoints.map import map_page
from tpweb.web.widget import chosen_rep, tabs_context, widget_context
from tpweb.web.writes import write

WIDGET = "touchpoints/widget.html"
FORM = "touchpoints/form.html"
COMPLETE = "touchpoints/complete.html"


@bp.get("")
@revalidated(widget_lists)
def index():
    """The touchpoint widget: the list, overdue first (or nearest first), or the map."""
    if choice_arg("view", ("list", "map"), "list") == "map":
        return map_page(chosen_rep())
    context = widget_context(chosen_rep())
    if request.htmx and context["page"] > 1:
        return render_block(WIDGET, "rows", **context)
    return render("touchpoints/list.html", "widget", **context)


@bp.get("/counts")
def counts():
    """The widget's due-state tabs and their counts: the tabs ask for themselves again after a
    change (pages.CHANGED)."""
    return render_block(WIDGET, "tabs", **tabs_context(chosen_rep()))


@bp.get("/<int:touchpoint_id>")
def show(touchpoint_id):
    """One touchpoint's card: the page, or the card alone to put back in a list. Anyone who may
    open its account may open it; Complete and Reschedule are offered to those who may change it."""
    touchpoint = db.session.scalar(
        active_touchpoints(current_user).where(Touchpoint.id == touchpoint_id)
    ) or touchpoint_or_404(current_user, touchpoint_id)
    return render(
        "touchpoints/show.html",
        "card",
        tp=touchpoint,
        today=user_today(),
        actions=may_change(current_user, touchpoint),
    )


@bp.get("/next-call")
def compute_next_call():
    """The Next Call field, worked out from Last Call and Frequency as the user types them."""
    form = TouchpointForm(request.args, meta={"csrf": False})
    idp = request.args.get("idp", "")
    if not re.fullmatch(r"[a-z0-9-]{0,24}", idp):
        abort(400)
    valid = [form.last_call.validate(form), form.frequency_days.validate(form)]
    problem = all(valid) and form.next_call_problem()
    if problem:
        form.next_call.errors = [problem]
    elif all(valid):
        form.next_call.data = next_call(form.last_call.data, form.frequency_days.data)
        # Shown from the data, not from what the browser sent: that is the date being replaced.
        form.next_call.raw_data = None
    return render_block(FORM, "next_call", form=form, idp=idp, typing=True)


def contacts_at(account):
    """The active contacts a rep may have spoken to at an account: its customer's."""
    customer = account.customer if account.is_jobsite else account
    return [contact for contact in customer.contacts if contact.active]


def call_types():
    return db.session.scalars(
        select(CallLogType).where(CallLogType.active).order_by(CallLogType.position)
    ).all()


def versioned(view):
    """X-Touchpoint-Version on the answer: the version of the touchpoint the view left (step
    two's form, the saved card, a 409's current values), which the offline queue rebases the
    phone's next write to it on. Set inside `write`, so a replayed answer carries it too."""

    @functools.wraps(view)
    def wrapper(touchpoint_id):
        response = make_response(view(touchpoint_id))
        # In the session's identity map since the view looked it up: no query.
        tp = db.session.get(Touchpoint, touchpoint_id)
        if tp is not None:
            response.headers["X-Touchpoint-Version"] = str(tp.version)
        return response

    return wrapper


@bp.route("/<int:touchpoint_id>/complete", methods=["GET", "POST"])
@write
@versioned
def complete(touchpoint_id):
    """Step one of Complete: the call log. Saved, it answers with step two, the touchpoint form."""
    tp = touchpoint_or_404(
        current_user, touchpoint_id, for_update=request.method == "POST", change=True
    )
    today = user_today()
    form = CallLogForm(call_types=call_types(), contacts=contacts_at(tp.account), today=today)
    if request.method == "GET":
        set_today(form.called_on, today)
        return render(COMPLETE, "form", tp=tp, form=form)
    if tp.inactive:
        form.form_errors.append("This touchpoint is inactive; reactivate it first.")
        return render(COMPLETE, "form", 409, tp=tp, form=form)
    if not form.validate():
        return render(COMPLETE, "form", 422, tp=tp, form=form)
    db.session.add(
        CallLog(
            account_id=tp.account_id,
            touchpoint_id=tp.id,
            user_id=current_user.id,
            call_type_id=form.call_type.data,
            called_on=form.called_on.data,
            duration_minutes=form.duration_minutes.data,
            notes=form.notes.data,
            contact_id=form.contact_id.data or None,
            # What the call completed, recorded now: Team health's "on time" reads it.
            completed_next_call=tp.next_call,
        )
    )
    # The call moves the schedule on now, so abandoning step two loses nothing.
    tp.last_call, tp.next_call = after_call(
        tp.last_call, tp.next_call, tp.frequency_days, form.called_on.data
    )
    db.session.flush()
    message = (
        f"Call logged for {tp.account.name}. Next Call {day_words(tp.next_call)}: "
        "change it below, or press Done."
    )
    if not request.htmx:
        flash(message, "info")
        return redirect(url_for(".edit", touchpoint_id=tp.id, logged=1), 303)
    form = TouchpointForm(formdata=None, obj=tp)
    return changed(render_block(FORM, "form", tp=tp, form=form, logged=True), message)


@bp.route("/<int:touchpoint_id>/edit", methods=["GET", "POST"])
@write
@versioned
def edit(touchpoint_id):
    """Reschedule or update a touchpoint; a change based on an older version is refused (409)."""
    tp = touchpoint_or_404(
        current_user, touchpoint_id, for_update=request.method == "POST", change=True
    )
    # Step two of Complete (?logged=1) stays step two, its failures included.
    logged = "logged" in request.args
    if request.method == "GET":
        form = TouchpointForm(obj=tp)
        return render(FORM, "form", tp=tp, form=form, logged=logged)
    form = TouchpointForm()
    if not form.validate():
        return render(FORM, "form", 422, tp=tp, form=form, logged=logged)
    if form.version.data != str(tp.version):
        return conflict(tp, form, logged)
    if tp.inactive and not form.inactive.data and has_other_active(tp):
        form.inactive.errors.append(
            "This account already has an active touchpoint; set that one inactive first."
        )
        return render(FORM, "form", 409, tp=tp, form=form, logged=logged)
    form.apply_to(tp)
    db.session.flush()
    today = user_today()
    message = saved_message(tp, today)
    if not request.htmx:
        flash(message, "info")
        return redirect(url_for(".show", touchpoint_id=tp.id), 303)
    card = render_block("touchpoints/show.html", "card", tp=tp, today=today, actions=True)
    return changed(card, message)


def saved_message(tp, today):
    """What the status line says once a touchpoint is saved."""
    if tp.inactive:
        return f"{tp.account.name}: touchpoint set inactive."
    return (
        f"{tp.account.name}: Next Call {day_words(tp.next_call)} "
        f"({due_label(tp.next_call, today).replace(' · ', ', ')})."
    )


def has_other_active(tp):
    return (
        db.session.scalar(
            select(Touchpoint.id).where(
                Touchpoint.account_id == tp.account_id, ~Touchpoint.inactive, Touchpoint.id != tp.id
            )
        )
        is not None
    )


CONFLICT_FIELDS = ("last_call", "frequency_days", "next_call", "comment", "inactive")


def conflict(tp, submitted, logged=False):
    """409: the form again on the server's current version, with what changed beside each field."""
    form = TouchpointForm(obj=tp, formdata=None)
    for name in CONFLICT_FIELDS:
        theirs, yours = getattr(tp, name), submitted[name].data
        if name == "next_call" and yours is None:
            yours = next_call(submitted.last_call.data, submitted.frequency_days.data)
        if theirs != yours:
            if isinstance(yours, date):
                yours = day_words(yours)
            form[name].errors = [f"Changed meanwhile to this value; you had {yours or '—'}."]
    form.form_errors.append(
        "Someone changed this touchpoint while you were editing. "
        "The form now shows their values; change what you still need and save."
    )
    return render(FORM, "form", 409, tp=tp, form=form, logged=logged)
