"""The touchpoint widget as a request asks for it: whose list (?rep=), which tab and page, near
where; and its cards' link patterns. Shared by the areas that show the widget (the dashboard, the
touchpoints list and map, a Sales Rep page)."""

from typing import NamedTuple

from flask import abort, current_app, request
from flask_login import current_user

from tpweb.domain.markers import parse_position
from tpweb.domain.reach import account_reach, contact_reach, reach
from tpweb.domain.schedule import DUE_STATES
from tpweb.domain.scope import rep_or_404
from tpweb.domain.touchpoints import Card, widget_counts, widget_page
from tpweb.models import ACCOUNT_KINDS
from tpweb.web.pages import choice_arg, int_arg, url_pattern, user_today


def init_app(app):
    app.add_template_global(card_urls)
    app.add_template_global(reach_of)
    app.add_template_global(account_reach)
    app.add_template_global(contact_reach)
    app.add_template_global(reach, "reach_for")


def reach_of(tp):
    """A card's Call, Text, Email and Directions: a list's Card carries them from its query; a
    touchpoint loaded alone (its own page, its account's) has them from its account."""
    return tp.reach if isinstance(tp, Card) else account_reach(tp.account)


def position_arg():
    """Near me's (lat, lon) from the query string, or None; anything else is a 400."""
    try:
        return parse_position(request.args.get("lat", ""), request.args.get("lon", ""))
    except ValueError as error:
        abort(400, str(error))


class CardUrls(NamedTuple):
    """The %-patterns of a card's links (templates/touchpoints/card.html), for its id."""

    complete: str
    edit: str
    show: str
    accounts: dict


def card_urls():
    """The card's link patterns, for a list of cards (each built once per request by
    url_pattern)."""
    return CardUrls(
        url_pattern("touchpoints.complete", "touchpoint_id"),
        url_pattern("touchpoints.edit", "touchpoint_id"),
        url_pattern("touchpoints.show", "touchpoint_id"),
        {kind: url_pattern("accounts.show", "account_id", kind=kind) for kind in ACCOUNT_KINDS},
    )


def tabs_context(rep_id=None):
    """What the widget's tabs show: which is chosen, whose list, near where, and the counts."""
    today = user_today()
    near = position_arg()
    return {
        "state": choice_arg("state", DUE_STATES),
        "today": today,
        "rep_id": rep_id,
        # Carried by the tabs and Show more, so Near me's order survives them.
        "near": {"lat": near[0], "lon": near[1]} if near else {},
        "counts": widget_counts(current_user, today, rep_id=rep_id),
    }


def widget_context(rep_id=None):
    """Everything the touchpoint widget shows, from the request's state and page."""
    tabs = tabs_context(rep_id)
    today, state = tabs["today"], tabs["state"]
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
        **tabs,
    }


def chosen_rep():
    """The sales rep a manager asked for with ?rep=, or None; a rep only ever sees their own
    list. Not a rep (a manager, an admin, a deactivated user): 404, as on the Sales Rep page."""
    rep_id = int_arg("rep")
    if rep_id is None or not current_user.is_manager:
        return None
    return rep_or_404(rep_id).id
