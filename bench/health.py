"""B8: Team health (/reports/team?weeks=52) for 200 reps over 52 weeks with 1,000,000 call logs,
on SQLite and, given BENCH_POSTGRES (a URL), on PostgreSQL too, each in a database of its own.

Timed through the page (in process, the whole answer: six statements, the charts and tables)
against one aggregate SELECT over the same call logs (each rep's calls in the period, counted),
checked to count the calls the page counts. The statements are counted at 200 and at 100 reps.
The data goes in by executemany (SQLite) or COPY (PostgreSQL), no ORM.
"""

import contextlib
import os
import random
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

from tpweb.domain.health import team_health
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import User

from .database import bench_app, bench_database, describe, migrate
from .report import Row
from .team import Counter
from .timing import paired

# The size is 1,000,000 call logs (`python -m bench B8 --call-logs 1000000`): loading
# them took 5 minutes on SQLite on the shared 2-core machine (docs/benchmarks.md), so a whole
# `make bench` runs a fifth of them.
REPS, ACCOUNTS_PER_REP, CALL_LOGS, TASKS_PER_REP = 200, 100, 200_000, 100
WEEKS, TARGET, ZONE, PASSWORD = 52, 5.0, "America/Chicago", "bench-health-1"
TYPES = ("Phone", "Visit", "Video")
BASELINE = sa.text(
    "SELECT user_id, count(*) AS calls FROM call_logs "
    "WHERE called_on BETWEEN :start AND :today GROUP BY user_id"
)


def _rows(today, call_logs, seed=8):
    """Users, accounts, touchpoints, tasks and call logs as tuples, in column order below."""
    rng = random.Random(seed)
    created = datetime.combine(today - timedelta(days=400), datetime.min.time())
    users = [(1, "manager", "Manager", "manager", None)] + [
        (n, f"rep{n}", f"Rep {n:03d}", "rep", 1) for n in range(2, REPS + 2)
    ]
    accounts, touchpoints, tasks = [], [], []
    for rep in range(2, REPS + 2):
        for k in range(ACCOUNTS_PER_REP):
            account = len(accounts) + 1
            # One account in twenty has no rep, one in ten of the rest no touchpoint.
            owner = None if k % 20 == 19 else rep
            accounts.append((account, "customer", f"Customer {account}", owner, created))
            if k % 10 != 9:
                frequency = rng.choice((7, 14, 30, 60))
                last = today - timedelta(days=rng.randint(0, 3 * frequency))
                touchpoints.append((account, account, last, frequency,
                                    last + timedelta(days=frequency), created))  # fmt: skip
        for t in range(TASKS_PER_REP):
            done = today - timedelta(days=rng.randint(0, 400))
            due = done + timedelta(days=rng.randint(1, 14))
            answered = done + timedelta(days=rng.randint(0, 20)) if t % 3 else None
            tasks.append((len(tasks) + 1, rep, due, done, answered, created))
    logs = []
    for n in range(1, call_logs + 1):
        tp = touchpoints[rng.randrange(len(touchpoints))]
        rep = (tp[0] - 1) // ACCOUNTS_PER_REP + 2
        day = today - timedelta(days=rng.randint(0, 400))
        due = None if n % 20 == 0 else day + timedelta(days=rng.randint(-12, 6))
        logs.append((n, tp[0], tp[0], rep, rng.randint(1, 3), day, 15, "", created, due))
    return users, accounts, touchpoints, tasks, logs


COLUMNS = {
    "users": "id, username, name, role, manager_id",
    "accounts": "id, kind, name, sales_rep_id, created_at",
    "touchpoints": "id, account_id, last_call, frequency_days, next_call, created_at",
    "touchpoint_records": "id, assigned_to_id, date_due, date_completed, responded_on, created_at",
    "call_logs": "id, account_id, touchpoint_id, user_id, call_type_id, called_on, "
    "duration_minutes, notes, created_at, completed_next_call",
}
CONTACT_COLUMNS = "id, customer_id, name, title, email, phone, notes, active, created_at"
# What each table needs beyond its columns above, the same for every row.
FIXED = {
    "users": {"email": None, "timezone": ZONE, "password_hash": "", "active": True,
              "reminder_hour": 6, "reminder_digest": False, "session_version": 1,
              "created_at": datetime(2025, 1, 1), "day_starts": 480, "day_ends": 1020,
              "visit_minutes": 30},
    "accounts": {"address": "", "city": "", "phone": "", "notes": "", "active": True},
    "touchpoints": {"comment": "", "inactive": False, "version": 1,
                    "updated_at": datetime(2025, 1, 1)},
    "touchpoint_records": {"contact_id": 1, "author_id": 2, "description": "Call back",
                           "details": "", "response_required": True, "response_note": ""},
    "call_logs": {},
}  # fmt: skip


