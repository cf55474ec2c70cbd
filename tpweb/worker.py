"""The overnight worker: an RQ worker whose jobs run inside the app, and the hourly schedule.

    python -m tpweb.worker            # worker + RQ's cron scheduler (sweep every hour)
    python -m tpweb.worker --no-cron  # one more worker (scale-out): no second schedule
    python -m tpweb.worker --burst    # run what is queued, then exit

In the package, so an installed wheel has it too; `python worker.py` in a checkout runs the same.

The reminder sweep is safe to run twice or in two workers at once (the ledger in the database
keeps each email single), so a second scheduler or a retried job does no harm. With several
workers on the queue, a big sweep is split: the hourly job sends one share of the users and
enqueues the others for the other workers (tpweb.jobs.sweep.send_reminders).
"""

import logging
import multiprocessing
import os
from pathlib import Path

import click
from redis import Redis
from rq import Queue, SimpleWorker, Worker

from tpweb import logs
from tpweb.jobs.sweep import SEND_REMINDERS, SWEEP_TIMEOUT

# Top of every hour (UTC): each user's send hour, in any zone, falls in some hour's sweep.
HOURLY = "0 * * * *"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class AppContext:
    """Runs every job inside `self.app`'s context: the app is built once, not per job."""

    app = None

    def perform_job(self, job, queue):
        # The job's lines carry the id of the request that enqueued it (tpweb.logs.job_meta).
        token = logs.request_id.set(job.meta.get("request_id"))
        try:
            with self.app.app_context():
                return super().perform_job(job, queue)
        finally:
            logs.request_id.reset(token)


class AppWorker(AppContext, Worker):
    """Forks a work horse per job, as RQ does by default."""

    def main_work_horse(self, job, queue):
        from tpweb.extensions import db

        # The horse is a fork: it must not use the parent's pooled database connections.
        with self.app.app_context():
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


class AppSimpleWorker(AppContext, SimpleWorker):
    """Runs each job in the worker's own process (no fork)."""


def make_worker(app, connection, queue_name, simple=False, name=None):
    worker = (AppSimpleWorker if simple else AppWorker)(
        [Queue(queue_name, connection=connection)], connection=connection, name=name
    )
    worker.app = app
    return worker


def run_cron(redis_url, queue_name):
    """RQ's cron scheduler: enqueue the reminder sweep at the top of every hour."""
    from rq.cron import CronScheduler

    from tpweb.jobs.sweep import send_reminders

    scheduler = CronScheduler(connection=Redis.from_url(redis_url))
    scheduler.register(send_reminders, queue_name, cron=HOURLY, job_timeout=SWEEP_TIMEOUT)
    scheduler.start()


def serve_metrics(port):
    """The sweep's counters (tpweb.jobs.counters) for Prometheus, on 127.0.0.1:`port` unless
    TPWEB_WORKER_METRICS_ADDR says where; every job's process's, with PROMETHEUS_MULTIPROC_DIR."""
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    start_http_server(port, addr=os.environ.get("TPWEB_WORKER_METRICS_ADDR", "127.0.0.1"),
                      registry=registry)  # fmt: skip


@click.command()
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then exit.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking.")
@click.option("--no-cron", is_flag=True, help="No hourly schedule (another worker has it).")
@click.option("--name", default=None, help="The worker's name in RQ (default: a random one).")
def main(burst, simple, no_cron, name):
    """Run the tpweb worker (and, unless --no-cron or --burst, the hourly reminder schedule)."""
    from tpweb import create_app
    from tpweb.extensions import db
    from tpweb.schema import require_current

    # The worker serves no static files: nothing to build for them.
    app = create_app({"TPWEB_STATIC_BUILD": False})
    with app.app_context():
        require_current(db.engine)
    if os.environ.get("TPWEB_WORKER_METRICS_PORT"):
        serve_metrics(int(os.environ["TPWEB_WORKER_METRICS_PORT"]))
    redis_url = app.config["REDIS_URL"] or DEFAULT_REDIS_URL
    queue_name = app.config["TPWEB_QUEUE"]
    connection = Redis.from_url(redis_url)
    scheduler = None
    if not (no_cron or burst):
        # A sweep now catches up at once after downtime; then one every hour.
        Queue(queue_name, connection=connection).enqueue(SEND_REMINDERS, job_timeout=SWEEP_TIMEOUT)
        scheduler = multiprocessing.get_context("spawn").Process(
            target=run_cron, args=(redis_url, queue_name), name="tpweb-cron", daemon=True
        )
        scheduler.start()
    logging.basicConfig(level=logging.INFO)
    try:
        make_worker(app, connection, queue_name, simple, name).work(burst=burst)
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.join(5)


if __name__ == "__main__":
    main()
