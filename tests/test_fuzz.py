"""Hypothesis fuzz of every form and list query: no 500, no raw markup, refusals change nothing."""

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from tpweb import models
from tpweb.extensions import db
from tpweb.models import Account, CallLogType, Contact, Touchpoint, TouchpointRecord, User

from . import access, access_world
from .access import ANONYMOUS, MANAGER, REP_A, REP_B, TABLE
from .conftest import Database
from .factories import PASSWORD
from .fake_geocoder import FakeGeocoder, place
from .push_keys import VAPID

ADMIN = "admin"
FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Who posts to a route of each kind: its rightful users, so the fuzz reaches the form.
POSTERS = {
    access.PUBLIC: (ANONYMOUS,),
    access.SECRET: (ANONYMOUS, REP_A),
    access.SELF: (REP_A, MANAGER),
    access.LIST: (REP_A, MANAGER),
    access.OWN: (REP_A, MANAGER),
    access.REP_OWN: (REP_A, MANAGER),
    access.MANAGER_ONLY: (MANAGER, ADMIN),
    access.ADMIN_ONLY: (ADMIN,),
}

# Hostile values: markup, template and SQL syntax, odd unicode, numbers and dates out of range.
MARKUP = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "${alert(1)}",
    "zz{{7*7}}zz",
    "zz{% print(7*7) %}zz",
    "javascript:alert(1)",
)
SQLISH = ("' OR '1'='1", "'; DROP TABLE users; --", "1 OR 1=1", "%", "_", "\\", "%_\\'\"", "1\x00")
UNICODE = (
    "\u202eevil\u202c",
    "مرحبا بالعالم",
    "שלום",
    "👩‍💻🔥🏳️‍🌈",
    "\x00",
    "a\x00b",
    "\ufeff",
    "\r\n",
    "   ",
    "\t",
    "Ω≈ç√∫",
)
NUMBERS = (
    "-1", "0", "-0", "1", "24", "1441", "3651", "90.1", "-180.5", "1e309", "-1e309", "NaN",
    "inf", "3.5", "1e3", "0x10", "99999999999999999999", str(2**63), str(2**31),
)  # fmt: skip
# Digits str.isdigit() takes that are not 0-9: int() reads some ("١٢" is 12) and not others.
DIGITS = ("²", "³¹", "①", "⁹", "١٢", "１２", "𝟙", "٣٠")
DATES = (
    "0000-00-00", "9999-12-31", "2026-02-30", "2026-13-01", "0001-01-01", "1989-12-31",
    "2200-01-01", "2026-1-1", "26-01-01", "2026-02-28T10:00", "2026/02/28", "today",
    "２０２６-０１-０１",
)  # fmt: skip
HUGE = ("A" * 10_000, "<script>alert(1)</script>" * 400, "é" * 10_000, "9" * 10_000)
# Any character but surrogates (no form can carry those), with the troublesome ones often.
TEXT = st.lists(
    st.one_of(
        st.sampled_from(["\x00", "<", ">", '"', "'", "&", "{{", "%", "_", "\\", "²", "\u202e"]),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
    ),
    max_size=6,
).map("".join)
HOSTILE = st.one_of(
    *(st.sampled_from(kind) for kind in (MARKUP, SQLISH, UNICODE, NUMBERS, DIGITS, DATES, HUGE)),
    st.just(""),
    TEXT,
    st.integers(-(10**25), 10**25).map(str),
    st.floats().map(str),
    st.dates().map(lambda day: day.isoformat()),
)
# What must never reach a page raw: markup that a browser would run.
RAW = ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:', "href='javascript:")
# "zz{{7*7}}zz" evaluated by a template, in any answer.
EVALUATED = "zz49zz"
# Fields no form has, and fields of other forms that must be ignored where they don't belong.
EXTRA_NAMES = (
    "csrf_token", "id", "user_id", "role", "is_admin", "active", "inactive", "version",
    "session_version", "sales_rep_id", "password_hash", "author_id", "__proto__", "all_matching",
)  # fmt: skip
KEYS = st.one_of(
    st.none(),
    st.none(),
    st.none(),
    st.sampled_from(["fuzz-key-1", "fuzz-key-2"]),  # the same key again: a replay
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=120),
)