def load(engine, today, call_logs):
    """Fill the tables: executemany on SQLite, COPY on PostgreSQL. Returns seconds taken."""
    started = time.perf_counter()
    users, accounts, touchpoints, tasks, logs = _rows(today, call_logs)
    contact = [(1, 2, "Contact", "", "", "", "", True, datetime(2025, 1, 1))]
    types = [(n, name, n, True) for n, name in enumerate(TYPES, 1)]
    tables = [
        ("users", users), ("accounts", accounts),
        ("contacts", contact, CONTACT_COLUMNS),
        ("call_log_types", types, "id, name, position, active"),
        ("touchpoints", touchpoints), ("touchpoint_records", tasks), ("call_logs", logs),
    ]  # fmt: skip
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("SET statement_timeout = 0")  # the app's limit is for requests
        for table, rows, *columns in tables:
            fixed = FIXED.get(table, {})
            names = (columns[0] if columns else COLUMNS[table]).split(", ") + list(fixed)
            rows = [(*row, *fixed.values()) for row in rows]
            if engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(names))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                    [tuple(_sqlite(v) for v in row) for row in rows],
                )
        raw.commit()
        if engine.dialect.name == "postgresql":
            for table, *_ in tables:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")  # fmt: skip
            raw.commit()
            # VACUUM too, as autovacuum leaves a table at rest: the visibility map lets both
            # sides read the call logs from the covering index alone (B8 in docs/benchmarks.md).
            raw.driver_connection.autocommit = True
            try:
                cursor.execute("VACUUM ANALYZE")
            finally:
                raw.driver_connection.autocommit = False
        else:
            cursor.execute("ANALYZE")
            raw.commit()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # read from the file, as in use
    finally:
        raw.close()
    return time.perf_counter() - started


def _sqlite(value):
    """A value as SQLAlchemy stores it on SQLite (dates and times as ISO text)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@contextlib.contextmanager
def _database(url):
    """bench_database("health") on `url`'s kind of database (None: SQLite)."""
    saved = os.environ.get("DATABASE_URL")
    os.environ.pop("DATABASE_URL", None)
    if url:
        os.environ["DATABASE_URL"] = url
    try:
        with bench_database("health") as database_url:
            yield database_url
    finally:
        os.environ.pop("DATABASE_URL", None)
        if saved is not None:
            os.environ["DATABASE_URL"] = saved


def run(repeat, call_logs=CALL_LOGS, step=lambda message: None):
    urls = [None] + ([os.environ["BENCH_POSTGRES"]] if os.environ.get("BENCH_POSTGRES") else [])
    rows = []
    for url in urls:
        with _database(url) as database_url:
            rows += _run_one(database_url, repeat, call_logs, step)
    return rows


def _run_one(url, repeat, call_logs, step):
    # A year of a big team is a long read on a loaded machine: no statement timeout here.
    app = bench_app(url, TPWEB_TIMEZONE=ZONE, WTF_CSRF_ENABLED=False, TPWEB_DB_STATEMENT_TIMEOUT=0)
    migrate(app)
    name = describe(app)
    today = today_in(ZONE)
    with app.app_context():
        engine = db.engine
        step(f"B8: loading {call_logs:,} call logs on {name}")
        seconds = load(engine, today, call_logs)
        step(f"B8: loaded in {seconds:.0f} s")
        manager = db.session.get(User, 1)
        manager.set_password(PASSWORD)
        db.session.commit()
        report = team_health(manager, WEEKS)
        start = report.period.start
    client = app.test_client()
    client.post("/login", data={"username": "manager", "password": PASSWORD})
    counter = Counter(engine)

    def page():
        assert client.get(f"/reports/team?weeks={WEEKS}").status_code == 200

    def baseline():
        with engine.connect() as conn:
            return conn.execute(BASELINE, {"start": start, "today": today}).all()

    same = sum(n for _, n in baseline()) == report.team.calls
    timed = paired(page, baseline, repeat)
    statements = {REPS: counter.count(page)}
    half = list(range(REPS // 2 + 2, REPS + 2))
    _set_active(engine, half, False)
    statements[REPS - len(half)] = counter.count(page)
    _set_active(engine, half, True)
    ratio = timed.action / timed.baseline
    size = f"{REPS} reps, {WEEKS} weeks, {call_logs:,} call logs, {name}"
    note = f"{timed.runs_note}; {timed.cpu_note()}; data loaded in {seconds:.0f} s"
    if not same:
        note += "; CHECK FAILED: the baseline counts other calls than the page"
    figure = ", ".join(f"{n} at {reps} reps" for reps, n in sorted(statements.items()))
    return [
        Row("B8", f"/reports/team, {size}", f"{timed.action:.0f} ms"
            + ("" if same else " (check failed)"),
            f"one SELECT counting each rep's calls in the period: {timed.baseline:.0f} ms",
            f"{ratio:.1f}x", f"<= {TARGET:g}x the baseline", same and ratio <= TARGET, note),
        Row("B8", f"/reports/team: SQL statements ({name})", figure, "—", "—",
            "fixed whatever the size", len(set(statements.values())) == 1),
    ]  # fmt: skip


def _set_active(engine, ids, active):
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET active = :active WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids, "active": active},
        )
