"""A Web Push service on loopback, for the push tests and benchmark B7: it takes the app's POSTs
at /push/<device>, checks each one's VAPID signature, decrypts it with that device's own private
key and auth secret (RFC 8291, as a browser does) and keeps its text."""

import base64
import json
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """A browser's side of a subscription: its key pair and auth secret, made here."""

    name: str
    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self):
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64(public)

    @property
    def auth(self):
        return b64(self.secret)

    def form(self):
        """The subscription as the page posts it (PushSubscription.toJSON(), flattened)."""
        return {"endpoint": self.endpoint, "p256dh": self.p256dh, "auth": self.auth}


@dataclass(frozen=True)
class Message:
    device: str
    data: dict  # the decrypted JSON ({} when not decrypted)
    headers: dict  # names in lower case
    claims: dict  # the VAPID JWT's claims


class Receiver:
    """The push service. `answers[name]` is the status for that device (201 by default; a list
    is used up one answer per message); `kill_pid` is killed as message `kill_at` arrives."""

    def __init__(self, decrypt=True):
        self.decrypt = decrypt
        self.devices = {}
        self.answers = {}
        self.messages = []
        self.refused = []  # (device, status) of each message answered with an error
        self.lock = threading.Lock()
        self.kill_pid = self.kill_at = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def device(self, name):
        device = Device(name, f"{self.origin}/push/{name}")
        self.devices[name] = device
        return device

    def texts(self, device=None):
        with self.lock:
            return [m.data for m in self.messages if device in (None, m.device)]

    def answer(self, name):
        planned = self.answers.get(name, 201)
        if isinstance(planned, list):
            return planned.pop(0) if planned else 201
        return planned

    def take(self, name, headers, body):
        """The status for one POST: checked, decrypted and kept when it is 201."""
        device = self.devices.get(name)
        if device is None:
            return 404
        claims = _claims(headers.get("Authorization", ""), self.origin)
        if claims is None:
            return 403
        with self.lock:
            status = self.answer(name)
        if status >= 300:
            with self.lock:
                self.refused.append((name, status))
            return status
        data = {}
        if self.decrypt:
            assert headers["Content-Encoding"] == "aes128gcm"
            plain = http_ece.decrypt(
                body, private_key=device.key, auth_secret=device.secret, version="aes128gcm"
            )
            data = json.loads(plain)
        with self.lock:
            lowered = {key.lower(): value for key, value in headers.items()}
            self.messages.append(Message(name, data, lowered, claims))
            count = len(self.messages)
        if self.kill_pid and count == self.kill_at:
            # The push service has it; the sender dies before hearing so, let alone marking it.
            os.kill(self.kill_pid, signal.SIGKILL)
        return 201


def _claims(authorization, origin):
    """The VAPID JWT's claims when its signature verifies and it is for this service, else None."""
    try:
        if not Vapid02.verify(authorization):
            return None
        token = authorization.split("t=", 1)[1].split(",", 1)[0]
        claims = json.loads(unb64(token.split(".")[1]))
    except (AssertionError, IndexError, ValueError):
        return None
    subject = claims.get("sub", "")
    if claims.get("aud") != origin or claims.get("exp", 0) < time.time():
        return None
    return claims if subject.startswith(("mailto:", "https://")) else None


def _handler(receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a push service

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            name = self.path.removeprefix("/push/")
            status = receiver.take(name, self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler
