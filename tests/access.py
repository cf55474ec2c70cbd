"""Who may use each route of the app: the access levels, the visitors, and TABLE, one Route per
endpoint with its URL variables, query variants, a valid POST body and what a manager's POST does.

Read by the authorization matrix (tests/test_authorization.py), the fuzz and the browser's tour of
every page; tests/access_world.py builds the objects the routes are reached with."""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from tpweb.extensions import db
from tpweb.models import Account, Touchpoint, TouchpointRecord, User

from .webpush import Device

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
