"""B9, growth: B1's, B2's and B5's figures on the usual data (1x) and on ten times as much (10x:
2,000 reps, 500,000 touchpoints, 2,000,000 History rows), CPU per request side by side.

rep1, rep2 and rep3 hold the same rows at both sizes (bench/data.py), so a page whose cost
follows the rep's own rows costs the same at 10x; one whose cost follows the tables does not.
CPU per request is the app's (gunicorn's workers for B1, this process for B2 and B5) plus, on
PostgreSQL, the server processes serving the app's connections (read from /proc): at 10x the
database does more of the work if anything does, and the app's CPU alone would not show it.
The sizes run in turns, round after round (1x first in odd rounds, 10x first in even ones), each
with B1's, B2's and B5's own code; the baselines those run beside are not needed here.
"""

import statistics

from . import lists, maps, team
from .database import ServerCpu, tagged
from .report import Row

TARGET = 1.25
SCALES = (1, 10)


def run(urls, seconds, rounds, connections, workers, repeat, step=lambda message: None):
    """`urls`: {scale: database URL} for 1 and 10; the rows of B9."""
    b1 = {scale: {} for scale in SCALES}
    b2 = {scale: [] for scale in SCALES}
    b5 = {scale: [] for scale in SCALES}
    for round_ in range(rounds):
        order = SCALES if round_ % 2 == 0 else SCALES[::-1]
        for scale in order:
            step(f"B9 round {round_ + 1}: B1 at {scale}x")
            results, _, _ = lists.measure(urls[scale], seconds, 1, connections, workers)
            for run_, measured in results.items():
                b1[scale].setdefault(run_, []).extend(measured)
        for scale in order[::-1]:
            step(f"B9 round {round_ + 1}: B2 and B5 at {scale}x")
            tag = f"tpweb-bench-growth-{scale}x"
            url = tagged(urls[scale], tag)
            server_cpu = ServerCpu(url, tag)
            try:
                b2[scale].append(maps.measure(url, repeat, server_cpu=server_cpu)[0])
                timings = {}
                team.run(url, repeat, server_cpu=server_cpu, timings=timings)
                b5[scale].append(timings)
            finally:
                server_cpu.close()
    return rows(b1, b2, b5)


def b1_cpu_ms(results):
    """CPU milliseconds per request over all `results` (load.Result): the workers' and their
    database server processes' (where read), and requests per second."""
    requests = sum(r.requests for r in results)
    app = sum(r.cpu_seconds or 0 for r in results) * 1000 / requests
    database = sum(r.db_cpu_seconds or 0 for r in results) * 1000 / requests
    return app, database, requests / sum(r.seconds for r in results)


def paired_cpu_ms(timed):
    """A Paired's action, CPU milliseconds: (this process's, the database server's, wall)."""
    return timed.action_cpu, timed.action_server_cpu or 0.0, timed.action


def _median(values):
    return tuple(statistics.median(column) for column in zip(*values, strict=True))


def growth_row(what, one, ten, unit="request"):
    """A B9 row from (app CPU ms, database CPU ms, rate or wall) at 1x and at 10x."""
    total1, total10 = one[0] + one[1], ten[0] + ten[1]
    ratio = total10 / total1
    return Row("B9", f"{what}: CPU per {unit}", f"10x: {total10:.2f} ms",
               f"1x: {total1:.2f} ms", f"{ratio:.2f}", f"<= {TARGET}", ratio <= TARGET,
               f"app {one[0]:.2f} → {ten[0]:.2f} ms, database server {one[1]:.2f} → "
               f"{ten[1]:.2f} ms")  # fmt: skip


def rows(b1, b2, b5):
    out = []
    what = {"list": "B1 rep's list fragment (rep3, 50 rows)", "tasks": "B1 /tasks (rep3)"}
    for page in ("list", "tasks"):
        for kind, label in (("app", "first render"), ("304", "revalidated, 304")):
            one, ten = (b1_cpu_ms(b1[scale][page, kind]) for scale in SCALES)
            row = growth_row(f"{what[page]}, {label}", one, ten)
            row.note += f"; {one[2]:,.0f} → {ten[2]:,.0f} req/s (gunicorn, wrk)"
            out.append(row)
    one, ten = (_median(paired_cpu_ms(t) for t in b2[scale]) for scale in SCALES)
    row = growth_row("B2 map of rep1 (2,000 touchpoints), page + map document", one, ten, "map")
    row.note += f"; wall {one[2]:.0f} → {ten[2]:.0f} ms"
    out.append(row)
    for name, label, unit in (
        ("team", "B5 /reps, a manager's own team (20 reps at both)", "request"),
        ("reassign", "B5 reassign rep2's 1,000 accounts", "move"),
    ):
        one, ten = (_median(paired_cpu_ms(t[name]) for t in b5[scale]) for scale in SCALES)
        row = growth_row(label, one, ten, unit)
        row.note += f"; wall {one[2]:.1f} → {ten[2]:.1f} ms"
        out.append(row)
    # Every rep (a director's choice): ten times the reps shown at 10x, so a reference, read
    # per rep shown.
    one, ten = (_median(paired_cpu_ms(t["overview"]) for t in b5[scale]) for scale in SCALES)
    row = growth_row("B5 /reps?manager=all, every rep (200 at 1x, 2,000 at 10x)", one, ten)
    per1, per10 = (one[0] + one[1]) / 200, (ten[0] + ten[1]) / 2000
    row.target, row.met = "none: 10x the reps shown", None
    row.note += (f"; wall {one[2]:.1f} → {ten[2]:.1f} ms; per rep shown {per1:.3f} → "
                 f"{per10:.3f} ms ({per10 / per1:.2f})")  # fmt: skip
    out.append(row)
    return out
