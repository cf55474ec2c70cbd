"""B3's CPU per item taken apart: `python -m bench.sweep_parts [users]` (SQLite, in process).

What a reminder costs on top of smtplib sending a pre-built message, one part added at a time,
each step in the same process, on the same SMTP server, two rounds in turns:

    A  smtplib, pre-built messages (B3's baseline)
    B  the app's Mailer sending messages composed beforehand
    C  the Mailer composing and sending each one
    D  C, and each ledger row marked sent and committed before the next message (the product)
    E  C, and the rows marked sent but committed once per 100 messages (not exactly-once)
    F  the whole sweep, 1 process (planning, claims and all)
"""

import os
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from tpweb.domain import demo
from tpweb.domain.reminders import load_reminders
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.jobs.delivery import ITEM_COLUMNS, MARK_ONE_SENT, Row, SweepSettings, _claim, _recipients
from tpweb.jobs.delivery import prepare as plan
from tpweb.jobs.mail import Mailer
from tpweb.jobs.sweep import run_sweep
from tpweb.models import User

from . import sweep
from .database import bench_app, bench_database, migrate


def cpu_ms(action, items):
    """The CPU (user and system) of this process per item, in ms."""
    start = os.times()
    action()
    end = os.times()
    return (end.user - start.user + end.system - start.system) / items * 1000


def main(users=30, per_user=100):
    with bench_database("parts") as url:
        app = bench_app(url)
        migrate(app)
        day = today_in(demo.TIMEZONE)
        with app.app_context():
            items = sweep.build(users, per_user, day)
        with sweep.SmtpServer() as server:
            prebuilt = sweep.prebuilt(url, server.port, day)
            app = bench_app(url, MAIL_BACKEND="smtp", MAIL_SERVER=sweep.HOST, MAIL_PORT=server.port)
            with app.app_context():
                _parts(day, items, server, prebuilt)


def _parts(day, items, server, prebuilt):
    now, settings = datetime.now(UTC), SweepSettings()
    plan(db.session, now, settings, day)
    rows = db.session.execute(sa.select(*ITEM_COLUMNS).order_by(Row.user_id, Row.id)).all()
    reminders = load_reminders(db.session, rows, day)
    users = {user.id: user for user in _recipients(db.session, User.id > 0)}
    db.session.commit()

    def compose(mailer, row):
        return mailer.compose(users[row.user_id], [reminders[row.id]], day, f"reminder-{row.id}")

    def pre_composed():
        with Mailer() as mailer:
            messages = [compose(mailer, row) for row in rows]
            return cpu_ms(lambda: [mailer.send(message) for message in messages], items)

    def composed():
        with Mailer() as mailer:
            return cpu_ms(lambda: [mailer.send(compose(mailer, row)) for row in rows], items)

    def marked(every):
        _claim(db.session, [row.id for row in rows], "bench", now, settings)
        sent = {"token": "bench", "when": datetime(2026, 1, 1), "today": day}

        def send_and_mark():
            with Mailer() as mailer, db.engine.connect() as marks:
                for n, row in enumerate(rows, 1):
                    mailer.send(compose(mailer, row))
                    marks.execute(MARK_ONE_SENT, {**sent, "row_id": row.id})
                    if n % every == 0:
                        marks.commit()
                marks.commit()

        took = cpu_ms(send_and_mark, items)
        db.session.execute(
            sa.update(Row).where(Row.item_kind != "day").values(status="pending", claim_token=None)
        )
        db.session.commit()
        return took

    parts = {
        "A smtplib, pre-built": lambda: cpu_ms(
            lambda: sweep.baseline(server.port, prebuilt, items, 1), items
        ),
        "B Mailer.send, pre-composed": pre_composed,
        "C Mailer, composed and sent": composed,
        "D C + marked sent, a commit per message": lambda: marked(1),
        "E C + marked sent, a commit per 100": lambda: marked(100),
    }
    for round_ in range(2):
        for name, part in parts.items():
            print(f"round {round_ + 1}  {name}: {part():.3f} ms CPU per item", flush=True)
    db.session.execute(sa.delete(Row))
    db.session.commit()
    whole = cpu_ms(lambda: run_sweep(day=day, workers=1), items)
    print(f"         F the whole sweep, 1 process: {whole:.3f} ms CPU per item", flush=True)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:2]))
