"""For the operator: /healthz, /readyz and /metrics, with no sign-in, no data, and /metrics only
for the addresses METRICS_ALLOW names; request ids on every answer; Sentry only with a DSN."""

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade

from tpweb import create_app, logs
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.jobs.counters import REMINDERS
from tpweb.models import ReminderDelivery

from . import conftest
from .sweeping import REDIS_URL, task

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_anyone_and_sets_no_cookie(client):
    answer = client.get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok\n")
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers


def test_readyz_is_ready_on_a_migrated_database(client, count_queries):
    answer = client.get("/readyz")
    assert (answer.status_code, answer.text) == (200, "ready\n")
    assert "Set-Cookie" not in answer.headers
    # Cheap: the version table and little else.
    assert len(count_queries) <= 3


def test_readyz_says_503_with_why_while_redis_does_not_answer(client_of):
    client = client_of(REDIS_URL="redis://127.0.0.1:1/0")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.text.startswith("redis: unreachable")


def test_readyz_and_the_app_see_a_schema_behind_the_code(tmp_path):
    url = f"sqlite:///{tmp_path / 'behind.sqlite'}"
    app = create_app(conftest.test_config(url))
    client = app.test_client()
    with app.app_context():
        upgrade()
        assert client.get("/readyz").status_code == 200
        downgrade(revision="-1")
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.text.startswith("database: the schema is at ")
        assert answer.text.rstrip().endswith("run flask db upgrade")
        upgrade()
        assert client.get("/readyz").status_code == 200
        db.engine.dispose()


def test_readyz_says_503_on_an_empty_database(tmp_path):
    app = create_app(conftest.test_config(f"sqlite:///{tmp_path / 'empty.sqlite'}"))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.text == "database: the database has no schema: run flask db upgrade\n"
    with app.app_context():
        db.engine.dispose()


def test_metrics_count_requests_by_endpoint_and_show_the_ledger(client, make, rep, today):
    client.get("/tasks")
    row = dict(user_id=rep.id, item_kind="task", due_date=today, status="pending")
    db.session.add_all([ReminderDelivery(item_id=n, **row) for n in (1, 2, 3)])
    db.session.commit()
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    text = answer.text
    assert 'tpweb_http_request_duration_seconds_count{endpoint="tasks.index"' in text
    assert 'tpweb_reminders_pending{status="pending"} 3.0' in text
    # No user's data: no names, no emails.
    assert rep.name not in text and rep.username not in text


@pytest.mark.parametrize(
    "remote, headers, overrides, status",
    [
        ("127.0.0.1", {}, {}, 200),
        ("::1", {}, {}, 200),
        ("10.1.2.3", {}, {}, 404),
        ("10.1.2.3", {}, {"METRICS_ALLOW": "10.0.0.0/8"}, 200),
        ("192.168.0.9", {}, {"METRICS_ALLOW": "10.0.0.0/8, 127.0.0.1"}, 404),
        # Through a proxy the app was not told to believe: every client would look like it.
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}, {}, 404),
        ("127.0.0.1", {"Forwarded": "for=127.0.0.1"}, {}, 404),
        # A believed proxy: the client's own address decides.
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, {"TPWEB_PROXIES": 1}, 404),
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}, {"TPWEB_PROXIES": 1}, 200),
        # A forged chain: only the last hop the proxy added counts.
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}, {"TPWEB_PROXIES": 1}, 404),
    ],
)
def test_metrics_answer_only_the_allowed_addresses(client_of, remote, headers, overrides, status):
    client = client_of(**overrides)
    answer = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert answer.status_code == status
    if status == 404:
        assert "tpweb_" not in answer.text


def test_metrics_show_the_queue_depth_and_its_oldest_jobs_age(client_of, queue):
    client = client_of(REDIS_URL=REDIS_URL, TPWEB_QUEUE=queue.name)
    job = queue.enqueue("tpweb.jobs.sweep.send_reminders", job_id=f"{queue.name}-old")
    job.enqueued_at -= timedelta(minutes=5)
    job.save()
    queue.enqueue("tpweb.jobs.sweep.send_reminders", job_id=f"{queue.name}-new")
    text = client.get("/metrics").text
    assert f'tpweb_queue_jobs{{queue="{queue.name}"}} 2.0' in text
    age = next(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(f'tpweb_queue_oldest_job_age_seconds{{queue="{queue.name}"}}')
    )
    assert 300 <= age < 400


