"""Security: headers, cookies, sessions that end, slowed sign-in, body limits, failures."""

import os
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tpweb.extensions import db
from tpweb.models import User
from tpweb.web.security import policy

from .conftest import snapshot
from .factories import PASSWORD
from .signing_in import get_routes


def signed_in_client(app, user, address="10.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 303
    return client


def test_every_route_carries_the_security_headers(app, client, make, auth):
    auth.login(make.manager())
    for url in ["/login", *get_routes(app)]:
        response = client.get(url)
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp, url
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], url
        assert "unsafe-eval" not in csp, url


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://tpweb.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_have_no_inline_script_and_the_map_frame_hashes_its_own(app, client, make, auth):
    auth.login(make.rep())
    page = client.get("/").text
    assert "<script>" not in page and "<script " not in page.replace('<script src="', "")
    frame = client.get("/touchpoints/map-frame")
    csp = frame.headers["Content-Security-Policy"]
    assert "'sha256-" in csp and csp != policy()


def test_session_cookie_is_httponly_and_lax_and_secure_outside_development(client, make):
    from tpweb.config import Config

    response = client.post("/login", data={"username": make.rep().username, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert Config.SESSION_COOKIE_SECURE is (os.environ.get("TPWEB_ENV") != "development")
    assert Config.REMEMBER_COOKIE_SECURE is Config.SESSION_COOKIE_SECURE


def test_a_copied_session_cookie_is_refused_after_sign_out(app, make):
    rep = make.rep()
    phone = signed_in_client(app, rep)
    thief = app.test_client()
    thief.set_cookie("session", phone.get_cookie("session").value)
    assert thief.get("/").status_code == 200

    phone.post("/logout")

    assert thief.get("/").status_code == 302
    assert phone.get("/").status_code == 302


def test_deactivation_ends_every_session_of_that_user(app, make):
    rep = make.rep()
    manager = make.manager()
    phone = signed_in_client(app, rep, "10.0.0.2")
    laptop = signed_in_client(app, rep, "10.0.0.3")
    desk = signed_in_client(app, manager, "10.0.0.4")

    assert desk.post(f"/reps/{rep.id}/deactivate").status_code == 303

    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302
    refused = app.test_client().post(
        "/login", data={"username": rep.username, "password": PASSWORD}
    )
    assert refused.status_code == 422


def test_remember_me_lasts_14_days(client, make):
    response = client.post(
        "/login", data={"username": make.rep().username, "password": PASSWORD, "remember": "y"}
    )
    remember = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token")]
    assert remember and "HttpOnly" in remember[0]
    assert client.application.config["REMEMBER_COOKIE_DURATION"].days == 14


def ten_wrong_passwords(client, username, headers=lambda i: {}):
    """The statuses of ten wrong passwords for `username` in a row, the i-th with headers(i)."""
    return [
        client.post(
            "/login", data={"username": username, "password": f"guess{i}"}, headers=headers(i)
        ).status_code
        for i in range(10)
    ]


def test_the_tenth_wrong_password_in_a_minute_is_429_but_the_owner_still_gets_in(app, make):
    rep = make.rep()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert ten_wrong_passwords(attacker, rep.username) == [422] * 9 + [429]
    assert (
        "Too many sign-in attempts"
        in attacker.post("/login", data={"username": rep.username, "password": PASSWORD}).text
    )

    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    response = owner.post("/login", data={"username": rep.username, "password": PASSWORD})
    assert response.status_code == 303


def test_successful_sign_ins_do_not_count(app, make):
    rep = make.rep()
    for _ in range(12):
        client = app.test_client()
        response = client.post("/login", data={"username": rep.username, "password": PASSWORD})
        assert response.status_code == 303


def test_a_username_attacked_from_many_addresses_is_slowed(app, make):
    rep = make.rep()
    statuses = []
    for i in range(31):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{i}"
        response = client.post("/login", data={"username": rep.username, "password": "wrong"})
        statuses.append(response.status_code)
    assert statuses[:30] == [422] * 30 and statuses[30] == 429


def test_an_oversized_body_is_refused(client, make, auth):
    rep = make.rep()
    contact = make.contact(make.customer(rep=rep))
    auth.login(rep)
    before = snapshot()
    url = f"/contacts/{contact.id}/touchpoints"
    response = client.post(url, data={"description": "Big", "details": "x" * 20_000_000})
    assert response.status_code == 413
    assert "<html" in response.text
    assert snapshot() == before


@pytest.mark.parametrize(
    "url",
    ["/customers?page=²", "/contacts?page=①", "/touchpoints?rep=²", "/customers?rep=" + "9" * 5000],
)
def test_a_query_number_int_cannot_read_is_400(client, make, auth, url):
    # str.isdigit() takes "²" and "①", which int() refuses, as it does 4,300 digits or more:
    # 500s until found by tests/test_fuzz.py.
    auth.login(make.manager())
    assert client.get(url).status_code == 400


def test_an_id_larger_than_the_database_holds_is_404(client, make, auth):
    # A 64-bit overflow in SQLite (and out of range in PostgreSQL): found by tests/test_fuzz.py.
    auth.login(make.manager())
    assert client.get(f"/customers/{2**63}").status_code == 404
    before = snapshot()
    assert client.post(f"/customers/{2**31}/edit", data={"name": "x"}).status_code == 404
    assert snapshot() == before
    assert client.get(f"/customers/{make.customer().id}").status_code == 200


def test_a_nameless_form_part_with_an_idempotency_key_is_ignored(client, make, auth):
    # A multipart part with no name reads as a field named None, which the request's
    # fingerprint could not sort: a 500 until found by tests/test_fuzz.py. Multipart goes to
    # the upload alone (any other form route answers it 415), so the parts go there.
    auth.login(make.manager())
    csv = "kind,external_id,name\r\ncustomer,NAMELESS-1,Nameless Co\r\n"
    body = "".join(
        f"--B\r\nContent-Disposition: form-data{name}\r\n\r\n{value}\r\n"
        for name, value in [
            ("", "nameless"),
            ('; filename="other.csv"', csv),
            ('; name="file"; filename="accounts.csv"', csv),
        ]
    )
    response = client.post(
        "/imports",
        data=(body + "--B--\r\n").encode(),
        content_type="multipart/form-data; boundary=B",
        headers={"Idempotency-Key": "nameless-1"},
    )
    assert response.status_code == 200
    assert "accounts.csv" in response.text and 'name="payload"' in response.text


def test_a_nul_character_in_any_field_is_400_and_saves_nothing(app, client, make, auth):
    # PostgreSQL cannot store NUL: a 500 there until found by tests/test_fuzz.py.
    anonymous = app.test_client()
    assert anonymous.post("/login", data={"username": "a\x00b", "password": "x"}).status_code == 400
    manager = make.manager()
    customer = make.customer(name="Acme")
    auth.login(manager)
    before = snapshot()
    assert client.get("/customers?q=Ac%00me").status_code == 400
    form = {"name": "Ac\x00me", "address": "", "city": "", "phone": "", "notes": "",
            "sales_rep_id": "0"}  # fmt: skip
    assert client.post(f"/customers/{customer.id}/edit", data=form).status_code == 400
    assert client.post("/settings", data={"timezone\x00": "UTC"}).status_code == 400
    assert snapshot() == before


def test_a_database_error_rolls_back_and_shows_a_friendly_page(
    app, client, make, auth, monkeypatch
):
    rep = make.rep()
    auth.login(rep)
    from tpweb.web import widget as views

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def broken(*args, **kwargs):
        # Not a busy or unreachable database (those are 503s: tests/test_busy_database.py).
        raise sa.exc.OperationalError("SELECT", {}, Exception("disk I/O error"))

    real_page = views.widget_page
    monkeypatch.setattr(views, "widget_page", broken)
    page = client.get("/touchpoints")
    fragment = client.get("/touchpoints", headers={"HX-Request": "true"})
    monkeypatch.setattr(views, "widget_page", real_page)

    assert page.status_code == fragment.status_code == 500
    assert "Something went wrong" in page.text and "<html" in page.text
    assert "Something went wrong" in fragment.text and "<html" not in fragment.text
    assert "Traceback" not in page.text
    assert client.get("/touchpoints").status_code == 200


@pytest.mark.skipif(
    not os.environ.get("TPWEB_TEST_POSTGRES"), reason="needs PostgreSQL (the PostgreSQL pass)"
)
def test_a_postgres_connection_dropped_mid_request_gives_a_503_then_recovers(
    app, client, make, auth, monkeypatch
):
    auth.login(make.rep())
    from tpweb.web import widget as views

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    real = views.widget_counts

    def dropped(*args, **kwargs):
        # The server ends this very connection, as a restart or a network cut would.
        db.session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "widget_counts", dropped)
    broken = client.get("/touchpoints")
    monkeypatch.setattr(views, "widget_counts", real)

    assert broken.status_code == 503 and broken.headers["Retry-After"] == "30"
    assert "cannot be reached" in broken.text
    assert client.get("/touchpoints").status_code == 200
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_sign_in_works_with_redis_down():
    """The limiter counts in Redis; with Redis unreachable the app still signs people in."""
    script = textwrap.dedent(
        """
        from tpweb import create_app
        from tpweb.config import TestConfig
        from tpweb.extensions import db
        from tpweb.models import User
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"
        app = create_app(config)
        with app.app_context():
            db.create_all()
            user = User(username="u", name="U", timezone="UTC", role="rep")
            user.set_password("pw-long-enough")
            db.session.add(user)
            db.session.commit()
        client = app.test_client()
        response = client.post("/login", data={"username": "u", "password": "pw-long-enough"})
        print(response.status_code)
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "303", result.stderr[-2000:]


@pytest.fixture
def proxied(client_of):
    """A client of the app as deployed behind one reverse proxy (TPWEB_PROXIES=1), on loopback."""
    client = client_of(TPWEB_PROXIES=1)
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    return client


def test_without_trusted_proxies_a_forwarded_address_does_not_dodge_the_limit(app, make):
    rep = make.rep()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    forwarded = ten_wrong_passwords(
        attacker, rep.username, lambda i: {"X-Forwarded-For": f"198.51.100.{i}"}
    )
    assert forwarded == [422] * 9 + [429]
    assert (
        "Strict-Transport-Security"
        not in attacker.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(proxied, make):
    rep = make.rep()
    attacker = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    assert ten_wrong_passwords(proxied, rep.username, lambda i: attacker) == [422] * 9 + [429]
    owner = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    response = proxied.post(
        "/login", data={"username": rep.username, "password": PASSWORD}, headers=owner
    )
    assert response.status_code == 303
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
