"""*Why not …?* on a stop left out for want of time: the rest of the day re-made with it forced
in, what that pushes out and when the day would end (GET), and that plan taken (POST)."""

import re

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from tpweb.domain.plan import NO_TIME
from tpweb.domain.saved_plans import LEFT_OUT, accept, why_not
from tpweb.web.plan import bp
from tpweb.web.plan.views import (
    begin_of,
    new_form,
    own_stop_or_404,
    page,
    sent_position,
    travel_options,
)
from tpweb.web.writes import write

# The proposal's stops as posted back: ids, comma-separated; a day holds far fewer than 200.
ORDER = re.compile(r"\d{1,10}(,\d{1,10}){0,199}")
BLOCK = "why_not"


def left_out_stop_or_404(stop_id):
    """A stop of the rep's plan of today left out for want of time, or a 404."""
    stop = own_stop_or_404(stop_id)
    if stop.status != LEFT_OUT or stop.left_out_why != NO_TIME:
        abort(404)
    return stop


@bp.route("/stops/<int:stop_id>/why-not", methods=["GET", "POST"])
@write
def why_not_stop(stop_id):
    """GET: the day re-made with this stop in, and what it pushes out. POST: take that day."""
    stop = left_out_stop_or_404(stop_id)
    plan, values = stop.plan, request.values
    position = sent_position(values)
    options = {"begin": begin_of(plan), "position": position, "travel": travel_options()}
    if request.method == "POST":
        order = values.get("order", "")
        if not ORDER.fullmatch(order):
            return answer(stop, None, position, 422, "That plan is not one shown here.")
        if not accept(plan, stop, [int(key) for key in order.split(",")], **options):
            return answer(
                stop, None, position, 409, "The day has changed since: ask Why not? again."
            )
        return redirect(url_for(".index"), 303)
    seconds = current_app.config["TPWEB_PLAN_SECONDS"]
    return answer(stop, why_not(plan, stop, search_seconds=seconds, **options), position)


def answer(stop, proposal, position, status=200, error=None):
    """The plan page with the proposal (or `error`) under the stop; only that for htmx."""
    user = current_user
    plan = stop.plan
    return page(
        user,
        plan,
        new_form(user, plan),
        status,
        BLOCK,
        asked=stop,
        proposal=proposal,
        why_not_error=error,
        position=position,
    )