def problems_in(response):
    """What is wrong with an answer: a server error, raw markup in a page, an evaluated template.

    JSON and CSV are data (read with textContent, or by a spreadsheet): markup in them is text.
    """
    found = [f"answered {response.status_code}"] if response.status_code >= 500 else []
    text = response.get_data().decode("utf-8", "replace")
    if response.mimetype == "text/html":
        found += [f"{raw!r} unescaped in the page" for raw in RAW if raw.lower() in text.lower()]
    if EVALUATED in text:
        found.append(f"{EVALUATED!r}: a template evaluated text it was given")
    return found


# Valid bodies for the routes whose TABLE entry has none, or that need a fuzzable file.
def _login_form(o, user):
    return {"username": o[REP_A].username, "password": PASSWORD, "remember": "y"}


# A customer and its touchpoint, as the import reads them; the fuzz changes any cell.
IMPORT_ROWS = {
    "kind": ("customer", "touchpoint"),
    "external_id": ("FUZZ-1", ""),
    "name": ("Fuzz Co", ""),
    "city": ("Springfield", ""),
    "notes": ("", ""),
    "latitude": ("41.9", ""),
    "longitude": ("-87.6", ""),
    "sales_rep": ("", ""),
    "account_kind": ("", "customer"),
    "account_external_id": ("", "FUZZ-1"),
    "last_call": ("", "2026-11-01"),
    "frequency_days": ("", "30"),
    "next_call": ("", ""),
    "comment": ("", "Monthly"),
}
# A call log and a touchpoint record, as their own exports write them and the import reads back.
CALL_LOG_ROWS = {
    "external_id": ("FUZZ-L1",),
    "called_on": ("2026-11-01",),
    "account_kind": ("customer",),
    "account_external_id": ("FUZZ-1",),
    "user": ("fuzz-nobody",),
    "call_type": ("Phone",),
    "duration_minutes": ("5",),
    "notes": ("Spoke about the order",),
}
RECORD_ROWS = {
    "external_id": ("FUZZ-R1",),
    "contact_external_id": ("FUZZ-C1",),
    "description": ("Quote follow-up",),
    "response_required": ("true",),
    "date_due": ("2026-12-01",),
    "date_completed": ("2026-11-01",),
    "author": ("fuzz-nobody",),
    "assigned_to": ("fuzz-nobody",),
}


def _csv(changes=(), template=IMPORT_ROWS):
    """`template`'s rows with `changes`, ((row, column), value) pairs, as a CSV file."""
    rows = [list(column) for column in zip(*template.values(), strict=True)]
    for (row, column), value in changes:
        rows[row % len(rows)][list(template).index(column)] = value
    out = io.StringIO()
    csv.writer(out).writerows([list(template), *rows])
    return out.getvalue()


def _cells(template):
    """Up to four of `template`'s cells, each with a hostile value."""
    where = st.tuples(st.sampled_from([0, 1]), st.sampled_from(list(template)))
    return st.lists(st.tuples(where, HOSTILE), max_size=4)


CELLS = st.one_of(
    *(
        _cells(template).map(lambda cells, template=template: _csv(cells, template))
        for template in (IMPORT_ROWS, CALL_LOG_ROWS, RECORD_ROWS)
    )
)
FILENAMES = st.sampled_from(
    ["accounts.csv", "x.txt", "", "<script>alert(1)</script>.csv", "../../etc/passwd.csv", "a.CSV"]
)
VALID_CSV = _csv()


