"""The authorization matrix: every route in the URL map for rep A, rep B, a manager, a visitor."""

import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Plan, PlanStop, Touchpoint, TouchpointRecord, User

from .conftest import snapshot
from .factories import PASSWORD
from .fake_geocoder import FakeGeocoder, place
from .push_keys import VAPID
from .webpush import Device

HTMX = {"HX-Request": "true"}
# Every one of rep A's objects carries this in a name, note or comment; compared lower-cased.
MARK = "zz-alpha"
ANONYMOUS, REP_A, REP_B, MANAGER = "anonymous", "rep_a", "rep_b", "manager"
VISITORS = (ANONYMOUS, REP_A, REP_B, MANAGER)

# Who may use a route.
PUBLIC = "public"  # anyone, signed in or not
SELF = "self"  # any signed-in user, about themselves only
LIST = "list"  # any signed-in user, each seeing only their own rows (all of them for a manager)
OWN = "own"  # names one of rep A's objects: rep A and managers; anyone else gets 404
REP_OWN = "rep's own"  # names one of rep A's objects only rep A uses (a plan's stop): 404 else
MANAGER_ONLY = "manager"  # managers only: 404 for every rep, even about the rep's own objects
ADMIN_ONLY = "admin"  # admins only: 404 for reps and managers alike (tests/test_admin.py: works)
# No session: a secret in the URL is the key (a calendar feed, a reminder's signed action). The
# matrix's URL has a wrong one, so everyone gets 404 (tests/test_calendar_feed.py and
# tests/test_one_tap.py: the right ones work).
SECRET = "secret"

# A signed-in visitor "is allowed" when the answer is one of these (and no redirect to /login).
ALLOWED = (200, 302, 303, 422)
WIDGET_VARIANTS = (
    "",
    "?state=overdue",
    "?state=due-today",
    "?state=upcoming",
    "?page=2",
    "?page=3",
    "?lat=41.88&lon=-87.63",
    "?rep={rep_a}",
)
IMPORT_CSV = b"kind,external_id,name,city\r\ncustomer,AUTHZ-IMPORT-1,Imported Co,Springfield\r\n"


@dataclass(frozen=True)
class Works:
    """A manager's valid POST to a manager-only route: the answer it gets and what it did."""

    status: int
    check: Callable  # (objects, response, tables changed) -> None, asserting the effect
    args: Callable | None = None  # URL variables, when not the route's own


def _no_args(o, kind):
    return {}


@dataclass(frozen=True)
class Route:
    """How to reach one endpoint: who may, its URL variables, query variants, a POST body."""

    access: str
    args: Callable = _no_args  # (objects, the rule's kind default) -> {variable: value} or a list
    variants: tuple = ("",)  # query strings; {rep_a} is rep A's user id
    form: Callable | None = None  # (objects, visitor's user) -> a valid POST body
    seen_by: tuple = ()  # visitors who find rep A's MARK in some answer (the test is not blind)
    works: Works | None = None


# Rep A's address, as Find from address asks for it, and the place the fake geocoder gives.
LOCATE_QUERY = "1 ZZ-Alpha Road, ZZ-Alpha-City"


@pytest.fixture(autouse=True)
def geocoder(app, monkeypatch):
    """Find from address turned on with a fake geocoder: without one its route is 404 for all,
    and the matrix would prove nothing about who may use it."""
    fake = FakeGeocoder({LOCATE_QUERY: place(41.881234, -87.631234)})
    monkeypatch.setitem(app.config, "TPWEB_GEOCODER_CLIENT", fake)
    return fake


@pytest.fixture(autouse=True)
def push_keys(app, monkeypatch):
    """Web Push turned on: without VAPID keys its routes are 404 for all."""
    for name, value in VAPID.items():
        monkeypatch.setitem(app.config, name, value)


# URL variables, from the objects of the world below.
def _account(o, kind):
    return {"account_id": o[kind].id}


def _customer(o, kind):
    return {"customer_id": o["customer"].id}


def _contact(o, kind):
    return {"contact_id": o["contact"].id}


def _touchpoint(o, kind):
    return {"touchpoint_id": o["touchpoint"].id}


def _record(o, kind):
    return {"record_id": o["record"].id}


def _plan(o, kind):
    return {"plan_id": o["plan"].id}


def _plan_stop(o, kind):
    return {"stop_id": o["plan_stop"].id}


def _plan_left_out(o, kind):
    return {"stop_id": o["plan_left_out"].id}


def _rep_a(o, kind):
    return {"rep_id": o[REP_A].id}


def _user_a(o, kind):
    return {"user_id": o[REP_A].id}


def _bare_account(o, kind):
    """Rep A's accounts without an active touchpoint, so Add Touchpoint is on offer."""
    return {"account_id": o["second" if kind == "customer" else "jobsite"].id}


# POST bodies: valid forms, so a refusal is authorization's and not validation's.
def _nothing(o, user):
    return {}


def _user_form(o, user):
    return {"name": "Authz User", "email": "", "role": "rep", "manager_id": "0",
            "timezone": "America/Chicago"}  # fmt: skip


def _new_user_form(o, user):
    return {**_user_form(o, user), "username": "authz-new", "password": "a long new password"}


