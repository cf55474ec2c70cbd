"""The Map view: scoping, pin colours, no-location, Near me, safe user text, page size, no CDN."""

import base64
import hashlib
import html
import html.parser
import json
import os
import re
from datetime import timedelta

import folium
import pytest
from folium.plugins import FastMarkerCluster
from sqlalchemy import insert, select

from tpweb.config import OPENSTREETMAP_TILES, tile_url
from tpweb.domain.markers import map_state, parse_position
from tpweb.domain.reach import TO_LOCATION
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Touchpoint
from tpweb.web.security import allow_inline_scripts

from .factories import TEST_DATA

HTMX = {"HX-Request": "true"}
HOSTILE = "<img src=x onerror=alert(1)>${alert(2)}"
TILES = "https://tiles.example.net/{z}/{x}/{y}.png"
# Any absolute or scheme-relative address in a page.
ADDRESS = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?//[^\s"'<>)]+""", re.I)


def due_in(make, rep, today, days, name, lat=41.9, lon=-87.7, frequency=30, **fields):
    """A touchpoint of a new customer of `rep` at (lat, lon), due today + `days`."""
    customer = make.customer(rep=rep, name=name, latitude=lat, longitude=lon, **fields)
    last_call = today + timedelta(days=days - frequency)
    return make.touchpoint(customer, last_call=last_call, frequency_days=frequency)


def frame_of(client, page):
    """The map frame's document, from the iframe's address in the Map view's page."""
    src = re.search(r'<iframe class="map-frame" src="([^"]+)"', page).group(1)
    response = client.get(html.unescape(src))
    assert response.status_code == 200
    return response.text


MARKER_ROWS = re.compile(
    r'<script type="application/json" id="tp-marker-rows">(.*?)</script>', re.S
)


def marker_rows(frame):
    """The marker JSON in the frame's data block (folium's script reads it from there)."""
    return json.loads(MARKER_ROWS.search(frame).group(1))


def test_pin_colours_against_today():
    today = today_in("America/Chicago")
    assert map_state(today - timedelta(days=1), today) == "overdue"
    assert map_state(today, today) == "due-today"
    assert map_state(today + timedelta(days=7), today) == "upcoming"
    assert map_state(today + timedelta(days=8), today) == "later"


def test_map_shows_one_marker_per_located_touchpoint_of_the_rep(client, make, rep, today):
    due_in(make, rep, today, -2, "Late Co", lat=41.8, lon=-87.6)
    due_in(make, rep, today, 30, "Far Off Co", lat=41.7, lon=-87.9, frequency=40)
    due_in(make, make.rep(), today, -1, "Someone Elses Co")
    dropped = due_in(make, rep, today, -1, "Dropped Co")
    dropped.inactive = True
    db.session.commit()

    page = client.get("/touchpoints?view=map").text
    rows = marker_rows(frame_of(client, page))

    assert {(r[4], r[3]) for r in rows} == {("Late Co", "overdue"), ("Far Off Co", "later")}
    late = next(r for r in rows if r[4] == "Late Co")
    assert late[:2] == [41.8, -87.6]
    assert 'data-map-count="overdue">1<' in page and 'data-map-count="later">1<' in page
    assert "Someone Elses Co" not in page


def test_another_reps_accounts_are_absent_from_the_marker_json(client, make, rep, today):
    due_in(make, rep, today, 0, "Mine Co")
    other = make.rep()
    due_in(make, other, today, 0, "Theirs Co")

    frame = client.get(f"/touchpoints/map-frame?rep={other.id}").text

    assert [r[4] for r in marker_rows(frame)] == ["Mine Co"]
    assert "Theirs Co" not in frame


def test_a_manager_chooses_a_reps_map_with_rep(client, make, auth, today):
    ann, ben = make.rep(name="Ann"), make.rep(name="Ben")
    due_in(make, ann, today, 1, "Ann Co")
    due_in(make, ben, today, 1, "Ben Co")
    auth.login(make.manager())

    everyone = marker_rows(frame_of(client, client.get("/touchpoints?view=map").text))
    only_ben = client.get(f"/touchpoints?view=map&rep={ben.id}").text

    assert sorted((r[4], r[10]) for r in everyone) == [("Ann Co", "Ann"), ("Ben Co", "Ben")]
    assert f"rep={ben.id}" in only_ben
    assert [r[4] for r in marker_rows(frame_of(client, only_ben))] == ["Ben Co"]
    assert client.get("/touchpoints?view=map&rep=999999").status_code == 404


