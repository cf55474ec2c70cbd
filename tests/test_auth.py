"""Signing in and out, the login wall on every route, ended sessions, CSRF and the Vary header."""

import html
import re
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Touchpoint

from . import factories
from .conftest import snapshot
from .signing_in import csrf_sign_in, csrf_token, get_routes

HTMX = {"HX-Request": "true"}
WRONG = "Wrong username or password."


def sign_in(client, username, password=factories.PASSWORD, url="/login"):
    return client.post(url, data={"username": username, "password": password})


def field_error(page, name):
    """The error text inside the label of field `name`, or None when it has none."""
    label = re.search(rf'<label for="{name}">(.*?)</label>', page, re.S)
    assert label, f"no label for {name}"
    error = re.search(r'class="field-error">(.*?)</small>', label.group(1), re.S)
    return error and html.unescape(error.group(1))


def assert_signed_out(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


# Signing in


def test_login_page_has_username_and_password_fields(client):
    page = client.get("/login")

    assert page.status_code == 200
    assert 'name="username"' in page.text
    assert 'name="password"' in page.text and 'type="password"' in page.text


def test_right_password_signs_in_and_dashboard_greets_user(client, make):
    rep = make.rep(name="Rita Rep")

    response = sign_in(client, rep.username)

    assert response.status_code == 303
    assert response.location == "/"
    assert "Rita Rep" in client.get("/").text


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "inactive user"])
def test_bad_credentials_are_refused_and_stay_signed_out(client, make, case):
    rep = make.rep(active=case != "inactive user")
    username = "nobody-here" if case == "unknown user" else rep.username
    password = "wrong horse" if case == "wrong password" else factories.PASSWORD

    response = sign_in(client, username, password)

    assert response.status_code == 422
    assert field_error(response.text, "password") == WRONG
    assert_signed_out(client)


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "inactive user"])
def test_every_refusal_does_the_same_password_work(client, make, monkeypatch, case):
    """An unknown name must cost a hash check too, or the answer's speed tells who exists."""
    import tpweb.models
    import tpweb.web.auth

    checks = []

    def counting(check):
        def check_and_count(*args):
            checks.append(args)
            return check(*args)

        return check_and_count

    for module in (tpweb.web.auth, tpweb.models):
        monkeypatch.setattr(module, "check_password_hash", counting(module.check_password_hash))
    rep = make.rep(active=case != "inactive user")
    username = "nobody-here" if case == "unknown user" else rep.username

    response = sign_in(client, username, "wrong horse")

    assert response.status_code == 422
    assert [password for _, password in checks] == ["wrong horse"]


@pytest.mark.parametrize("field", ["username", "password"])
def test_empty_field_is_refused_with_an_error_beside_it(client, make, field):
    rep = make.rep()
    data = {"username": rep.username, "password": factories.PASSWORD, field: ""}

    response = client.post("/login", data=data)

    assert response.status_code == 422
    assert field_error(response.text, field)
    assert_signed_out(client)


def test_oversized_username_is_refused(client):
    response = sign_in(client, "u" * 10_000)

    assert response.status_code == 422
    assert field_error(response.text, "username")
    assert_signed_out(client)


def test_next_sends_user_to_the_page_they_asked_for(client, make):
    rep = make.rep()

    response = sign_in(client, rep.username, url="/login?next=/touchpoints")

    assert response.status_code == 303
    assert response.location == "/touchpoints"
    assert client.get(response.location).status_code == 200


def test_sign_in_from_the_login_wall_returns_to_the_page_asked_for(client, make):
    rep = make.rep()
    wall = client.get("/touchpoints?view=map")
    form = client.get(wall.location).text
    action = html.unescape(re.search(r'<form method="post" action="([^"]*)"', form).group(1))

    response = sign_in(client, rep.username, url=action)

    assert response.status_code == 303
    assert response.location == "/touchpoints?view=map"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example"])
def test_next_to_another_site_lands_on_dashboard(client, make, target):
    rep = make.rep()

    response = sign_in(client, rep.username, url=f"/login?{urlencode({'next': target})}")

    assert response.status_code == 303
    assert response.location == "/"


def test_next_with_a_backslash_stays_on_this_site(client, make):
    rep = make.rep()

    response = sign_in(client, rep.username, url="/login?next=/%5Cevil.example")

    # Browsers read a raw "/\host" as "//host"; a quoted backslash is only a path.
    assert not urlsplit(response.location).netloc
    assert not response.location.startswith(("//", "/\\"))


# The login wall


def test_route_list_is_built_from_the_url_map(app):
    routes = get_routes(app)

    assert "/" in routes and "/customers/1" in routes
    assert not any("<" in route for route in routes), routes


def test_every_get_route_redirects_to_login_when_signed_out(app, client):
    for url in get_routes(app):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/login?next="), url


