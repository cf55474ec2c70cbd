"""The authorization matrix: every route in the URL map for rep A, rep B, a manager, a visitor."""

import itertools
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from tpweb.extensions import db

from .access import (
    ADMIN_ONLY,
    ANONYMOUS,
    MANAGER,
    MANAGER_ONLY,
    OWN,
    PUBLIC,
    REP_A,
    REP_B,
    REP_OWN,
    SECRET,
    TABLE,
    VISITORS,
)
from .access_world import HTMX, LOCATE_QUERY, MARK, build, normalized, paths, rules, sign_in, urls
from .conftest import Database
from .fake_geocoder import FakeGeocoder, place
from .push_keys import VAPID

# A signed-in visitor "is allowed" when the answer is one of these (and no redirect to /login).
ALLOWED = (200, 302, 303, 422)


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


# Cases that fail because of a known hole in the app: (visitor, method, endpoint) -> the hole.
# Each runs on its own below as a strict xfail, so fixing the hole makes the suite say so.
KNOWN_HOLES: dict[tuple[str, str, str], str] = {}


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
