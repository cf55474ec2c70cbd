"""Plan my day through its pages: what a plan holds (never another rep's account), Skip and
moving stops, completing one, bad input, hostile text, a manager's read, and OSRM drive times
from a stub server on loopback."""

import http.server
import json
import re
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tpweb.domain import routing
from tpweb.extensions import db
from tpweb.models import Plan, PlanStop, User

from .conftest import snapshot
from .plan_form import FORM, HOSTILE


@pytest.fixture
def day(make, rep, today, boss):
    """Rita's week, near HERE: two overdue, one due today, one next week, one without a
    location, a customer with only an open task; and the boss's other rep's overdue account."""
    near = lambda n: {"latitude": 41.88 + n / 100, "longitude": -87.63 + n / 200}  # noqa: E731
    accounts = {}
    for n, (name, due_in) in enumerate(
        [("Late Co", -12), ("Later Co", -3), ("Today Co", 0), ("Soon Co", 5)], 1
    ):
        accounts[name] = make.customer(rep=rep, name=name, phone=f"555-010{n}", **near(n))
        make.touchpoint(
            accounts[name], last_call=today + timedelta(days=due_in - 30), frequency_days=30
        )
    nowhere = make.customer(rep=rep, name="Nowhere Co")
    make.touchpoint(nowhere, last_call=today - timedelta(days=40), frequency_days=30)
    tasked = make.customer(rep=rep, name="Task Co", **near(5))
    contact = make.contact(tasked, name="Tess")
    make.record(contact, rep, response_required=True, description="quote", date_due=today)
    other = make.rep(name="Otto Other", manager=boss)
    theirs = make.customer(rep=other, name="Otto's Co", **near(1))
    make.touchpoint(theirs, last_call=today - timedelta(days=60), frequency_days=30)
    # A task assigned to Rita on Otto's customer: still Otto's account, never on her plan.
    make.record(make.contact(theirs), rep, response_required=True, description="their task",
                date_due=today)  # fmt: skip
    return {"accounts": accounts, "nowhere": nowhere, "tasked": tasked, "theirs": theirs,
            "other": other}  # fmt: skip


def names(page):
    return re.findall(r'<li class="plan-stop[^"]*" data-stop="\d+">.*?<strong><a [^>]+>(.*?)</a>',
                      page, re.S)  # fmt: skip


def stops(rep):
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    return sorted(
        (s for s in plan.stops if s.position), key=lambda s: s.position
    ) if plan else []  # fmt: skip


def test_the_plan_holds_the_reps_own_due_accounts_in_order_with_why(client, rep, day):
    assert 'href="/plan"' in client.get("/").text
    response = client.post("/plan", data=FORM)
    assert response.status_code == 303, response.text
    page = client.get("/plan").text
    shown = names(page)
    assert set(shown) == {"Late Co", "Later Co", "Today Co", "Soon Co", "Task Co"}
    assert "Otto" not in page and "their task" not in page
    assert "overdue 12 days" in page and "due today" in page and "open task: quote" in page
    assert re.search(r"Nowhere Co</a>\s*<span class=\"badge badge--left-out\">no location", page)
    arrivals = re.findall(r"Arrive (\d\d:\d\d)", page)
    assert arrivals == sorted(arrivals) and arrivals[0] > "08:00"
    saved = stops(rep)
    assert [s.account.name for s in saved] == shown
    assert {s.account.sales_rep_id for s in db.session.scalars(select(PlanStop))} == {rep.id}


def test_navigate_links_carry_the_stops_in_order_and_call_and_directions_are_there(
    client, rep, day
):
    client.post("/plan", data=FORM)
    page = client.get("/plan").text
    link = re.search(r'href="(https://www.google.com/maps/dir/[^"]+)"[^>]*data-navigate', page)
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    route = [f"{s.account.latitude:.6f},{s.account.longitude:.6f}" for s in stops(rep)]
    assert query["waypoints"][0].split("|") == route
    assert query["origin"] == query["destination"] == ["41.880000,-87.630000"]
    assert 'href="tel:555-0101"' in page and "maps.apple.com" in page
    assert page.count(">Directions<") == len(route)