def test_htmx_request_when_signed_out_gets_401_with_hx_redirect(app, client):
    for url in get_routes(app):
        response = client.get(url, headers=HTMX)
        assert response.status_code == 401, url
        assert response.headers["HX-Redirect"].startswith("/login"), url


# Signing out and ended sessions


def test_logout_signs_out(client, auth, make):
    auth.login(make.rep())

    response = client.post("/logout")

    assert response.status_code == 303
    assert_signed_out(client)


def test_logout_by_get_is_not_allowed(client, auth, make):
    auth.login(make.rep())

    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


# A browser sends requests of its own around a sign-in (the service worker fetching the shell, the
# manifest, a page's fragments): one sent before the sign-in with the anonymous cookie and
# answered after it must not answer with a cookie, or it replaces the signed-in one (seen in
# headless Chromium: the service worker's shell fetch signed a rep out as they signed in).

BACKGROUND = ["/offline/shell", "/sw.js", "/manifest.webmanifest", "/offline", "/offline/urls",
              "/healthz", "/readyz", "/", "/touchpoints", "/tasks", "/login"]  # fmt: skip


@pytest.mark.parametrize("path", BACKGROUND)
def test_an_anonymous_request_leaves_the_cookie_alone(client_of, path):
    client = client_of()
    client.get("/login")  # the sign-in page's cookie: its form's CSRF token

    response = client.get(path)

    assert response.status_code < 500
    assert response.headers.getlist("Set-Cookie") == []


def test_a_request_sent_before_signing_in_and_answered_after_keeps_the_sign_in(client_of, make):
    rep, client, late = make.rep(), client_of(), client_of()
    client.get("/login")
    late.set_cookie("session", client.get_cookie("session").value)  # sent before ...

    assert sign_in(client, rep.username).status_code == 303
    answered = late.get("/offline/shell")  # ... answered after: the browser takes its cookie
    for header in answered.headers.getlist("Set-Cookie"):
        name, _, value = header.split(";")[0].partition("=")
        client.set_cookie(name, value)

    assert client.get("/").status_code == 200


def sign_in_fresh(client, user):
    assert sign_in(client, user.username).status_code == 303
    assert client.get("/").status_code == 200


def test_bumping_session_version_ends_the_session(client_of, make):
    rep, client = make.rep(), client_of()
    sign_in_fresh(client, rep)

    rep.session_version += 1
    db.session.commit()

    assert_signed_out(client)


def test_deactivating_the_user_ends_the_session(client_of, make):
    rep, client = make.rep(), client_of()
    sign_in_fresh(client, rep)

    rep.active = False
    db.session.commit()

    assert_signed_out(client)


# CSRF


@pytest.fixture
def csrf_client(client_of):
    return client_of(WTF_CSRF_ENABLED=True)


@pytest.fixture
def rep_touchpoint(make):
    rep = make.rep()
    today = today_in("America/Chicago")
    touchpoint = make.touchpoint(make.customer(rep=rep), last_call=today, frequency_days=30)
    return rep, touchpoint


def edit_data(touchpoint):
    return {
        "last_call": touchpoint.last_call.isoformat(),
        "frequency_days": "7",
        "next_call": "",
        "comment": "moved",
        "version": str(touchpoint.version),
    }


def stored_frequency(touchpoint_id):
    db.session.expire_all()
    return db.session.scalar(select(Touchpoint.frequency_days).filter_by(id=touchpoint_id))


def test_login_without_csrf_token_is_refused(csrf_client, make):
    rep = make.rep()

    response = sign_in(csrf_client, rep.username)

    assert response.status_code == 400
    assert_signed_out(csrf_client)


def test_write_without_csrf_token_is_refused(csrf_client, rep_touchpoint):
    rep, tp = rep_touchpoint
    csrf_sign_in(csrf_client, rep)
    before = snapshot()

    response = csrf_client.post(f"/touchpoints/{tp.id}/edit", data=edit_data(tp))

    assert response.status_code == 400
    assert stored_frequency(tp.id) == 30
    assert snapshot() == before


def test_write_with_csrf_header_from_the_page_succeeds(csrf_client, rep_touchpoint):
    rep, tp = rep_touchpoint
    csrf_sign_in(csrf_client, rep)
    token = csrf_token(csrf_client.get("/").text)

    response = csrf_client.post(
        f"/touchpoints/{tp.id}/edit", data=edit_data(tp), headers={"X-CSRFToken": token}
    )

    assert response.status_code == 303
    assert stored_frequency(tp.id) == 7
    db.session.expire_all()
    assert db.session.get(Touchpoint, tp.id).next_call == tp.last_call + timedelta(days=7)


# Caching


@pytest.mark.parametrize("url", ["/", "/touchpoints"])
def test_responses_vary_on_hx_request(client, auth, make, url):
    auth.login(make.rep())

    response = client.get(url)

    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
