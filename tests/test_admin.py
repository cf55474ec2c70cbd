"""Admin: users and call log types, for admins only."""

import re

import pytest
from sqlalchemy import select

from tpweb.extensions import db
from tpweb.models import CallLogType, User

from .conftest import snapshot


@pytest.fixture
def admin(make, auth):
    admin = make.user("admin", name="Ada Admin")
    auth.login(admin)
    return admin


def new_user(**fields):
    return {
        "username": "newrep",
        "name": "New Rep",
        "email": "new@example.com",
        "password": "long enough password",
        "role": "rep",
        "manager_id": "0",
        "timezone": "America/Denver",
        **fields,
    }


def test_admin_creates_a_user_who_can_sign_in(client, admin, auth):
    response = client.post("/admin/users", data=new_user())
    assert response.status_code == 303
    user = db.session.scalars(select(User).filter_by(username="newrep")).one()
    assert (user.role, user.timezone, user.email) == ("rep", "America/Denver", "new@example.com")
    auth.logout()
    assert (
        client.post(
            "/login", data={"username": "newrep", "password": "long enough password"}
        ).status_code
        == 303
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("username", "Has Space", "2 to 80 of a-z"),
        ("username", "", "Enter a username."),
        ("password", "short", "At least 10 characters."),
        ("role", "boss", "Not a valid choice."),
        ("timezone", "Mars/Base", "Choose a time zone from the list."),
        ("email", "nope", "Enter an email address"),
        ("manager_id", "99999", "Not a valid choice."),
    ],
)
def test_bad_new_user_is_422_and_saves_nothing(client, admin, field, value, error):
    before = snapshot()
    response = client.post("/admin/users", data=new_user(**{field: value}))
    assert response.status_code == 422
    assert error in response.text.split(f'name="{field}"')[1].split("</label>")[0]
    assert snapshot() == before


def test_a_taken_username_is_refused(client, admin, make):
    make.rep(username="newrep")
    before = snapshot()
    response = client.post("/admin/users", data=new_user())
    assert response.status_code == 422 and "That username is taken." in response.text
    assert snapshot() == before


def test_change_role_and_reset_password_ends_the_users_sessions(client, admin, make):
    rep = make.rep()
    response = client.post(
        f"/admin/users/{rep.id}",
        data={"name": "Promoted", "email": "", "role": "manager", "manager_id": "0",
              "timezone": "America/Chicago"},
    )  # fmt: skip
    assert response.status_code == 303
    client.post(f"/admin/users/{rep.id}/password", data={"password": "a brand new secret"})
    db.session.refresh(rep)
    assert (rep.role, rep.name, rep.session_version) == ("manager", "Promoted", 2)
    assert rep.check_password("a brand new secret")


def test_an_admin_cannot_demote_themselves(client, admin):
    data = {"name": "Ada", "role": "rep", "manager_id": "0", "timezone": "America/Chicago"}
    before = snapshot()
    response = client.post(f"/admin/users/{admin.id}", data=data)
    assert response.status_code == 422
    assert snapshot() == before
    db.session.refresh(admin)
    assert admin.role == "admin"


def test_call_log_types_are_added_renamed_and_retired(client, admin, make):
    phone = make.call_type("Phone")
    assert (
        client.post("/admin/call-types", data={"name": "Site walk", "active": "y"}).status_code
        == 303
    )
    before = snapshot()
    assert client.post("/admin/call-types", data={"name": "phone"}).status_code == 422
    assert snapshot() == before
    client.post(f"/admin/call-types/{phone.id}", data={"name": "Phone call"})
    db.session.refresh(phone)
    assert (phone.name, phone.active) == ("Phone call", False)
    names = db.session.scalars(select(CallLogType.name).order_by(CallLogType.position)).all()
    assert names == ["Phone call", "Site walk"]


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_admin_pages_are_404_for_everyone_else(client, make, auth, role):
    auth.login(make.user(role))
    for url in ("/admin/users", "/admin/call-types"):
        assert client.get(url).status_code == 404
    before = snapshot()
    assert client.post("/admin/users", data=new_user()).status_code == 404
    assert client.post("/admin/call-types", data={"name": "X"}).status_code == 404
    assert snapshot() == before


def test_a_failed_new_user_lists_each_error_and_puts_the_first_in_focus(client, admin):
    response = client.post("/admin/users", data=new_user(username="No Spaces!", name=""))

    assert response.status_code == 422
    summary = response.text.split('class="error-summary"')[1].split("</div>")[0]
    assert "Fix these 2 to save:" in summary
    assert '<a href="#username">Username: 2 to 80 of a-z' in summary
    assert '<a href="#name">Name: Enter a name.</a>' in summary
    field = re.search(r'<input [^>]*name="username"[^>]*>', response.text).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="username-error"' in field
    assert "autofocus" in field
    assert 'id="username-error"' in response.text


def test_the_manager_list_offers_managers_only(client, admin, make):
    make.manager(name="Mona Manager")
    make.rep(name="Rita Rep")
    page = client.get("/admin/users").text
    managers = page.split('name="manager_id"')[1].split("</select>")[0]
    assert "Mona Manager" in managers
    assert "Ada Admin" not in managers and "Rita Rep" not in managers


def test_the_zone_list_is_short_grouped_and_keeps_an_unusual_stored_zone(client, admin, make):
    odd = make.rep(name="Jo Jujuy", timezone="America/Argentina/Jujuy")
    page = client.get(f"/admin/users/{odd.id}").text
    zones = page.split('name="timezone"')[1].split("</select>")[0]
    assert zones.count("<option") < 50 and "Factory" not in zones and "localtime" not in zones
    assert '<optgroup label="United States &amp; Canada">' in zones
    assert '<option value="America/Chicago">Central — Chicago, Dallas, Winnipeg</option>' in zones
    assert (
        '<optgroup label="Your current zone"><option selected value="America/Argentina/Jujuy">'
        "America / Argentina / Jujuy</option></optgroup>" in zones
    )

    data = {"name": "Jo Jujuy", "role": "rep", "manager_id": "0", "email": ""}
    response = client.post(
        f"/admin/users/{odd.id}", data={**data, "timezone": "America/Argentina/Jujuy"}
    )
    assert response.status_code == 303
    db.session.refresh(odd)
    assert odd.timezone == "America/Argentina/Jujuy"
    refused = client.post(f"/admin/users/{odd.id}", data={**data, "timezone": "Mars/Olympus"})
    assert refused.status_code == 422