def _signed(name, text):
    """A preview's payload as the confirmation gets it: only a file the preview accepted."""
    from tpweb.domain import csvio
    from tpweb.web.imports import _signer

    try:
        csvio.read(text.encode())
    except csvio.FileError:
        text = VALID_CSV
    return _signer().dumps({"name": name, "csv": text})


FILES = st.one_of(
    st.just(VALID_CSV.encode()),
    CELLS.map(str.encode),
    st.binary(max_size=300),
    st.sampled_from([b"", b"\xef\xbb\xbf", b"PK\x03\x04zip", b"\xff\xfe\x00a", b"kind\r\n\x00"]),
).flatmap(lambda data: FILENAMES.map(lambda name: (io.BytesIO(data), name)))
PAYLOADS = st.one_of(
    st.builds(_signed, FILENAMES, st.just(VALID_CSV)),
    st.builds(_signed, FILENAMES, CELLS),
    HOSTILE,
)


@dataclass(frozen=True)
class Recipe:
    """How to fuzz one POST route beyond its TABLE entry."""

    optional: tuple = ()  # fields a valid body leaves out that the form still reads
    form: object = None  # (objects, user) -> a valid body, when TABLE's will not do
    fields: tuple = ()  # (name, strategy): values of its own for a field, e.g. a file


# Every POST endpoint of the app. One missing here fails test_every_post_route_is_fuzzed.
RECIPES = {
    "auth.login": Recipe(form=_login_form),
    "auth.logout": Recipe(),
    "settings.index": Recipe(),
    "touchpoints.complete": Recipe(),
    "touchpoints.edit": Recipe(optional=("inactive",)),
    "accounts.edit_account": Recipe(),
    "accounts.add_touchpoint": Recipe(optional=("inactive", "version")),
    "accounts.new_contact": Recipe(),
    "accounts.edit_contact": Recipe(),
    "accounts.new_customer": Recipe(),
    "accounts.new_jobsite": Recipe(),
    "accounts.locate": Recipe(),
    "accounts.set_status": Recipe(),
    "contacts.create_record": Recipe(),
    "tasks.respond": Recipe(),
    "reps.reassign": Recipe(optional=("all_matching", "q")),
    "reps.deactivate": Recipe(),
    "admin.create_user": Recipe(),
    "admin.edit_user": Recipe(),
    "admin.reset_password": Recipe(),
    "admin.reactivate": Recipe(),
    "admin.add_call_type": Recipe(optional=("active",)),
    "admin.edit_call_type": Recipe(optional=("active",)),
    "imports.preview": Recipe(fields=(("file", FILES),)),
    "imports.confirm": Recipe(fields=(("payload", PAYLOADS),)),
    "imports.prepare_export": Recipe(),
    "settings.plan": Recipe(),
    "plan.index": Recipe(),
    "plan.change_stop": Recipe(optional=("lat", "lon")),
    "reminders.channels": Recipe(optional=("calendar_feed",)),
    "reminders.reset_link": Recipe(),
    "reminders.action": Recipe(optional=("csrf_token",)),
    # Its TABLE form sets the stop back to left out (a write of its own): here, only the body.
    "plan.why_not_stop": Recipe(
        optional=("lat", "lon"), form=lambda o, user: {"order": str(o["plan_left_out"].id)}
    ),
    "settings.visit_lengths": Recipe(),
    "push.turn_on": Recipe(),
    "push.refresh": Recipe(optional=("previous",)),
    "push.turn_off": Recipe(),
}