def test_skip_re_plans_the_rest_and_keeps_what_is_done(client, rep, day, make, today):
    client.post("/plan", data=FORM)
    first, second, *rest = stops(rep)
    phone = make.call_type("Visit")
    # Completing the first stop's touchpoint (step one, the call log) ticks it off.
    response = client.post(
        f"/touchpoints/{first.touchpoint_id or second.touchpoint_id}/complete",
        data={
            "called_on": today.isoformat(),
            "duration_minutes": "20",
            "call_type": str(phone.id),
            "contact_id": "0",
            "notes": "",
        },  # fmt: skip
    )
    assert response.status_code == 303
    done_name = first.account.name if first.touchpoint_id else second.account.name
    page = client.get("/plan").text
    assert re.search(r'plan-stop--done" data-stop="\d+">.*?' + re.escape(done_name), page, re.S)
    # Skip the next stop not done: it is listed as skipped, the rest planned again.
    skipped = second if first.touchpoint_id else first
    response = client.post(f"/plan/stops/{skipped.id}", data={"action": "skip"})
    assert response.status_code == 303
    page = client.get("/plan").text
    assert skipped.account.name not in names(page)
    assert re.search(re.escape(skipped.account.name) + r'</a>\s*<span class="badge '
                     r'badge--left-out">skipped', page)  # fmt: skip
    assert names(page)[0] == done_name
    db.session.expire_all()
    assert [s.status for s in stops(rep)][0] == "done"
    assert [s.position for s in stops(rep)] == list(range(1, len(stops(rep)) + 1))
    # The rest fits the hours: the last visit ends, and the drive back arrives, by 17:00.
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    assert stops(rep)[-1].arrival + 30 * 60 <= plan.ends_at <= 17 * 3600


def test_moving_a_stop_down_swaps_it_with_the_next_and_retimes_the_day(client, rep, day):
    client.post("/plan", data=FORM)
    before = [s.account.name for s in stops(rep)]
    first = stops(rep)[0]
    assert client.post(f"/plan/stops/{first.id}", data={"action": "down"}).status_code == 303
    db.session.expire_all()
    after = [s.account.name for s in stops(rep)]
    assert after[:2] == [before[1], before[0]] and after[2:] == before[2:]
    arrivals = [s.arrival for s in stops(rep)]
    assert arrivals == sorted(arrivals)
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    assert plan.ends_at <= 17 * 3600


def test_a_rep_cannot_open_or_change_another_reps_plan(client, rep, day, make, auth):
    client.post("/plan", data=FORM)
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    stop_id = stops(rep)[0].id
    auth.logout()
    auth.login(day["other"])
    assert client.get(f"/plan/{plan.id}/map").status_code == 404
    assert client.get(f"/plan/reps/{rep.id}").status_code == 404
    before = snapshot(Plan, PlanStop)
    assert client.post(f"/plan/stops/{stop_id}", data={"action": "skip"}).status_code == 404
    assert snapshot(Plan, PlanStop) == before
    assert "Late Co" not in client.get("/plan").text


def test_a_manager_reads_a_reps_plan_of_today(client, rep, day, auth, boss):
    client.post("/plan", data=FORM)
    auth.logout()
    auth.login(boss)
    assert f'href="/plan/reps/{rep.id}"' in client.get(f"/reps/{rep.id}").text
    page = client.get(f"/plan/reps/{rep.id}").text
    assert "Rita Rep’s plan" in page and "Late Co" in page
    assert "data-replan" not in page and "Plan again" not in page


def test_a_manager_plans_only_while_the_sales_rep_of_an_account(client, make, auth, boss):
    """Plans are of one's own accounts: the menu offers Plan to a manager who has some, and the
    page says why there is nothing to plan to one who has none."""
    auth.login(boss)
    page = client.get("/plan").text
    assert 'href="/plan"' not in client.get("/").text
    assert "none are yours" in page and 'href="/reps"' in page
    assert "data-plan-form" not in page
    make.customer(rep=boss, name="Boss's Own Co", latitude=41.9, longitude=-87.7)
    assert 'href="/plan"' in client.get("/").text
    page = client.get("/plan").text
    assert "data-plan-form" in page and "none are yours" not in page


def test_a_rep_is_offered_plan_even_with_nothing_to_plan(client, rep):
    assert 'href="/plan"' in client.get("/").text
    assert "data-plan-form" in client.get("/plan").text


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("day_ends", "07:00", "The day must end after it starts"),
        ("day_ends", "08:00", "The day must end after it starts"),
        ("day_starts", "25:00", "Enter a time as HH:MM"),
        ("day_ends", "noon", "Enter a time as HH:MM"),
        ("visit_minutes", "0", "A visit takes from 1 minute to 8 hours"),
        ("visit_minutes", "481", "A visit takes from 1 minute to 8 hours"),
        ("visit_minutes", "thirty", "Enter a whole number"),
        ("lat", "", "Your position is not known"),
        ("lat", "91", "Your position is not valid"),
        ("start", "home", "You have no home base yet"),
        ("end", "moon", "Choose where the day ends."),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(
    client, rep, day, field, value, error
):
    before = snapshot()
    data = {**FORM, field: value}
    if field == "lat" and not value:
        data["lon"] = ""
    response = client.post("/plan", data=data)
    assert response.status_code == 422
    assert error in response.text
    assert snapshot() == before


def test_hours_already_over_and_a_day_with_nothing_located_are_refused(
    client, rep, make, app, monkeypatch, today
):
    monkeypatch.setitem(app.config, "TPWEB_PLAN_NOW", "18:30")
    response = client.post("/plan", data=FORM)
    assert response.status_code == 422 and "It is past 17:00" in response.text
    monkeypatch.setitem(app.config, "TPWEB_PLAN_NOW", "07:00")
    nowhere = make.customer(rep=rep, name="Nowhere Co")
    make.touchpoint(nowhere, last_call=today - timedelta(days=31), frequency_days=30)
    before = snapshot()
    response = client.post("/plan", data=FORM)
    assert response.status_code == 422 and "has a location on the map" in response.text
    assert snapshot() == before