def _settings_form(o, user):
    return {"email": "", "timezone": "America/Chicago", "reminder_hour": "6", "delivery": "item"}


def _subscription_form(o, user):
    return Device(f"user {user.id}", f"https://push.example.com/send/{user.id}").form()


def _device_form(o, user):
    """Turn off: a device id (another user's is refused: tests/test_push_settings.py)."""
    return {"device": "1"}


def _plan_defaults_form(o, user):
    return {"home_latitude": "41.9", "home_longitude": "-87.7", "day_starts": "08:00",
            "day_ends": "17:00"}  # fmt: skip


def _why_not_form(o, user):
    """Take the plan with the left-out stop in. It is left out again first: an earlier POST of
    the same run (Skip) may have planned it."""
    stop = o["plan_left_out"]
    stop.status, stop.position, stop.arrival, stop.left_out_why = "left-out", None, None, "no time"
    db.session.commit()
    return {"order": str(stop.id)}


def _visit_lengths_form(o, user):
    return {f"type_{o['phone'].id}": "15", "other": "40"}


def _plan_form(o, user):
    return {"start": "here", "lat": "41.88", "lon": "-87.63", "end": "start",
            "day_starts": "08:00", "day_ends": "17:00", "visit_minutes": "30"}  # fmt: skip


def _call_log_form(o, user):
    return {
        "called_on": o["today"].isoformat(),
        "duration_minutes": "15",
        "call_type": str(o["phone"].id),
        "contact_id": "0",
        "notes": "Called about the order",
    }


def _touchpoint_form(o, user):
    tp = db.session.get(Touchpoint, o["touchpoint"].id)
    return {
        "last_call": tp.last_call.isoformat(),
        "frequency_days": "14",
        "next_call": "",
        "comment": "Rescheduled",
        "version": str(tp.version),
    }


def _new_touchpoint_form(o, user):
    return {
        "last_call": o["today"].isoformat(),
        "frequency_days": "30",
        "next_call": "",
        "comment": "Every month",
    }


def _account_form(o, user):
    return {
        "name": "Authz New Account",
        "address": "2 Main St",
        "city": "Springfield",
        "phone": "555-0100",
        "notes": "Changed notes",
        "latitude": "",
        "longitude": "",
        "sales_rep_id": str(o[REP_A].id),
    }


def _locate_form(o, user):
    return {"address": "1 ZZ-Alpha Road", "city": "ZZ-Alpha-City", "latitude": "", "longitude": ""}


def _contact_form(o, user):
    return {
        "name": "Authz New Contact",
        "title": "Buyer",
        "email": "buyer@example.com",
        "phone": "555-0101",
        "notes": "",
        "active": "y",
    }


def _record_form(o, user):
    return {
        "description": "Asked for a quote",
        "details": "",
        "response_required": "y",
        "date_due": (o["today"] + timedelta(days=7)).isoformat(),
        "date_completed": o["today"].isoformat(),
        "assigned_to": str(user.id),
    }


def _response_form(o, user):
    return {"responded_on": o["today"].isoformat(), "response_note": "Sent the quote"}


def _reassign_form(o, user):
    ids = [o[key].id for key in ("customer", "jobsite", "second")]
    return {"account_ids": [str(i) for i in ids], "to_rep_id": str(o[REP_B].id), "move_tasks": "y"}


def _upload_form(o, user):
    return {"file": (io.BytesIO(IMPORT_CSV), "accounts.csv")}


def _confirm_form(o, user):
    """The signed payload a manager's preview of IMPORT_CSV hands to the confirmation."""
    if "payload" not in o:
        response = o["clients"][MANAGER].post("/imports", data=_upload_form(o, user))
        found = re.search(r'name="payload" value="([^"]+)"', response.get_data(as_text=True))
        assert found, f"no payload in the manager's import preview ({response.status_code})"
        o["payload"] = found.group(1)
    return {"payload": o["payload"]}


# What a manager's valid POST to a manager-only route did.
def _created(name, kind):
    def check(o, response, changed):
        found = db.session.scalar(sa.select(Account).filter_by(name=name, kind=kind))
        assert found is not None, f"no {kind} named {name!r} was created"

    return check


def _located(o, response, changed):
    assert not changed, f"Find from address saved something: {changed}"
    assert 'value="41.881234"' in response.text and 'value="-87.631234"' in response.text


def _set_inactive(o, response, changed):
    account_id = int(urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1])
    assert account_id in (o["second"].id, o["jobsite"].id)
    assert not db.session.get(Account, account_id).active


def _reassigned(o, response, changed):
    moved = db.session.get(Account, o["customer"].id)
    task = db.session.get(TouchpointRecord, o["record"].id)
    assert moved.sales_rep_id == o[REP_B].id
    assert task.assigned_to_id == o[REP_B].id


def _deactivated(o, response, changed):
    assert not db.session.get(User, o["idle"].id).active


def _previewed(o, response, changed):
    assert not changed, f"a preview saved something: {changed}"
    assert 'name="payload"' in response.get_data(as_text=True)


