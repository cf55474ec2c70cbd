"""Scale-out on PostgreSQL and Redis, as deploy/Procfile runs it (docs/deploy.md): two gunicorn
instances on two ports and two RQ workers, a bounded load on loopback over both while the hourly
sweep runs. A session made on one instance works on the other and its sign-out ends it on both;
the sign-in limit counts across both; one Idempotency-Key sent to both at once writes once; no
5xx; a worker killed mid-sweep, the other finishes, and every reminder arrives once."""

import http.client
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from rq import Worker
from sqlalchemy import func, select

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import CallLog, ReminderDelivery
from tpweb.web import statics

from .factories import PASSWORD
from .sweeping import REDIS_URL, Inbox, free_port, task

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "deploy" / "Procfile"
TOKYO = "Asia/Tokyo"
REPS, TASKS_EACH = 6, 2
KILL_AT = 4  # the worker sending the sweep is killed as its fourth message arrives
LEASE = 3  # seconds before a dead sender's claims go again


def procfile():
    """Each line's name and its command, with this virtualenv's programs."""
    commands = {}
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        program, *args = shlex.split(command)
        runner = [sys.executable] if program == "python" else [sys.executable, "-m", program]
        commands[name.strip()] = [*runner, *args]
    return commands


class KillingInbox(Inbox):
    """Kills the process group of the worker sending when message KILL_AT arrives, before the
    message is taken: to the mail server it is a transfer cut off, as when a machine dies."""

    def __init__(self, rq_queue, groups):
        super().__init__()
        self.queue, self.groups, self.killed = rq_queue, groups, None

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            arriving = len(self.received) + 1
        if self.killed is None and arriving == KILL_AT:
            for worker in Worker.all(queue=self.queue):
                if worker.get_current_job_id() and worker.pid in self.groups:
                    self.killed = worker.pid
                    os.killpg(self.groups[worker.pid], signal.SIGKILL)
            return "421 Connection lost"
        return await super().handle_DATA(server, session, envelope)


class Browser:
    """Cookies and CSRF as a browser keeps them, against one instance or another."""

    def __init__(self):
        self.cookies = {}

    def send(self, base, path, method="GET", form=None, headers=None):
        parts = urllib.parse.urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Expires=Thu, 01 Jan 1970" in header or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, response.headers, text

    def token(self, base):
        status, _, text = self.send(base, "/login")
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)

    def sign_in(self, base, username, password=PASSWORD):
        form = {"username": username, "password": password, "csrf_token": self.token(base)}
        return self.send(base, "/login", "POST", form)[0]


def signed_in(browser, base):
    """Whether the browser's session is signed in on that instance."""
    status, headers, _ = browser.send(base, "/tasks")
    return status == 200 and "/login" not in headers.get("Location", "")


@pytest.fixture
def world(app, make, database_url, queue):
    if not database_url.startswith("postgresql"):
        pytest.skip("the scale-out test runs in the PostgreSQL pass (several processes at once)")
    today = today_in(TOKYO)
    expected = []
    reps = []
    for r in range(REPS):
        rep = make.rep(
            name=f"Scale Rep {r}", email=f"scale{r}@example.com", timezone=TOKYO, reminder_hour=0
        )
        contact = make.contact(make.customer(rep=rep))
        for t in range(TASKS_EACH):
            description = f"Scale task {r}-{t}"
            task(make, rep, contact, today, description)
            expected.append(f"Due today: {description}")
        reps.append(rep)
    touchpoint = make.touchpoint(make.customer(rep=reps[0], name="Idempotent Co"))
    phone = make.call_type("Phone")
    db.session.commit()
    return {"reps": reps, "expected": sorted(expected), "touchpoint": touchpoint, "phone": phone}


