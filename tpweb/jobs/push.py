"""Reminder pushes (Web Push): a notification's words, link and one-tap actions, encrypted to each
of the user's devices (RFC 8291, aes128gcm) and posted to its push service with a VAPID signature
(RFC 8292): encrypted by pywebpush, posted by urllib3 over one pool of kept-alive connections per
push service for a whole sweep."""

import base64
import functools
import json
import logging
import os
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from sqlalchemy import delete, select
from urllib3.exceptions import HTTPError

from tpweb.config import push_enabled
from tpweb.domain import one_tap
from tpweb.domain.reminders import TASK
from tpweb.jobs.delivery import Unreachable
from tpweb.jobs.mail import ActionLinks, long_date, public_urls, sentence
from tpweb.models import PushSubscription

log = logging.getLogger(__name__)

# A push service keeps a message this long for a phone that is off, then drops it: a reminder
# is for its day.
TTL = 12 * 3600
# A VAPID signature is good for 24 hours at most (RFC 8292); one is made per push service and
# used for 12, not one per message (pywebpush's webpush() signs every call).
SIGNATURE_HOURS = 12
# Push services take 4,096 bytes of encrypted payload; the words are cut well below that (with
# the three action links, about 300 bytes, a payload stays under 2,700 bytes in any script).
TITLE_LIMIT, BODY_LIMIT = 120, 600
GONE = (404, 410)
# No answer at all from a push service: refused, reset, timed out (urllib3's own, or the socket's).
HTTP_ERRORS = (OSError, HTTPError)


