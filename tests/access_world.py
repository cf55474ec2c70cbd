"""The world the authorization matrix runs in: rep A's objects (each marked), rep B's, a manager,
an idle rep and their signed-in clients; and each route's URLs filled with rep A's objects."""

import re
from datetime import timedelta

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Plan, PlanStop

from .access import ANONYMOUS, LIST, MANAGER, PUBLIC, REP_A, REP_B, SELF, TABLE
from .factories import PASSWORD

HTMX = {"HX-Request": "true"}
# Every one of rep A's objects carries this in a name, note or comment; compared lower-cased.
MARK = "zz-alpha"
# Rep A's address, as Find from address asks for it, and the place the fake geocoder gives.
LOCATE_QUERY = "1 ZZ-Alpha Road, ZZ-Alpha-City"


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
