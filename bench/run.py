"""The benchmark runner: build the data, run each benchmark beside its baseline, report.

    python -m bench                 # everything; writes docs/benchmarks.md
    python -m bench B3              # one of them: rewrites only its rows of docs/benchmarks.md
    python -m bench --only B1,B5    # some of them (the same as `python -m bench B1 B5`)
    python -m bench --quick         # short runs, to check the harness (figures are rough)
    python -m bench B9              # growth: B1, B2 and B5 at 1x and 10x data (not in the default)

PostgreSQL when DATABASE_URL names it (in a schema of the benchmark's own), else SQLite in a
temporary file.
"""

import argparse
import os
import sys
import time

from . import (
    data,
    growth,
    health,
    instances,
    lists,
    load,
    maps,
    offline,
    plans,
    push,
    report,
    sweep,
    team,
)
from .database import bench_app, bench_database, describe, migrate

ALL = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B10")
# Run only when named (`make bench-growth`): B9 builds ten times the data, and runs B1, B2 and B5
# at both sizes.
EXTRA = ("B9",)
# The benchmarks that run on the usual data, built first.
ON_DATA = {"B1", "B2", "B4", "B5", "B9", "B10"}


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run, e.g. B3 (default: all)")
    parser.add_argument("--only", help="benchmarks to run, e.g. B1,B5 (default: all)")
    parser.add_argument("--quick", action="store_true", help="short runs: check the harness")
    parser.add_argument("--seconds", type=float, help="length of each load run (default 8)")
    parser.add_argument("--rounds", type=int, help="load runs per figure (default 2)")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave the docs")
    parser.add_argument(
        "--push-items", type=int, help=f"B7's due items (default {push.ITEMS:,}; 2,000 quick)"
    )
    parser.add_argument("--call-logs", type=int, help="B8's call logs (default 200,000)")
    args = parser.parse_args(argv)
    names = [*args.names, *(args.only or "").split(",")]
    args.only = {name.strip().upper() for name in names if name.strip()} or set(ALL)
    known = set(ALL) | set(EXTRA)
    if not args.only <= known:
        parser.error(f"unknown benchmarks: {', '.join(sorted(args.only - known))}")
    args.seconds = args.seconds or (2 if args.quick else 8)
    args.rounds = args.rounds or (1 if args.quick else 2)
    return args


def step(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv=None):
    args = parse(argv)
    started = time.monotonic()
    workers = os.cpu_count() or 1
    rows, database, summary = [], None, None
    with bench_database("main") as url:
        app = bench_app(url)
        if not args.only & ON_DATA:  # B3 builds a database of its own
            url = None
            database = describe(app)
        else:
            step("migrating and building the data")
            migrate(app)
            with app.app_context():
                built = data.build()
            database = describe(app)
            summary = (
                f"{built['reps']} reps, {built['accounts']:,} accounts, "
                f"{built['touchpoints']:,} touchpoints, {built['open_tasks']:,} open tasks, "
                f"{built['contacts']:,} contacts, {built['history']:,} history rows"
            )
            step(f"built {summary} on {database}")
        if "B9" in args.only:  # first: the others write (and put back) on the 1x data
            rows += _growth(url, args, workers)
        if "B1" in args.only:
            step(f"B1: lists under load, {args.rounds} x {args.seconds:g} s per figure")
            rows += lists.run(url, args.seconds, args.rounds, connections=8, workers=workers)
        if "B2" in args.only:
            step("B2: the map of a rep with 2,000 accounts, and the naive folium map")
            rows += maps.run(url, repeat=2 if args.quick else 7)
        if "B4" in args.only:
            step("B4: the rep's list in headless Chromium, offline and online")
            rows += offline.run(url, repeat=3 if args.quick else 20, workers=workers)
        if "B10" in args.only:
            step(f"B10: two instances against one, {args.rounds} x {args.seconds:g} s per figure")
            rows += instances.run(url, args.seconds, args.rounds, workers,
                                  writes=10 if args.quick else 20, step=step)  # fmt: skip
        if "B5" in args.only:  # last: it writes
            step("B5: /reps overview and bulk reassignment")
            rows += team.run(url, repeat=3 if args.quick else 9)
    if "B3" in args.only:
        users, per_user = (100, 20) if args.quick else (sweep.USERS, sweep.ITEMS_PER_USER)
        step(f"B3: the sweep, {users * per_user:,} items for {users:,} users, and smtplib")
        rows += sweep.run(users, per_user, rounds=args.rounds, step=step)
    if "B7" in args.only:
        items = args.push_items or (2_000 if args.quick else push.ITEMS)
        step(f"B7: the sweep with push and email, {items:,} items, and webpush() in a loop")
        rows += push.run(items, rounds=args.rounds, step=step)
    if "B6" in args.only:  # the domain alone: no database
        step("B6: Plan my day, 30 and 100 candidates, against 30 s searches and a greedy plan")
        rows += plans.run(
            instances=3 if args.quick else 10,
            quality_instances=1 if args.quick else 3,
            quality_seconds=5 if args.quick else 30,
        )
    if "B8" in args.only:  # databases of its own: SQLite, and PostgreSQL given BENCH_POSTGRES
        logs = args.call_logs or (20_000 if args.quick else health.CALL_LOGS)
        step(f"B8: Team health over 52 weeks, 200 reps, {logs:,} call logs")
        rows += health.run(repeat=2 if args.quick else 3, call_logs=logs, step=step)
    rows.sort(key=lambda row: report.order(row.id))
    print(report.text_table(rows))
    loads = args.only & {"B1", "B9", "B10"}
    facts = report.machine(database, load.loader() if loads else None)
    took = time.monotonic() - started
    facts["run time"] = f"{took / 60:.1f} min" + (" (--quick)" if args.quick else "")
    step(f"done in {took:.0f} s")
    if args.no_docs or args.quick:
        # The rows and their notes as the docs would have them, to keep by hand (another
        # database's run, say), with what they were measured on.
        print("\n" + "\n".join(f"- {name}: {value}" for name, value in facts.items()))
        print("\n" + report.markdown_table(rows))
        step("docs/benchmarks.md left as it is (--no-docs or --quick)")
    else:
        # A partial run rewrites its own benchmarks' rows and keeps the others, saying so.
        report.write_docs(rows, facts, summary, only=args.only)
        step(f"wrote {report.DOCS}")
    return rows


def _growth(url, args, workers):
    """B9: the usual data (at `url`) against ten times as much, built in a schema of its own."""
    with bench_database("growth") as big:
        app = bench_app(big)
        step("B9: migrating and building ten times the data")
        started = time.monotonic()
        migrate(app)
        with app.app_context():
            built = data.build(scale=10)
        took = time.monotonic() - started
        step(
            f"B9: built {built['reps']:,} reps, {built['touchpoints']:,} touchpoints, "
            f"{built['open_tasks']:,} open tasks, {built['history']:,} history rows in {took:.0f} s"
        )
        rows = growth.run(
            {1: url, 10: big},
            args.seconds,
            args.rounds,
            connections=8,
            workers=workers,
            repeat=2 if args.quick else 3,
            step=step,
        )
    rows[0].note += (
        f"; 10x data: {built['reps']:,} reps, {built['accounts']:,} accounts and touchpoints, "
        f"{built['open_tasks']:,} open tasks, {built['contacts']:,} contacts, "
        f"{built['history']:,} history rows (built in {took:.0f} s)"
    )
    return rows
