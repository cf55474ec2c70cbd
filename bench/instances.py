"""B10: two gunicorn instances against one, on the same database (and Redis, when REDIS_URL is
set), as two web machines behind a proxy would run.

CPU per request: the same total load on one instance (all the cores' workers, one wrk with 8
connections) and on two (half the workers each, two wrk at once with 4 connections each), in
turns, round after round; the CPU is the workers' plus, on PostgreSQL, the server processes
serving their connections. Nothing is shared between instances but the database and Redis, so
the two figures should be the same within the noise of the machine.

The time a write waits on the other instance's locks: two managers, one on each instance, move the
same 100 of rep2's accounts to rep4 and back, each as fast as answered, against one manager
alone on one instance doing the same. Each write's latency is the client's; the time spent
waiting on a lock is PostgreSQL's, sampled every few milliseconds from pg_stat_activity (the
instances' connections waiting with wait_event_type 'Lock'). On PostgreSQL a write runs
SERIALIZABLE (tpweb/web/writes.py): the one that waited is then run again on what the other
committed, or answered 409, never 500; the end state is checked (every account on one rep).
"""

import re
import statistics
import threading
import time
import urllib.parse

import sqlalchemy as sa

from . import load
from .database import Watcher
from .lists import HTMX, LIST, PASSWORD, REP, TASKS
from .report import Row

MANAGERS = ("manager1", "manager2")
FROM_REP, TO_REP = "rep2", "rep4"
MOVED = 100
CONNECTIONS = 8
NOISE = 0.10  # "the same within noise": two instances' CPU per request within 10 % of one's
SAMPLE = 0.005  # seconds between two looks at pg_stat_activity


