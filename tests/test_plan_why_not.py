"""*Why not …?* on the plan page: the htmx fragment and the whole page without htmx, Take this
plan, what it refuses (a posted order not shown, a day that has changed, a stop not left out for
want of time), and hostile names escaped."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tpweb.extensions import db
from tpweb.models import Plan, PlanStop

from .conftest import snapshot
from .plan_form import HOSTILE

FORM = {
    "start": "here",
    "lat": "41.88",
    "lon": "-87.63",
    "end": "start",
    "day_starts": "08:00",
    "day_ends": "11:30",
    "visit_minutes": "30",
}
HTMX = {"HX-Request": "true"}


@pytest.fixture
def far(make, rep, today, client):
    """As tests/test_saved_plans.py's day, planned through the page: three near stops due today
    fill 08:00-11:30, the far overdue one is left out for want of time."""
    for n, lon in enumerate((-87.62, -87.61, -87.60), 1):
        account = make.customer(rep=rep, name=f"Near {n}", latitude=41.88, longitude=lon)
        make.touchpoint(account, last_call=today - timedelta(days=30), frequency_days=30)
    far = make.customer(rep=rep, name="Far Co", latitude=42.24, longitude=-87.63)
    make.touchpoint(far, last_call=today - timedelta(days=33), frequency_days=30)
    assert client.post("/plan", data=FORM).status_code == 303
    return db.session.scalar(select(PlanStop).where(PlanStop.account_id == far.id))


def route(rep):
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    return [s.account.name for s in sorted(plan.stops, key=lambda s: s.position or 99)
            if s.position]  # fmt: skip


def test_why_not_answers_with_what_it_pushes_out_and_the_later_end(client, rep, far):
    page = client.get("/plan").text
    url = f"/plan/stops/{far.id}/why-not"
    assert f'hx-get="{url}"' in page and 'aria-label="Why not Far Co?"' in page
    before = snapshot()

    fragment = client.get(url, headers=HTMX)

    assert fragment.status_code == 200
    text = fragment.text
    assert text.lstrip().startswith(f'<div class="plan-why-not" id="why-not-{far.id}">')
    assert "<html" not in text and "plan-stops" not in text
    assert "It pushes out 2 stops:" in text
    assert len(re.findall(r"<li>Near \d <small>due today</small></li>", text)) == 2
    ends = re.search(r"the day ends at\s+<strong>(\d\d:\d\d)</strong> instead of (\d\d:\d\d)", text)
    assert ends and ends.group(2) < ends.group(1) <= "11:30"
    assert "Take this plan" in text
    assert snapshot() == before  # asking changes nothing
    # Without htmx: the whole page, the answer under its stop.
    whole = client.get(url).text
    assert "<html" in whole and "plan-stops" in whole and "It pushes out 2 stops:" in whole


def test_take_this_plan_saves_the_day_shown(client, rep, far):
    text = client.get(f"/plan/stops/{far.id}/why-not", headers=HTMX).text
    order = re.search(r'name="order" value="([\d,]+)"', text).group(1)
    response = client.post(f"/plan/stops/{far.id}/why-not", data={"order": order})
    assert response.status_code == 303 and response.headers["Location"] == "/plan"
    db.session.expire_all()
    assert "Far Co" in route(rep) and len(route(rep)) == 2
    page = client.get("/plan").text
    assert len(re.findall(r'badge--left-out">no time', page)) == 2


@pytest.mark.parametrize(
    ("order", "status", "error"),
    [
        (None, 422, "That plan is not one shown here."),  # missing
        ("", 422, "That plan is not one shown here."),
        ("1;2", 422, "That plan is not one shown here."),  # wrong
        ("1," * 300 + "1", 422, "That plan is not one shown here."),  # oversized
        (HOSTILE, 422, "That plan is not one shown here."),  # hostile
        ("99999999", 409, "The day has changed since: ask Why not? again."),  # not its stops
        ("{near}", 409, "The day has changed since: ask Why not? again."),  # without it
        ("{far},{far}", 409, "The day has changed since: ask Why not? again."),  # twice
    ],
)
def test_a_take_not_shown_is_refused_beside_the_button_and_nothing_saved(
    client, rep, far, order, status, error
):
    near = next(s for s in far.plan.stops if s.position == 1)
    data = {} if order is None else {"order": order.format(far=far.id, near=near.id)}
    before = snapshot()
    response = client.post(f"/plan/stops/{far.id}/why-not", data=data, headers=HTMX)
    assert response.status_code == status
    assert f'<p class="field-error" role="alert">{error}</p>' in response.text
    assert HOSTILE not in response.text
    assert snapshot() == before


def test_a_day_that_no_longer_holds_the_stop_says_so(client, rep, far, app, monkeypatch):
    monkeypatch.setitem(app.config, "TPWEB_PLAN_NOW", "10:45")
    text = client.get(f"/plan/stops/{far.id}/why-not", headers=HTMX).text
    assert "It cannot fit today" in text and "Take this plan" not in text
    before = snapshot()
    response = client.post(f"/plan/stops/{far.id}/why-not", data={"order": str(far.id)})
    assert response.status_code == 409 and "ask Why not? again" in response.text
    assert snapshot() == before


def test_why_not_is_offered_only_for_stops_left_out_for_want_of_time(client, rep, far, make):
    near = next(s for s in far.plan.stops if s.position == 1)
    assert client.get(f"/plan/stops/{near.id}/why-not").status_code == 404
    assert client.post(f"/plan/stops/{near.id}/why-not", data={"order": "1"}).status_code == 404
    assert client.post(f"/plan/stops/{far.id}", data={"action": "skip"}).status_code == 404
    # Skipped by the rep, or with no location: no Why not.
    skipped = client.post(f"/plan/stops/{near.id}", data={"action": "skip"})
    assert skipped.status_code == 303
    assert client.get(f"/plan/stops/{near.id}/why-not").status_code == 404
    page = client.get("/plan").text
    assert f'id="why-not-{near.id}"' not in page


def test_hostile_names_are_escaped_in_the_button_and_the_answer(client, rep, far):
    for stop in far.plan.stops:
        stop.account.name = f"{HOSTILE} {stop.account.name}"
    db.session.commit()
    page = client.get("/plan").text
    assert HOSTILE not in page
    assert 'aria-label="Why not &lt;img src=x onerror=alert(1)&gt; Far Co?"' in page
    text = client.get(f"/plan/stops/{far.id}/why-not", headers=HTMX).text
    assert HOSTILE not in text
    assert text.count("<li>&lt;img src=x onerror=alert(1)&gt; Near") == 2


def test_a_long_left_out_list_shows_ten_and_folds_the_rest(client, rep, far, make, today):
    for n in range(14):
        account = make.customer(rep=rep, name=f"Far {n:02}", latitude=42.24 + n / 1000,
                                longitude=-87.63)  # fmt: skip
        make.touchpoint(account, last_call=today - timedelta(days=31), frequency_days=30)
    assert client.post("/plan", data=FORM).status_code == 303
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    left = [s for s in plan.stops if not s.position]
    assert len(left) > 10

    page = client.get("/plan").text
    section = page.split('class="plan-left-out"')[1].split("</section>")[0]
    shown, folded = section.split('<details class="plan-left-out-more">')
    assert shown.count("<li>") == 10
    assert f"<summary>{len(left) - 10} more left out</summary>" in folded
    assert folded.count("<li>") == len(left) - 10
    # Asked about without htmx, a folded stop's answer is in view: the fold opens.
    names = re.findall(r'aria-label="Why not ([^"]+)\?"', folded)
    asked = next(s for s in left if s.account.name == names[-1])
    whole = client.get(f"/plan/stops/{asked.id}/why-not").text
    assert '<details class="plan-left-out-more" open>' in whole
    assert f'id="why-not-{asked.id}"' in whole.split("plan-left-out-more")[1]
