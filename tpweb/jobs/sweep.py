"""Background jobs, run by tpweb/worker.py inside the app context and enqueued by dotted name."""

import multiprocessing
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from tpweb.extensions import db
from tpweb.jobs.delivery import EMAIL, PUSH, Row, SweepSettings, prepare, send_share, sweep
from tpweb.jobs.mail import Mailer
from tpweb.jobs.push import pusher

# Enqueue by this name: whoever enqueues never imports the job's code.
SEND_REMINDERS = "tpweb.jobs.sweep.send_reminders"
SEND_SHARE = "tpweb.jobs.sweep.send_reminder_share"
# Long enough for a big sweep; a killed one is caught up by the next hourly run anyway.
SWEEP_TIMEOUT = 3600
# How often a long sweep writes its progress into the job's meta.
PROGRESS_EVERY = 50
# A sweep is split between the queue's workers only when each gets at least this many users:
# below it, one sender is quick and splitting only costs jobs.
USERS_PER_SHARE = 200


def sweep_settings(config):
    return SweepSettings(
        catchup_days=config["TPWEB_REMINDER_CATCHUP_DAYS"],
        lease=timedelta(seconds=config["TPWEB_REMINDER_LEASE_SECONDS"]),
        max_attempts=config["TPWEB_REMINDER_MAX_ATTEMPTS"],
    )


def run_sweep(now=None, day=None, dry_run=False, progress=None, workers=1):
    """The reminder sweep on the app's database, mail and push settings; the CLI's and the job's.

    `workers` > 1 plans here, then sends in that many processes at once (this one and forks of
    it), each its share of the users over its own SMTP connection (docs/benchmarks.md, B3).
    """
    settings = sweep_settings(current_app.config)
    if workers <= 1 or dry_run:
        with Mailer() as mailer, pusher(db.session) as push:
            return sweep(db.session, mailer, now, settings, day, dry_run, progress, push)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    report = prepare(db.session, now, settings, day)
    total = db.session.scalar(select(func.count(Row.id)).where(Row.status == "pending"))
    db.session.close()  # this process holds no database connection when it forks
    context = multiprocessing.get_context("fork")
    done = context.Value("q", 0)
    app = current_app._get_current_object()
    forks = []
    for k in range(1, workers):
        receive, send = context.Pipe(duplex=False)
        args = (app, (k, workers), now, settings, send, done)
        process = context.Process(target=_send_in_fork, args=args, daemon=True)
        process.start()
        send.close()
        forks.append((process, receive))
    try:
        _send_share(now, settings, (0, workers), _shared(done, total, progress), report)
    finally:
        # Even if this process's share failed, the others finish theirs (never killed mid-send).
        lost = _gather(forks, report)
    if lost:
        raise RuntimeError(f"{lost} sending processes died; the next sweep sends what they held")
    return report


def _gather(forks, report):
    """Wait for each fork's Report and add it to `report`; how many forks died without one."""
    lost = 0
    for process, receive in forks:
        try:
            share = receive.recv()
        except EOFError:  # the process died: its claims go again after the lease
            lost += 1
        else:
            report.merge(share)
        process.join()
    return lost


def _shared(done, total, progress):
    """Progress of all the processes together, of `total` rows, told from this one."""
    told = 0

    def update(n, _share_total):
        nonlocal told
        with done.get_lock():
            done.value += n
            now = done.value
        if progress is not None:
            progress(now - told, total)
            told = now

    return update


def _send_in_fork(app, share, now, settings, results, done):
    with app.app_context():
        # A fork must not use its parent's pooled database connections.
        db.engine.dispose(close=False)
        report = _send_share(now, settings, share, _shared(done, 0, None))
    results.send(report)
    results.close()


def send_reminders(now=None, shares=None):
    """The hourly job: send what is due as of `now` (an ISO 8601 instant; default: now).

    Split in `shares` (default: one per worker on the queue, with USERS_PER_SHARE users each at
    least): this job sends the first and enqueues one job per other share, which the queue's
    other workers send at the same time (claims keep each item single whoever sends it).
    """
    from rq import Queue, Worker, get_current_job

    job = get_current_job()
    at = (datetime.fromisoformat(now) if now else datetime.now(UTC)).astimezone(UTC)
    settings = sweep_settings(current_app.config)
    report = prepare(db.session, at, settings)
    if job is None:  # called directly, not by a worker: no queue to share with
        shares = 1
    else:
        queue = Queue(job.origin, connection=job.connection)
        if shares is None:
            pending = Row.status == "pending"
            users = db.session.scalar(select(func.count(Row.user_id.distinct())).where(pending))
            shares = share_count(Worker.count(queue=queue), users)
        for k in range(1, shares):
            queue.enqueue(SEND_SHARE, at.isoformat(), k, shares, job_timeout=SWEEP_TIMEOUT)
    _send_share(at, settings, (0, shares), _progress(job), report)
    return _summary(report) | {"shares": shares}


def share_count(workers, users):
    """How many shares a sweep of `users` users is sent in by `workers` workers."""
    return max(1, min(workers, users // USERS_PER_SHARE))


def send_reminder_share(now, k, shares):
    """Share `k` of `shares` of the sweep planned at `now` (enqueued by send_reminders)."""
    from rq import get_current_job

    at = datetime.fromisoformat(now).astimezone(UTC)
    settings = sweep_settings(current_app.config)
    return _summary(_send_share(at, settings, (k, shares), _progress(get_current_job())))


def _send_share(now, settings, share, progress=None, report=None):
    """One share of a planned sweep, sent over an SMTP connection (and HTTP session for the
    pushes) of its own; its Report."""
    with Mailer() as mailer, pusher(db.session) as push:
        return send_share(db.session, mailer, now, settings, share, progress, report, push)


def _progress(job):
    done = 0

    def progress(n, total):
        nonlocal done
        done += n
        if job is not None and (done % PROGRESS_EVERY < n or done == total):
            job.meta.update(done=done, total=total)
            job.save_meta()

    return progress


def _summary(report):
    return {
        "planned": report.planned,
        "emails": report.messages[EMAIL],
        "pushes": report.messages[PUSH],
        "items": report.items_sent,
        "skipped": report.skipped,
        "failed": report.failed,
    }