def new_vapid_keys():
    """A fresh P-256 key pair as the configuration takes it: (public, private), base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return _b64(public), _b64(private)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _cut(text, limit):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def title(reminder):
    """Who the reminder is about: the contact (and customer) of a task; the customer, or the
    jobsite and its customer, of a touchpoint."""
    if reminder.kind == TASK:
        return f"{reminder.contact} · {reminder.account}"
    if reminder.customer:
        return f"{reminder.account} · {reminder.customer}"
    return reminder.account


def notification(reminders, today, url, act=None):
    """What the phone shows for `reminders` (one, or a digest) and opens when it is tapped:
    Record response for a task, Complete for a touchpoint, My tasks for a digest. One reminder
    has the email's one-tap actions as buttons, each with its signed link (`act(reminder,
    action)`, as mail.line's); a digest has none (which item would they be for?)."""
    if len(reminders) == 1:
        [reminder] = reminders
        if reminder.kind == TASK:
            link = url("tasks.respond", record_id=reminder.item_id)
        else:
            link = url("touchpoints.complete", touchpoint_id=reminder.item_id)
        shown = {"title": title(reminder), "body": sentence(reminder), "url": link}
        if act is not None:
            shown["actions"] = [
                {"action": action, "title": label, "url": act(reminder, action)}
                for action, label in one_tap.ACTIONS.items()
            ]
        return shown
    overdue = sum(r.overdue for r in reminders)
    return {
        "title": f"{len(reminders)} reminders for {long_date(today)}",
        "body": f"{len(reminders) - overdue} due today, {overdue} overdue: "
        + ", ".join(dict.fromkeys(title(r) for r in reminders)),
        "url": url("tasks.index"),
    }


@dataclass(frozen=True)
class Push:
    """One notification for all of one user's devices."""

    user_id: int
    subject: str  # its title, as the sweep's report lists it
    payload: bytes
    topic: str  # the same rows, the same topic and tag: a repeat replaces, never adds


class PushFailed(Exception):
    """No device took the push and some push service failed: the sweep tries again later."""


@dataclass(frozen=True)
class Device:
    id: int
    endpoint: str
    p256dh: str
    auth: str


class Pusher:
    """Sends reminder pushes for a sweep; `session` is the sweep's (to read the user's devices and
    forget the ones a push service says are gone). Used as a context manager."""

    def __init__(self, session, config=None, http=None):
        # Imported here: pywebpush imports aiohttp, seconds of a worker's start on a busy machine,
        # paid only where push is set up.
        from py_vapid import Vapid

        config = config or current_app.config
        self.session = session
        self.vapid = Vapid.from_string(config["VAPID_PRIVATE_KEY"])
        self.subject = config["VAPID_SUBJECT"]
        self.timeout = config["TPWEB_PUSH_TIMEOUT"]
        self.http = http or Http()
        self.url = public_urls()
        self.actions = ActionLinks(self.url)
        self.signatures = {}  # audience -> (expires, headers)
        self.devices = (None, [])  # the last user's devices: a user's pushes go one after another

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.http.close()

    def compose(self, user, reminders, today, key):
        act = functools.partial(self.actions, user.id)
        shown = notification(reminders, today, self.url, act)
        payload = {
            "title": _cut(shown["title"], TITLE_LIMIT),
            "body": _cut(shown["body"], BODY_LIMIT),
            "url": shown["url"],
            "tag": key,
        }
        if "actions" in shown:
            payload["actions"] = shown["actions"]
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return Push(user.id, payload["title"], data, key)

    def send(self, push):
        """To every device of the user; done when one took it. A device whose push service
        answers 404 or 410 is forgotten; with none left the push is Unreachable."""
        delivered, failures = 0, []
        for device in self._devices(push.user_id):
            try:
                status = self._post(device, push)
            except HTTP_ERRORS as error:  # no answer at all
                failures.append(repr(error))
                continue
            if status in GONE:
                self._forget(device)
            elif status < 300:
                delivered += 1
            else:
                failures.append(f"{status} from {urlsplit(device.endpoint).netloc}")
        if delivered:
            if failures:
                log.warning("push to user %s: %s", push.user_id, "; ".join(failures))
            return
        if failures:
            raise PushFailed("; ".join(failures))
        raise Unreachable(f"user {push.user_id} has no device for notifications")

    def _devices(self, user_id):
        if self.devices[0] != user_id:
            query = select(
                PushSubscription.id,
                PushSubscription.endpoint,
                PushSubscription.p256dh,
                PushSubscription.auth,
            ).where(PushSubscription.user_id == user_id)
            found = [Device(*row) for row in self.session.execute(query.order_by("id"))]
            self.session.commit()
            self.devices = (user_id, found)
        return list(self.devices[1])

    def _forget(self, device):
        self.session.execute(delete(PushSubscription).where(PushSubscription.id == device.id))
        self.session.commit()
        self.devices = (self.devices[0], [d for d in self.devices[1] if d.id != device.id])

    def _post(self, device, push):
        """The push service's status for `push` encrypted to `device` (RFC 8291, aes128gcm)."""
        from pywebpush import WebPusher

        info = {"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}}
        body = WebPusher(info).encode(push.payload)["body"]
        headers = {
            **self._signature(device.endpoint),
            "Content-Encoding": "aes128gcm",
            "TTL": str(TTL),
            "Topic": push.topic,
        }
        return self.http.post(device.endpoint, body, headers, self.timeout)

    def _signature(self, endpoint):
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        expires, headers = self.signatures.get(audience, (0, None))
        now = int(time.time())
        if expires - now < 3600:
            expires = now + SIGNATURE_HOURS * 3600
            claims = {"aud": audience, "exp": expires, "sub": self.subject}
            headers = self.vapid.sign(claims)
            self.signatures[audience] = (expires, headers)
        return headers


class Http:
    """POSTs to push services over urllib3, a pool of kept-alive connections per push service for
    the sweep: requests' own work per request (its settings merged, its hooks, its headers
    checked) was a fifth of a push's CPU (docs/benchmarks.md, B7). The environment's proxy for
    https, if any, and CA bundle are honoured as requests would, read once here, not per push."""

    def __init__(self):
        import certifi
        import urllib3

        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.options = {"ca_certs": bundle or certifi.where(), "maxsize": 1}
        self.direct = urllib3.PoolManager(**self.options)
        self.proxies = urllib.request.getproxies()
        self.managers = {}  # the push service's scheme and host -> the manager that reaches it

    def post(self, url, body, headers, timeout):
        """The status of a POST of `body` to `url`; urllib3's errors (and OSError) if none."""
        response = self._manager(url).request(
            "POST", url, body=body, headers=headers, timeout=timeout, retries=False,
            redirect=False,
        )  # fmt: skip
        return response.status

    def _manager(self, url):
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self.managers:
            import urllib3

            proxy = self.proxies.get(parts.scheme)
            if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
                self.managers[key] = urllib3.ProxyManager(proxy, **self.options)
            else:
                self.managers[key] = self.direct
        return self.managers[key]

    def close(self):
        for manager in {id(m): m for m in [self.direct, *self.managers.values()]}.values():
            manager.clear()


class _NoPusher:
    def __enter__(self):
        return None

    def __exit__(self, *exc_info):
        return None


def pusher(session):
    """A Pusher for the app's VAPID keys, or None (in a `with`) when push is not set up."""
    return Pusher(session) if push_enabled(current_app.config) else _NoPusher()
