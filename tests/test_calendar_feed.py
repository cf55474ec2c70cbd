"""The private calendar feed: made from Settings, read with no session, valid RFC 5545, events
that keep their UIDs and move their SEQUENCE, times right across DST, 304 when unchanged, and a
wrong, reset or turned-off secret answered 404 the same way."""

import html
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tpweb.domain.calendar_feed import calendar, items
from tpweb.domain.history import HOW, NOT_A_CHANGE
from tpweb.domain.saved_plans import replan, route_of
from tpweb.extensions import db
from tpweb.models import Plan, PlanStop, Touchpoint, TouchpointRecord, User

from .conftest import snapshot
from .day_plans import EIGHT, plan_day
from .ical import rfc5545_problems
from .signing_in import csrf_sign_in

LINK = re.compile(r'id="calendar-link" value="([^"]+)"')


def turn_on(client):
    """Turn the feed on from Settings; the path of the link it shows once."""
    response = client.post("/settings/reminders", data={"calendar_feed": "y"})
    assert response.status_code == 303
    page = client.get(response.location).text
    link = html.unescape(LINK.search(page).group(1))
    assert link.startswith("https://tpweb.example/calendar/") and link.endswith(".ics")
    return urlsplit(link).path


def events(body):
    return {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}


@pytest.fixture
def feed(app, client, rep):
    """Rita's feed path; read it with `app.test_client()` (no session)."""
    return turn_on(client)


@pytest.fixture
def world(make, rep, customer, contact, today):
    """Rita's touchpoints and tasks in and out of the feed's window, and Bob's."""
    site = make.jobsite(customer, rep=rep, name="North Yard")
    bob = make.rep(name="Bob Other")
    other = make.customer(rep=bob, name="Bob's Co")
    return {
        "due": make.touchpoint(customer, last_call=today - timedelta(days=30), frequency_days=30,
                               comment="Ask about the twins, Ana & Leo"),
        "site": make.touchpoint(site, last_call=today - timedelta(days=2), frequency_days=59),
        "far": make.touchpoint(make.customer(rep=rep, name="Far Away"), last_call=today,
                               frequency_days=61),
        "off": make.touchpoint(make.customer(rep=rep, name="Paused"), last_call=today,
                               frequency_days=5, inactive=True),
        "bobs": make.touchpoint(other, last_call=today, frequency_days=5),
        "task": make.record(contact, rep, response_required=True, description="Send the quote",
                            details="Two pallets", date_due=today - timedelta(days=3)),
        "answered": make.record(contact, rep, response_required=True, description="Old one",
                                date_due=today, responded_on=today, response_note="done"),
        "bobs_task": make.record(contact, bob, response_required=True, description="Bob's",
                                 date_due=today),
    }  # fmt: skip


def test_the_feed_lists_next_calls_and_open_tasks_with_their_links(app, feed, world, today):
    response = app.test_client().get(feed)
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    assert rfc5545_problems(response.data) == []
    found = events(response.data)
    due, site, task = world["due"], world["site"], world["task"]
    assert set(found) == {
        f"touchpoint-{due.id}@tpweb.example",
        f"touchpoint-{site.id}@tpweb.example",
        f"task-{task.id}@tpweb.example",
    }
    event = found[f"touchpoint-{due.id}@tpweb.example"]
    assert event["SUMMARY"] == "Next Call: Acme Fitness"
    assert event.decoded("DTSTART") == today
    assert event.decoded("DTEND") == today + timedelta(days=1)  # all day: the end is exclusive
    assert event["DESCRIPTION"].splitlines() == [
        "Customer: Acme Fitness",
        "Every 30 days",
        "Comment: Ask about the twins, Ana & Leo",
        f"Open in tpweb: https://tpweb.example/touchpoints/{due.id}",
    ]
    assert event["URL"] == f"https://tpweb.example/touchpoints/{due.id}"
    assert found[f"touchpoint-{site.id}@tpweb.example"]["SUMMARY"] == (
        "Next Call: North Yard (Acme Fitness)"
    )
    overdue = found[f"task-{task.id}@tpweb.example"]
    assert overdue["SUMMARY"] == "Task: Send the quote (Dana Freeze)"
    assert overdue.decoded("DTSTART") == today - timedelta(days=3)
    assert "Details: Two pallets" in overdue["DESCRIPTION"]
    assert overdue["URL"] == f"https://tpweb.example/contacts/{world['task'].contact_id}"
    assert not Calendar.from_ical(response.data).walk("VTODO")  # Google ignores VTODO