def _imported(o, response, changed):
    found = db.session.scalar(sa.select(Account).filter_by(external_id="AUTHZ-IMPORT-1"))
    assert found is not None and found.name == "Imported Co"


def _export_prepared(o, response, changed):
    assert urlsplit(response.headers["Location"]).path == "/exports/accounts.csv"
    assert db.session.get(Account, o["customer"].id).external_id


def _idle(o, kind):
    return {"rep_id": o["idle"].id}


def _exports(o, kind):
    from tpweb.domain.csvio import EXPORTS

    return [{"what": what} for what in EXPORTS]


# Every endpoint of the app. A route without an entry here fails the tests below.
TABLE = {
    "auth.login": Route(PUBLIC),
    "auth.logout": Route(SELF, form=_nothing),
    "settings.index": Route(SELF, form=_settings_form),
    "settings.plan": Route(SELF, form=_plan_defaults_form),
    "settings.visit_lengths": Route(SELF, form=_visit_lengths_form),
    "push.turn_on": Route(SELF, form=_subscription_form),
    "push.refresh": Route(SELF, form=_subscription_form),
    "push.turn_off": Route(SELF, form=_device_form),
    "dashboard.index": Route(LIST, variants=WIDGET_VARIANTS, seen_by=(REP_A, MANAGER)),
    "dashboard.unassigned": Route(
        LIST, variants=("", "?page=2", "?page=3", "?rep={rep_a}"), seen_by=(REP_A, MANAGER)
    ),
    "touchpoints.index": Route(
        LIST,
        variants=(*WIDGET_VARIANTS, "?view=list", "?view=map", "?view=map&rep={rep_a}"),
        seen_by=(REP_A, MANAGER),
    ),
    "touchpoints.map_frame": Route(
        LIST, variants=("", "?rep={rep_a}", "?lat=41.88&lon=-87.63"), seen_by=(REP_A, MANAGER)
    ),
    # Counts only: no row of anyone's to see.
    "touchpoints.counts": Route(LIST, variants=("", "?state=overdue", "?rep={rep_a}")),
    "touchpoints.compute_next_call": Route(
        SELF, variants=("?last_call=2026-11-01&frequency_days=30",)
    ),
    "touchpoints.show": Route(OWN, args=_touchpoint, seen_by=(REP_A, MANAGER)),
    "touchpoints.marker": Route(OWN, args=_touchpoint, seen_by=(REP_A, MANAGER)),
    "touchpoints.complete": Route(OWN, args=_touchpoint, form=_call_log_form),
    "touchpoints.edit": Route(OWN, args=_touchpoint, form=_touchpoint_form),
    "accounts.index": Route(
        LIST,
        variants=(
            "",
            "?q=zz",
            "?q=alpha",
            "?status=inactive",
            "?touchpoint=with",
            "?touchpoint=without",
            "?page=2",
            "?page=3",
            "?rep={rep_a}",
            "?rep=0",
        ),
        seen_by=(REP_A, MANAGER),
    ),
    "accounts.show": Route(OWN, args=_account, seen_by=(REP_A, MANAGER)),
    "accounts.edit_account": Route(OWN, args=_account, form=_account_form),
    "accounts.add_touchpoint": Route(OWN, args=_bare_account, form=_new_touchpoint_form),
    "accounts.new_contact": Route(OWN, args=_customer, form=_contact_form),
    "accounts.edit_contact": Route(OWN, args=_contact, form=_contact_form),
    "accounts.new_customer": Route(
        MANAGER_ONLY,
        form=_account_form,
        works=Works(303, _created("Authz New Account", "customer")),
    ),
    "accounts.new_jobsite": Route(
        MANAGER_ONLY,
        args=_customer,
        form=_account_form,
        works=Works(303, _created("Authz New Account", "jobsite")),
    ),
    "accounts.locate": Route(MANAGER_ONLY, form=_locate_form, works=Works(200, _located)),
    "accounts.set_status": Route(
        MANAGER_ONLY,
        args=_bare_account,
        form=lambda o, user: {"active": "0"},
        works=Works(303, _set_inactive),
    ),
    "contacts.index": Route(
        LIST,
        variants=("", "?q=zz", "?q=alpha", "?response_required=1", "?page=2", "?page=3"),
        seen_by=(REP_A, MANAGER),
    ),
    "contacts.show": Route(OWN, args=_contact, seen_by=(REP_A, MANAGER)),
    "contacts.create_record": Route(OWN, args=_contact, form=_record_form),
    "tasks.index": Route(LIST, seen_by=(REP_A,)),
    "tasks.count": Route(SELF),
    "tasks.respond": Route(OWN, args=_record, form=_response_form, seen_by=(REP_A, MANAGER)),
    "reps.index": Route(MANAGER_ONLY, variants=("", "?sort=name", "?sort=open_tasks")),
    "reps.show": Route(
        MANAGER_ONLY,
        args=_rep_a,
        variants=("", "?q=zz", "?page=2", "?state=overdue"),
        seen_by=(MANAGER,),
    ),
    "reps.reassign": Route(
        MANAGER_ONLY, args=_rep_a, form=_reassign_form, works=Works(303, _reassigned)
    ),
    "reps.deactivate": Route(
        MANAGER_ONLY, args=_rep_a, form=_nothing, works=Works(303, _deactivated, args=_idle)
    ),
    "plan.index": Route(LIST, form=_plan_form, seen_by=(REP_A,)),
    "plan.frame": Route(OWN, args=_plan, seen_by=(REP_A, MANAGER)),
    "plan.change_stop": Route(REP_OWN, args=_plan_stop, form=lambda o, user: {"action": "skip"}),
    "plan.why_not_stop": Route(
        REP_OWN,
        args=_plan_left_out,
        form=_why_not_form,
        seen_by=(REP_A,),
    ),
    "plan.rep_plan": Route(MANAGER_ONLY, args=_rep_a, seen_by=(MANAGER,)),
    "admin.users": Route(ADMIN_ONLY),
    "admin.create_user": Route(ADMIN_ONLY, form=_new_user_form),
    "admin.edit_user": Route(ADMIN_ONLY, args=_user_a, form=_user_form),
    "admin.reset_password": Route(
        ADMIN_ONLY, args=_user_a, form=lambda o, user: {"password": "a long new password"}
    ),
    "admin.reactivate": Route(ADMIN_ONLY, args=_user_a, form=_nothing),
    "admin.call_types": Route(ADMIN_ONLY),
    "admin.add_call_type": Route(ADMIN_ONLY, form=lambda o, user: {"name": "Authz type"}),
    "admin.edit_call_type": Route(
        ADMIN_ONLY,
        args=lambda o, kind: {"type_id": o["phone"].id},
        form=lambda o, user: {"name": "Renamed"},
    ),
    "reports.team": Route(
        MANAGER_ONLY, variants=("", "?weeks=4", "?format=csv"), seen_by=(MANAGER,)
    ),
    "reports.me": Route(SELF, variants=("", "?weeks=52", "?format=csv"), seen_by=(REP_A,)),
    "imports.index": Route(MANAGER_ONLY),
    "imports.preview": Route(MANAGER_ONLY, form=_upload_form, works=Works(200, _previewed)),
    "imports.confirm": Route(MANAGER_ONLY, form=_confirm_form, works=Works(200, _imported)),
    "imports.after_confirm": Route(MANAGER_ONLY),
    "imports.export": Route(MANAGER_ONLY, args=_exports, seen_by=(MANAGER,)),
    "offline.manifest": Route(PUBLIC),
    "reminders.feed": Route(SECRET, args=lambda o, kind: {"secret": "not-the-secret"}),
    "reminders.action": Route(SECRET, args=lambda o, kind: {"token": "not.a.token"}, form=_nothing),
    "reminders.channels": Route(SELF, form=lambda o, user: {"email_reminders": "y"}),
    "reminders.reset_link": Route(SELF, form=_nothing),
    "offline.service_worker": Route(PUBLIC),
    "offline.shell": Route(PUBLIC),
    "offline.page": Route(PUBLIC),
    # For the operator: no data; /metrics from allowed addresses (the test client's is loopback).
    "probes.healthz": Route(PUBLIC),
    "probes.readyz": Route(PUBLIC),
    "probes.metrics_page": Route(PUBLIC),
    "offline.attention": Route(SELF),
    # Ids, not names: tests/test_offline.py checks that rep B's list has none of rep A's.
    "offline.urls": Route(LIST),
    "imports.prepare_export": Route(
        MANAGER_ONLY,
        args=lambda o, kind: {"what": "accounts"},
        form=_nothing,
        works=Works(303, _export_prepared),
    ),
}

