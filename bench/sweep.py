"""B3: the overnight sweep, 100,000 due items for 1,000 users, into an SMTP server on loopback,
against smtplib sending as many pre-built messages over one connection to the same server.

The SMTP server (aiosmtpd) runs in a process of its own and keeps only each message's
Message-ID, so it checks that every item arrived exactly once. The sweep runs in a process of
its own too, so its peak memory (VmHWM) is its own; it is the app's CLI path, `run_sweep` as
`flask send-reminders --workers 2` runs it (this process and one fork, each sending its share over
its own SMTP connection), with the app's mailer and one email per item.
"""

import json
import os
import re
import resource
import smtplib
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import sqlalchemy as sa

from tpweb.domain import demo
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, TouchpointRecord, User

from . import data
from .database import Watcher, bench_app, bench_database, migrate, on_postgres
from .load import HOST, free_port
from .report import Row

USERS, ITEMS_PER_USER = 1_000, 100
# Sending processes, as `flask send-reminders --workers 2`: one per core of the 2-core machine
# the targets are set for. Both sides run at 1 process and at WORKERS, like for like.
WORKERS = 2
PROCESSES = (1, WORKERS)
# The sides of a run: the baseline, the sweep, the sweep with its marks committed per user.
SMTPLIB, SWEEP, PER_USER = "smtplib", "sweep", "sweep-marks-per-user"
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


def baseline(port, messages, count, processes):
    """smtplib: `count` pre-built messages from `processes` processes (this one and forks), each
    its share over an SMTP connection of its own, as the sweep's --workers; seconds and CPU
    seconds taken by all of them."""
    import multiprocessing

    def send(share):
        with smtplib.SMTP(HOST, port) as smtp:
            for n in range(share, count, processes):
                message = messages[n % len(messages)].replace(b"@@ID@@", b"baseline-%d" % n)
                smtp.sendmail("reminders@localhost", ["user@example.com"], message)

    context = multiprocessing.get_context("fork")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, cpu = time.perf_counter(), time.process_time()
    forks = [context.Process(target=send, args=(k,)) for k in range(1, processes)]
    for fork in forks:
        fork.start()
    send(0)
    for fork in forks:
        fork.join()
    seconds = time.perf_counter() - start
    return seconds, time.process_time() - cpu + _children_cpu(before)


def _children_cpu(before):
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def prebuilt(url, port, day):
    """Messages as the app composes them (one per user, for one item), with a slot for an id."""
    from tpweb.domain.reminders import Reminder
    from tpweb.jobs.mail import Mailer

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


def run_baseline_child(url, port, day, processes, count):
    """smtplib in a process of its own, as the sweep runs in one: print its time and CPU."""
    messages = prebuilt(url, port, day)
    seconds, cpu = baseline(port, messages, count, processes)
    print(json.dumps({"seconds": seconds, "cpu": cpu}))


class _Deferred:
    """The sweep's connection for "sent" marks, with its per-message commit taken out."""

    def __init__(self, connection):
        self.connection = connection

    def execute(self, *args, **kwargs):
        return self.connection.execute(*args, **kwargs)

    def commit(self):
        pass


def _marks_committed_per_user():
    """The bench variant (not the product): a user's "sent" marks committed once, after their
    last message, instead of once per message. A crash would then resend up to a user's whole
    batch, not one message: what the per-message commit of exactly-once costs is the difference.
    """
    from tpweb.jobs import delivery

    deliver_to = delivery._deliver_to

    def per_user(session, marks, *args):
        deliver_to(session, _Deferred(marks), *args)
        marks.commit()

    delivery._deliver_to = per_user


def run_child(url, port, day, processes, variant):
    """The sweep in a process of its own: print what it did, its time and its peak memory."""
    from tpweb.jobs.sweep import run_sweep

    if variant == PER_USER:
        _marks_committed_per_user()
    app = bench_app(url, MAIL_BACKEND="smtp", MAIL_SERVER=HOST, MAIL_PORT=port)
    with app.app_context():
        start_rss = _vm("VmRSS")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start, cpu = time.perf_counter(), time.process_time()
        report = run_sweep(day=day, workers=processes)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu + _children_cpu(before)
        forks = resource.getrusage(resource.RUSAGE_CHILDREN)
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


