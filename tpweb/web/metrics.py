"""Prometheus metrics of the web processes: requests by endpoint (count and latency, through
prometheus-flask-exporter), and gauges read at scrape time with one cheap query each: the RQ
queue's depth and the age of its oldest job, the reminder ledger's rows waiting to be sent.

Under gunicorn each worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR set (as
tpweb.gunicorn_conf sees to), each writes its samples there and a scrape adds them up.
"""

import os
from datetime import UTC, datetime

from flask import current_app
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_flask_exporter import PrometheusMetrics
from rq import Queue
from sqlalchemy import func, select

from tpweb.extensions import db
from tpweb.models import ReminderDelivery

# Not counted as requests: the probes, the scrape itself, static files (WhiteNoise's, in
# production, never reach Flask).
EXCLUDED = [r"^/healthz$", r"^/readyz$", r"^/metrics$", r"^/static/"]


def init_app(app):
    # A registry per app: tests build many apps in one process.
    registry = CollectorRegistry()
    PrometheusMetrics(
        app,
        path=None,
        registry=registry,
        group_by="endpoint",
        defaults_prefix="tpweb",
        excluded_paths=EXCLUDED,
    )
    app.extensions["tpweb.metrics"] = registry


def registry(redis):
    """What a scrape shows: every process's samples, and the gauges read now."""
    scrape = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scrape)
    else:
        scrape.register(current_app.extensions["tpweb.metrics"])
    scrape.register(Gauges(redis, current_app.config["TPWEB_QUEUE"]))
    return scrape


class Gauges:
    """The worker's backlog, read at scrape time."""

    def __init__(self, redis, queue_name):
        self.redis, self.queue_name = redis, queue_name

    def describe(self):
        return []

    def collect(self):
        pending = GaugeMetricFamily(
            "tpweb_reminders_pending", "Reminder ledger rows waiting to be sent", labels=["status"]
        )
        counts = db.session.execute(
            select(ReminderDelivery.status, func.count())
            .where(ReminderDelivery.status.in_(("pending", "sending")))
            .group_by(ReminderDelivery.status)
        ).all()
        found = dict(counts)
        db.session.rollback()
        for status in ("pending", "sending"):
            pending.add_metric([status], found.get(status, 0))
        yield pending
        if self.redis is None:
            return
        queue = Queue(self.queue_name, connection=self.redis)
        depth = GaugeMetricFamily(
            "tpweb_queue_jobs", "Jobs waiting in the RQ queue", labels=["queue"]
        )
        depth.add_metric([self.queue_name], queue.count)
        yield depth
        oldest = GaugeMetricFamily(
            "tpweb_queue_oldest_job_age_seconds",
            "How long the oldest job in the RQ queue has waited (0 when empty)",
            labels=["queue"],
        )
        oldest.add_metric([self.queue_name], _oldest_age(queue))
        yield oldest


def _oldest_age(queue):
    ids = queue.get_job_ids(0, 1)
    job = queue.fetch_job(ids[0]) if ids else None
    if job is None or job.enqueued_at is None:
        return 0
    enqueued = job.enqueued_at
    if enqueued.tzinfo is None:  # RQ's times are UTC
        enqueued = enqueued.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - enqueued).total_seconds())