# Cases that fail because of a known hole in the app: (visitor, method, endpoint) -> the hole.
# Each runs on its own below as a strict xfail, so fixing the hole makes the suite say so.
KNOWN_HOLES: dict[tuple[str, str, str], str] = {}


def rules(app):
    """Every rule to check, with the methods to check it with."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint != "static":
            yield rule, sorted(rule.methods & {"GET", "POST"})


VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def paths(rule, route, o):
    """The rule's path with rep A's objects in its variables (one per set of values)."""
    values = route.args(o, (rule.defaults or {}).get("kind"))
    for each in values if isinstance(values, list) else [values]:
        yield VARIABLE.sub(lambda m, each=each: str(each[m.group(1)]), rule.rule)


def urls(rule, route, o, method):
    for path in paths(rule, route, o):
        if method == "POST":
            yield path
        else:
            yield from (path + variant.format(rep_a=o[REP_A].id) for variant in route.variants)


class Database:
    """Every table's rows, to tell whether a request changed anything."""

    def __init__(self):
        self.state = snapshot()

    def changes(self):
        """The tables whose rows changed since the last call, with their row counts."""
        before, self.state = self.state, snapshot()
        return {
            name: f"{len(rows)} -> {len(self.state[name])} rows"
            for name, rows in before.items()
            if rows != self.state[name]
        }


def sign_in(app, user):
    client = app.test_client()
    if user is not None:
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 303, response.text
    return client