# Query parameters the list routes read, each with values that mean something to them.
PARAMS = {
    "q": st.sampled_from(["zz", "alpha", "Bravo"]),
    "page": st.sampled_from(["1", "2", "10000", "10001"]),
    "state": st.sampled_from(["overdue", "due-today", "upcoming"]),
    "rep": st.sampled_from(["0", "1", "2", "3"]),
    "lat": st.sampled_from(["41.88", "-90", "90.0001"]),
    "lon": st.sampled_from(["-87.63", "180", "-180.1"]),
    "sort": st.sampled_from(["name", "overdue", "open_tasks", "unassigned"]),
    "status": st.sampled_from(["active", "inactive"]),
    "touchpoint": st.sampled_from(["with", "without"]),
    "view": st.sampled_from(["list", "map"]),
    "response_required": st.sampled_from(["1", "0"]),
    "last_call": st.sampled_from(["2026-11-01", "2199-12-31"]),
    "frequency_days": st.sampled_from(["30", "3650"]),
    "idp": st.sampled_from(["", "new", "tp-1"]),
    "next": st.sampled_from(["/", "/customers", "//evil.example", "javascript:alert(1)"]),
    "logged": st.just("1"),
    "saved": st.just("1"),
}
# The list routes, fuzzed one by one: TABLE's, and the other GETs that read a query string.
QUERIED = (
    "auth.login",
    "touchpoints.compute_next_call",
    "reps.index",
    "reps.show",
    "imports.index",
    "admin.users",
)
LISTS = sorted({e for e, route in TABLE.items() if route.access == access.LIST} | set(QUERIED))
VIEWERS = (REP_A, REP_B, MANAGER, ADMIN)
# The model whose ids fill each URL variable, to aim at any object, anyone's.
ID_OWNERS = {
    "account_id": Account,
    "customer_id": Account,
    "contact_id": Contact,
    "touchpoint_id": Touchpoint,
    "record_id": TouchpointRecord,
    "rep_id": User,
    "user_id": User,
    "type_id": CallLogType,
    "plan_id": models.Plan,
    "stop_id": models.PlanStop,
}


def _session_client(app, user):
    """A client signed in as `user` through its session, without the slow password check."""
    client = app.test_client()
    if user is not None:
        user = db.session.get(User, user.id)
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
    return client


def _quick_hash(password):
    return generate_password_hash(password, method="pbkdf2:sha256:1")


def _stored_markup(make, o):
    """Rows whose text every page shows: each must escape it, and none evaluate it."""
    rep_a = o[REP_A]
    account = make.customer(rep_a, name=MARKUP[0], address=MARKUP[1], city=MARKUP[2],
                            notes=MARKUP[3], latitude=41.86, longitude=-87.61)  # fmt: skip
    make.jobsite(account, rep_a, name=MARKUP[5], latitude=41.85, longitude=-87.6)
    contact = make.contact(account, name=MARKUP[1], title=MARKUP[5], notes=MARKUP[0])
    comment = f"{MARKUP[5]} {MARKUP[3]}"
    make.touchpoint(account, last_call=o["today"] - timedelta(days=3), comment=comment)
    make.record(contact, rep_a, response_required=True, description=MARKUP[2], details=MARKUP[6])
    make.call_log(account, rep_a, o["phone"], called_on=o["today"], contact=contact,
                  notes=MARKUP[0])  # fmt: skip
    make.call_type(MARKUP[1], position=1)
    o[REP_B].name = MARKUP[2]


@pytest.fixture
def world(app, make, monkeypatch):
    """The matrix's objects (rep A's, rep B's, a manager), an admin, rows of markup, and
    a snapshot of the database.

    Made quick to run hundreds of requests on: sessions set without the password check, and
    cheap password hashes.
    """
    monkeypatch.setattr(access_world, "sign_in", _session_client)
    monkeypatch.setattr(models, "generate_password_hash", _quick_hash)
    # Find from address on, so its route is fuzzed past the 404 it answers while off.
    fake = FakeGeocoder({access_world.LOCATE_QUERY: place(41.88, -87.63)})
    monkeypatch.setitem(app.config, "TPWEB_GEOCODER_CLIENT", fake)
    # Web Push on, so its routes are fuzzed past the 404 they answer without keys.
    for name, value in VAPID.items():
        monkeypatch.setitem(app.config, name, value)
    o, _ = access_world.build(app, make)
    o[ADMIN] = make.user("admin", name="Ada Admin")
    _stored_markup(make, o)
    for who in (REP_A, REP_B, MANAGER, ADMIN):
        o[who].set_password(PASSWORD)
    db.session.commit()
    o["addresses"] = iter(range(1, 1_000_000))
    o["ids"] = _ids()
    o["database"] = Database()
    return o