def test_the_switch_swaps_the_widget_for_htmx(client, make, rep, today):
    due_in(make, rep, today, 1, "Swap Co")

    fragment = client.get("/touchpoints?view=map", headers=HTMX).text

    assert "<html" not in fragment
    assert 'id="touchpoint-widget"' in fragment and "data-map-frame" in fragment
    assert 'aria-current="page">Map</a>' in fragment


def test_accounts_without_a_location_are_listed_beside_the_map(client, make, rep, today):
    due_in(make, rep, today, -3, "Nowhere Co", lat=None, lon=None)
    due_in(make, rep, today, 2, "Somewhere Co")

    page = client.get("/touchpoints?view=map").text

    no_location = page[page.index("No location") :]
    assert "Nowhere Co" in no_location and "Overdue 3 days" in no_location
    assert [r[4] for r in marker_rows(frame_of(client, page))] == ["Somewhere Co"]


def test_marker_json_is_fresh_scoped_and_null_once_off_the_map(client, make, rep, today):
    tp = due_in(make, rep, today, -1, "Fresh Co")
    theirs = due_in(make, make.rep(), today, -1, "Theirs Co")

    assert client.get(f"/touchpoints/{tp.id}/marker").json[3] == "overdue"
    tp.next_call = today + timedelta(days=3)
    db.session.commit()
    assert client.get(f"/touchpoints/{tp.id}/marker").json[3] == "upcoming"
    tp.inactive = True
    db.session.commit()
    assert client.get(f"/touchpoints/{tp.id}/marker").json is None
    assert client.get(f"/touchpoints/{theirs.id}/marker").status_code == 404


def test_near_me_orders_the_list_by_distance(client, make, rep, today):
    due_in(make, rep, today, -5, "Far Co", lat=42.3, lon=-88.3)
    due_in(make, rep, today, 9, "Near Co", lat=41.881, lon=-87.631)
    due_in(make, rep, today, -9, "Nowhere Co", lat=None, lon=None)
    due_in(make, rep, today, 1, "Middle Co", lat=41.95, lon=-87.75)

    page = client.get("/touchpoints?view=list&lat=41.88&lon=-87.63", headers=HTMX).text

    assert page.index("Near Co") < page.index("Middle Co") < page.index("Far Co")
    assert page.index("Far Co") < page.index("Nowhere Co")
    assert "Nearest first" in page
    # The tabs keep the order.
    assert "state=overdue&amp;lat=41.88&amp;lon=-87.63" in page


@pytest.mark.parametrize(
    "query",
    [
        "lat=41.9",
        "lon=-87.6",
        "lat=abc&lon=-87.6",
        "lat=91&lon=0",
        "lat=0&lon=-180.5",
        "lat=nan&lon=0",
        "lat=1e2&lon=0",
        "lat=inf&lon=0",
        "lat=41.9&lon=--87",
        "lat=" + "1" * 40 + "&lon=0",
    ],
)
@pytest.mark.parametrize("view", ["view=list", "view=map", "map-frame"])
def test_bad_lat_lon_is_400(client, rep, view, query):
    path = "/touchpoints/map-frame?" if view == "map-frame" else f"/touchpoints?{view}&"
    assert client.get(path + query).status_code == 400


def test_a_position_is_decimal_degrees_in_range():
    assert parse_position("", "") is None
    assert parse_position("-90", "180") == (-90.0, 180.0)
    assert parse_position("41.88123", "-87.6") == (41.88123, -87.6)


def test_near_me_centres_the_map(client, make, rep, today):
    due_in(make, rep, today, 1, "Centre Co")

    page = client.get("/touchpoints?view=map&lat=41.5&lon=-88.1").text
    frame = frame_of(client, page)

    assert "center: [41.5, -88.1]" in frame
    assert 'data-near="41.5,-88.1"' in frame
    assert "fitBounds" not in frame


def test_hostile_text_is_data_in_the_page_and_the_map(client, make, rep, today):
    due_in(make, rep, today, -1, HOSTILE)
    due_in(make, rep, today, -1, HOSTILE + " nowhere", lat=None, lon=None)
    tp = db.session.scalar(select(Touchpoint).join(Account).where(Account.name == HOSTILE))
    tp.comment = "`; alert(3); `" + HOSTILE
    db.session.commit()

    page = client.get("/touchpoints?view=map").text
    frame = frame_of(client, page)

    assert "<img" not in page and "<img" not in frame
    assert html.escape(HOSTILE + " nowhere", quote=False) in page
    # Outside the JSON strings there is no template literal, so no ${…} can ever run.
    data = MARKER_ROWS.search(frame).group(1)
    assert "`" not in frame.replace(data, "")
    row = marker_rows(frame)[0]
    assert row[4] == HOSTILE and row[8].startswith("`; alert(3); `")


