"""Performance properties the benchmarks rely on, pinned in the normal suite (docs/benchmarks.md).

Statement counts that must not grow with the data, and memory ceilings for the two big builders:
the map of thousands of touchpoints and the reminder sweep. (The list and My tasks at two sizes
are in test_touchpoints.py and test_tasks.py, their 304 path in test_caching.py, a reassignment
of 10 and 1,000 accounts in test_reps.py.)
"""

import os
import tracemalloc
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text

from tpweb.extensions import db
from tpweb.jobs.delivery import sweep
from tpweb.jobs.mail import Mailer
from tpweb.models import Account, Contact, ReminderDelivery, Touchpoint, TouchpointRecord, User

from .factories import PASSWORD_HASH, TEST_DATA


def add_reps(n, today, accounts_each=3, start=0):
    """`n` reps, each with accounts, overdue and upcoming touchpoints and an open task."""
    users = db.session.scalars(
        insert(User).returning(User.id),
        [
            {
                "username": f"perf{start + i}",
                "name": f"Perf Rep {start + i}",
                "role": "rep",
                "timezone": "America/Chicago",
                "password_hash": PASSWORD_HASH,
                "email": f"perf{start + i}@example.com",
            }
            for i in range(n)
        ],
    ).all()
    for user_id in users:
        accounts = db.session.scalars(
            insert(Account).execution_options(**TEST_DATA).returning(Account.id),
            [
                {
                    "kind": "customer",
                    "name": f"Co {user_id}-{i}",
                    "sales_rep_id": user_id,
                    "latitude": 41.8,
                    "longitude": -87.7,
                }
                for i in range(accounts_each)
            ],
        ).all()
        # Next calls in 14 and 4 days, then overdue: every count of the overview has some.
        db.session.execute(
            insert(Touchpoint).execution_options(**TEST_DATA),
            [
                {
                    "account_id": a,
                    "last_call": today - timedelta(days=10 * i),
                    "frequency_days": 14,
                    "next_call": today + timedelta(days=14 - 10 * i),
                }
                for i, a in enumerate(accounts)
            ],
        )
        contact = db.session.scalar(
            insert(Contact).execution_options(**TEST_DATA).returning(Contact.id),
            [{"customer_id": accounts[0], "name": "C"}],
        )
        db.session.execute(
            insert(TouchpointRecord).execution_options(**TEST_DATA),
            [
                {
                    "contact_id": contact,
                    "author_id": user_id,
                    "assigned_to_id": user_id,
                    "description": "Call back",
                    "response_required": True,
                    "date_due": today,
                    "date_completed": today,
                }
            ],
        )
    db.session.commit()
    return users


def test_reps_overview_runs_the_same_statements_at_5_and_50_reps(
    client, manager, today, count_queries
):
    def statements():
        db.session.expire_all()  # as in a real request, nothing is loaded yet
        count_queries.clear()
        page = client.get("/reps")
        assert page.status_code == 200
        return len(count_queries), page.text.count('id="rep-')

    add_reps(5, today)
    small = statements()
    add_reps(45, today, start=5)
    large = statements()

    assert (small[1], large[1]) == (5, 50)
    assert small[0] == large[0]


def test_a_reps_map_runs_the_same_statements_at_10_and_500_touchpoints(
    client, make, auth, today, count_queries
):
    [rep_id] = add_reps(1, today, accounts_each=10)
    auth.login(db.session.get(User, rep_id))

    def statements():
        db.session.expire_all()
        count_queries.clear()
        assert client.get("/touchpoints?view=map").status_code == 200
        frame = client.get("/touchpoints/map-frame")
        assert frame.status_code == 200
        return len(count_queries)

    small = statements()
    db.session.execute(
        insert(Account).execution_options(**TEST_DATA),
        [
            {
                "kind": "customer",
                "name": f"More {i}",
                "sales_rep_id": rep_id,
                "latitude": 41.9,
                "longitude": -87.6,
            }
            for i in range(490)
        ],
    )
    more = db.session.scalars(select(Account.id).where(Account.name.like("More %"))).all()
    db.session.execute(
        insert(Touchpoint).execution_options(**TEST_DATA),
        [
            {
                "account_id": a,
                "last_call": today,
                "frequency_days": 30,
                "next_call": today + timedelta(days=30),
            }
            for a in more
        ],
    )
    db.session.commit()
    assert statements() == small