def _rules(app, endpoint, method):
    return [
        rule
        for rule, methods in access_world.rules(app)
        if rule.endpoint == endpoint and method in methods
    ]


def _ids():
    """Each URL variable's ids as the test starts (drawn from a fixed list, as Hypothesis wants)."""
    ids = {}
    for name, model in ID_OWNERS.items():
        found = db.session.scalars(sa.select(model.id).order_by(model.id)).all()
        ids[name] = st.sampled_from([*found, 0, 2**31 - 1, 2**31, 2**63, 10**20])
    return ids


def draw_url(data, o, rule, route):
    """The rule's path: rep A's objects mostly, now and then anyone's id, or none at all."""
    values = route.args(o, (rule.defaults or {}).get("kind"))
    values = dict(data.draw(st.sampled_from(values)) if isinstance(values, list) else values)
    for name in values:
        if name in ID_OWNERS:
            aim = st.one_of(st.none(), st.none(), st.none(), o["ids"][name])
        else:
            aim = st.one_of(st.none(), st.none(), st.sampled_from(MARKUP + ("x", "accounts")))
        other = data.draw(aim, label=f"<{name}>")
        if other is not None:
            values[name] = other
    return access_world.VARIABLE.sub(lambda m: quote(str(values[m.group(1)]), safe=""), rule.rule)


def draw_body(data, valid, recipe):
    """The valid body with some fields hostile, missing or repeated, and unknown fields added."""
    own = dict(recipe.fields)
    body = {}
    for name in [*valid, *recipe.optional]:
        kept = [valid[name]] if name in valid else []
        choice = data.draw(
            st.sampled_from(["keep", "keep", "keep", "hostile", "missing", "repeat"]), label=name
        )
        if choice == "keep" and name in valid:
            body[name] = valid[name]
        elif choice == "hostile":
            body[name] = data.draw(own.get(name, HOSTILE), label=f"{name}=")
        elif choice == "repeat":
            body[name] = [*kept, *data.draw(st.lists(HOSTILE, min_size=1, max_size=3))]
            if name in own:  # a second file, or a second payload
                body[name] = [*kept, data.draw(own[name])]
    extra = data.draw(st.dictionaries(st.one_of(st.sampled_from(EXTRA_NAMES), TEXT), HOSTILE,
                                      max_size=3), label="extra fields")  # fmt: skip
    return {**extra, **body} if extra else body


def _fresh(o, app, who):
    db.session.expire_all()
    client = _session_client(app, o.get(who))
    # One address a request: the sign-in limit, counted per address, lets every login through.
    n = next(o["addresses"])
    client.environ_base["REMOTE_ADDR"] = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    return client


def _request(o, send):
    """Send, then what changed in the database, as a new request would find it.

    Nothing else writes between two requests, so each one's snapshot is the next one's before.
    """
    try:
        response = send()
    finally:
        db.session.rollback()  # what the end of a real request does
        changed = o["database"].changes()
    return response, changed


def test_every_post_route_is_fuzzed(app):
    """A POST endpoint added to the app without a recipe here fails, by name."""
    posts = {rule.endpoint for rule, methods in access_world.rules(app) if "POST" in methods}
    assert not sorted(posts - RECIPES.keys()), (
        f"POST routes with no RECIPES entry: {sorted(posts - RECIPES.keys())}"
    )
    assert not sorted(RECIPES.keys() - posts), (
        f"RECIPES names routes the app no longer has: {sorted(RECIPES.keys() - posts)}"
    )


