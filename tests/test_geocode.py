"""Find from address: off unless configured, and with a fake geocoder (never the network) it fills
the Location fieldset, or says beside it why not; nothing is ever saved by it."""

import logging
from types import SimpleNamespace

import pytest
from geopy.exc import GeocoderQueryError, GeocoderServiceError, GeocoderTimedOut
from geopy.geocoders import Nominatim
from sqlalchemy import func, select

from tpweb.domain import geocode
from tpweb.extensions import db
from tpweb.models import Account

from .fake_geocoder import FakeGeocoder, place

HTMX = {"HX-Request": "true"}
ADDRESS = {"address": "1200 W Main St", "city": "Naperville"}


NAPERVILLE = place(41.775123456, -88.14321, "1200, West Main Street, Naperville, Illinois")


@pytest.fixture
def fake(app, monkeypatch):
    """A fake geocoder handed to the app, as TPWEB_GEOCODER_CLIENT."""
    fake = FakeGeocoder({"1200 W Main St, Naperville": NAPERVILLE})
    monkeypatch.setitem(app.config, "TPWEB_GEOCODER_CLIENT", fake)
    return fake


@pytest.fixture
def no_network(monkeypatch):
    """What anything asked geopy's Nominatim for: the test expects nothing."""
    asked = []
    monkeypatch.setattr(Nominatim, "geocode", lambda self, *a, **k: asked.append(a))
    return asked


def account_count():
    return db.session.scalar(select(func.count(Account.id)))


def fieldset(response):
    """The answer: the Location fieldset alone, never the page."""
    text = response.text
    assert text.lstrip().startswith('<fieldset class="location" id="location">'), text[:300]
    assert "<html" not in text and 'name="name"' not in text
    return text


# With no configuration: nothing to see, nothing to ask.


def test_with_no_geocoder_there_is_no_button_the_endpoint_is_404_and_saving_never_geocodes(
    client, make, manager, no_network, monkeypatch
):
    customer = make.customer(name="Co", address="1 Main St", city="Springfield")
    called = []
    monkeypatch.setattr(geocode, "locate", lambda *args: called.append(args))
    monkeypatch.setattr(geocode, "build", lambda *args: called.append(args))
    for url in (
        "/customers/new",
        f"/customers/{customer.id}/edit",
        f"/customers/{customer.id}/jobsites/new",
    ):
        page = client.get(url).text
        assert 'name="latitude"' in page and "Find from address" not in page

    assert client.post("/accounts/locate", data=ADDRESS, headers=HTMX).status_code == 404
    assert client.post("/accounts/locate", data=ADDRESS).status_code == 404

    data = {
        "name": "New Co",
        "address": "1200 W Main St",
        "city": "Naperville",
        "sales_rep_id": "0",
    }
    assert client.post("/customers/new", data=data).status_code == 303
    saved = db.session.scalar(select(Account).filter_by(name="New Co"))
    assert (saved.address, saved.latitude, saved.longitude) == ("1200 W Main St", None, None)
    assert called == [] and no_network == []


def test_saving_an_address_without_a_location_does_not_geocode_even_when_configured(
    client, manager, fake
):
    data = {"name": "New Co", **ADDRESS, "sales_rep_id": "0"}
    assert client.post("/customers/new", data=data).status_code == 303
    saved = db.session.scalar(select(Account).filter_by(name="New Co"))
    assert (saved.latitude, saved.longitude) == (None, None)
    assert fake.queries == []


# Configured: the button, and what it answers.


def test_find_from_address_fills_the_location_and_saves_nothing(client, make, manager, fake):
    customer = make.customer(name="Co")
    for url in ("/customers/new", f"/jobsites/{make.jobsite(customer).id}/edit"):
        page = client.get(url).text
        # The button, and the script that shows its answers; no map, as no tiles are configured.
        assert "Find from address" in page and "location-picker.js" in page
        assert "location-map" not in page
    before = account_count()

    response = client.post(
        "/accounts/locate", data={**ADDRESS, "latitude": "1", "longitude": "2"}, headers=HTMX
    )

    assert response.status_code == 200
    text = fieldset(response)
    assert 'value="41.775123"' in text and 'value="-88.14321"' in text
    assert "Found 1200, West Main Street, Naperville, Illinois." in text
    assert "Check the pin" in text and "Find from address" in text
    assert fake.queries == ["1200 W Main St, Naperville"]
    assert account_count() == before


def test_an_address_the_geocoder_does_not_know_is_422_and_keeps_what_was_typed(
    client, manager, fake
):
    data = {"address": "1 Nowhere Lane", "city": "", "latitude": "41.5", "longitude": "-88"}
    response = client.post("/accounts/locate", data=data, headers=HTMX)
    assert response.status_code == 422
    text = fieldset(response)
    assert "Address not found" in text and 'role="alert"' in text
    assert 'value="41.5"' in text and 'value="-88"' in text
    assert fake.queries == ["1 Nowhere Lane"]