class Scripts(html.parser.HTMLParser):
    """Each inline <script> of a document, as (type or None, its text as written)."""

    def __init__(self, document):
        super().__init__(convert_charrefs=False)
        self.found, self.open = [], None
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs:
            self.open = (attrs.get("type"), [])

    def handle_data(self, data):
        if self.open is not None:
            self.open[1].append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self.open is not None:
            self.found.append((self.open[0], "".join(self.open[1])))
            self.open = None


def allowed_hashes(response):
    return set(re.findall(r"'(sha256-[^']+)'", response.headers["Content-Security-Policy"]))


def sha256(text):
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_frame_lets_run_its_executable_inline_scripts_and_never_its_data(
    client, make, rep, today
):
    # A name that would be a script of its own were its block ever allowed to run.
    due_in(make, rep, today, -1, '"]; fetch("/admin/users"); //</script><script>alert(1)')

    response = client.get("/touchpoints/map-frame")

    scripts = Scripts(response.text).found
    runs = {sha256(text) for kind, text in scripts if kind in (None, "text/javascript")}
    data = {sha256(text) for kind, text in scripts if kind == "application/json"}
    assert runs and len(data) == 1
    assert allowed_hashes(response) == runs
    assert 'fetch(\\"/admin/users\\")' in MARKER_ROWS.search(response.text).group(1)


@pytest.mark.parametrize(
    ("script", "runs"),
    [
        ("<script>go()</script>", True),
        ('<script type="text/javascript">go()</script>', True),
        ("<script type=module>go()</script>", True),
        ("<script type=''>go()</script>", True),
        ('<script type="application/json">["go()"]</script>', False),
        ('<script type="application/ld+json">{"go": 1}</script>', False),
        ('<script type="text/template">go()</script>', False),
        ('<script data-type="x" type="text/plain">go()</script>', False),
        ('<script src="/static/app.js"></script>', False),
        ('<script data-src="x">go()</script>', True),
    ],
)
def test_only_scripts_a_browser_would_run_get_a_hash(app, script, runs):
    response = app.response_class(f"<!doctype html><html><body>{script}</body></html>")
    body = re.search(r"<script[^>]*>(.*?)</script>", script).group(1)

    assert allowed_hashes(allow_inline_scripts(response)) == ({sha256(body)} if runs else set())


def test_the_map_page_names_no_address_outside_the_app_but_the_tiles(
    client, app, make, rep, today, monkeypatch
):
    monkeypatch.setitem(app.config, "TPWEB_TILE_URL", TILES)
    due_in(make, rep, today, 1, "Tiled Co")

    page = client.get("/touchpoints?view=map").text
    frame = frame_of(client, page)

    assert TILES in frame
    # The popups' Directions link (a tap, not a request of the page's) is the one other address.
    outside = [a for doc in (page, frame) for a in ADDRESS.findall(doc) if a != TILES]
    assert outside == [html.escape(TO_LOCATION)]
    assert "/static/vendor/leaflet-1.9.4/leaflet.js" in frame
    assert "/static/vendor/leaflet.markercluster-1.5.3/leaflet.markercluster.js" in frame
    # Opened alone, the frame names the app's icon, or the browser asks for /favicon.ico.
    assert '<link rel="icon" href="/static/icons/icon-192.png">' in frame


def test_without_a_tile_url_the_map_has_no_tile_layer(client, make, rep, today):
    due_in(make, rep, today, 1, "Plain Co")

    frame = frame_of(client, client.get("/touchpoints?view=map").text)

    assert "tileLayer" not in frame and ADDRESS.findall(frame) == [html.escape(TO_LOCATION)]


@pytest.mark.parametrize(
    ("setting", "url"),
    [
        (None, OPENSTREETMAP_TILES),
        ("", OPENSTREETMAP_TILES),
        ("none", ""),
        (" NONE ", ""),
        ("https://tiles.example.com/{z}/{x}/{y}.png", "https://tiles.example.com/{z}/{x}/{y}.png"),
    ],
)
def test_streets_by_default_none_turns_them_off(monkeypatch, setting, url):
    if setting is None:
        monkeypatch.delenv("TPWEB_TILE_URL", raising=False)
    else:
        monkeypatch.setenv("TPWEB_TILE_URL", setting)
    assert tile_url(os.environ.get("TPWEB_TILE_URL", "")) == url


