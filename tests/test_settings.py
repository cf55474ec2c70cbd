"""Each user's settings page: where and when reminder emails arrive, and bad input refused."""

import re

import pytest

from tpweb.extensions import db

from .conftest import snapshot

GOOD = {
    "email": "  kim@example.com ",
    "timezone": "Asia/Tokyo",
    "reminder_hour": "7",
    "delivery": "digest",
}


def test_the_nav_links_to_settings_which_shows_the_users_own(client, auth, make):
    rep = make.rep(email="kim@example.com", timezone="Europe/Berlin", reminder_hour=5)
    auth.login(rep)
    assert 'href="/settings"' in client.get("/").text
    page = client.get("/settings").text
    assert 'value="kim@example.com"' in page
    assert (
        '<option selected value="Europe/Berlin">Berlin, Paris, Madrid, Rome, Warsaw</option>'
        in page
    )
    assert '<option selected value="5">05:00</option>' in page
    assert re.search(r'<input checked id="delivery-0"[^>]* value="item">', page)


def test_saving_settings_changes_address_zone_hour_and_digest(client, auth, make):
    rep = make.rep(email=None)
    auth.login(rep)
    response = client.post("/settings", data=GOOD)
    assert response.status_code == 303
    assert "Settings saved." in client.get(response.location).text
    db.session.refresh(rep)
    assert (rep.email, rep.timezone, rep.reminder_hour, rep.reminder_digest) == (
        "kim@example.com", "Asia/Tokyo", 7, True
    )  # fmt: skip


def test_an_empty_address_means_no_reminders(client, auth, make):
    rep = make.rep(email="kim@example.com")
    auth.login(rep)
    assert client.post("/settings", data={**GOOD, "email": ""}).status_code == 303
    db.session.refresh(rep)
    assert rep.email is None


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("email", "kim-at-example", "Enter an email address like name@example.com"),
        ("email", "k" * 250 + "@x.io", "At most 254 characters."),
        ("timezone", "Mars/Olympus_Mons", "Choose a time zone from the list."),
        ("timezone", "", "Choose a time zone."),
        ("reminder_hour", "24", "Choose an hour from 00:00 to 23:00."),
        ("reminder_hour", "-1", "Choose an hour from 00:00 to 23:00."),
        ("reminder_hour", "six", "Choose an hour from 00:00 to 23:00."),
        ("delivery", "weekly", "Choose one email per item or a daily digest."),
    ],
)
def test_bad_input_is_refused_with_the_error_beside_its_field(
    client, auth, make, field, value, error
):
    rep = make.rep(email="old@example.com", timezone="America/Chicago", reminder_hour=6)
    auth.login(rep)
    response = client.post("/settings", data={**GOOD, field: value})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text or field == "delivery"
    assert error in response.text
    db.session.refresh(rep)
    assert (rep.email, rep.timezone, rep.reminder_hour, rep.reminder_digest) == (
        "old@example.com", "America/Chicago", 6, False
    )  # fmt: skip


def test_a_missing_choice_is_refused_and_typed_text_is_escaped(client, auth, make):
    auth.login(make.rep())
    data = {"email": "<b>x</b>", "timezone": "Asia/Tokyo"}
    before = snapshot()
    response = client.post("/settings", data=data)
    assert response.status_code == 422
    assert snapshot() == before
    assert "&lt;b&gt;x&lt;/b&gt;" in response.text and "<b>x</b>" not in response.text
    assert "Choose one email per item or a daily digest." in response.text


def test_an_htmx_post_gets_the_form_alone(client, auth, make):
    auth.login(make.rep())
    data = {**GOOD, "reminder_hour": "99"}
    before = snapshot()
    response = client.post("/settings", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert snapshot() == before
    assert "<html" not in response.text and "settings-form" in response.text


def test_settings_need_a_signed_in_user(client):
    response = client.get("/settings")
    assert response.status_code == 302 and "/login" in response.location


def test_the_zone_list_is_grouped_short_and_keeps_a_zone_stored_before(client, auth, make):
    rep = make.rep(timezone="Etc/GMT+5")
    auth.login(rep)
    page = client.get("/settings").text
    zones = page.split('name="timezone"')[1].split("</select>")[0]
    assert zones.count("<option") < 50 and zones.count("<optgroup") == 5
    assert "Factory" not in zones and "Zulu" not in zones and "localtime" not in zones
    assert '<option selected value="Etc/GMT+5">Etc / GMT+5</option>' in zones

    response = client.post("/settings", data={**GOOD, "timezone": "Etc/GMT+5"})
    assert response.status_code == 303
    db.session.refresh(rep)
    assert rep.timezone == "Etc/GMT+5"
