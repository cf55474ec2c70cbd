"""B3: the overnight sweep, 100,000 due items for 1,000 users, into an SMTP server on loopback,
against smtplib sending as many pre-built messages over one connection to the same server.

The SMTP server (aiosmtpd) runs in a process of its own and keeps only each message's
Message-ID, so it checks that every item arrived exactly once. The sweep runs in a process of
its own too, so its peak memory (VmHWM) is its own; it is the app's CLI path, `run_sweep` as
`flask send-reminders --workers 2` runs it (this process and one fork, each sending its share over
its own SMTP connection), with the app's mailer and one email per item.
"""

import json
import re
import resource
import smtplib
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import sqlalchemy as sa

from tpweb import demo
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, TouchpointRecord, User
from tpweb.schedule import today_in

from . import data
from .database import bench_app, bench_database, migrate
from .load import HOST, free_port
from .report import Row

USERS, ITEMS_PER_USER = 1_000, 100
# Sending processes, as `flask send-reminders --workers 2`: one per core of the 2-core machine
# the targets are set for.
WORKERS = 2
RATE_TARGET, MEMORY_LIMIT_MB = 0.5, 200
MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>]+)>", re.M | re.I)
ROOT = Path(__file__).resolve().parent.parent


def build(users, per_user, today):
    """`users` users, each with half their items open tasks due `today` and half touchpoints."""
    created = datetime.combine(today - timedelta(days=30), clock_time(9))
    hashed = User(password_hash="")
    hashed.set_password("tpweb-demo")
    tasks, touchpoints = per_user // 2, per_user - per_user // 2
    people, accounts, contacts, records, schedule = [], [], [], [], []
    for n in range(1, users + 1):
        people.append({"id": n, "username": f"user{n}", "email": f"user{n}@example.com",
                       "name": f"User {n}", "role": "rep", "timezone": demo.TIMEZONE,
                       "password_hash": hashed.password_hash, "active": True,
                       "reminder_hour": 6, "reminder_digest": False, "session_version": 1,
                       "created_at": created})  # fmt: skip
        for i in range(max(tasks, touchpoints)):
            account = len(accounts) + 1
            accounts.append({"id": account, "kind": "customer", "name": f"Customer {account}",
                             "address": "", "city": "Chicago", "phone": "", "notes": "",
                             "sales_rep_id": n, "active": True, "created_at": created})  # fmt: skip
            contacts.append({"id": account, "customer_id": account, "name": f"Contact {account}",
                             "title": "", "email": "", "phone": "", "notes": "",
                             "active": True, "created_at": created})  # fmt: skip
            if i < tasks:
                records.append({"id": len(records) + 1, "contact_id": account, "author_id": n,
                                "assigned_to_id": n, "description": f"Call back {account}",
                                "details": "", "response_required": True, "date_due": today,
                                "date_completed": today - timedelta(days=3),
                                "response_note": "", "created_at": created})  # fmt: skip
            if i < touchpoints:
                schedule.append({"id": len(schedule) + 1, "account_id": account,
                                 "last_call": today - timedelta(days=30), "frequency_days": 30,
                                 "next_call": today, "comment": "", "inactive": False,
                                 "version": 1, "created_at": created,
                                 "updated_at": created})  # fmt: skip
    for model, rows in ((User, people), (Account, accounts), (Contact, contacts),
                        (TouchpointRecord, records), (Touchpoint, schedule)):  # fmt: skip
        data.insert(model, rows)
    data._advance_sequences()
    db.session.commit()
    return len(records) + len(schedule)


class Inbox:
    """aiosmtpd's handler: counts messages and keeps their Message-IDs, nothing else."""

    def __init__(self):
        self.ids, self.messages = [], 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        found = MESSAGE_ID.search(envelope.original_content or envelope.content)
        self.ids.append(found.group(1).decode() if found else "")
        return "250 OK"


def smtp_server(port):
    """The SMTP server's process: serve, and answer "count", "reset" and "stop" on stdin."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname=HOST, port=port)
    controller.start()
    print("ready", flush=True)
    for command in sys.stdin:
        command = command.strip()
        if command == "count":
            answer = {"messages": inbox.messages, "unique": len(set(inbox.ids)), "ids": inbox.ids}
        elif command == "reset":
            inbox.ids, inbox.messages = [], 0
            answer = "ok"
        else:
            break
        print(json.dumps(answer), flush=True)
    controller.stop()


class SmtpServer:
    """The SMTP server in a process of its own, so it does not share the sweep's interpreter."""

    def __init__(self):
        self.port = free_port()

    def __enter__(self):
        command = [sys.executable, "-m", "bench.sweep", "smtp", str(self.port)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)  # fmt: skip
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server did not start")
        return self

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def __exit__(self, *exc_info):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def baseline(port, messages, count):
    """smtplib: `count` pre-built messages over one connection; seconds and CPU seconds taken."""
    start, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP(HOST, port) as smtp:
        for n in range(count):
            message = messages[n % len(messages)].replace(b"@@ID@@", b"baseline-%d" % n)
            smtp.sendmail("reminders@localhost", ["user@example.com"], message)
    return time.perf_counter() - start, time.process_time() - cpu