def test_polls_give_the_same_uids_and_bytes_and_a_change_moves_sequence(
    app, client, feed, world, today
):
    first = app.test_client().get(feed)
    again = app.test_client().get(feed)
    assert first.data == again.data  # DTSTAMP is the item's last change, not the poll's time
    due = world["due"]
    before = events(first.data)[f"touchpoint-{due.id}@tpweb.example"]
    moved = today + timedelta(days=5)
    response = client.post(
        f"/touchpoints/{due.id}/edit",
        data={"last_call": due.last_call.isoformat(), "frequency_days": "30",
              "next_call": moved.isoformat(), "comment": due.comment,
              "version": str(due.version)},
    )  # fmt: skip
    assert response.status_code == 303
    after = events(app.test_client().get(feed).data)
    event = after[f"touchpoint-{due.id}@tpweb.example"]  # the same UID, moved
    assert event.decoded("DTSTART") == moved
    assert event["SEQUENCE"] > before["SEQUENCE"]
    assert event.decoded("LAST-MODIFIED") >= before.decoded("LAST-MODIFIED")
    assert set(after) == set(events(first.data))


def test_an_unchanged_feed_is_answered_304_and_a_changed_one_200(app, client, feed, world):
    first = app.test_client().get(feed)
    tag = first.headers["ETag"]
    unchanged = app.test_client().get(feed, headers={"If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == tag
    task = world["task"]
    answer = {"responded_on": task.date_due.isoformat(), "response_note": "Sent"}
    client.post(f"/tasks/{task.id}/response", data=answer)
    changed = app.test_client().get(feed, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert f"task-{task.id}@" not in changed.text  # answered: out of the feed, so off the calendar


def test_the_etag_costs_a_fixed_number_of_statements(app, make, rep, feed, count_queries, today):
    customer = make.customer(rep=rep)
    make.touchpoint(customer, last_call=today, frequency_days=3)
    tag = app.test_client().get(feed).headers["ETag"]
    count_queries.clear()
    assert app.test_client().get(feed, headers={"If-None-Match": tag}).status_code == 304
    few = len(count_queries)
    contact = make.contact(customer)
    for n in range(40):
        make.touchpoint(make.customer(rep=rep), last_call=today, frequency_days=n + 1)
        make.record(contact, rep, response_required=True, date_due=today + timedelta(days=n))
    tag = app.test_client().get(feed).headers["ETag"]
    count_queries.clear()
    assert app.test_client().get(feed, headers={"If-None-Match": tag}).status_code == 304
    assert len(count_queries) == few <= 5


def test_a_plan_is_timed_in_the_users_zone_on_both_sides_of_each_dst_change(make):
    """America/New_York: clocks forward on 2026-03-08, back on 2026-11-01. A 09:00 stop is
    14:00 UTC on the day before the spring change and 13:00 on it; 13:00 the day before the
    autumn change and 14:00 on it, read through the feed's own VTIMEZONE."""
    rep = make.rep(name="Nia York", timezone="America/New_York")
    account = make.customer(rep=rep, name="Hudson Supply", address="1 Pier", city="New York")
    days = [date(2026, 3, 7), date(2026, 3, 8), date(2026, 10, 31), date(2026, 11, 1)]
    for day in days:
        plan = Plan(rep=rep, day=day, planned_by=rep, start_latitude=40.7, start_longitude=-74,
                    day_starts=480, day_ends=1020, visit_minutes=45)  # fmt: skip
        plan.stops.append(PlanStop(account_id=account.id, position=1, arrival=9 * 3600,
                                   why="overdue 3 days", visit_minutes=45))  # fmt: skip
        db.session.add(plan)
    db.session.commit()
    expected = {  # UTC hour of 09:00 local
        date(2026, 3, 7): 14, date(2026, 3, 8): 13, date(2026, 10, 31): 13, date(2026, 11, 1): 14,
    }  # fmt: skip
    for today in (date(2026, 3, 6), date(2026, 10, 30)):
        body = calendar(rep, today, items(rep, today), _urls, "tpweb.example")
        assert rfc5545_problems(body) == []
        parsed = Calendar.from_ical(body)
        [zone] = parsed.walk("VTIMEZONE")
        own = zone.to_tz(lookup_tzid=False)  # the VTIMEZONE's own rules, not the system's
        for event in parsed.walk("VEVENT"):
            start, end = event.decoded("DTSTART"), event.decoded("DTEND")
            assert event["DTSTART"].params["TZID"] == "America/New_York"
            assert (start.hour, start.minute, end - start) == (9, 0, timedelta(minutes=45))
            local = start.replace(tzinfo=own)
            assert local.astimezone(UTC).hour == expected[start.date()]
            assert event["SUMMARY"] == "Visit 1: Hudson Supply"
            assert event["LOCATION"] == "1 Pier, New York"
            assert event["UID"] == f"plan-{start.date().isoformat()}-{account.id}@tpweb.example"


def _urls(endpoint, **values):
    return f"https://tpweb.example/{endpoint}/{'/'.join(map(str, values.values()))}"


def test_the_day_plan_shows_as_timed_events_in_the_feed(app, make, rep, feed, customer, today):
    plan = Plan(rep=rep, day=today, planned_by=rep, start_latitude=41.9, start_longitude=-87.6,
                day_starts=480, day_ends=1020, visit_minutes=30)  # fmt: skip
    plan.stops.append(PlanStop(account_id=customer.id, position=1, arrival=10 * 3600 + 15 * 60,
                               why="due today\nopen task: quote"))  # fmt: skip
    db.session.add(plan)
    db.session.commit()
    body = app.test_client().get(feed).data
    assert rfc5545_problems(body) == []
    [event] = [e for e in events(body).values() if str(e["UID"]).startswith("plan-")]
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime.combine(
        today, datetime.min.time()
    ) + timedelta(hours=10, minutes=15)
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert event["DESCRIPTION"].splitlines()[:2] == ["due today", "open task: quote"]
    assert event["URL"] == f"https://tpweb.example/customers/{customer.id}"


def test_a_stop_a_replan_moves_gets_a_higher_sequence_and_a_later_last_modified(
    app, make, rep, feed, today
):
    """Three stops planned with each visit's own length (the plan has none); the second moved
    down the route: the two whose times changed count up, the first is as it was."""
    for n, lon in enumerate((-87.62, -87.61, -87.60), 1):
        account = make.customer(rep=rep, name=f"Near {n}", latitude=41.88, longitude=lon)
        make.touchpoint(account, last_call=today - timedelta(days=30), frequency_days=30)
    plan = plan_day(rep, today)
    assert plan.visit_minutes is None and len(route_of(plan)) == 3
    plan.planned_at -= timedelta(minutes=10)
    db.session.commit()
    before = plan_events(app.test_client().get(feed).data)
    assert sorted(str(e["SUMMARY"]) for e in before.values()) == [
        "Visit 1: Near 1", "Visit 2: Near 2", "Visit 3: Near 3",
    ]  # fmt: skip
    first, second, third = route_of(plan)
    replan(plan, begin=EIGHT, move=(second, +1))
    db.session.commit()
    assert [stop.id for stop in route_of(plan)] == [first.id, third.id, second.id]
    after = plan_events(app.test_client().get(feed).data)
    assert sorted(after) == sorted(before)  # the same UIDs: updated, never added
    for uid, event in after.items():
        was = before[uid]
        moved = event.decoded("DTSTART") != was.decoded("DTSTART")
        assert moved == (str(event["SUMMARY"]) != "Visit 1: Near 1"), uid
        if moved:
            assert event["SEQUENCE"] > was["SEQUENCE"]
            assert event.decoded("LAST-MODIFIED") > was.decoded("LAST-MODIFIED")
            assert event.decoded("DTSTAMP") == event.decoded("LAST-MODIFIED")
        else:
            assert event["SEQUENCE"] == was["SEQUENCE"]
            assert event.decoded("LAST-MODIFIED") == was.decoded("LAST-MODIFIED")
        assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)


def plan_events(body):
    assert rfc5545_problems(body) == []
    return {uid: e for uid, e in events(body).items() if uid.startswith("plan-")}


def test_hostile_text_stays_inside_its_property(app, make, rep, feed, today):
    hostile = "Line one\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil; x, y \\ <script>" + "é" * 80
    customer = make.customer(rep=rep, name="Evil, Inc; \\ <b>")
    tp = make.touchpoint(customer, last_call=today, frequency_days=1, comment=hostile)
    body = app.test_client().get(feed).data
    assert rfc5545_problems(body) == []
    [event] = events(body).values()
    assert str(event["UID"]) == f"touchpoint-{tp.id}@tpweb.example"
    assert event["SUMMARY"] == "Next Call: Evil, Inc; \\ <b>"
    assert "Comment: Line one\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil; x, y \\ <script>" in (
        event["DESCRIPTION"].replace("\r\n", "\n")
    )


def test_a_feed_with_nothing_due_is_still_a_valid_calendar(app, feed):
    body = app.test_client().get(feed).data
    assert rfc5545_problems(body) == []
    assert Calendar.from_ical(body).walk("VEVENT") == []


def test_the_secret_is_kept_only_as_a_hash_and_shown_once(app, client, rep, feed):
    secret = feed.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(secret) >= 43  # 32 random bytes
    stored = str(snapshot())
    assert secret not in stored
    assert db.session.get(User, rep.id).calendar_secret_hash in stored
    page = client.get("/settings").text
    assert secret not in page and "Reset link" in page
    assert "every 12 to 24 hours, and has no refresh button" in page


def test_reset_stops_the_old_link_at_once(app, client, rep, feed, world):
    response = client.post("/settings/calendar/reset")
    assert response.status_code == 303
    new = urlsplit(html.unescape(LINK.search(client.get(response.location).text).group(1))).path
    assert new != feed
    assert app.test_client().get(feed).status_code == 404
    assert app.test_client().get(new).status_code == 200


def test_turned_off_the_feed_answers_404_and_on_again_it_works(app, client, feed):
    assert client.post("/settings/reminders", data={"email_reminders": "y"}).status_code == 303
    assert app.test_client().get(feed).status_code == 404
    client.post("/settings/reminders", data={"calendar_feed": "y"})
    assert app.test_client().get(feed).status_code == 200


def test_a_deactivated_users_feed_answers_404(app, rep, feed):
    db.session.get(User, rep.id).active = False
    db.session.commit()
    assert app.test_client().get(feed).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/.ics",
        "/calendar/x.ics",
        "/calendar/" + "A" * 10_000 + ".ics",
        "/calendar/%C3%A9%F0%9F%98%80.ics",
        "/calendar/..%2F..%2Fetc%2Fpasswd.ics",
        "/calendar/%27%20OR%201%3D1--.ics",
        "/calendar/%FF%FE.ics",
        "/calendar/",
    ],
)
def test_a_wrong_or_missing_secret_answers_404(app, feed, path):
    before = snapshot()
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert "BEGIN:VCALENDAR" not in response.text
    assert snapshot() == before