def normalized(response):
    """An answer's text without what differs between two renderings of the same data."""
    text = response.get_data(as_text=True)
    if response.mimetype == "text/plain" and "# TYPE tpweb_" in text:
        # /metrics: counts over the whole app (requests, the queue, the ledger), no user's rows;
        # they move with every request the matrix makes.
        return response.status_code, "<metrics>"
    text = re.sub(r"[\w-]{30,}\.[\w-]{4,8}\.[\w-]{20,}", "<csrf>", text)  # signed CSRF tokens
    text = re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", "<id>", text)  # folium's element ids
    return response.status_code, text


def build(app, make, baseline=False):
    """Rep A's objects (each marked), rep B's own, a manager, an idle rep, and signed-in clients.

    With `baseline`, rep B's answers on every list route are recorded before rep A has any
    object, so that the same answers afterwards prove rep A's rows leak into no list or count.
    """
    today = today_in("America/Chicago")
    manager = make.manager(name="Mona Manager")
    rep_a = make.rep(name="Rep Alpha", manager=manager)
    rep_b = make.rep(name="Rep Bravo", manager=manager)
    o = {
        "today": today,
        MANAGER: manager,
        REP_A: rep_a,
        REP_B: rep_b,
        "idle": make.rep(name="Idle Rep", manager=manager),
        "phone": make.call_type("Phone"),
    }
    # Rep B's own world: enough rows that each list and count has something of B's to show.
    b_customer = make.customer(rep_b, name="Bravo Customer", latitude=41.9, longitude=-87.7)
    b_second = make.customer(rep_b, name="Bravo Second", latitude=41.8, longitude=-87.6)
    make.jobsite(b_customer, rep_b, name="Bravo Jobsite")
    make.customer(rep_b, name="Bravo Closed", active=False)
    b_contact = make.contact(b_customer, name="Bravo Contact")
    make.contact(b_second, name="Bravo Other Contact")
    make.touchpoint(b_customer, last_call=today - timedelta(days=40), comment="Bravo comment")
    make.touchpoint(b_second, last_call=today - timedelta(days=30))
    make.record(b_contact, rep_b, response_required=True, description="Bravo task")
    make.call_log(b_customer, rep_b, o["phone"], called_on=today, notes="Bravo call")
    clients = {
        ANONYMOUS: sign_in(app, None),
        **{who: sign_in(app, o[who]) for who in (REP_A, REP_B, MANAGER)},
    }
    o["clients"] = clients
    before = {}
    if baseline:
        for rule, methods in rules(app):
            route = TABLE.get(rule.endpoint)
            if "GET" in methods and route is not None and route.access in (PUBLIC, SELF, LIST):
                for url in urls(rule, route, o, "GET"):
                    for htmx in (False, True):
                        answer = clients[REP_B].get(url, headers=HTMX if htmx else {})
                        before[url, htmx] = normalized(answer)
    # Rep A's world, every object marked; rep A's own name and address too.
    rep_a.name, rep_a.email = "ZZ-Alpha-Rep", "zz-alpha-rep@example.com"
    customer = make.customer(
        rep_a,
        name="ZZ-Alpha-Customer",
        address="1 ZZ-Alpha Road",
        city="ZZ-Alpha-City",
        notes="ZZ-Alpha notes",
        latitude=41.88,
        longitude=-87.63,
    )
    contact = make.contact(customer, name="ZZ-Alpha-Contact", email="zz-alpha@example.com")
    o |= {
        "customer": customer,
        "jobsite": make.jobsite(
            customer, rep_a, name="ZZ-Alpha-Jobsite", latitude=41.87, longitude=-87.62
        ),
        "second": make.customer(rep_a, name="ZZ-Alpha-Second", city="ZZ-Alpha-Town"),
        "closed": make.customer(rep_a, name="ZZ-Alpha-Closed", active=False),
        "contact": contact,
        "touchpoint": make.touchpoint(
            customer, last_call=today - timedelta(days=40), comment="ZZ-Alpha-Comment"
        ),
        "record": make.record(
            contact,
            rep_a,
            response_required=True,
            description="ZZ-Alpha-Task",
            details="ZZ-Alpha details",
            date_completed=today - timedelta(days=1),
            date_due=today,
        ),
        "call": make.call_log(
            customer, rep_a, o["phone"], called_on=today, contact=contact, notes="ZZ-Alpha-Call"
        ),
    }
    make.touchpoint(o["closed"], last_call=today - timedelta(days=3), inactive=True)
    # Rep A's plan of today, its one stop the marked customer.
    plan = Plan(
        rep=rep_a,
        day=today,
        planned_by=rep_a,
        start_latitude=41.88,
        start_longitude=-87.63,
        day_starts=480,
        day_ends=1020,
        visit_minutes=30,
    )
    stop = PlanStop(
        account_id=customer.id,
        touchpoint_id=o["touchpoint"].id,
        position=1,
        arrival=9 * 3600,
        value=12.0,
        why="overdue 10 days",
    )
    # And a stop left out for want of time: Why not …? asks about it.
    left_out = PlanStop(
        account_id=o["jobsite"].id,
        status="left-out",
        left_out_why="no time",
        value=6.0,
        why="open task: ZZ-Alpha-Task",
    )
    plan.stops.extend([stop, left_out])
    db.session.add(plan)
    db.session.commit()
    o |= {"plan": plan, "plan_stop": stop, "plan_left_out": left_out}
    return o, before


