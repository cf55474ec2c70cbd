"""How long a visit takes, per call type: Settings' own section (seeded from each type's usual
length, saved per user, bad input refused beside its field), and Plan my day timing each stop by
the call type its account was last called with, or by the plan form's one length."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tpweb.domain.visit_lengths import call_types
from tpweb.extensions import db
from tpweb.models import Plan, PlanStop, User, VisitLength

from .conftest import snapshot
from .plan_form import FORM, HOSTILE

HTMX = {"HX-Request": "true"}


@pytest.fixture
def kinds(make):
    """The demo's call types, and one the usual lengths do not name."""
    return {
        name: make.call_type(name, position)
        for position, name in enumerate(("Phone", "Visit", "Video", "Site walk"))
    }


def field_value(page, name):
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    return found and found.group(1)


def test_settings_offers_each_types_usual_length_until_the_rep_sets_their_own(client, rep, kinds):
    page = client.get("/settings").text
    assert "How long a visit takes" in page
    assert field_value(page, f"type_{kinds['Phone'].id}") == "10"
    assert field_value(page, f"type_{kinds['Visit'].id}") == "30"
    assert field_value(page, f"type_{kinds['Video'].id}") == "20"
    assert field_value(page, f"type_{kinds['Site walk'].id}") == "30"  # not called yet's
    assert field_value(page, "other") == "30"

    data = {f"type_{kind.id}": str(10 + n) for n, kind in enumerate(kinds.values())}
    response = client.post("/settings/visit-lengths", data={**data, "other": "45"})

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "Visit lengths saved." in page
    assert field_value(page, f"type_{kinds['Site walk'].id}") == "13"
    assert field_value(page, "other") == "45"
    saved = db.session.scalars(select(VisitLength).where(VisitLength.user_id == rep.id)).all()
    assert {(row.call_type_id, row.minutes) for row in saved} == {
        (kind.id, 10 + n) for n, kind in enumerate(kinds.values())
    }
    assert db.session.get(User, rep.id).visit_minutes == 45
    # Saved again: the same rows changed, none added.
    again = {**data, "other": "45", f"type_{kinds['Phone'].id}": "5"}
    assert client.post("/settings/visit-lengths", data=again).status_code == 303
    db.session.expire_all()
    assert len(db.session.scalars(select(VisitLength)).all()) == 4


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("thirty", "Enter a whole number"),  # wrong
        ("12.5", "Enter a whole number"),
        ("", "Enter how many minutes a visit takes."),  # missing
        (None, "Enter how many minutes a visit takes."),  # not sent at all
        ("0", "A visit takes from 1 minute to 8 hours"),
        ("-5", "A visit takes from 1 minute to 8 hours"),
        ("481", "A visit takes from 1 minute to 8 hours"),  # oversized
        ("9" * 40, "Enter a whole number"),
        (HOSTILE, "Enter a whole number"),  # hostile
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_lengths_are_refused_beside_their_field_and_nothing_is_saved(
    client, rep, kinds, value, error, htmx
):
    phone = f"type_{kinds['Phone'].id}"
    data = {f"type_{kind.id}": "20" for kind in kinds.values()} | {"other": "30"}
    if value is None:
        del data[phone]
    else:
        data[phone] = value
    before = snapshot(VisitLength, User)
    response = client.post("/settings/visit-lengths", data=data, headers=HTMX if htmx else {})
    assert response.status_code == 422
    assert f'<small id="{phone}-error" class="field-error">{error}' in response.text
    assert HOSTILE not in response.text
    if htmx:  # only the section: the other forms of Settings are left as they are
        assert response.text.lstrip().startswith("<form") and "Reminder emails" not in response.text
    assert snapshot(VisitLength, User) == before


def test_bad_length_for_an_account_not_called_yet_is_refused(client, rep, kinds):
    before = snapshot(VisitLength, User)
    response = client.post("/settings/visit-lengths", data={"other": "500"})
    assert response.status_code == 422
    assert (
        '<small id="other-error" class="field-error">A visit takes from 1 minute' in response.text
    )
    assert snapshot(VisitLength, User) == before


