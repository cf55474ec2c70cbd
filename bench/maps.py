"""B2: the map of a rep with 2,000 accounts, the app's against the same map built the naive way.

The app's map is two documents, both counted: the page (legend, panel, the iframe) and the map's
own document (folium's FastMarkerCluster fed JSON rows). The naive map is one folium document
with a folium.Marker and a folium.Popup per touchpoint, showing what the app's popup shows. Both
read the same rows with the same query, in the same process; time is the server's (the test
client, no network), each side warmed up once and timed as many times as the other, in turns;
bytes are the documents' (Leaflet's own files are cached by the browser and left out of both).
"""

import gzip
import html

import folium
import sqlalchemy as sa
from flask import url_for
from flask_login import login_user

from tpweb.domain.markers import map_state
from tpweb.domain.touchpoints import LOCATED as located
from tpweb.domain.touchpoints import map_rows
from tpweb.extensions import db
from tpweb.models import User
from tpweb.web.pages import user_today

from .database import bench_app
from .report import Row
from .timing import paired

REP, PASSWORD = "rep1", "tpweb-demo"
FASTER, SMALLER = 20, 0.25


def naive_map(rows, today):
    """One folium.Marker with an HTML popup per row, as folium's documentation shows."""
    fmap = folium.Map(location=[41.88, -87.9], zoom_start=10)
    for row in rows:
        e = html.escape
        popup = (
            f"<b>{e(row.name)}</b>"
            + (f"<br>Jobsite of {e(row.customer_name)}" if row.customer_name else "")
            + f"<br>Next Call {row.next_call:%a %b %-d, %Y} ({map_state(row.next_call, today)})"
            + f"<br>Last Call {row.last_call:%b %-d}"
            + (f"<br><i>{e(row.comment[:160])}</i>" if row.comment else "")
            + f'<br><a href="{url_for("touchpoints.complete", touchpoint_id=row.id)}">Complete</a>'
            + f' <a href="{url_for("touchpoints.edit", touchpoint_id=row.id)}">Reschedule</a>'
        )
        folium.Marker(
            [row.latitude, row.longitude], popup=folium.Popup(popup, max_width=300)
        ).add_to(fmap)
    return fmap.get_root().render()


def run(url, repeat):
    return rows(*measure(url, repeat))


def measure(url, repeat, server_cpu=None):
    """The app's map and the naive one, timed in turns: (Paired, the documents and their sizes).
    `server_cpu`: as for bench.timing.paired."""
    app = bench_app(url, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    client.post("/login", data={"username": REP, "password": PASSWORD})
    sizes = {}

    def app_map():
        page = client.get("/touchpoints?view=map")
        frame = client.get("/touchpoints/map-frame")
        assert page.status_code == frame.status_code == 200
        sizes["app"] = (page.data, frame.data)

    def naive():
        with app.test_request_context("/touchpoints?view=map"):
            user = db.session.scalar(sa.select(User).filter_by(username=REP))
            login_user(user)
            rows = db.session.execute(map_rows(user).where(located)).all()
            sizes["naive"] = naive_map(rows, user_today()).encode()
            sizes["markers"] = len(rows)
            db.session.remove()

    # Like for like: each side warmed up once, then both timed `repeat` times, in turns.
    return paired(app_map, naive, repeat, server_cpu=server_cpu), sizes


def rows(timed, sizes):
    figure, base = timed.action, timed.baseline
    app_bytes = sum(len(part) for part in sizes["app"])
    naive_bytes = len(sizes["naive"])
    zipped = sum(len(gzip.compress(part)) for part in sizes["app"])
    naive_zipped = len(gzip.compress(sizes["naive"]))
    speed, share = base / figure, app_bytes / naive_bytes
    what = f"map of {REP}, {sizes['markers']:,} located touchpoints"
    return [
        Row("B2", f"{what}: server time", f"{figure:.0f} ms (page + map document)",
            f"naive folium, one Marker + Popup each: {base:,.0f} ms", f"{speed:.0f}x faster",
            f">= {FASTER}x faster", speed >= FASTER,
            f"{timed.runs_note}; {timed.cpu_note(faster=True)}"),
        Row("B2", f"{what}: bytes", f"{app_bytes:,} B", f"naive: {naive_bytes:,} B",
            f"{share:.2f}", f"<= {SMALLER}", share <= SMALLER,
            f"gzipped: {zipped:,} B against {naive_zipped:,} B ({zipped / naive_zipped:.2f})"),
    ]  # fmt: skip