def test_every_answer_carries_a_request_id(client):
    answer = client.get("/login", headers={"X-Request-ID": "edge-7f3a"})
    assert answer.headers["X-Request-ID"] == "edge-7f3a"
    made = client.get("/login", headers={"X-Request-ID": "x" * 200}).headers["X-Request-ID"]
    assert len(made) == 32 and made != "x" * 200
    assert client.get("/login").headers["X-Request-ID"] != made


def test_a_log_line_is_json_with_the_request_id():
    """The app's lines as production writes them: one JSON object, the id of its request."""
    code = (
        "import logging; from tpweb import logs; logs.configure(json_lines=True); "
        "logs.request_id.set('abc-1'); logging.getLogger('tpweb.x').warning('hello %s', 'there')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello there"
    assert line["request_id"] == "abc-1"
    assert line["level"] == "WARNING" and line["name"] == "tpweb.x"


def test_a_job_enqueued_in_a_request_carries_its_id():
    logs.request_id.set("req-9")
    try:
        assert logs.job_meta() == {"request_id": "req-9"}
    finally:
        logs.request_id.set(None)
    assert logs.job_meta() == {}


@pytest.mark.parametrize("sane", ["a", "0f8fad5b-d9cb-469f-a165-70867728950e", "lb:42.7_x"])
def test_a_sane_incoming_id_is_kept(sane):
    assert logs.choose_request_id(sane) == sane


@pytest.mark.parametrize("insane", ["", "a b", "<script>", "x" * 129, "-lead", "a\nb", "é"])
def test_anything_else_gets_a_new_id(insane):
    assert logs.choose_request_id(insane) != insane


def last_line_printed(code):
    """What a fresh interpreter running `code` in the checkout prints last."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=True,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


def test_without_a_dsn_sentry_is_never_imported(database_url):
    code = (
        "import sys; from tpweb import create_app; from tests import conftest; "
        f"create_app(conftest.test_config({database_url!r}, SENTRY_DSN='')); "
        "print('sentry_sdk' in sys.modules)"
    )
    assert last_line_printed(code) == "False"


def test_with_a_dsn_errors_go_to_sentry(database_url):
    code = (
        "import sentry_sdk; from tpweb import create_app; from tests import conftest; "
        f"create_app(conftest.test_config({database_url!r}, "
        "SENTRY_DSN='https://public@sentry.invalid/1')); "
        "client = sentry_sdk.get_client(); "
        "print(client.is_active(), client.dsn, client.options['send_default_pii'])"
    )
    assert last_line_printed(code) == "True https://public@sentry.invalid/1 False"


def sent_count(outcome="sent"):
    return REMINDERS.labels("email", outcome)._value.get()


def test_the_sweeps_items_sent_are_counted(runner, make, outbox):
    rep = make.rep(email="pat@example.com", timezone="America/Chicago")
    contact = make.contact(make.customer(rep=rep), name="Lee Park")
    day = today_in("America/Chicago") - timedelta(days=1)
    for n in range(3):
        task(make, rep, contact, day, f"Call back {n}")
    before = sent_count()
    assert runner.invoke(args=["send-reminders", "--date", day.isoformat()]).exit_code == 0
    assert len(outbox) == 3
    assert sent_count() - before == 3


def test_the_worker_logs_a_job_under_the_id_of_the_request_that_enqueued_it(
    app,
    database_url,
    queue,
):
    queue.enqueue(
        "tpweb.jobs.sweep.send_reminders", meta={"request_id": "req-from-web-1"}, job_timeout=120
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "TPWEB_QUEUE": queue.name,
        "SECRET_KEY": secrets.token_hex(32),
    }
    command = [sys.executable, "worker.py", "--burst", "--simple", "--name", f"{queue.name}-0"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    job_lines = [line for line in lines if line["request_id"] == "req-from-web-1"]
    assert any("Job OK" in line["message"] for line in job_lines), lines