def test_a_near_miss_a_stranger_and_a_turned_off_feed_run_the_same_statements(
    app, client, rep, feed, count_queries
):
    """No timing difference worth measuring: the secret is never compared in Python or sent to
    the database; its hash is looked up through a unique index, the same work for any secret."""
    secret = feed.rsplit("/", 1)[1].removesuffix(".ics")
    near = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    runs = {}
    for name, path in {
        "near": f"/calendar/{near}.ics",
        "stranger": "/calendar/x.ics",
    }.items():
        count_queries.clear()
        assert app.test_client().get(path).status_code == 404
        runs[name] = list(count_queries)
    client.post("/settings/reminders", data={})
    count_queries.clear()
    assert app.test_client().get(feed).status_code == 404
    runs["off"] = list(count_queries)
    assert runs["near"] == runs["stranger"] == runs["off"] and len(runs["near"]) == 1
    assert all(secret not in statement for statement in runs["near"])


def test_the_feed_needs_no_session_and_opens_none(app, feed, world):
    visitor = app.test_client()
    response = visitor.get(feed)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert visitor.get("/tasks").status_code == 302  # still signed out


def test_the_settings_need_a_signed_in_user_and_csrf(app, client_of, make):
    visitor = app.test_client()
    for path in ("/settings/reminders", "/settings/calendar/reset"):
        response = visitor.post(path, data={"calendar_feed": "y"})
        assert response.status_code == 302 and "/login" in response.location
    guarded = client_of(WTF_CSRF_ENABLED=True)
    csrf_sign_in(guarded, make.rep(name="Csrf Rep"))
    before = snapshot(User)
    assert guarded.post("/settings/reminders", data={"calendar_feed": "y"}).status_code == 400
    assert guarded.post("/settings/calendar/reset").status_code == 400
    assert snapshot(User) == before


