"""The reminder sweep's test tools: an SMTP server's handler, an RQ worker in this process or in its
own, the hourly job enqueued, and tasks for Tokyo reps due on December 1."""

import asyncio
import email
import email.policy
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from tpweb import worker
from tpweb.extensions import db
from tpweb.jobs.sweep import SEND_REMINDERS

ROOT = Path(__file__).resolve().parent.parent
# A database of its own on the shared Redis, and keys named after each test: nothing collides.
REDIS_URL = os.environ.get("TPWEB_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
DEC1 = date(2026, 12, 1)
# 06:00 in Tokyo on December 1 is 21:00 UTC on November 30.
TOKYO_SIX = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)


class Inbox:
    """The SMTP server's handler: keeps each message; can kill its sender before answering."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        self.kill_pid = None
        self.kill_at = None
        self.rendezvous = 0  # hold each answer until this many senders are mid-batch at once
        self.refuse = ""  # refuse messages whose subject has this in it
        self.delay = 0.0  # seconds before answering each message: a slow mail server

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if self.refuse and self.refuse in message["Subject"]:
            return "554 Transaction failed"
        with self.lock:
            self.received.append((envelope.rcpt_tos, session.peer, message))
            count = len(self.received)
        if self.kill_pid and count == self.kill_at:
            # The server has the message; its sender dies before hearing so, let alone marking it.
            os.kill(self.kill_pid, signal.SIGKILL)
        for _ in range(200):  # 10 s at most
            if len(self.senders()) >= self.rendezvous:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def senders(self):
        with self.lock:
            return {peer for _, peer, _ in self.received}

    @property
    def messages(self):
        with self.lock:
            return [message for _, _, message in self.received]

    def texts(self):
        return [m.get_body(("plain",)).get_content() for m in self.messages]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def enqueue_sweep(queue, now):
    """The hourly job, by dotted name, as the cron scheduler enqueues it, at the instant `now`."""
    job_id = f"{queue.name}-{uuid.uuid4().hex[:8]}"
    return queue.enqueue(SEND_REMINDERS, now.isoformat(), job_id=job_id, job_timeout=120)


def work(app, queue):
    """A real RQ worker, in burst mode: every queued job, inside the app context."""
    worker.make_worker(app, queue.connection, queue.name, simple=True, name=f"{queue.name}-0").work(
        burst=True, logging_level="WARNING"
    )
    db.session.expire_all()


def start_worker(queue, database_url, inbox, n, **settings):
    """worker.py in a process of its own, as production runs it, on this test's queue; with
    `settings` laid over its environment."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "TPWEB_QUEUE": queue.name,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(inbox.port),
        "TPWEB_PUBLIC_URL": "https://tpweb.example",
        "SECRET_KEY": secrets.token_hex(32),
        **settings,
    }
    command = [sys.executable, "worker.py", "--burst", "--simple", "--name", f"{queue.name}-{n}"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def task(make, user, contact, due, description):
    return make.record(contact, user, response_required=True, date_due=due, description=description)


def tokyo_rep(make, **fields):
    fields.setdefault("email", "kenji@example.com")
    return make.rep(name="Kenji Sato", timezone="Asia/Tokyo", **fields)