@pytest.fixture
def small_pages(app, monkeypatch):
    # One row a page, so that the paging variants have pages to show and to leak into.
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)


def sent_to_sign_in(response, htmx):
    if htmx:
        target = response.headers.get("HX-Redirect", "")
        ok = response.status_code == 401 and urlsplit(target).path == "/login"
    else:
        target = response.headers.get("Location", "")
        ok = response.status_code == 302 and urlsplit(target).path == "/login"
    return None if ok else f"expected to be sent to /login, got {response.status_code} {target!r}"


def to_login(response):
    return urlsplit(response.headers.get("Location", "")).path == "/login"


def leaked(response):
    text = (response.get_data(as_text=True) + str(response.headers)).lower()
    return MARK in text


def check_get(o, database, before, visitor, route, url, htmx):
    """What is wrong with `visitor`'s GET of `url`: a list of problems, and whether MARK showed."""
    try:
        response = o["clients"][visitor].get(url, headers=HTMX if htmx else {})
    except Exception as error:  # noqa: BLE001  (a crash is one more problem to list)
        db.session.rollback()
        database.changes()
        return [f"raised {error!r}"], False
    status, problems = response.status_code, []
    changed = database.changes()
    if changed:
        problems.append(f"changed the database: {changed}")
    if route.access == SECRET:
        problems.append(None if status == 404 else f"expected 404 (a wrong secret), got {status}")
    elif visitor == ANONYMOUS and route.access != PUBLIC:
        problems.append(sent_to_sign_in(response, htmx))
    elif route.access == MANAGER_ONLY and visitor != MANAGER:
        problems.append(None if status == 404 else f"expected 404 (managers only), got {status}")
    elif route.access == ADMIN_ONLY:
        problems.append(None if status == 404 else f"expected 404 (admins only), got {status}")
    elif route.access == OWN and visitor == REP_B:
        problems.append(None if status == 404 else f"expected 404 (rep A's), got {status}")
    elif route.access == REP_OWN and visitor != REP_A:
        problems.append(None if status == 404 else f"expected 404 (rep A's own), got {status}")
    elif status not in ALLOWED or to_login(response):
        problems.append(f"expected to be allowed, got {status} {response.headers.get('Location')}")
    elif visitor == REP_B and normalized(response) != before.get((url, htmx)):
        problems.append("differs from what rep B saw before rep A had any rows")
    found = leaked(response)
    if found and visitor in (ANONYMOUS, REP_B):
        problems.append("shows rep A's data")
    return [p for p in problems if p], found


def check_post(o, database, visitor, route, url, htmx):
    """What is wrong with `visitor`'s refused POST to `url`: refused, and nothing changed.

    The htmx one comes as the offline queue sends it, with an Idempotency-Key: a refused
    write must not store its key either.
    """
    user = o[visitor] if visitor != ANONYMOUS else o[REP_A]
    form = route.form(o, user)
    database.changes()  # building the form may have read (or, for a preview, asked) the app
    headers = {**HTMX, "Idempotency-Key": f"authz-{visitor}-{url}"} if htmx else {}
    try:
        response = o["clients"][visitor].post(url, data=form, headers=headers)
    except Exception as error:  # noqa: BLE001  (a crash is one more problem to list)
        db.session.rollback()
        changed = database.changes()
        return [f"raised {error!r}"] + ([f"changed the database: {changed}"] if changed else [])
    problems = []
    if route.access == SECRET:
        status = response.status_code
        problems.append(None if status == 404 else f"expected 404 (a wrong secret), got {status}")
    elif visitor == ANONYMOUS:
        problems.append(sent_to_sign_in(response, htmx))
    elif response.status_code != 404:
        problems.append(f"expected 404, got {response.status_code}")
    changed = database.changes()
    if changed:
        problems.append(f"changed the database: {changed}")
    if visitor in (ANONYMOUS, REP_B) and leaked(response):
        problems.append("shows rep A's data")
    return [p for p in problems if p]


def refused_posts(visitor, route):
    """Whether `visitor`'s POST to a route of `route`'s kind must be refused."""
    if route.access == SECRET:
        return True
    if visitor == ANONYMOUS:
        return route.access != PUBLIC
    if route.access == ADMIN_ONLY:
        return True
    if route.access == REP_OWN:
        return visitor != REP_A
    return route.access == MANAGER_ONLY or (visitor == REP_B and route.access == OWN)


def matrix_problems(app, o, before, visitor, method, only=None):
    """Every problem of `visitor`'s `method` requests by (visitor, method, endpoint), and the
    endpoints whose answers showed rep A's MARK."""
    database = Database()
    problems, seen = {}, set()
    for rule, methods in rules(app):
        route = TABLE.get(rule.endpoint)
        key = (visitor, method, rule.endpoint)
        if method not in methods or (only is not None and key != only):
            continue
        found = problems.setdefault(key, [])
        if route is None:
            found.append(f"{rule.rule}: no entry in TABLE for this endpoint")
            continue
        if method == "POST" and route.access != PUBLIC and route.form is None:
            found.append(f"{rule.rule}: TABLE has no POST body for this endpoint")
            continue
        for url in urls(rule, route, o, method):
            if method == "GET":
                for htmx in (False, True):
                    wrong, shown = check_get(o, database, before, visitor, route, url, htmx)
                    mode = " (htmx)" if htmx else ""
                    found.extend(f"GET {url}{mode}: {problem}" for problem in wrong)
                    if shown:
                        seen.add(rule.endpoint)
            elif refused_posts(visitor, route):
                for htmx in (False, True):
                    wrong = check_post(o, database, visitor, route, url, htmx)
                    mode = " (htmx)" if htmx else ""
                    found.extend(f"POST {url}{mode}: {problem}" for problem in wrong)
    return problems, seen


