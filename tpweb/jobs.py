"""Background jobs, run by worker.py inside the app context and enqueued by dotted name."""

from datetime import datetime, timedelta

from flask import current_app

from .delivery import SweepSettings, sweep
from .extensions import db
from .mail import Mailer

# Enqueue by this name: whoever enqueues never imports the job's code.
SEND_REMINDERS = "tpweb.jobs.send_reminders"
# Long enough for a big sweep; a killed one is caught up by the next hourly run anyway.
SWEEP_TIMEOUT = 3600
# How often a long sweep writes its progress into the job's meta.
PROGRESS_EVERY = 50


def sweep_settings(config):
    return SweepSettings(
        catchup_days=config["TPWEB_REMINDER_CATCHUP_DAYS"],
        lease=timedelta(seconds=config["TPWEB_REMINDER_LEASE_SECONDS"]),
        max_attempts=config["TPWEB_REMINDER_MAX_ATTEMPTS"],
    )


def run_sweep(now=None, day=None, dry_run=False, progress=None):
    """The reminder sweep on the app's database and mail settings; the CLI's and the job's."""
    with Mailer() as mailer:
        return sweep(
            db.session,
            mailer,
            now=now,
            settings=sweep_settings(current_app.config),
            day=day,
            dry_run=dry_run,
            progress=progress,
        )


def send_reminders(now=None):
    """The hourly job: send what is due as of `now` (an ISO 8601 instant; default: now)."""
    from rq import get_current_job

    job = get_current_job()
    done = 0

    def progress(n, total):
        nonlocal done
        done += n
        if job is not None and (done % PROGRESS_EVERY < n or done == total):
            job.meta.update(done=done, total=total)
            job.save_meta()

    report = run_sweep(now=datetime.fromisoformat(now) if now else None, progress=progress)
    return {
        "planned": report.planned,
        "emails": len(report.sent),
        "items": report.items_sent,
        "skipped": report.skipped,
        "failed": report.failed,
    }