@pytest.mark.parametrize(
    "failure",
    [
        GeocoderTimedOut("Service timed out"),
        GeocoderServiceError("HTTP Error 502"),
        GeocoderQueryError("bad query"),
        place(200.0, 10.0),
        place(float("nan"), 10.0),
        SimpleNamespace(latitude=None, longitude=None),
    ],
    ids=["timed-out", "service-error", "query-refused", "out-of-range", "nan", "no-numbers"],
)
def test_a_geocoder_that_fails_gets_a_message_beside_the_fields(
    client, manager, fake, failure, caplog
):
    fake.answers["1200 W Main St, Naperville"] = failure
    with caplog.at_level(logging.WARNING):
        response = client.post("/accounts/locate", data=ADDRESS, headers=HTMX)
    text = fieldset(response)
    if isinstance(failure, GeocoderQueryError):
        assert response.status_code == 422 and "Address not found" in text
    else:
        assert response.status_code == 503
        assert "The geocoder is unavailable: type the location or tap the map." in text
        assert "Find from address failed" in caplog.text
    assert 'value=""' in text.split('name="latitude"')[1].split("</label>")[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"address": "", "city": "Naperville"}, "Enter an address to look up."),
        ({"address": "   ", "city": ""}, "Enter an address to look up."),
        ({}, "Enter an address to look up."),
        ({"address": "a" * 301, "city": ""}, "An address is at most 300 characters"),
        ({"address": "1 Main St", "city": "c" * 121}, "a city 120: shorten them."),
        ({"address": "1 Main St\r\nHost: evil", "city": ""}, "Use one line of plain text"),
        ({"address": "1 Main St\u202e", "city": ""}, "Use one line of plain text"),
    ],
    ids=["empty", "blank", "missing", "long-address", "long-city", "newline", "bidi"],
)
def test_bad_input_is_422_with_a_message_and_never_asks(client, manager, fake, data, message):
    response = client.post("/accounts/locate", data=data, headers=HTMX)
    assert response.status_code == 422
    assert message in fieldset(response)
    assert fake.queries == []


def test_hostile_text_is_asked_as_text_and_answered_escaped(client, manager, fake):
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    fake.answers[hostile] = place(41.0, -88.0, "<img src=x onerror=alert(3)> {{7*7}}")
    response = client.post("/accounts/locate", data={"address": hostile}, headers=HTMX)
    assert response.status_code == 200
    text = fieldset(response)
    assert "<img" not in text and "<script" not in text
    assert "&lt;img src=x onerror=alert(3)&gt; {{7*7}}" in text
    assert fake.queries == [hostile]
    missing = client.post("/accounts/locate", data={"address": "<b>" + hostile}, headers=HTMX)
    assert missing.status_code == 422 and "<b>" not in missing.text


def test_reps_get_404_and_the_anonymous_sign_in(client, make, auth, fake):
    auth.login(make.rep())
    assert client.post("/accounts/locate", data=ADDRESS, headers=HTMX).status_code == 404
    auth.logout()
    response = client.post("/accounts/locate", data=ADDRESS)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert fake.queries == []


def test_the_lookup_needs_the_csrf_token(app, client, manager, fake, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/accounts/locate", data=ADDRESS, headers=HTMX).status_code == 400
    assert fake.queries == []


def test_a_misconfigured_geocoder_says_unavailable_and_logs_why(
    app, client, manager, monkeypatch, caplog, no_network
):
    monkeypatch.setitem(app.config, "TPWEB_GEOCODER", "nominatim")
    monkeypatch.setitem(app.config, "TPWEB_GEOCODER_USER_AGENT", "")
    monkeypatch.delitem(app.extensions, "tpweb_geocoder", raising=False)
    assert "Find from address" in client.get("/customers/new").text
    with caplog.at_level(logging.WARNING):
        response = client.post("/accounts/locate", data=ADDRESS, headers=HTMX)
    assert response.status_code == 503 and "geocoder is unavailable" in response.text
    assert "TPWEB_GEOCODER_USER_AGENT" in caplog.text
    assert no_network == []


# The module on its own, without an app.


def test_build_makes_a_nominatim_with_the_settings_and_refuses_what_cannot_work():
    config = {
        "TPWEB_GEOCODER": " Nominatim ",
        "TPWEB_GEOCODER_USER_AGENT": "tpweb-tests (ops@example.com)",
        "TPWEB_GEOCODER_TIMEOUT": 2.5,
        "TPWEB_GEOCODER_DOMAIN": "nominatim.internal.example",
    }
    built = geocode.build(config)
    assert isinstance(built, Nominatim)
    assert (built.timeout, built.domain) == (2.5, "nominatim.internal.example")
    assert built.headers["User-Agent"] == "tpweb-tests (ops@example.com)"
    with pytest.raises(geocode.Misconfigured, match="TPWEB_GEOCODER_USER_AGENT"):
        geocode.build({**config, "TPWEB_GEOCODER_USER_AGENT": " "})
    with pytest.raises(geocode.Misconfigured, match="known are nominatim"):
        geocode.build({**config, "TPWEB_GEOCODER": "google"})


def test_enabled_only_with_a_name_or_a_client():
    assert not geocode.enabled({})
    assert not geocode.enabled({"TPWEB_GEOCODER": " ", "TPWEB_GEOCODER_CLIENT": None})
    assert geocode.enabled({"TPWEB_GEOCODER": "nominatim"})
    assert geocode.enabled({"TPWEB_GEOCODER_CLIENT": FakeGeocoder()})


def test_locate_rounds_to_six_places_and_names_the_two_failures():
    fake = FakeGeocoder({"a": NAPERVILLE, "b": GeocoderTimedOut("slow")})
    assert geocode.locate(fake, "a") == (41.775123, -88.14321, NAPERVILLE.address)
    with pytest.raises(geocode.Unavailable):
        geocode.locate(fake, "b")
    with pytest.raises(geocode.NotFound):
        geocode.locate(fake, "c")
    assert geocode.query(" 1 Main St ", " Springfield ") == "1 Main St, Springfield"