def report(problems):
    """One line per problem, but for the known holes (their own tests expect them)."""
    return [
        f"{visitor} {endpoint}: {problem}"
        for (visitor, method, endpoint), found in problems.items()
        if (visitor, method, endpoint) not in KNOWN_HOLES
        for problem in found
    ]


def test_the_table_covers_every_route(app):
    """A route added to the app without a TABLE entry fails here, by name."""
    endpoints = {rule.endpoint for rule, _ in rules(app)}
    missing = sorted(endpoints - TABLE.keys())
    assert not missing, f"routes with no entry in TABLE (add one for each): {missing}"
    stale = sorted(TABLE.keys() - endpoints)
    assert not stale, f"TABLE names endpoints the app no longer has: {stale}"
    untried = sorted(
        rule.endpoint
        for rule, methods in rules(app)
        if "POST" in methods and TABLE[rule.endpoint].access == MANAGER_ONLY
        if TABLE[rule.endpoint].works is None
    )
    assert not untried, f"manager-only POST routes with no valid request in TABLE: {untried}"


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_get(app, make, small_pages, visitor):
    """Every GET of every route: who is let in, who gets 404, no list leaks, nothing changes."""
    o, before = build(app, make, baseline=visitor == REP_B)
    problems, seen = matrix_problems(app, o, before, visitor, "GET")
    lines = report(problems)
    endpoints = {rule.endpoint for rule, _ in rules(app)}
    lines += [
        f"{visitor} {endpoint}: rep A's rows never showed, so the leak check there is blind"
        for endpoint, route in TABLE.items()
        if visitor in route.seen_by and endpoint in endpoints and endpoint not in seen
    ]
    assert not lines, "\n".join(lines)


@pytest.mark.parametrize("visitor", (ANONYMOUS, REP_A, REP_B))
def test_refused_posts_change_nothing(app, make, small_pages, visitor):
    """Anonymous POSTs go to sign in, rep B's to rep A's objects and reps' to manager-only
    routes get 404; none changes a row."""
    o, before = build(app, make)
    problems, _ = matrix_problems(app, o, before, visitor, "POST")
    lines = report(problems)
    assert not lines, "\n".join(lines)


# Bodies no form of the app sends. Every POST route answers each of them 415, for every role and
# for a visitor alike: the body's type is judged before anything else (who is signed in, who may,
# CSRF, the sign-in limits), so a 415 says nothing about a route but that it takes a form.
FOREIGN_BODIES = (
    ("application/json", '{"name": 5, "comment": ["x"], "frequency_days": 30.7, "active": 0}'),
    ("text/plain", "name=Typed as text&comment=x"),
    ("application/xml", "<form><name>x</name></form>"),
)
# A form sent as multipart: the upload's type, which every other route refuses.
MULTIPART = (
    "multipart/form-data; boundary=B",
    '--B\r\nContent-Disposition: form-data; name="name"\r\n\r\nMultipart\r\n--B--\r\n',
)
ADMIN = "admin"


@pytest.mark.parametrize("visitor", (*VISITORS, ADMIN))
def test_every_post_refuses_a_body_no_form_sends(app, make, visitor):
    """JSON, a text body and a wrong content type to every POST route of the URL map, as every
    role, plain and as the offline queue sends them: 415 everywhere, no 5xx, nothing stored."""
    o, _ = build(app, make)
    if visitor == ADMIN:
        o[ADMIN] = make.user("admin", name="Ada Admin")
        o["clients"][ADMIN] = sign_in(app, o[ADMIN])
    client = o["clients"][visitor]
    database = Database()
    lines = []
    for rule, methods in rules(app):
        route = TABLE.get(rule.endpoint)
        if "POST" not in methods or route is None:
            continue
        takes_files = getattr(app.view_functions[rule.endpoint], "takes_files", False)
        bodies = FOREIGN_BODIES if takes_files else (*FOREIGN_BODIES, MULTIPART)
        for url, (content_type, body) in itertools.product(paths(rule, route, o), bodies):
            for htmx in (False, True):
                key = f"type-{visitor}-{url}-{content_type}"
                headers = {**HTMX, "Idempotency-Key": key} if htmx else {}
                where = f"POST {url} as {content_type}{' (htmx)' if htmx else ''}"
                try:
                    response = client.post(
                        url, data=body.encode(), content_type=content_type, headers=headers
                    )
                except Exception as error:  # noqa: BLE001  (a crash is one more problem)
                    db.session.rollback()
                    lines.append(f"{where}: raised {error!r}")
                else:
                    if response.status_code != 415:
                        lines.append(f"{where}: expected 415, got {response.status_code}")
                changed = database.changes()
                if changed:
                    lines.append(f"{where}: changed the database: {changed}")
    assert not lines, "\n".join(lines)