def run(users=USERS, per_user=ITEMS_PER_USER, rounds=2, step=lambda message: None):
    """Each round: for 1 process and for WORKERS processes, smtplib and the sweep in turns (the
    order flipped every other round); right after the 1-process sweep, the same sweep with its
    marks committed per user (the bench variant), so that both meet the same load."""
    runs = {(side, n): [] for side in (SMTPLIB, SWEEP) for n in PROCESSES}
    runs[(PER_USER, 1)] = []
    with bench_database("sweep") as url:
        app = bench_app(url)
        migrate(app)
        day = today_in(demo.TIMEZONE)
        with app.app_context():
            items = build(users, per_user, day)
            engine = db.engine
        tagged = _tag(url)
        with SmtpServer() as server:
            for round_ in range(rounds):
                plan = []
                for n in PROCESSES:
                    pair = [(SMTPLIB, n), (SWEEP, n)]
                    plan += pair if round_ % 2 == 0 else pair[::-1]
                    if n == 1:  # the variant beside the run it is compared with
                        plan.insert(plan.index((SWEEP, 1)) + 1, (PER_USER, 1))
                for side, n in plan:
                    step(f"B3 round {round_ + 1}/{rounds}: {side}, {n} process(es)")
                    server.ask("reset")
                    if side != SMTPLIB:
                        with engine.begin() as conn:  # a fresh ledger: the sweep plans again
                            conn.execute(sa.text("DELETE FROM reminder_deliveries"))
                        _vacuum(engine)
                    command = [sys.executable, "-m", "bench.sweep", side, tagged,
                               str(server.port), day.isoformat(), str(n), str(items)]  # fmt: skip
                    with Backends(engine, TAG) as backends:
                        child = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                               check=True)  # fmt: skip
                    result = json.loads(child.stdout.strip().splitlines()[-1])
                    # On PostgreSQL the sweep's SQL runs in server processes: their CPU is the
                    # sweep's too (smtplib has none), so CPU per item compares like with like.
                    result["cpu"] += backends.cpu
                    result["got"] = server.ask("count")
                    runs[(side, n)].append(result)
                    step(f"  {items / result['seconds']:,.0f} items/s, "
                         f"{result['cpu'] / items * 1000:.3f} ms CPU per item, "
                         f"{result['got']['messages']:,} messages")  # fmt: skip
        engine.dispose()
    return _rows(items, users, runs)


TAG = "tpweb-bench-sweep"


def _tag(url):
    """The children's database URL: on PostgreSQL, with an application_name to find them by."""
    if not on_postgres():
        return url
    tagged = sa.make_url(url).update_query_dict({"application_name": TAG})
    return tagged.render_as_string(hide_password=False)