def test_a_hostile_call_type_name_is_escaped_in_its_label(client, rep, make):
    make.call_type(HOSTILE)
    page = client.get("/settings").text
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_an_accounts_call_type_is_its_latest_call_logs(make, rep, kinds, today):
    account = make.customer(rep=rep)
    make.call_log(account, rep, kinds["Phone"], called_on=today - timedelta(days=2))
    make.call_log(account, rep, kinds["Visit"], called_on=today - timedelta(days=9))
    other = make.customer(rep=rep)
    make.call_log(other, rep, kinds["Video"], called_on=today)
    make.call_log(other, rep, kinds["Phone"], called_on=today)  # recorded later, same day
    never = make.customer(rep=rep)
    found = call_types([account.id, other.id, never.id])
    assert found == {account.id: kinds["Phone"].id, other.id: kinds["Phone"].id}


def test_the_plan_times_each_stop_by_its_call_type_or_the_forms_one_length(
    client, rep, kinds, make, today
):
    lengths = {f"type_{k.id}": "20" for k in kinds.values()} | {"other": "40"}
    lengths[f"type_{kinds['Phone'].id}"] = "10"
    lengths[f"type_{kinds['Visit'].id}"] = "50"
    assert client.post("/settings/visit-lengths", data=lengths).status_code == 303
    accounts = {}
    for n, kind in enumerate(("Phone", "Visit", None), 1):
        account = make.customer(rep=rep, name=f"Co {n}", latitude=41.88 + n / 100, longitude=-87.63)
        make.touchpoint(account, last_call=today - timedelta(days=31), frequency_days=30)
        if kind:
            make.call_log(account, rep, kinds[kind], called_on=today - timedelta(days=31))
        accounts[account.id] = kind

    assert client.post("/plan", data={**FORM, "visit_minutes": ""}).status_code == 303

    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    assert plan.visit_minutes is None
    by_kind = {accounts[s.account_id]: s.visit_minutes for s in plan.stops}
    assert by_kind == {"Phone": 10, "Visit": 50, None: 40}
    route = sorted((s for s in plan.stops if s.position), key=lambda s: s.position)
    assert route[-1].arrival + route[-1].visit_minutes * 60 <= plan.ends_at
    page = client.get("/plan").text
    assert 'placeholder="By call type"' in page and field_value(page, "visit_minutes") in ("", None)

    # The form's one length is every visit's, and is what the form shows next time.
    assert client.post("/plan", data={**FORM, "visit_minutes": "25"}).status_code == 303
    db.session.expire_all()
    assert {s.visit_minutes for s in db.session.scalars(select(PlanStop))} == {25}
    assert field_value(client.get("/plan").text, "visit_minutes") == "25"


def test_a_re_plan_keeps_each_stops_own_length(client, rep, kinds, make, today):
    assert client.post("/settings/visit-lengths", data={
        f"type_{kinds['Phone'].id}": "10", f"type_{kinds['Visit'].id}": "60",
        f"type_{kinds['Video'].id}": "20", f"type_{kinds['Site walk'].id}": "20", "other": "30",
    }).status_code == 303  # fmt: skip
    for n, kind in enumerate(("Phone", "Visit", "Phone"), 1):
        account = make.customer(rep=rep, name=f"Co {n}", latitude=41.88 + n / 50, longitude=-87.63)
        make.touchpoint(account, last_call=today - timedelta(days=31), frequency_days=30)
        make.call_log(account, rep, kinds[kind], called_on=today - timedelta(days=31))
    assert client.post("/plan", data={**FORM, "visit_minutes": ""}).status_code == 303
    plan = db.session.scalar(select(Plan).where(Plan.rep_id == rep.id))
    first = next(s for s in plan.stops if s.position == 1)
    assert client.post(f"/plan/stops/{first.id}", data={"action": "down"}).status_code == 303
    db.session.expire_all()
    route = sorted((s for s in plan.stops if s.position), key=lambda s: s.position)
    for stop, following in zip(route, route[1:], strict=False):
        assert following.arrival >= stop.arrival + stop.visit_minutes * 60
    assert sorted(s.visit_minutes for s in plan.stops) == [10, 10, 60]