def test_the_owner_posts_are_valid(app, make):
    """Rep A's own POSTs with the same bodies succeed: rep B's 404s are authorization's."""
    o, _ = build(app, make)
    database = Database()
    lines = []
    for rule, methods in rules(app):
        route = TABLE.get(rule.endpoint)
        if "POST" not in methods or route is None or route.access not in (OWN, REP_OWN):
            continue
        for url in paths(rule, route, o):
            db.session.expire_all()
            form = route.form(o, o[REP_A])
            database.changes()
            response = o["clients"][REP_A].post(url, data=form)
            if response.status_code not in (200, 303) or not database.changes():
                lines.append(f"POST {url}: {response.status_code}, {response.text[:300]}")
    assert not lines, "\n".join(lines)


@pytest.mark.parametrize("endpoint", sorted(e for e, route in TABLE.items() if route.works))
def test_a_manager_post_works(app, make, endpoint):
    """A manager's valid POST to each manager-only route is done."""
    o, _ = build(app, make)
    route = TABLE[endpoint]
    target = replace(route, args=route.works.args) if route.works.args else route
    database = Database()
    posted = [rule for rule, methods in rules(app) if rule.endpoint == endpoint]
    assert posted, f"{endpoint} is no longer in the URL map"
    for rule in posted:
        for url in paths(rule, target, o):
            form = route.form(o, o[MANAGER])
            database.changes()
            response = o["clients"][MANAGER].post(url, data=form)
            assert response.status_code == route.works.status, (url, response.text[:500])
            changed = database.changes()
            db.session.expire_all()
            route.works.check(o, response, changed)


HOLES = [
    pytest.param(*key, marks=pytest.mark.xfail(strict=True, reason=f"hole: {reason}"))
    for key, reason in KNOWN_HOLES.items()
]


@pytest.mark.skipif(not HOLES, reason="no known authorization hole")
@pytest.mark.parametrize(("visitor", "method", "endpoint"), HOLES or [(None, None, None)])
def test_known_hole(app, make, small_pages, visitor, method, endpoint):
    """Each known hole on its own, expected to fail until the app closes it."""
    o, before = build(app, make, baseline=visitor == REP_B)
    key = (visitor, method, endpoint)
    problems, _ = matrix_problems(app, o, before, visitor, method, only=key)
    assert not problems.get(key), "\n".join(problems.get(key, []))


# A jobsite's rep: the sales rep of a jobsite under rep A's customer. They read the customer's
# family (README, Security) and may add a touchpoint record to its contacts; every other route
# that names rep A's objects answers them 404 and changes nothing.
JOBSITE_REP = "jobsite_rep"
SHARED_WITH_THE_FAMILY = {
    "accounts.show",
    "contacts.show",
    "contacts.create_record",
    "touchpoints.show",
    "touchpoints.marker",
}


def test_a_jobsite_rep_reads_the_family_and_changes_none_of_it(app, make):
    """Every OWN route as the rep of a jobsite under rep A's customer: the shared ones let in
    (and show rep A's rows), the others 404 with nothing changed, GET and POST, htmx or not."""
    o, _ = build(app, make)
    jobsite_rep = make.rep(name="Jobsite Rep", manager=o[MANAGER])
    make.jobsite(o["customer"], jobsite_rep, name="Their Own Jobsite")
    client = sign_in(app, jobsite_rep)
    database = Database()
    lines, let_in = [], set()
    for rule, methods in rules(app):
        route = TABLE.get(rule.endpoint)
        if route is None or route.access not in (OWN, REP_OWN):
            continue
        shared = rule.endpoint in SHARED_WITH_THE_FAMILY
        for method in methods:
            for url in urls(rule, route, o, method):
                for htmx in (False, True):
                    headers = HTMX if htmx else {}
                    if method == "POST":
                        db.session.expire_all()
                        form = route.form(o, jobsite_rep)
                        database.changes()
                        key = {"Idempotency-Key": f"jobsite-rep-{url}-{htmx}"} if htmx else {}
                        response = client.post(url, data=form, headers={**headers, **key})
                    else:
                        response = client.get(url, headers=headers)
                    status, changed = response.status_code, database.changes()
                    where = f"{method} {url}{' (htmx)' if htmx else ''}"
                    if not shared and status != 404:
                        lines.append(f"{where}: expected 404 (not theirs to change), got {status}")
                    elif shared and status not in ALLOWED:
                        lines.append(f"{where}: expected to be let in (shared), got {status}")
                    if changed and not (shared and method == "POST"):
                        lines.append(f"{where}: changed the database: {changed}")
                    if shared and method == "GET" and leaked(response):
                        let_in.add(rule.endpoint)
    blind = SHARED_WITH_THE_FAMILY - let_in - {"touchpoints.marker", "contacts.create_record"}
    lines += [f"{endpoint}: rep A's rows never showed" for endpoint in sorted(blind)]
    assert not lines, "\n".join(lines)