def test_openstreetmap_tiles_are_credited_allowed_and_sent_the_origin(
    client, app, make, rep, today, monkeypatch
):
    monkeypatch.setitem(app.config, "TPWEB_TILE_URL", OPENSTREETMAP_TILES)
    due_in(make, rep, today, 1, "Street Co")

    response = client.get("/touchpoints/map-frame")

    assert OPENSTREETMAP_TILES in response.text
    assert "OpenStreetMap contributors" in response.text
    assert '"referrerPolicy": "strict-origin-when-cross-origin"' in response.text
    assert "https://tile.openstreetmap.org" in response.headers["Content-Security-Policy"]


def test_folium_class_level_asset_lists_are_left_alone(client, make, rep, today):
    due_in(make, rep, today, 1, "Class Co")
    client.get("/touchpoints/map-frame")

    for cls in (folium.Map, FastMarkerCluster):
        urls = [url for _, url in cls.default_js + cls.default_css]
        assert urls and all(url.startswith("https://") for url in urls)


def test_two_thousand_accounts_make_a_page_of_a_few_hundred_kilobytes(client, make, rep, today):
    """Realistic names, a third with comments; clustered JSON rows, not one folium.Marker each."""
    n = 2000
    accounts = db.session.scalars(
        insert(Account).execution_options(**TEST_DATA).returning(Account.id),
        [
            {
                "kind": "customer",
                "name": f"Prairie Ridge Plumbing & Heating {i:04d} LLC",
                "latitude": 41.5 + (i % 97) / 100,
                "longitude": -88.4 + (i // 97) / 30,
                "sales_rep_id": rep.id,
            }
            for i in range(n)
        ],
    ).all()
    db.session.execute(
        insert(Touchpoint).execution_options(**TEST_DATA),
        [
            {
                "account_id": account_id,
                "last_call": today - timedelta(days=i % 40),
                "frequency_days": 30,
                "next_call": today + timedelta(days=30 - i % 40),
                "comment": "Spouse Rosa; kids Dan and Amy. Cubs fan, third-base side."
                if i % 3 == 0
                else "",
            }
            for i, account_id in enumerate(accounts)
        ],
    )
    db.session.commit()

    page = client.get("/touchpoints?view=map")
    frame = client.get("/touchpoints/map-frame")

    assert len(marker_rows(frame.text)) == n
    assert len(page.data) < 20_000
    assert 150_000 < len(frame.data) < 400_000


def test_template_syntax_in_a_name_or_comment_is_never_evaluated(client, make, rep, today):
    # folium's renderer compiles what it renders as a Jinja template: rows written into its
    # script ran "{{ ... }}" on the server (and Jinja's globals reach os). They are data now.
    due_in(make, rep, today, 1, "Acme {{ 'ev' ~ 'aluated' }}")
    tp = db.session.scalar(select(Touchpoint))
    tp.comment = "{% raw %}{# {{ cycler.__init__.__globals__.os.getcwd() }}"
    db.session.commit()

    frame = frame_of(client, client.get("/touchpoints?view=map").text)

    assert "evaluated" not in frame and os.getcwd() not in frame
    row = marker_rows(frame)[0]
    assert row[4] == "Acme {{ 'ev' ~ 'aluated' }}" and row[8] == tp.comment


def test_a_pin_carries_its_number_and_email_as_data_for_the_popups_links(client, make, rep, today):
    tp = due_in(make, rep, today, 1, "Call Co", phone='javascript:alert(1)//+1 312 555 0100"')
    make.contact(tp.account, name="Amy", email='amy"<b>@call.example')
    due_in(make, rep, today, 2, "Quiet Co")

    frame = frame_of(client, client.get("/touchpoints?view=map").text)
    rows = {row[4]: row[11:] for row in marker_rows(frame)}

    # The popup writes "tel:", "sms:" or "mailto:" before them, and Directions from the pin.
    assert rows == {
        "Call Co": ["113125550100", "amy%22%3Cb%3E@call.example"],
        "Quiet Co": ["", ""],
    }
    assert f'data-directions-url="{html.escape(TO_LOCATION)}"' in frame
    assert client.get(f"/touchpoints/{tp.id}/marker").json[11:] == rows["Call Co"]
