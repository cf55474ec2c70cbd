"""The devices a user turned notifications on for: a posted Web Push subscription checked (what
a browser's PushSubscription holds, and nothing a push service could not be), kept, refreshed,
turned off. No Flask here."""

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select

from tpweb.models import PushSubscription

ENDPOINT_LENGTH = 800
LABEL_LENGTH = 120
BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
# The characters of a URL (RFC 3986); a push service's endpoint has no other.
URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# Browsers and systems as a device list names them, the first match winning.
SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
           ("Windows", "Windows"), ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"),
           ("Linux", "Linux"))  # fmt: skip
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
            ("SamsungBrowser/", "Samsung Internet"), ("Chrome/", "Chrome"),
            ("Chromium/", "Chromium"), ("Safari/", "Safari"))  # fmt: skip


class BadSubscription(ValueError):
    """A posted subscription no browser would send; its message says which part."""


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def _decoded(value, name):
    if not value or len(value) > 200 or not BASE64URL.fullmatch(value):
        raise BadSubscription(f"{name} is not base64url")
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as error:
        raise BadSubscription(f"{name} is not base64url") from error


def check_endpoint(endpoint, any_endpoint=False):
    """The push service's URL: https on a host name (a browser's push service), or, with
    `any_endpoint` (tests), http too, and on any host."""
    if not endpoint or len(endpoint) > ENDPOINT_LENGTH:
        raise BadSubscription(f"endpoint must be 1 to {ENDPOINT_LENGTH} characters")
    if not URL_CHARACTERS.fullmatch(endpoint):
        raise BadSubscription("endpoint is not a URL")
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as error:
        raise BadSubscription("endpoint is not a URL") from error
    schemes = ("https", "http") if any_endpoint else ("https",)
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise BadSubscription("endpoint must be an https URL of a push service")
    if not any_endpoint and _local(parts.hostname):
        raise BadSubscription("endpoint must be a push service's host name")
    return endpoint


def _local(host):
    """An address, not a name (no push service is reached so), or this machine: the sweep must
    not be made to post to the server's own network."""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." not in host
    return True


def parse(endpoint, p256dh, auth, any_endpoint=False):
    """A Subscription from a browser's three values, or BadSubscription."""
    endpoint = check_endpoint(endpoint, any_endpoint)
    key = _decoded(p256dh, "p256dh")
    if len(key) != 65 or key[0] != 4:
        raise BadSubscription("p256dh must be an uncompressed P-256 public key")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except ValueError as error:
        raise BadSubscription("p256dh is not a point of P-256") from error
    if len(_decoded(auth, "auth")) != 16:
        raise BadSubscription("auth must be 16 bytes")
    return Subscription(endpoint, p256dh.rstrip("="), auth.rstrip("="))


def label(user_agent):
    """ "Chrome on Android": the browser and system a User-Agent names, for the device list."""
    user_agent = user_agent or ""
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    text = " on ".join(part for part in (browser, system) if part) or "A browser"
    return text[:LABEL_LENGTH]


def devices(session, user):
    """The user's devices, the newest first."""
    query = select(PushSubscription).where(PushSubscription.user_id == user.id)
    return session.scalars(query.order_by(PushSubscription.id.desc())).all()


def turn_on(session, user, subscription, device_label):
    """Keep `subscription` as one of the user's devices. An endpoint is one browser's: one another
    user turned on there (a shared phone) becomes this user's, and only theirs."""
    found = session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == subscription.endpoint)
    )
    if found is None:
        found = PushSubscription(endpoint=subscription.endpoint)
        session.add(found)
    found.user_id = user.id
    found.p256dh, found.auth = subscription.p256dh, subscription.auth
    found.label = device_label
    return found


def refresh(session, user, subscription, previous=""):
    """The browser's subscription as it is now, for a device the user has on: found by its
    endpoint, or by the one it had before (the browser renewed it). None when the user turned
    this device off (here or from another device): it is not turned on again."""
    endpoints = [subscription.endpoint] + [previous] * bool(previous)
    found = session.scalars(
        select(PushSubscription).where(
            PushSubscription.user_id == user.id, PushSubscription.endpoint.in_(endpoints)
        )
    ).first()
    if found is not None:
        found.endpoint = subscription.endpoint
        found.p256dh, found.auth = subscription.p256dh, subscription.auth
    return found


def turn_off(session, user, device_id):
    """Forget one of the user's devices; False when the user has no such device."""
    gone = session.execute(
        delete(PushSubscription).where(
            PushSubscription.id == device_id, PushSubscription.user_id == user.id
        )
    )
    return gone.rowcount == 1