def test_reset_while_the_feed_is_off_is_refused(client, rep):
    before = snapshot(User)
    assert client.post("/settings/calendar/reset").status_code == 409
    assert snapshot(User) == before


@pytest.mark.parametrize("value", ["", "y", "no", "<script>alert(1)</script>", "é" * 5000])
def test_a_ticked_box_is_on_whatever_its_value_and_a_missing_one_off(client, rep, value):
    """As a browser sends a checkbox: present (any value) is ticked, absent is not; the value is
    never stored or shown."""
    response = client.post("/settings/reminders", data={"email_reminders": value})
    assert response.status_code == 303
    user = db.session.get(User, rep.id)
    db.session.refresh(user)
    assert user.email_reminders is (value != "") and user.calendar_feed is False
    assert "<script>alert" not in client.get("/settings").text


def test_the_feed_item_queries_stay_within_the_users_own(app, make, rep, world, today):
    """Another rep's touchpoint and task, an inactive touchpoint, an answered task and anything
    past 60 days stay out (the domain query, without the web)."""
    keys = {item.key for item in items(rep, today)}
    assert keys == {
        f"touchpoint-{world['due'].id}",
        f"touchpoint-{world['site'].id}",
        f"task-{world['task'].id}",
    }
    # Bulk test data: the far touchpoint moved to the window's last day comes in.
    last = today + timedelta(days=60)
    db.session.execute(
        Touchpoint.__table__.update()
        .where(Touchpoint.id == world["far"].id)
        .values(next_call=last)
        .execution_options(**{HOW: NOT_A_CHANGE})
    )
    assert f"touchpoint-{world['far'].id}" in {item.key for item in items(rep, today)}
    assert db.session.scalar(select(TouchpointRecord.id).filter_by(description="Bob's"))


