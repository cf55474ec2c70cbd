"""Settings' Notifications on this device: offered only with VAPID keys; a browser's subscription
kept per device, refreshed, turned off; anything a browser would not post refused, unstored."""

import pytest
from sqlalchemy import select

from tpweb.extensions import db
from tpweb.models import PushSubscription

from .push_keys import VAPID
from .webpush import Device, b64

HTMX = {"HX-Request": "true"}
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1"  # noqa: E501


@pytest.fixture
def keys(app, monkeypatch):
    for name, value in VAPID.items():
        monkeypatch.setitem(app.config, name, value)


def phone(name="phone", host="https://fcm.googleapis.com/fcm/send"):
    return Device(name, f"{host}/{name}-abc123")


def stored():
    rows = db.session.scalars(select(PushSubscription).order_by(PushSubscription.id))
    return [(row.user_id, row.endpoint, row.label) for row in rows]


def turn_on(client, device, agent=ANDROID, **extra):
    data = {**device.form(), **extra}
    return client.post("/settings/push", data=data, headers={**HTMX, "User-Agent": agent})


def test_without_keys_nothing_is_offered_and_every_route_is_404(app, client, rep):
    page = client.get("/settings").get_data(as_text=True)
    assert "Notifications on this device" not in page and "push.js" not in page
    assert turn_on(client, phone()).status_code == 404
    assert client.post("/settings/push/refresh", data=phone().form()).status_code == 404
    assert client.post("/settings/push/off", data={"device": "1"}).status_code == 404
    assert stored() == []


def test_the_section_explains_before_anything_is_asked(app, client, rep, keys):
    page = client.get("/settings").get_data(as_text=True)
    assert '<h2 id="push-heading">Notifications on this device</h2>' in page
    assert "iOS 16.4 or later, with the app added to the Home Screen" in page
    assert "only the browser's own\n    settings for this site can allow them again" in page
    # The button is the page script's to show (a browser that cannot push never sees it).
    assert '<button type="button" data-push-on hidden>' in page
    assert "None yet." in page
    assert f'data-push-key="{VAPID["VAPID_PUBLIC_KEY"]}"' in page
    assert 'data-push-refresh="/settings/push/refresh"' in page


def test_turning_a_device_on_lists_it_and_keeps_its_keys(app, client, rep, keys):
    device = phone()
    answer = turn_on(client, device)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="push-devices"')
    assert "Chrome on Android" in html and f'data-endpoint="{device.endpoint}"' in html
    row = db.session.scalar(select(PushSubscription))
    assert (row.user_id, row.p256dh, row.auth) == (rep.id, device.p256dh, device.auth)
    # Again from the same browser (new keys): still one device, with the new keys.
    again = Device(device.name, device.endpoint)
    assert turn_on(client, again, agent=IPHONE).status_code == 200
    assert stored() == [(rep.id, device.endpoint, "Safari on iPhone")]
    assert db.session.scalar(select(PushSubscription.p256dh)) == again.p256dh
    # Without htmx: back to Settings, which lists it.
    plain = client.post("/settings/push", data=phone("tablet").form())
    assert plain.status_code == 303 and plain.headers["Location"] == "/settings"
    assert client.get("/settings").get_data(as_text=True).count("data-endpoint=") == 2


def test_a_shared_browser_turned_on_by_another_user_becomes_theirs(app, client, auth, make, keys):
    first, second = make.rep(), make.rep()
    device = phone()
    auth.login(first)
    turn_on(client, device)
    auth.logout()
    auth.login(second)
    turn_on(client, device)
    assert stored() == [(second.id, device.endpoint, "Chrome on Android")]


def test_a_device_turned_off_is_forgotten_and_another_users_is_404(app, client, auth, make, keys):
    owner, other = make.rep(), make.rep()
    auth.login(owner)
    turn_on(client, phone("mine"))
    [mine] = db.session.scalars(select(PushSubscription.id)).all()
    auth.logout()
    auth.login(other)
    turn_on(client, phone("theirs"))
    for wrong in (str(mine), "0", "abc", "", "²", "9" * 30, "-1"):
        answer = client.post("/settings/push/off", data={"device": wrong}, headers=HTMX)
        assert answer.status_code == 404, wrong
    assert len(stored()) == 2
    [theirs] = [i for i in db.session.scalars(select(PushSubscription.id)) if i != mine]
    answer = client.post("/settings/push/off", data={"device": str(theirs)}, headers=HTMX)
    assert answer.status_code == 200 and "None yet." in answer.get_data(as_text=True)
    assert [user for user, _, _ in stored()] == [owner.id]


