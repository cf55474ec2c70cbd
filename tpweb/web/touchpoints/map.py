"""The widget's Map view: the page, the map's own document built by folium, one marker's data.

The map lives in its own document (/touchpoints/map-frame, shown in an iframe) so that the only
inline script anywhere is the one folium writes, on that one route: the app's pages keep nothing
but script files, and a Content-Security-Policy can treat the frame on its own. Marker data goes
to the browser as JSON rows (FastMarkerCluster); static/map-frame.js builds pins and popups from
them with textContent, because folium writes popup and tooltip text raw into HTML and into
JavaScript template literals. Leaflet and the cluster plugin come from static/vendor/.
"""

from flask import jsonify, make_response, url_for
from flask_login import current_user
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from tpweb.domain.markers import (
    MAP_LABELS,
    MAP_STATES,
    UPCOMING_DAYS,
    bounds,
    marker_row,
)
from tpweb.domain.reach import TO_LOCATION
from tpweb.domain.scope import touchpoint_or_404
from tpweb.domain.touchpoints import LOCATED, map_counts, map_rows
from tpweb.extensions import db
from tpweb.models import Touchpoint
from tpweb.web.assets import CLUSTER, LEAFLET
from tpweb.web.pages import render, user_today
from tpweb.web.security import allow_inline_scripts
from tpweb.web.touchpoints import bp
from tpweb.web.widget import chosen_rep, position_arg

MAP = "touchpoints/map.html"
# The page lists this many touchpoints without a location; the list view has them all.
NO_LOCATION_SHOWN = 50
# Where a map with no marker opens: the whole world, until Near me says otherwise.
WORLD = (20.0, 0.0)
NEAR_ZOOM = 13


def map_page(rep_id):
    """The Map view: legend, the map's frame, a panel for Complete and Reschedule, no-location."""
    today = user_today()
    near = position_arg()
    found = map_counts(current_user, today, rep_id)
    counts = {state: found.get(state, 0) for state in MAP_STATES}
    shown = map_rows(current_user, rep_id).where(~LOCATED).limit(NO_LOCATION_SHOWN)
    unlocated = db.session.execute(shown).all()
    position = {"lat": near[0], "lon": near[1]} if near else {}
    return render(
        MAP,
        "widget",
        rep_id=rep_id,
        today=today,
        counts=counts,
        labels=MAP_LABELS,
        upcoming_days=UPCOMING_DAYS,
        unlocated=unlocated,
        more_unlocated=max(0, found.get("unlocated", 0) - NO_LOCATION_SHOWN),
        frame_url=url_for(".map_frame", rep=rep_id, **position),
    )


@bp.get("/map-frame")
def map_frame():
    """The map's own document: Leaflet from static/, one JSON row per located touchpoint."""
    rep_id = chosen_rep()
    near = position_arg()
    today = user_today()
    rows = db.session.execute(map_rows(current_user, rep_id).where(LOCATED)).all()
    show_rep = current_user.is_manager and rep_id is None
    markers = [marker_row(row, today, show_rep) for row in rows]
    response = make_response(build_map(markers, bounds(rows), near, today, show_rep))
    # Framed by the app's own pages only; folium's inline scripts, and no others, may run.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return allow_inline_scripts(response)


@bp.get("/<int:touchpoint_id>/marker")
def marker(touchpoint_id):
    """One marker's row, fresh after Complete or Reschedule; null once it is off the map."""
    touchpoint_or_404(current_user, touchpoint_id)
    query = map_rows(current_user).where(Touchpoint.id == touchpoint_id, LOCATED)
    row = db.session.execute(query).first()
    today = user_today()
    return jsonify(marker_row(row, today, current_user.is_manager) if row else None)


def build_map(markers, box, near, today, show_rep):
    """The whole HTML document of a folium map of `markers`, with no address outside the app."""
    from tpweb.web.map_document import Raw, RowsMarkerCluster, add_tiles, document, new_map

    fmap = new_map(
        "Touchpoints map",
        static("icons/icon-192.png"),
        location=near or WORLD,
        zoom_start=NEAR_ZOOM if near else 2,
    )
    # Folium's class-level lists name CDNs. Lists set on the instances replace them for this map
    # only; changing the class's lists would change every map this process builds.
    fmap.default_js = [("leaflet", static(LEAFLET + "leaflet.js"))]
    fmap.default_css = [("leaflet_css", static(LEAFLET + "leaflet.css"))]
    tile_url = add_tiles(fmap)
    cluster = RowsMarkerCluster(
        [],
        # Both named functions live in static/map-frame.js, loaded before folium's script runs.
        callback="tpwebMap.marker",
        icon_create_function="tpwebMap.clusterIcon",
        control=False,
        show_coverage_on_hover=False,
        max_cluster_radius=50,
        spiderfy_on_max_zoom=True,
        chunked_loading=True,
    )
    cluster.default_js = [
        ("markercluster", static(CLUSTER + "leaflet.markercluster.js")),
        ("tpweb_map", static("map-frame.js")),
    ]
    cluster.default_css = [
        ("markercluster_css", static(CLUSTER + "MarkerCluster.css")),
        ("tpweb_map_css", static("map-frame.css")),
    ]
    cluster.add_to(fmap)
    if box and not near:
        fmap.fit_bounds(box, padding=(28, 28), max_zoom=15)
    fmap.get_root().html.add_child(Raw(frame_config(today, near, tile_url, show_rep)))
    fmap.get_root().html.add_child(Raw(MARKER_ROWS.format(htmlsafe_json_dumps(markers))))
    return document(fmap)


# htmlsafe_json_dumps escapes <, >, & and ', so nothing in a row can close the block.
MARKER_ROWS = Markup('<script type="application/json" id="tp-marker-rows">{}</script>')


def frame_config(today, near, tile_url, show_rep):
    """The map script's settings, as data attributes: dates and the app's own URLs, escaped."""
    return Markup(
        '<div id="tp-map-config" hidden data-today="{}" data-near="{}" data-tiles="{}"'
        ' data-show-rep="{}" data-customer-url="{}" data-jobsite-url="{}"'
        ' data-complete-url="{}" data-edit-url="{}" data-directions-url="{}"></div>'
    ).format(
        today.isoformat(),
        f"{near[0]},{near[1]}" if near else "",
        "1" if tile_url else "",
        "1" if show_rep else "",
        # Templates for the script: it puts a touchpoint's or an account's id in place of the 0.
        url_for("accounts.show", kind="customer", account_id=0),
        url_for("accounts.show", kind="jobsite", account_id=0),
        url_for(".complete", touchpoint_id=0),
        url_for(".edit", touchpoint_id=0),
        TO_LOCATION,
    )


def static(filename):
    return url_for("static", filename=filename)