def test_the_home_base_from_settings_starts_the_day(client, rep, day):
    response = client.post("/settings/plan", data={
        "home_latitude": "41.95", "home_longitude": "-87.70", "day_starts": "09:00",
        "day_ends": "15:00"})  # fmt: skip
    assert response.status_code == 303
    page = client.get("/plan").text
    assert 'value="09:00"' in page and 'value="15:00"' in page
    response = client.post("/plan", data={**FORM, "start": "home", "lat": "", "lon": ""})
    assert response.status_code == 303
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    assert (plan.start_latitude, plan.start_longitude, plan.start_from) == (41.95, -87.7, "home")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"home_latitude": "41.9", "home_longitude": ""}, "Enter both as decimal degrees"),
        ({"day_starts": "18:00"}, "The day must end after it starts"),
        ({"day_ends": "5pm"}, "Enter a time as HH:MM"),
    ],
)
def test_bad_plan_defaults_are_refused(client, rep, data, error):
    good = {"home_latitude": "", "home_longitude": "", "day_starts": "08:00",
            "day_ends": "17:00"}  # fmt: skip
    before = snapshot(User)
    response = client.post("/settings/plan", data={**good, **data})
    assert response.status_code == 422 and error in response.text
    assert snapshot(User) == before


def test_hostile_names_and_tasks_are_escaped_on_the_page_and_in_the_map(client, rep, make, today):
    hostile = make.customer(rep=rep, name=HOSTILE, latitude=41.89, longitude=-87.62)
    make.touchpoint(hostile, last_call=today - timedelta(days=35), frequency_days=30)
    contact = make.contact(hostile)
    make.record(contact, rep, response_required=True, description=HOSTILE, date_due=today)
    assert client.post("/plan", data=FORM).status_code == 303
    page = client.get("/plan").text
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    frame = client.get(f"/plan/{plan.id}/map").text
    assert HOSTILE not in frame and "\\u003cimg src=x onerror=alert(1)\\u003e" in frame


def test_the_plan_and_its_map_are_kept_for_offline_use(client, rep, day):
    client.post("/plan", data=FORM)
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    kept = client.get("/offline/urls").get_json()["pages"]
    assert "/plan" in kept and f"/plan/{plan.id}/map" in kept


class StubOsrm(http.server.BaseHTTPRequestHandler):
    """An OSRM table service on loopback: every drive takes `seconds` (or fails as told)."""

    mode = "ok"
    seconds = 600.0
    asked = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        StubOsrm.asked.append(self.path)
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        size = len(self.path.split("/")[-1].split("?")[0].split(";"))
        table = [[0.0 if i == j else self.seconds for j in range(size)] for i in range(size)]
        table[0][size - 1] = None  # a pair it cannot route: estimated instead
        body = json.dumps({"code": "Ok", "durations": table}).encode()
        if self.mode == "garbage":
            body = b"<html>not json"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the slow answer's client gave up: as it should

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StubOsrm.mode, StubOsrm.asked = "ok", []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


POINTS = [(41.88, -87.63), (41.90, -87.65), (41.95, -87.70)]


def test_osrm_drive_times_are_used_and_a_pair_it_cannot_route_is_estimated(osrm):
    times = routing.travel_times(POINTS, routing_url=osrm, timeout=1)
    assert times.source == "road"
    assert times.seconds[1][2] == 600 and times.seconds[0][0] == 0
    assert times.seconds[0][2] == routing.estimated_seconds(POINTS)[0][2]
    assert StubOsrm.asked[0].startswith(
        "/table/v1/driving/-87.630000,41.880000;-87.650000,41.900000;-87.700000,41.950000"
    )


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
def test_a_failing_osrm_server_falls_back_to_the_estimate(osrm, mode):
    StubOsrm.mode = mode
    started = time.monotonic()
    times = routing.travel_times(POINTS, routing_url=osrm, timeout=0.5)
    assert times.source == "estimate"
    assert times.seconds == routing.estimated_seconds(POINTS)
    assert time.monotonic() - started < 1.4  # the timeout, not the server, decided


def test_a_plan_with_an_osrm_server_says_by_road(client, rep, day, app, osrm, monkeypatch):
    monkeypatch.setitem(app.config, "TPWEB_ROUTING_URL", osrm)
    StubOsrm.seconds = 300.0
    assert client.post("/plan", data=FORM).status_code == 303
    assert "km by road" in client.get("/plan").text
    monkeypatch.setitem(app.config, "TPWEB_ROUTING_URL", "http://127.0.0.1:9")  # nobody there
    assert client.post("/plan", data=FORM).status_code == 303
    assert "km (estimated)" in client.get("/plan").text