def test_building_the_map_of_2000_touchpoints_stays_under_10_mb(app, today):
    from tpweb.domain.markers import marker_row
    from tpweb.web.touchpoints.map import build_map

    class Row:
        def __init__(self, i):
            self.latitude, self.longitude = 41.5 + (i % 97) / 100, -88.4 + (i // 97) / 30
            self.id = self.account_id = i
            self.next_call, self.last_call = today + timedelta(days=i % 40), today
            self.name, self.customer_name = f"Prairie Ridge Plumbing {i:04d} LLC", ""
            self.comment = "Spouse Rosa; kids Dan and Amy. Cubs fan." * (i % 3 == 0)
            self.rep_name = "Rita Rep"
            # The popup's one-tap links: a phone, an email, directions to the pin.
            self.account_phone, self.contact_phone = "(312) 555-0100", ""
            self.contact_email = f"office{i}@prairie-ridge.example"
            self.account_address, self.account_city = f"{i} Prairie Ridge Rd", "Joliet"

    rows = [Row(i) for i in range(2000)]
    with app.test_request_context("/touchpoints/map-frame"):
        tracemalloc.start()
        try:
            markers = [marker_row(row, today) for row in rows]
            document = build_map(markers, [[41.5, -88.4], [42.5, -87.7]], None, today, False)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert len(document) < 400_000
    # About 2.5 MB here: the rows go in the document once, as JSON; one folium.Marker and Popup
    # per touchpoint takes 25 MB.
    assert peak < 10 * 2**20, f"{peak / 2**20:.1f} MB"


class Discard:
    """A mail connection that takes every message and keeps none."""

    def open(self):
        return False

    def close(self):
        pass

    def send_messages(self, messages):
        return len(messages)


def test_a_sweep_of_300_items_stays_under_4_mb_and_sends_each_once(app):
    day = date(2026, 12, 1)
    users = db.session.scalars(
        insert(User).returning(User.id),
        [
            {
                "username": f"sweep{i}",
                "name": f"Sweeper {i}",
                "role": "rep",
                "timezone": "America/Chicago",
                "password_hash": PASSWORD_HASH,
                "email": f"sweep{i}@example.com",
            }
            for i in range(5)
        ],
    ).all()
    for user_id in users:
        accounts = db.session.scalars(
            insert(Account).execution_options(**TEST_DATA).returning(Account.id),
            [
                {"kind": "customer", "name": f"Co {user_id}-{i}", "sales_rep_id": user_id}
                for i in range(60)
            ],
        ).all()
        db.session.execute(
            insert(Touchpoint).execution_options(**TEST_DATA),
            [
                {
                    "account_id": a,
                    "last_call": day - timedelta(days=30),
                    "frequency_days": 30,
                    "next_call": day,
                }
                for a in accounts
            ],
        )
    db.session.commit()
    now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # noon in Chicago: everyone's day has come

    tracemalloc.start()
    try:
        report = sweep(db.session, Mailer(Discard()), now=now, day=day)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert report.items_sent == len(report.sent) == 300
    sent = select(func.count()).where(ReminderDelivery.status == "sent")
    assert db.session.scalar(sent) == 300
    # About 1 MB here: each user's rows are read, sent and let go before the next user's.
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MB"


@pytest.mark.skipif(
    not os.environ.get("TPWEB_TEST_POSTGRES"), reason="needs PostgreSQL (the PostgreSQL pass)"
)
def test_postgres_plans_the_lists_with_index_lookups(app):
    """The app's connections cost a random read at 1.1 (extensions.py): with PostgreSQL's 4, a
    rep's list read every touchpoint of the team instead of looking up the rep's (B1, B2)."""
    assert db.session.execute(text("SHOW random_page_cost")).scalar() == "1.1"