def test_the_validator_catches_what_calendar_apps_refuse(app, make, rep, feed, today):
    """The RFC 5545 check is not blind: each break of a valid feed is reported."""
    make.touchpoint(make.customer(rep=rep, name="Valid Co"), last_call=today, frequency_days=2)
    body = app.test_client().get(feed).data
    assert rfc5545_problems(body) == []
    day = (today + timedelta(days=2)).strftime("%Y%m%d")
    broken = {
        "LF line ends": body.replace(b"\r\n", b"\n"),
        "a 76-octet line": body.replace(b"SUMMARY:", b"SUMMARY:" + b"x" * 80, 1),
        "no UID": re.sub(rb"UID:[^\r]*\r\n", b"", body, count=1),
        "no VERSION": body.replace(b"VERSION:2.0\r\n", b""),
        "DTEND before DTSTART": re.sub(rb"(DTEND;VALUE=DATE:)\d{8}", rb"\g<1>19990101", body),
        "an unknown TZID": body.replace(
            b"DTSTART;VALUE=DATE:" + day.encode(),
            b"DTSTART;TZID=Mars/Base:" + day.encode() + b"T090000",
        ),
        "no component": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n"
        b"END:VCALENDAR\r\n",
    }
    for what, bad in broken.items():
        assert rfc5545_problems(bad), f"{what} passed the check"
