"""The benchmarks' data: the demo seed scaled up to 200 reps, 50,000 touchpoints and 20,000 open
tasks, written with bulk INSERTs of plain rows (COPY on PostgreSQL; the ORM would take minutes,
row by row).

Names, places and comments come from the demo seed (tpweb.domain.demo), so pages look as in
the demo.
Two reps are bigger on purpose: rep1 holds 2,000 accounts (the map, B2) and rep2 1,000 (the bulk
reassignment, B5); the other 198 share the rest, about 237 each (the lists, B1: rep3).
"""

import itertools
import json
import random
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from tpweb.domain import demo, history
from tpweb.domain.schedule import next_call, today_in
from tpweb.extensions import db
from tpweb.models import Account, Contact, History, Touchpoint, TouchpointRecord, User

REPS = 200
MANAGERS = 10
TOUCHPOINTS = 50_000
OPEN_TASKS = 20_000
# Answered tasks and records that need no response: the task queries must skip them.
CLOSED_RECORDS = 10_000
MAP_REP_ACCOUNTS = 2_000
REASSIGN_REP_ACCOUNTS = 1_000
# A year of use leaves a few History rows per account; the lists' ETag counts them.
HISTORY_PER_ACCOUNT = 4
BATCH = 5_000


def _spread(total, among):
    rest, extra = divmod(total, among)
    return [rest + (i < extra) for i in range(among)]


def rep_sizes(reps=REPS, touchpoints=TOUCHPOINTS):
    """How many accounts (each with one active touchpoint) each rep holds, rep1 first.

    rep1, rep2 and rep3 hold the same at any size: 2,000, 1,000 and rep3's share at 200 reps and
    50,000 touchpoints (238); the other reps share the rest."""
    big = [MAP_REP_ACCOUNTS, REASSIGN_REP_ACCOUNTS]
    usual = _spread(TOUCHPOINTS - sum(big), REPS - len(big))[0]
    fixed = [*big, usual]
    return fixed + _spread(touchpoints - sum(fixed), reps - len(fixed))


def build(today=None, scale=1):
    """Fill the empty, migrated database of the app in context with `scale` times the usual
    data; return what was written."""
    reps, touchpoints, open_tasks = REPS * scale, TOUCHPOINTS * scale, OPEN_TASKS * scale
    rng = random.Random(2026)
    today = today or today_in(demo.TIMEZONE)
    created = datetime.combine(today - timedelta(days=365), time(14))
    users, rep_ids = _users(reps, created, MANAGERS * scale)
    accounts, customers_of = _accounts(rng, rep_ids, rep_sizes(reps, touchpoints), created)
    touchpoint_rows = _touchpoints(rng, today, accounts)
    contacts, contacts_of = _contacts(rng, customers_of, created)
    records = _records(rng, today, rep_ids, contacts_of, open_tasks, CLOSED_RECORDS * scale)
    history = _history(accounts, touchpoint_rows, created)
    for model, rows in (
        (User, users),
        (Account, accounts),
        (Touchpoint, touchpoint_rows),
        (Contact, contacts),
        (TouchpointRecord, records),
        (History, history),
    ):
        copy(model, rows)
    _advance_sequences()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Autovacuum would analyze the new tables shortly; the benchmarks should not race it.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("SET statement_timeout = 0"))
            conn.execute(sa.text("ANALYZE"))
    return {
        "users": len(users),
        "reps": len(rep_ids),
        "accounts": len(accounts),
        "touchpoints": len(touchpoint_rows),
        "contacts": len(contacts),
        "open_tasks": sum(1 for r in records if r["response_required"] and not r["responded_on"]),
        "history": len(history),
        "today": today,
    }


def copy(model, rows):
    """`insert`, by COPY on PostgreSQL (ten times the data in two minutes, not ten). Every row
    has every column the table has no server default for: COPY applies none of the model's."""
    if not rows or db.engine.dialect.name != "postgresql":
        return insert(model, rows)
    # Raw rows: no History is recorded for them, as none is for `insert`'s marked statements.
    names = list(rows[0])
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("SET LOCAL statement_timeout = 0")  # the app's limit is for requests
    with cursor.copy(f"COPY {model.__tablename__} ({', '.join(names)}) FROM STDIN") as stream:
        for row in rows:
            stream.write_row([row[name] for name in names])


def insert(model, rows):
    """Many rows in a few executemany batches, straight to the table."""
    table = model.__table__
    for start in range(0, len(rows), BATCH):
        # The History rows are among the rows written here, so each statement is marked recorded.
        statement = sa.insert(table).execution_options(**{history.HOW: history.RECORDED})
        db.session.execute(statement, rows[start : start + BATCH])


def _advance_sequences():
    # Rows were written with their ids; PostgreSQL's sequences must start after them.
    if db.engine.dialect.name != "postgresql":
        return
    for model in (User, Account, Touchpoint, Contact, TouchpointRecord, History):
        table = model.__tablename__
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )


def _users(reps, created, managers=MANAGERS):
    hashed = User(password_hash="")
    # Hashing is slow on purpose: hash once, share it (as the demo seed does).
    hashed.set_password("tpweb-demo")
    people = [("admin", demo.MANAGER_NAMES[0], "admin", None)]
    people += [(f"manager{i}", f"Manager {i}", "manager", None) for i in range(1, managers + 1)]
    per_manager = -(-reps // managers)
    people += [
        (f"rep{i}", f"{demo.FIRST_NAMES[i % 30]} {demo.LAST_NAMES[i % 26]} {i}", "rep",
         2 + (i - 1) // per_manager)
        for i in range(1, reps + 1)
    ]  # fmt: skip
    rows = [
        {
            "id": n,
            "username": username,
            "email": f"{username}@example.com",
            "name": name,
            "role": role,
            "timezone": demo.TIMEZONE,
            "password_hash": hashed.password_hash,
            "active": True,
            "manager_id": manager_id,
            "reminder_hour": 6,
            "reminder_digest": False,
            "session_version": 1,
            "created_at": created,
        }
        for n, (username, name, role, manager_id) in enumerate(people, 1)
    ]
    return rows, [row["id"] for row in rows if row["role"] == "rep"]


def _accounts(rng, rep_ids, sizes, created):
    """Each rep's accounts: two customers for every jobsite, a jobsite under one of them."""
    rows, customers_of = [], {}
    ids = itertools.count(1)
    for rep_id, size in zip(rep_ids, sizes, strict=True):
        customers_of[rep_id] = []
        for i in range(size):
            city, lat, lon = demo._place(rng)
            street = rng.choice(demo.STREETS)
            row = {
                "id": next(ids),
                "kind": "customer",
                "customer_id": None,
                "external_id": None,
                "name": "",
                "address": f"{rng.randint(100, 9899)} {rng.choice('NSEW')} {street}",
                "city": city,
                "phone": demo._phone(rng),
                "notes": rng.choice(demo.CUSTOMER_NOTES),
                "latitude": lat,
                "longitude": lon,
                "sales_rep_id": rep_id,
                "active": True,
                "created_at": created,
            }
            if i % 3 == 2:
                customer = rng.choice(customers_of[rep_id])
                row.update(
                    kind="jobsite",
                    customer_id=customer["id"],
                    external_id=f"J{row['id']:06d}",
                    name=f"{customer['name']} — {street} site",
                    notes=rng.choice(demo.JOBSITE_NOTES),
                )
            else:
                name = f"{rng.choice(demo.NAME_WORDS)} {rng.choice(demo.TRADES)}"
                row.update(external_id=f"C{row['id']:06d}", name=f"{name} {row['id']}")
                customers_of[rep_id].append(row)
            rows.append(row)
    return rows, customers_of


def _touchpoints(rng, today, accounts):
    """One active touchpoint per account, due as in the demo: some overdue, some today."""
    rows = []
    for n, account in enumerate(accounts, 1):
        frequency = rng.choice(demo.FREQUENCIES)
        roll = rng.random()
        if roll < 0.15:
            ahead = -rng.randint(1, 40)
        elif roll < 0.23:
            ahead = 0
        else:
            ahead = rng.randint(1, min(90, frequency - 1))
        last = today + timedelta(days=ahead - frequency)
        stamp = datetime.combine(last, time(17))
        rows.append(
            {
                "id": n,
                "account_id": account["id"],
                "last_call": last,
                "frequency_days": frequency,
                "next_call": next_call(last, frequency),
                "comment": demo._comment(rng) if rng.random() < 0.33 else "",
                "inactive": False,
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return rows


def _contacts(rng, customers_of, created):
    rows, contacts_of = [], {}
    ids = itertools.count(1)
    for rep_id, customers in customers_of.items():
        contacts_of[rep_id] = []
        for customer in customers:
            for _ in range(rng.randint(1, 2)):
                first, last = rng.choice(demo.FIRST_NAMES), rng.choice(demo.LAST_NAMES)
                row = {
                    "id": next(ids),
                    "customer_id": customer["id"],
                    "external_id": None,
                    "name": f"{first} {last}",
                    "title": rng.choice(demo.TITLES),
                    "email": f"{first.lower()}@example.com",
                    "phone": demo._phone(rng),
                    "notes": "",
                    "active": True,
                    "created_at": created,
                }
                rows.append(row)
                contacts_of[rep_id].append(row["id"])
    return rows, contacts_of


def _records(rng, today, rep_ids, contacts_of, open_tasks, closed=CLOSED_RECORDS):
    """`open_tasks` open tasks spread evenly over the reps, and `closed` closed records."""
    rows = []
    per_rep = open_tasks // len(rep_ids)
    closed_per_rep = closed // len(rep_ids)
    for rep_id in rep_ids:
        for n in range(per_rep + closed_per_rep):
            description, details = rng.choice(demo.RECORD_TOPICS)
            due = today + timedelta(days=rng.randint(-10, 20))
            done = min(due - timedelta(days=rng.randint(2, 14)), today - timedelta(days=1))
            is_open = n < per_rep
            answered = not is_open and n % 2 == 0
            rows.append(
                {
                    "id": len(rows) + 1,
                    "contact_id": rng.choice(contacts_of[rep_id]),
                    "author_id": rep_id,
                    "assigned_to_id": rep_id,
                    "description": description,
                    "details": details,
                    "response_required": is_open or answered,
                    "date_due": due if is_open or answered else None,
                    "date_completed": done,
                    "responded_on": today - timedelta(days=1) if answered else None,
                    "response_note": rng.choice(demo.RESPONSES) if answered else "",
                    "responded_by_id": rep_id if answered else None,
                    "created_at": datetime.combine(done, time(15)),
                }
            )
    return rows


def _history(accounts, touchpoints, created):
    """What a year of use leaves: each account created, its touchpoint created and completed."""
    rows = []
    completed = json.dumps({"last_call": [None, None]})
    for account, touchpoint in zip(accounts, touchpoints, strict=True):
        base = {"account_id": account["id"], "user_id": account["sales_rep_id"], "at": created}
        rows.append({**base, "subject": "account", "subject_id": account["id"],
                     "action": "created", "changes": "{}"})  # fmt: skip
        for _ in range(HISTORY_PER_ACCOUNT - 1):
            rows.append({**base, "subject": "touchpoint", "subject_id": touchpoint["id"],
                         "action": "updated", "changes": completed})  # fmt: skip
    for n, row in enumerate(rows, 1):
        row["id"] = n
    return rows