def test_opening_the_app_refreshes_a_device_that_is_on_and_never_turns_one_back_on(
    app, client, auth, make, keys
):
    rep = make.rep()
    auth.login(rep)
    old = phone("old")
    turn_on(client, old)
    refreshed = Device("old", old.endpoint)  # the browser's new keys
    assert client.post("/settings/push/refresh", data=refreshed.form()).status_code == 204
    assert db.session.scalar(select(PushSubscription.auth)) == refreshed.auth
    # The browser renewed the subscription: found by the endpoint it had.
    new = phone("new")
    answer = client.post("/settings/push/refresh", data={**new.form(), "previous": old.endpoint})
    assert answer.status_code == 204 and stored() == [(rep.id, new.endpoint, "Chrome on Android")]
    # Turned off (here or on another device): 410, and nothing is stored again.
    client.post(
        "/settings/push/off", data={"device": str(db.session.scalar(select(PushSubscription.id)))}
    )
    assert client.post("/settings/push/refresh", data=new.form()).status_code == 410
    assert stored() == []
    # Another user's device is not this user's to refresh.
    other = make.rep()
    auth.logout()
    auth.login(other)
    turn_on(client, phone("shared"))
    auth.logout()
    auth.login(rep)
    assert client.post("/settings/push/refresh", data=phone("shared").form()).status_code == 410
    assert [user for user, _, _ in stored()] == [other.id]


def _off_curve():
    """65 bytes that look like an uncompressed point but are not on P-256."""
    return b64(b"\x04" + b"\x01" * 64)


BAD = {
    "no endpoint": {"endpoint": ""},
    "endpoint too long": {"endpoint": "https://push.example.com/" + "a" * 800},
    "plain http": {"endpoint": "http://push.example.com/send/1"},
    "javascript": {"endpoint": "javascript:alert(1)"},
    "no host": {"endpoint": "https:///send/1"},
    "credentials": {"endpoint": "https://user:pw@push.example.com/send/1"},
    "an address": {"endpoint": "https://10.0.0.5/send/1"},
    "loopback": {"endpoint": "https://127.0.0.1:8443/send/1"},
    "ipv6": {"endpoint": "https://[::1]/send/1"},
    "localhost": {"endpoint": "https://localhost/send/1"},
    "a bare name": {"endpoint": "https://redis/send/1"},
    "a bad port": {"endpoint": "https://push.example.com:99999/send"},
    "a line break": {"endpoint": "https://push.example.com/send/1\r\nX-Evil: 1"},
    "markup": {"endpoint": "https://push.example.com/<script>alert(1)</script>"},
    "non-ascii": {"endpoint": "https://push.exämple.com/send/1"},
    "no p256dh": {"p256dh": ""},
    "p256dh not base64": {"p256dh": "<script>alert(1)</script>"},
    "p256dh too short": {"p256dh": b64(b"\x04" + b"\x01" * 31)},
    "p256dh compressed": {"p256dh": b64(b"\x02" + b"\x01" * 64)},
    "p256dh off the curve": {"p256dh": _off_curve()},
    "p256dh huge": {"p256dh": "A" * 100_000},
    "no auth": {"auth": ""},
    "auth too short": {"auth": b64(b"\x01" * 15)},
    "auth too long": {"auth": b64(b"\x01" * 17)},
    "auth padded wrong": {"auth": "AAAA=AAAA"},
}


@pytest.mark.parametrize("case", BAD)
def test_a_subscription_no_browser_would_post_is_refused_and_not_stored(
    app, client, rep, keys, monkeypatch, case
):
    monkeypatch.setitem(app.config, "TPWEB_PUSH_ANY_ENDPOINT", False)  # as in production
    answer = turn_on(client, phone(), **BAD[case])
    assert answer.status_code == 400, case
    assert "Not a push subscription" in answer.get_data(as_text=True)
    refresh = client.post("/settings/push/refresh", data={**phone().form(), **BAD[case]})
    assert refresh.status_code == 400
    assert stored() == []


def test_a_hostile_previous_endpoint_is_refused(app, client, rep, keys):
    data = {**phone().form(), "previous": "x" * 5000}
    assert client.post("/settings/push/refresh", data=data).status_code == 400
    assert stored() == []


def test_in_production_an_https_push_service_is_taken(app, client, rep, keys, monkeypatch):
    monkeypatch.setitem(app.config, "TPWEB_PUSH_ANY_ENDPOINT", False)
    for host in (
        "https://fcm.googleapis.com/fcm/send",
        "https://updates.push.services.mozilla.com/wpush/v2",
        "https://web.push.apple.com",
    ):
        assert turn_on(client, phone(host=host)).status_code == 200
    assert len(stored()) == 3


def test_the_device_list_escapes_what_the_browser_sent(app, client, rep, keys):
    device = Device("x", "https://push.example.com/send/a'onmouseover='alert(1)&x")
    answer = turn_on(client, device, agent="<script>alert(1)</script>")
    html = answer.get_data(as_text=True)
    assert "A browser" in html and "<script>alert" not in html
    escaped = "https://push.example.com/send/a&#39;onmouseover=&#39;alert(1)&amp;x"
    assert f'data-endpoint="{escaped}"' in html