def test_every_list_route_is_fuzzed(app):
    """LISTS names routes of the app only, or its fuzz would fuzz nothing."""
    gets = {rule.endpoint for rule, methods in access_world.rules(app) if "GET" in methods}
    assert not sorted(set(LISTS) - gets), f"not GET routes of the app: {set(LISTS) - gets}"


@pytest.mark.parametrize("endpoint", sorted(RECIPES))
@FUZZ
@given(data=st.data())
def test_post_fuzz(app, world, endpoint, data):
    """Hostile and random bodies: no 500, no raw markup, and a refusal changes nothing."""
    o, route, recipe = world, TABLE[endpoint], RECIPES[endpoint]
    rule = data.draw(st.sampled_from(_rules(app, endpoint, "POST")), label="rule")
    who = data.draw(st.sampled_from(POSTERS[route.access]), label="who")
    user = o.get(who)
    url = draw_url(data, o, rule, route)
    valid = (recipe.form or route.form)(o, user or o[REP_A])
    body = draw_body(data, valid, recipe)
    headers = {}
    if data.draw(st.booleans(), label="htmx"):
        headers["HX-Request"] = "true"
    key = data.draw(KEYS, label="Idempotency-Key")
    if key is not None:
        headers["Idempotency-Key"] = key
    client = _fresh(o, app, who)
    # A redirect is followed: the page it leads to shows what was just saved.
    response, changed = _request(
        o, lambda: client.post(url, data=body, headers=headers, follow_redirects=True)
    )
    answer = response.history[0] if response.history else response
    found = [problem for each in (*response.history, response) for problem in problems_in(each)]
    if answer.status_code >= 400 and changed:
        found.append(f"refused with {answer.status_code} but changed {changed}")
    assert not found, f"POST {url} as {who}: {found}"


def draw_query(data, o):
    """Query parameters: meaningful, hostile, repeated, and unknown ones."""
    names = data.draw(
        st.lists(st.sampled_from(sorted(PARAMS)), max_size=5, unique=True), label="params"
    )
    query = {}
    for name in names:
        values = st.one_of(PARAMS[name], HOSTILE)
        if name == "rep":
            values = st.one_of(values, st.just(str(o[REP_A].id)))
        query[name] = data.draw(st.one_of(values, st.lists(values, min_size=2, max_size=3)),
                                label=name)  # fmt: skip
    query.update(data.draw(st.dictionaries(TEXT, HOSTILE, max_size=2), label="unknown params"))
    return query


def _get(app, data, o, endpoint):
    route = TABLE[endpoint]
    rule = data.draw(st.sampled_from(_rules(app, endpoint, "GET")), label="rule")
    viewers = (ANONYMOUS,) if route.access == access.PUBLIC else VIEWERS
    who = data.draw(st.sampled_from(viewers), label="who")
    url = draw_url(data, o, rule, route)
    query = draw_query(data, o)
    headers = {"HX-Request": "true"} if data.draw(st.booleans(), label="htmx") else {}
    client = _fresh(o, app, who)
    response, changed = _request(o, lambda: client.get(url, query_string=query, headers=headers))
    found = problems_in(response)
    if changed:
        found.append(f"a GET changed {changed}")
    assert not found, f"GET {url} {query!r} as {who}: {found}"


@pytest.mark.parametrize("endpoint", LISTS)
@FUZZ
@given(data=st.data())
def test_list_query_fuzz(app, world, endpoint, data):
    """Hostile and random query strings on the list routes: no 500, raw markup, or write."""
    _get(app, data, world, endpoint)


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_other_get_query_fuzz(app, world, data):
    """The same on every other GET route, one drawn per example."""
    others = sorted(
        rule.endpoint
        for rule, methods in access_world.rules(app)
        if "GET" in methods and rule.endpoint not in LISTS and rule.endpoint != "static"
    )
    _get(app, data, world, data.draw(st.sampled_from(others), label="endpoint"))
