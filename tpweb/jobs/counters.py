"""The sweep's outcomes as Prometheus counters, by channel: items sent, failed (put back for the
next sweep), retried (a dead sender's claims given back), skipped and given up.

The worker forks a process per job: with PROMETHEUS_MULTIPROC_DIR set, each writes its counts
there, and `tpweb/worker.py` serves them all on TPWEB_WORKER_METRICS_PORT (docs/deploy.md).
"""

from prometheus_client import Counter

REMINDERS = Counter(
    "tpweb_reminders", "Reminder items by channel and outcome", ["channel", "outcome"]
)


def count(outcome, items, channel):
    if items:
        REMINDERS.labels(channel, outcome).inc(items)