def prebuilt(url, port, day):
    """Messages as the app composes them (one per user, for one item), with a slot for an id."""
    from tpweb.mail import Mailer
    from tpweb.reminders import Reminder

    app = bench_app(url, MAIL_BACKEND="smtp", MAIL_SERVER=HOST, MAIL_PORT=port)
    messages = []
    with app.app_context(), Mailer() as mailer:
        users = db.session.execute(sa.select(User).order_by(User.id).limit(USERS)).scalars()
        for user in users:
            item = Reminder("task", user.id, day, False, "Call back", contact="Contact",
                            account="Customer", contact_id=user.id)  # fmt: skip
            # The very bytes the app's mailer sends over SMTP.
            messages.append(mailer.wire.bytes(mailer.compose(user, [item], day, "@@ID@@")))
    return messages


def run_child(url, port, day):
    """The sweep in a process of its own: print what it did, its time and its peak memory."""
    from tpweb.jobs import run_sweep

    app = bench_app(url, MAIL_BACKEND="smtp", MAIL_SERVER=HOST, MAIL_PORT=port)
    with app.app_context():
        start_rss = _vm("VmRSS")
        start, cpu = time.perf_counter(), time.process_time()
        report = run_sweep(day=day, workers=WORKERS)
        seconds = time.perf_counter() - start
        forks = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = time.process_time() - cpu + forks.ru_utime + forks.ru_stime
        statuses = dict(
            db.session.execute(
                sa.text("SELECT status, count(*) FROM reminder_deliveries GROUP BY status")
            ).all()
        )
    print(json.dumps({"seconds": seconds, "planned": report.planned, "items": report.items_sent,
                      "emails": len(report.sent), "failed": report.failed,
                      "statuses": statuses, "start_mb": start_rss, "cpu": cpu,
                      "peak_mb": max(_vm("VmHWM"), forks.ru_maxrss / 1024)}))  # fmt: skip


def _vm(field):
    """A /proc/self/status figure in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def run(users=USERS, per_user=ITEMS_PER_USER):
    with bench_database("sweep") as url:
        app = bench_app(url)
        migrate(app)
        day = today_in(demo.TIMEZONE)
        with app.app_context():
            items = build(users, per_user, day)
        with SmtpServer() as server:
            messages = prebuilt(url, server.port, day)
            base_seconds, base_cpu = baseline(server.port, messages, items)
            base = server.ask("count")
            server.ask("reset")
            child = subprocess.run(
                [sys.executable, "-m", "bench.sweep", "sweep", url, str(server.port),
                 day.isoformat()],
                cwd=ROOT, capture_output=True, text=True, check=True,
            )  # fmt: skip
            result = json.loads(child.stdout.strip().splitlines()[-1])
            got = server.ask("count")
    return _rows(items, users, (base_seconds, base_cpu), base, result, got)


def _rows(items, users, base_times, base, result, got):
    base_seconds, base_cpu = base_times
    rate, base_rate = items / result["seconds"], items / base_seconds
    # One email per item (no digests here), each named after its own ledger row.
    once = (
        got["messages"] == got["unique"] == items
        and all(i.startswith("reminder-") for i in got["ids"])
        and result["statuses"] == {"sent": items}
    )
    what = f"sweep: {items:,} due items for {users:,} users into SMTP on loopback"
    cpu = (f"CPU per item: sweep {result['cpu'] / items * 1000:.2f} ms (all {WORKERS} processes), "
           f"smtplib {base_cpu / items * 1000:.2f} ms")  # fmt: skip
    return [
        Row("B3", f"{what}: rate", f"{rate:,.0f} items/s ({result['seconds']:.0f} s, "
            f"--workers {WORKERS})",
            f"smtplib, {base['messages']:,} pre-built messages, one connection: "
            f"{base_rate:,.0f}/s ({base_seconds:.0f} s)", f"{rate / base_rate:.2f}",
            f">= {RATE_TARGET}", rate / base_rate >= RATE_TARGET, cpu),
        Row("B3", f"{what}: peak memory",
            f"{result['peak_mb']:.0f} MB (the larger of {WORKERS} processes)",
            f"the process before the sweep: {result['start_mb']:.0f} MB", "—",
            f"< {MEMORY_LIMIT_MB} MB", result["peak_mb"] < MEMORY_LIMIT_MB),
        Row("B3", f"{what}: messages", f"{got['messages']:,} received, {got['unique']:,} distinct",
            f"{items:,} items", "—", "exactly one per item", once,
            f"ledger: {result['statuses']}"),
    ]  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1] == "smtp":
        smtp_server(int(sys.argv[2]))
    else:
        run_child(sys.argv[2], int(sys.argv[3]), datetime.fromisoformat(sys.argv[4]).date())