def run(url, seconds, rounds, workers, writes=20, step=lambda message: None):
    half = max(1, workers // 2)
    with (
        load.gunicorn(url, workers) as one,
        load.gunicorn(url, half) as first,
        load.gunicorn(url, half) as second,
    ):
        step(f"B10: CPU per request, 1 instance x {workers} workers against 2 x {half}")
        cpu = _cpu_per_request(one, (first, second), seconds, rounds)
        step(f"B10: {MOVED} accounts moved by two managers on two instances at once")
        locks = _lock_waits(url, (first, second), writes, rounds)
    return _rows(cpu, locks, workers, half, sampled=url.startswith("postgresql"))


def _cpu_per_request(one, two, seconds, rounds):
    cookie = {"Cookie": load.sign_in(one.base, REP, PASSWORD)}  # signed once, valid on all
    pages = {}
    for name, path, headers in (("list", LIST, HTMX), ("tasks", TASKS, {})):
        pages[name] = (path, load.settled(one.base, path, {**cookie, **headers}))
        for server in (one, *two):  # warm up: templates compiled, connections pooled
            assert load.request(server.base, *pages[name])[0] == 200, (server.base, path)
            load.load(server.base, *pages[name], seconds=1, connections=CONNECTIONS)
    results = {(name, n): [] for name in pages for n in (1, 2)}
    for round_ in range(rounds):
        for name, page in pages.items():
            for n in (1, 2) if round_ % 2 == 0 else (2, 1):
                servers = (one,) if n == 1 else two
                results[name, n].append(_loaded(servers, page, seconds, CONNECTIONS // n))
    return results


def _loaded(servers, page, seconds, connections):
    """Every server under `connections` clients at once: (requests, seconds, CPU seconds,
    database server CPU seconds or None, non-2xx answers)."""
    before = [(s.cpu_seconds(), s.db_cpu_seconds()) for s in servers]
    results = [None] * len(servers)

    def each(i):
        results[i] = load.load(servers[i].base, *page, seconds, connections)

    threads = [threading.Thread(target=each, args=(i,)) for i in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = [(s.cpu_seconds(), s.db_cpu_seconds()) for s in servers]
    cpu = sum(a[0] - b[0] for a, b in zip(after, before, strict=True))
    db_cpu = None
    if None not in [b[1] for b in before]:
        db_cpu = sum(a[1] - b[1] for a, b in zip(after, before, strict=True))
    return (sum(r.requests for r in results), max(r.seconds for r in results), cpu, db_cpu,
            sum(r.bad_status + r.socket_errors for r in results))  # fmt: skip


def _lock_waits(url, servers, writes, rounds):
    engine = sa.create_engine(sa.make_url(url))
    try:
        with engine.connect() as conn:
            ids = dict(conn.execute(sa.text("SELECT username, id FROM users")).all())
            accounts = conn.execute(
                sa.text("SELECT id FROM accounts WHERE sales_rep_id = :rep ORDER BY id LIMIT :n"),
                {"rep": ids[FROM_REP], "n": MOVED},
            ).scalars().all()  # fmt: skip
        clients = [
            _Manager(s.base, name, ids, accounts) for s, name in zip(servers, MANAGERS, strict=True)
        ]
        tags = [s.db_tag for s in servers] if engine.dialect.name == "postgresql" else None
        found = {"alone": [], "together": []}
        for round_ in range(rounds):
            for kind in ("alone", "together") if round_ % 2 == 0 else ("together", "alone"):
                active = clients[:1] if kind == "alone" else clients
                before = _cpu(servers)
                with _LockSampler(engine, tags) as sampler:
                    latencies = _writing(active, writes)
                cpu = _cpu(servers) - before
                owners = _owners(engine, accounts)
                found[kind].append((latencies, sampler.waited, len(owners) == 1, cpu))
                _reset(engine, accounts, ids[FROM_REP])
        return found
    finally:
        engine.dispose()


def _cpu(servers):
    """The servers' workers' CPU seconds so far, and their PostgreSQL server processes'."""
    return sum(s.cpu_seconds() or 0 for s in servers) + sum(
        s.db_cpu_seconds() or 0 for s in servers
    )


class _Manager:
    """A manager signed in on one instance, moving `accounts` from rep2 to rep4 and back."""

    def __init__(self, base, username, ids, accounts):
        self.base = base
        cookie = {"Cookie": load.sign_in(base, username, PASSWORD)}
        page = f"/reps/{ids[FROM_REP]}"
        self.headers = load.settled(base, page, cookie)
        _, _, body = load.request(base, page, self.headers)
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
        self.moves = []
        for source, target in ((FROM_REP, TO_REP), (TO_REP, FROM_REP)):
            form = urllib.parse.urlencode(
                {"account_ids": accounts, "to_rep_id": ids[target], "csrf_token": token},
                doseq=True,
            )
            self.moves.append((f"/reps/{ids[source]}/reassign", form))

    def write(self, n):
        path, form = self.moves[n % 2]
        headers = {**self.headers, "Content-Type": "application/x-www-form-urlencoded"}
        start = time.perf_counter()
        status, _, _ = load.request(self.base, path, headers, "POST", form)
        return time.perf_counter() - start, status


def _writing(clients, writes):
    """Each client's `writes` moves (there, back, ...) at once: [(seconds, status), ...]."""
    found = [[] for _ in clients]

    def each(i):
        found[i] = [clients[i].write(n) for n in range(writes)]

    threads = [threading.Thread(target=each, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answer for answers in found for answer in answers]


class _LockSampler(Watcher):
    """Seconds the instances' connections spent waiting on a lock, sampled from pg_stat_activity
    every SAMPLE seconds (each look counts the time since the previous one for each waiter)."""

    def __init__(self, engine, tags):
        super().__init__(engine, SAMPLE, wanted=bool(tags))
        self.tags, self.waited, self.looks = tags, 0.0, 0

    def run(self):
        query = sa.text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name IN :tags AND wait_event_type = 'Lock'"
        ).bindparams(sa.bindparam("tags", expanding=True))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            last = time.perf_counter()
            while self.looking():
                waiting = conn.execute(query, {"tags": self.tags}).scalar()
                now = time.perf_counter()
                self.waited += waiting * (now - last)
                self.looks += 1
                last = now


def _owners(engine, accounts):
    with engine.connect() as conn:
        query = sa.text("SELECT DISTINCT sales_rep_id FROM accounts WHERE id IN :ids")
        query = query.bindparams(sa.bindparam("ids", expanding=True))
        return set(conn.execute(query, {"ids": accounts}).scalars())


def _reset(engine, accounts, rep):
    """Every moved account back with rep2, for the next run (the bench's own write)."""
    with engine.begin() as conn:
        query = sa.text("UPDATE accounts SET sales_rep_id = :rep WHERE id IN :ids")
        conn.execute(query.bindparams(sa.bindparam("ids", expanding=True)),
                     {"rep": rep, "ids": accounts})  # fmt: skip


def _per_request(runs):
    requests = sum(r[0] for r in runs)
    app = sum(r[2] for r in runs) * 1000 / requests
    database = None if None in [r[3] for r in runs] else sum(r[3] for r in runs) * 1000 / requests
    rate = requests / sum(r[1] for r in runs)
    return app, database, rate, sum(r[4] for r in runs)


def _rows(cpu, locks, workers, half, sampled=True):
    out = []
    counted = "the workers' and PostgreSQL's" if sampled else "the workers' (SQLite's is theirs)"
    what = {"list": "rep's list fragment, first render", "tasks": "/tasks, first render"}
    for name in ("list", "tasks"):
        one, two = _per_request(cpu[name, 1]), _per_request(cpu[name, 2])
        total1, total2 = one[0] + (one[1] or 0), two[0] + (two[1] or 0)
        ratio = total2 / total1
        ok = abs(ratio - 1) <= NOISE and one[3] == two[3] == 0
        database = "" if one[1] is None else f" ({one[1]:.2f} → {two[1]:.2f} ms PostgreSQL's)"
        out.append(Row(
            "B10", f"{what[name]}: CPU per request, 2 instances against 1",
            f"2 x {half} workers, 2 x {CONNECTIONS // 2} connections: {total2:.2f} ms "
            f"({two[2]:,.0f} req/s)",
            f"1 x {workers} workers, {CONNECTIONS} connections: {total1:.2f} ms "
            f"({one[2]:,.0f} req/s)",
            f"{ratio:.2f}", f"within {NOISE:.0%} of 1", ok,
            f"{counted} CPU per request{database}; same total load, in turns; "
            f"non-2xx answers: {one[3]} and {two[3]}",
        ))  # fmt: skip
    alone = [w for run in locks["alone"] for w in run[0]]
    together = [w for run in locks["together"] for w in run[0]]
    statuses = {}
    for _, status in together:
        statuses[status] = statuses.get(status, 0) + 1
    fives = sum(n for status, n in statuses.items() if status >= 500)
    consistent = all(run[2] for kind in locks.values() for run in kind)

    def ms(found, q):
        times = sorted(t for t, _ in found)
        if q == 50:
            return statistics.median(times) * 1000
        return times[min(len(times) - 1, int(len(times) * q / 100))] * 1000

    ratio = ms(together, 50) / ms(alone, 50)
    answers = ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))
    # Work done again shows as CPU per move: a move that lost a race is run again (or refused).
    cpu_alone = sum(run[3] for run in locks["alone"]) * 1000 / len(alone)
    cpu_together = sum(run[3] for run in locks["together"]) * 1000 / len(together)
    out.append(Row(
        "B10", f"a move of {MOVED} accounts while the other instance moves the same ones",
        f"p50 {ms(together, 50):.0f} ms, p95 {ms(together, 95):.0f} ms",
        f"one manager alone: p50 {ms(alone, 50):.0f} ms, p95 {ms(alone, 95):.0f} ms",
        f"{ratio:.1f}x", "no 5xx, every account on one rep", fives == 0 and consistent,
        f"{len(together)} moves by two managers on two instances at once ({answers}); "
        f"{len(alone)} alone; {counted} CPU per move {cpu_together:.0f} ms at "
        f"once against {cpu_alone:.0f} ms alone",
    ))  # fmt: skip
    waited = sum(run[1] for run in locks["together"]) * 1000
    waited_alone = sum(run[1] for run in locks["alone"]) * 1000
    figure = f"{waited / len(together):.1f} ms per move ({waited:,.0f} ms in all)"
    baseline = f"alone: {waited_alone / max(1, len(alone)):.1f} ms per move"
    note = (f"connections waiting with wait_event_type 'Lock' in pg_stat_activity, looked at "
            f"every {SAMPLE * 1000:.0f} ms; of a move's p50 {ms(together, 50):.0f} ms")  # fmt: skip
    if not sampled:
        figure, baseline = "not sampled", "—"
        note = "SQLite: a writer waits for the file's lock inside the app, in the move's latency"
    out.append(Row(
        "B10", "time a move waits on the other instance's locks",
        figure, baseline, "—", "reported", None, note,
    ))  # fmt: skip
    return out
