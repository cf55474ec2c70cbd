"""The widget's list, a touchpoint's card, Complete in two steps, Reschedule and Inactive."""

import re
from typing import NamedTuple

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from tpweb.domain.schedule import DUE_STATES, after_call, next_call
from tpweb.domain.scope import may_change, rep_or_404, touchpoint_or_404
from tpweb.domain.touchpoints import active_touchpoints, widget_counts, widget_page
from tpweb.extensions import db
from tpweb.models import ACCOUNT_KINDS, CallLog, CallLogType, Touchpoint
from tpweb.web.caching import revalidated, widget_lists
from tpweb.web.pages import choice_arg, int_arg, render, url_pattern, user_today
from tpweb.web.touchpoints import bp
from tpweb.web.touchpoints.forms import CallLogForm, TouchpointForm
from tpweb.web.touchpoints.map import map_page, position_arg
from tpweb.web.writes import write

WIDGET = "touchpoints/widget.html"
FORM = "touchpoints/form.html"
COMPLETE = "touchpoints/complete.html"


class CardUrls(NamedTuple):
    """The %-patterns of a card's links (templates/touchpoints/card.html), for its id."""

    complete: str
    edit: str
    show: str
    accounts: dict


@bp.app_template_global()
def card_urls():
    """The card's link patterns, for a list of cards (each built once per request by
    url_pattern)."""
    return CardUrls(
        url_pattern("touchpoints.complete", "touchpoint_id"),
        url_pattern("touchpoints.edit", "touchpoint_id"),
        url_pattern("touchpoints.show", "touchpoint_id"),
        {kind: url_pattern("accounts.show", "account_id", kind=kind) for kind in ACCOUNT_KINDS},
    )


def widget_context(rep_id=None):
    """Everything the touchpoint widget shows, from the request's state and page."""
    today = user_today()
    state = choice_arg("state", DUE_STATES)
    page = int_arg("page", 1, high=10_000)
    near = position_arg()
    items, more = widget_page(
        current_user,
        today,
        rep_id=rep_id,
        state=state,
        page=page,
        size=current_app.config["PAGE_SIZE"],
        near=near,
    )
    return {
        "items": items,
        "more": more,
        "page": page,
        "state": state,
        "today": today,
        "rep_id": rep_id,
        # Carried by the tabs and Show more, so Near me's order survives them.
        "near": {"lat": near[0], "lon": near[1]} if near else {},
        "counts": widget_counts(current_user, today, rep_id=rep_id),
    }


def chosen_rep():
    """The sales rep a manager asked for with ?rep=, or None; a rep only ever sees their own
    list. Not a rep (a manager, an admin, a deactivated user): 404, as on the Sales Rep page."""
    rep_id = int_arg("rep")
    if rep_id is None or not current_user.is_manager:
        return None
    return rep_or_404(rep_id).id


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
    return render_block(FORM, "next_call", form=form, idp=idp)


def contacts_at(account):
    """The active contacts a rep may have spoken to at an account: its customer's."""
    customer = account.customer if account.is_jobsite else account
    return [contact for contact in customer.contacts if contact.active]


def call_types():
    return db.session.scalars(
        select(CallLogType).where(CallLogType.active).order_by(CallLogType.position)
    ).all()


@bp.route("/<int:touchpoint_id>/complete", methods=["GET", "POST"])
@write
def complete(touchpoint_id):
    """Step one of Complete: the call log. Saved, it answers with step two, the touchpoint form."""
    tp = touchpoint_or_404(
        current_user, touchpoint_id, for_update=request.method == "POST", change=True
    )
    today = user_today()
    form = CallLogForm(call_types=call_types(), contacts=contacts_at(tp.account), today=today)
    if request.method == "GET":
        form.called_on.data = today
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
        )
    )
    # The call moves the schedule on now, so abandoning step two loses nothing.
    tp.last_call, tp.next_call = after_call(
        tp.last_call, tp.next_call, tp.frequency_days, form.called_on.data
    )
    db.session.flush()
    if not request.htmx:
        return redirect(url_for(".edit", touchpoint_id=tp.id, logged=1), 303)
    form = TouchpointForm(formdata=None, obj=tp)
    return render_block(FORM, "form", tp=tp, form=form, logged=True)


@bp.route("/<int:touchpoint_id>/edit", methods=["GET", "POST"])
@write
def edit(touchpoint_id):
    """Reschedule or update a touchpoint; a change based on an older version is refused (409)."""
    tp = touchpoint_or_404(
        current_user, touchpoint_id, for_update=request.method == "POST", change=True
    )
    if request.method == "GET":
        form = TouchpointForm(obj=tp)
        return render(FORM, "form", tp=tp, form=form, logged="logged" in request.args)
    form = TouchpointForm()
    if not form.validate():
        return render(FORM, "form", 422, tp=tp, form=form)
    if form.version.data != str(tp.version):
        return conflict(tp, form)
    if tp.inactive and not form.inactive.data and has_other_active(tp):
        form.inactive.errors.append(
            "This account already has an active touchpoint; set that one inactive first."
        )
        return render(FORM, "form", 409, tp=tp, form=form)
    apply(form, tp)
    db.session.flush()
    if not request.htmx:
        return redirect(url_for(".show", touchpoint_id=tp.id), 303)
    return render_block("touchpoints/show.html", "card", tp=tp, today=user_today(), actions=True)


def apply(form, tp):
    """Copy a valid touchpoint form onto `tp`; a blank Next Call is Last Call + Frequency."""
    tp.last_call = form.last_call.data
    tp.frequency_days = form.frequency_days.data
    tp.next_call = form.next_call.data or next_call(tp.last_call, tp.frequency_days)
    tp.comment = form.comment.data
    tp.inactive = form.inactive.data


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


def conflict(tp, submitted):
    """409: the form again on the server's current version, with what changed beside each field."""
    form = TouchpointForm(obj=tp, formdata=None)
    for name in CONFLICT_FIELDS:
        theirs, yours = getattr(tp, name), submitted[name].data
        if name == "next_call" and yours is None:
            yours = next_call(submitted.last_call.data, submitted.frequency_days.data)
        if theirs != yours:
            form[name].errors = [f"Changed meanwhile to this value; you had {yours or '—'}."]
    form.form_errors.append(
        "Someone changed this touchpoint while you were editing. "
        "The form now shows their values; change what you still need and save."
    )
    return render(FORM, "form", 409, tp=tp, form=form)