def start(command, env, log):
    with log.open("w") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_ready(base, process, log):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if Browser().send(base, "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{base} was not ready: {log.read_text()[-3000:]}")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_two_instances_and_two_workers_share_sessions_limits_keys_and_the_sweep(
    world,
    database_url,
    queue,
    tmp_path,
):
    lines = procfile()
    groups = {}
    inbox = KillingInbox(queue, groups)
    inbox.delay = 0.3  # a mail server that takes its time: the sweep lasts a few seconds
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    static_root = tmp_path / "static"
    statics.build(ROOT / "static", static_root)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_hex(32),
        "TPWEB_QUEUE": queue.name,
        "TPWEB_STATIC_ROOT": str(static_root),
        "TPWEB_REMINDER_LEASE_SECONDS": str(LEASE),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(controller.port),
        "WEB_CONCURRENCY": "2",
    }
    limits = queue.connection
    for key in limits.scan_iter("tpweb-limits*"):
        limits.delete(key)
    processes = []
    try:
        release = subprocess.run(lines["release"], cwd=ROOT, env=env, capture_output=True)
        assert release.returncode == 0, release.stderr
        bases = []
        for n in range(2):
            port = free_port()
            instance = {
                **env,
                "TPWEB_BIND": f"127.0.0.1:{port}",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{n}"),
            }
            log = tmp_path / f"web-{n}.log"
            processes.append(start(lines["web"], instance, log))
            bases.append((f"http://127.0.0.1:{port}", processes[-1], log))
        for base, process, log in bases:
            wait_ready(base, process, log)
        a, b = (base for base, _, _ in bases)

        # A session made on A works on B; its sign-out on B ends it on both.
        rep = world["reps"][0]
        browser = Browser()
        assert browser.sign_in(a, rep.username) == 303
        assert signed_in(browser, a) and signed_in(browser, b)
        kept = dict(browser.cookies)
        token = browser.send(b, "/offline/urls", headers={"Accept": "application/json"})[2]
        csrf = re.search(r'"csrf_token":\s*"([^"]+)"', token).group(1)
        assert browser.send(b, "/logout", "POST", {"csrf_token": csrf})[0] in (302, 303)
        stale = Browser()
        stale.cookies = kept
        assert not signed_in(stale, a) and not signed_in(stale, b)

        # Workers as the Procfile starts them; the first one's schedule sweeps at once.
        for name in ("worker", "worker-more"):
            processes.append(start(lines[name], env, tmp_path / f"{name}.log"))
            groups[processes[-1].pid] = processes[-1].pid

        # Meanwhile: a bounded load over both instances, and one key sent to both at once.
        user = Browser()
        assert user.sign_in(b, rep.username) == 303
        status, _, urls = user.send(a, "/offline/urls")
        key_token = re.search(r'"csrf_token":\s*"([^"]+)"', urls).group(1)
        tp_id, phone_id = world["touchpoint"].id, world["phone"].id
        form = {
            "called_on": today_in(TOKYO).isoformat(),
            "duration_minutes": "15",
            "call_type": str(phone_id),
            "contact_id": "0",
            "notes": "once",
            "csrf_token": key_token,
        }
        keyed = {"Idempotency-Key": "scale-out-1", "HX-Request": "true"}
        paths = ["/touchpoints?view=list", "/tasks", "/", "/healthz", "/readyz"]
        statuses = []

        def load(n):
            base = (a, b)[n % 2]
            return user.send(base, paths[n % len(paths)])[0]

        def keyed_write(base):
            return user.send(base, f"/touchpoints/{tp_id}/complete", "POST", form, keyed)[0]

        with ThreadPoolExecutor(max_workers=4) as pool:
            writes = [pool.submit(keyed_write, base) for base in (a, b)]
            statuses = list(pool.map(load, range(120)))
            assert [w.result() for w in writes] == [200, 200]
        assert all(status < 500 for status in statuses), statuses
        calls = db.session.scalar(
            select(func.count(CallLog.id)).where(CallLog.touchpoint_id == tp_id)
        )
        assert calls == 1

        # One worker was killed mid-sweep; once its claims' lease is over, the next hourly run
        # (enqueued here as the schedule would) is sent by the other.
        deadline = time.monotonic() + 120
        while inbox.killed is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert inbox.killed is not None, "the sweep never reached the fourth message"
        time.sleep(LEASE + 1)
        queue.enqueue("tpweb.jobs.sweep.send_reminders", job_timeout=120)
        while len(inbox.messages) < len(world["expected"]) and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(1)  # nothing more arrives
        subjects = sorted(message["Subject"] for message in inbox.messages)
        assert subjects == world["expected"]  # each once: nothing missed, nothing doubled
        db.session.expire_all()
        sent = select(func.count(ReminderDelivery.id)).where(ReminderDelivery.status == "sent")
        assert db.session.scalar(sent) == len(world["expected"])

        # Last, as it leaves this address limited: the sign-in limit counts across both
        # instances, the tenth refusal from one address is a 429.
        refusals = [
            Browser().sign_in((a, b)[n % 2], "nobody-at-all", "wrong password") for n in range(10)
        ]
        assert 429 not in refusals[:9] and refusals[9] == 429
        for _, process, log in bases:
            assert process.poll() is None, log.read_text()[-3000:]
            assert '"status": 5' not in log.read_text()
    finally:
        for process in processes:
            stop(process)
        controller.stop()
        for key in limits.scan_iter("tpweb-limits*"):
            limits.delete(key)