def _vacuum(engine):
    """On PostgreSQL, the deleted ledger vacuumed, so every sweep starts from the same table."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE reminder_deliveries"))


class Backends(Watcher):
    """The CPU seconds of the PostgreSQL server processes serving connections named `tag`, read
    from /proc while they live (every 0.1 s; each one's last reading counts). Nothing on SQLite,
    whose work is in the sweep's own processes."""

    def __init__(self, engine, tag):
        super().__init__(engine, 0.1, wanted=engine.dialect.name == "postgresql")
        self.tag, self.seen, self.tick = tag, {}, os.sysconf("SC_CLK_TCK")

    @property
    def cpu(self):
        return sum(self.seen.values())

    def run(self):
        query = sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :tag")
        with self.engine.connect() as conn:
            while self.looking():
                for pid in conn.execute(query, {"tag": self.tag}).scalars():
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:  # gone, or the server is on another machine
                        continue
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / self.tick
                conn.rollback()


def _once(result, items):
    """Every item arrived once, named after its own ledger row, and every row is marked sent."""
    got = result["got"]
    return (
        got["messages"] == got["unique"] == items
        and all(i.startswith("reminder-") for i in got["ids"])
        and result["statuses"] == {"sent": items}
    )


def _rows(items, users, runs):
    def median(side, n, key):
        return statistics.median(r[key] for r in runs[(side, n)])

    what = f"sweep: {items:,} due items for {users:,} users into SMTP on loopback"
    count = len(runs[(SWEEP, WORKERS)])
    runs_note = f"median of {count} runs each, in turns" if count > 1 else "one run each, in turns"
    rows = []
    baselines_ok = all(r["got"]["messages"] == items for n in PROCESSES for r in runs[(SMTPLIB, n)])
    for n in PROCESSES:
        seconds, base_seconds = median(SWEEP, n, "seconds"), median(SMTPLIB, n, "seconds")
        rate, base_rate = items / seconds, items / base_seconds
        who = f"{n} process{'es' if n > 1 else ''}, {n} SMTP connection{'s' if n > 1 else ''} each"
        rows.append(Row(
            "B3", f"{what}: rate, {who}",
            f"{rate:,.0f} items/s ({seconds:.0f} s, --workers {n})",
            f"smtplib, as many pre-built messages: {base_rate:,.0f}/s ({base_seconds:.0f} s)",
            f"{rate / base_rate:.2f}", f">= {RATE_TARGET}",
            baselines_ok and rate / base_rate >= RATE_TARGET,
            runs_note))  # fmt: skip
    for n in PROCESSES:
        cpu = median(SWEEP, n, "cpu") / items * 1000
        base_cpu = median(SMTPLIB, n, "cpu") / items * 1000
        rows.append(Row(
            "B3", f"{what}: CPU per item, {n} process{'es' if n > 1 else ''}",
            f"{cpu:.2f} ms (all its processes)", f"smtplib: {base_cpu:.2f} ms",
            f"{base_cpu / cpu:.2f}", f">= {RATE_TARGET}",
            baselines_ok and base_cpu / cpu >= RATE_TARGET,
            "smtplib's CPU per item over the sweep's (the SMTP server's own is in neither); "
            + ("PostgreSQL's server processes' CPU (from /proc) is in the sweep's"
               if on_postgres() else "SQLite's work is in the sweep's")))  # fmt: skip
    seconds, cpu = median(PER_USER, 1, "seconds"), median(PER_USER, 1, "cpu") / items * 1000
    base_seconds, base_cpu = median(SMTPLIB, 1, "seconds"), median(SMTPLIB, 1, "cpu") / items * 1000
    product_cpu = median(SWEEP, 1, "cpu") / items * 1000
    rows.append(Row(
        "B3", f"{what}: a bench variant, sent marks committed once per user, 1 process",
        f"{cpu:.2f} ms CPU per item, {items / seconds:,.0f} items/s",
        f"smtplib: {base_cpu:.2f} ms, {items / base_seconds:,.0f}/s",
        f"{base_cpu / cpu:.2f} (rate {base_seconds / seconds:.2f})", "none", None,
        f"what the per-message commit costs: {product_cpu - cpu:.2f} ms CPU per item of the "
        f"sweep's {product_cpu:.2f} ms (not the product: a crash would resend a user's "
        "whole batch)"))  # fmt: skip
    peak = max(r["peak_mb"] for r in runs[(SWEEP, WORKERS)])
    start = max(r["start_mb"] for r in runs[(SWEEP, WORKERS)])
    rows.append(Row("B3", f"{what}: peak memory",
                    f"{peak:.0f} MB (the larger of {WORKERS} processes, worst run)",
                    f"the process before the sweep: {start:.0f} MB", "—",
                    f"< {MEMORY_LIMIT_MB} MB", peak < MEMORY_LIMIT_MB))  # fmt: skip
    sweeps = [r for key, results in runs.items() if key[0] != SMTPLIB for r in results]
    once = all(_once(r, items) for r in sweeps)
    worst = min(sweeps, key=lambda r: (_once(r, items), r["got"]["unique"]))
    rows.append(Row("B3", f"{what}: messages",
                    f"{worst['got']['messages']:,} received, {worst['got']['unique']:,} distinct "
                    f"(the worst of {len(sweeps)} sweeps)",
                    f"{items:,} items", "—", "exactly one per item", once,
                    f"ledger: {worst['statuses']}"))  # fmt: skip
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "smtp":
        smtp_server(int(sys.argv[2]))
    else:
        side, url, port, day, processes, count = sys.argv[1:7]
        day = datetime.fromisoformat(day).date()
        if side == SMTPLIB:
            run_baseline_child(url, int(port), day, int(processes), int(count))
        else:
            run_child(url, int(port), day, int(processes), side)
