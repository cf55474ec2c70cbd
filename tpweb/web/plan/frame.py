"""The plan's map: its own document built by folium, as the touchpoints map is (see
tpweb/web/touchpoints/map.py for why), with numbered pins and the route drawn between them.

The stops go to the browser as one JSON block; static/plan-frame.js reads it with textContent and
builds the pins (numbers and names as text, never HTML) and the route line.
"""

from flask import abort, make_response, url_for
from flask_login import current_user
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from tpweb.domain.saved_plans import done_accounts, route_of
from tpweb.extensions import db
from tpweb.models import Plan
from tpweb.web.assets import LEAFLET
from tpweb.web.plan import bp
from tpweb.web.security import allow_inline_scripts

CONFIG = Markup('<div id="tp-plan-config" hidden data-tiles="{}"></div>')
STOPS = Markup('<script type="application/json" id="tp-plan-rows">{}</script>')


@bp.get("/<int:plan_id>/map")
def frame(plan_id):
    """The plan's map: the start, each stop numbered in order (done ones ticked), the route."""
    plan = db.session.get(Plan, plan_id)
    if plan is None or not (current_user.is_manager or plan.rep_id == current_user.id):
        abort(404)
    done = done_accounts(plan)
    start = [round(plan.start_latitude, 5), round(plan.start_longitude, 5)]
    stops = [
        {
            "n": stop.position,
            "lat": round(stop.account.latitude, 5),
            "lon": round(stop.account.longitude, 5),
            "name": stop.account.name,
            "done": stop.status == "done" or stop.account_id in done,
        }
        for stop in route_of(plan)
    ]
    rows = {"start": start, "stops": stops, "back": plan.end_mode == "start"}
    response = make_response(build(rows))
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return allow_inline_scripts(response)


def build(rows):
    """The whole HTML document of the plan's map, with no address outside the app."""
    from tpweb.web.map_document import Raw, add_tiles, document, new_map

    fmap = new_map("Plan map", static("icons/icon-192.png"), location=rows["start"], zoom_start=12)
    fmap.default_js = [
        ("leaflet", static(LEAFLET + "leaflet.js")),
        ("tpweb_plan", static("plan-frame.js")),
    ]
    fmap.default_css = [
        ("leaflet_css", static(LEAFLET + "leaflet.css")),
        ("tpweb_map_css", static("map-frame.css")),
    ]
    tile_url = add_tiles(fmap)
    points = [rows["start"]] + [[s["lat"], s["lon"]] for s in rows["stops"]]
    fmap.fit_bounds(
        [[min(p[0] for p in points), min(p[1] for p in points)],
         [max(p[0] for p in points), max(p[1] for p in points)]],
        padding=(28, 28),
        max_zoom=15,
    )  # fmt: skip
    config = CONFIG.format("1" if tile_url else "")
    fmap.get_root().html.add_child(Raw(config))
    fmap.get_root().html.add_child(Raw(STOPS.format(htmlsafe_json_dumps(rows))))
    return document(fmap)


def static(filename):
    return url_for("static", filename=filename)
