"""B5: the /reps overview of every rep (200) and of a manager's own team (20: what /reps shows
a manager first), and a bulk reassignment of 1,000 accounts, each timed in the app (through its
views, in process) against one SELECT of the same rows on the same engine.

"The same rows": for an overview, one hand-written SELECT answering the same rows with the same
five counts (a GROUP BY over accounts, touchpoints and tasks), checked equal to the app's;
for the reassignment, one SELECT of the 1,000 account rows it moves, checked to be the rows the
move gave the other rep and gave back. A check that fails fails its row ("check failed", NO).
Each side is warmed up once and timed as many times as the other, in turns.
"""

import urllib.parse
from datetime import timedelta

import sqlalchemy as sa

from tpweb.domain.schedule import today_in
from tpweb.domain.team import team_overview
from tpweb.extensions import db

from .database import bench_app
from .report import Row
from .timing import paired

MANAGER, FROM_REP, TO_REP = "manager1", "rep2", "rep4"
PASSWORD = "tpweb-demo"
TARGET = 5.0

# The overview's hand-written SELECT; {team} narrows each part to the reps of :manager.
OVERVIEW = """
    SELECT u.id, coalesce(t.overdue, 0), coalesce(t.due_today, 0), coalesce(t.next_7_days, 0),
           coalesce(r.open_tasks, 0), coalesce(t.unassigned, 0)
    FROM users u
    LEFT JOIN (
        SELECT a.sales_rep_id AS rep_id,
               sum(CASE WHEN tp.next_call < :today THEN 1 ELSE 0 END) AS overdue,
               sum(CASE WHEN tp.next_call = :today THEN 1 ELSE 0 END) AS due_today,
               sum(CASE WHEN tp.next_call > :today AND tp.next_call <= :week
                   THEN 1 ELSE 0 END) AS next_7_days,
               sum(CASE WHEN tp.id IS NULL THEN 1 ELSE 0 END) AS unassigned
        FROM accounts a
        LEFT JOIN touchpoints tp ON tp.account_id = a.id AND NOT tp.inactive
        WHERE a.active {team_accounts}
        GROUP BY a.sales_rep_id
    ) t ON t.rep_id = u.id
    LEFT JOIN (
        SELECT assigned_to_id AS rep_id, count(*) AS open_tasks
        FROM touchpoint_records
        WHERE response_required AND responded_on IS NULL {team_tasks}
        GROUP BY assigned_to_id
    ) r ON r.rep_id = u.id
    WHERE u.role = 'rep' AND u.active {team_reps}
"""
TEAM = "SELECT id FROM users WHERE manager_id = :manager"
OVERVIEWS = {
    "overview": sa.text(OVERVIEW.format(team_accounts="", team_tasks="", team_reps="")),
    "team": sa.text(
        OVERVIEW.format(
            team_accounts=f"AND a.sales_rep_id IN ({TEAM})",
            team_tasks=f"AND assigned_to_id IN ({TEAM})",
            team_reps="AND u.manager_id = :manager",
        )
    ),
}
ACCOUNTS = sa.text("SELECT * FROM accounts WHERE id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True)
)


class Counter:
    """The SQL statements sent on an engine while `counting` is on."""

    def __init__(self, engine):
        self.statements = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.statements += 1

    def count(self, action):
        self.statements = 0
        action()
        return self.statements


def run(url, repeat, server_cpu=None, timings=None):
    """B5's rows; `server_cpu` as for bench.timing.paired; `timings`, a dict, gets each timed
    figure's Paired ("overview", "reassign")."""
    timings = {} if timings is None else timings
    app = bench_app(url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        engine = db.engine
        ids = dict(db.session.execute(sa.text("SELECT username, id FROM users")).all())
        accounts = db.session.scalars(
            sa.text("SELECT id FROM accounts WHERE sales_rep_id = :rep ORDER BY id"),
            {"rep": ids[FROM_REP]},
        ).all()
        today = today_in(app.config["TPWEB_TIMEZONE"])
        app_rows = {
            name: sorted((rep.id, *counts.values()) for rep, counts in found)
            for name, found in (
                ("overview", team_overview(today)),
                ("team", team_overview(today, manager_id=ids[MANAGER])),
            )
        }
    counter = Counter(engine)
    client = app.test_client()
    client.post("/login", data={"username": MANAGER, "password": PASSWORD})
    params = {"today": today, "week": today + timedelta(days=7), "manager": ids[MANAGER]}
    overviews = [
        # Every rep, as a director sees them; a manager's own team, as /reps opens for them.
        _overview(name, path, client, counter, engine, params, app_rows[name], repeat,
                  server_cpu, timings)
        for name, path in (("overview", "/reps?manager=all"), ("team", "/reps"))
    ]  # fmt: skip
    return [*overviews[0], *overviews[1]] + (
        _reassign(client, counter, engine, ids, accounts, repeat, server_cpu, timings)
    )


def _overview(name, path, client, counter, engine, params, app_rows, repeat, server_cpu, timings):
    def page():
        assert client.get(path).status_code == 200

    def baseline():
        with engine.connect() as conn:
            return conn.execute(OVERVIEWS[name], params).all()

    same = sorted(tuple(row) for row in baseline()) == app_rows
    same = same and client.get(path).text.count('id="rep-') == len(app_rows)
    timed = timings[name] = paired(page, baseline, repeat, server_cpu=server_cpu)
    figure, base = timed.action, timed.baseline
    statements = {len(app_rows): counter.count(page)}
    with engine.begin() as conn:  # half the team leaves, for a second size
        half = [row[0] for row in app_rows[len(app_rows) // 2 :]]
        conn.execute(sa.text("UPDATE users SET active = false WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)), {"ids": half})  # fmt: skip
    statements[len(app_rows) - len(half)] = counter.count(page)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET active = true WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)), {"ids": half})  # fmt: skip
    note = f"{timed.runs_note}; {timed.cpu_note()}"
    if not same:
        # The baseline answers other rows than the page: the ratio compares nothing. The row fails.
        note += "; CHECK FAILED: the hand-written SELECT's counts differ from the page's"
    what = {"overview": "/reps?manager=all, every rep", "team": "/reps, the manager's own team"}
    return [
        _timed_row(f"{what[name]}, at {len(app_rows)} reps", figure, base,
                   f"one SELECT of the same {len(app_rows)} rows with their counts", note,
                   checked=same),
        _statements_row(what[name], statements, "reps"),
    ]  # fmt: skip


def _reassign(client, counter, engine, ids, accounts, repeat, server_cpu, timings):
    def move(from_rep, to_rep, chosen):
        # Encoded once: the time is the server's, not the test client's building of the form.
        form = urllib.parse.urlencode(
            {"account_ids": [str(i) for i in chosen], "to_rep_id": ids[to_rep]}, doseq=True
        )

        def post():
            response = client.post(
                f"/reps/{ids[from_rep]}/reassign",
                data=form,
                content_type="application/x-www-form-urlencoded",
            )
            assert response.status_code == 303, response.status_code
            with client.session_transaction() as session:
                session.pop("_flashes", None)  # a manager would read them on the next page

        return post

    there, back = move(FROM_REP, TO_REP, accounts), move(TO_REP, FROM_REP, accounts)

    def there_and_back():
        there()
        back()

    def baseline():
        with engine.connect() as conn:
            return conn.execute(ACCOUNTS, {"ids": accounts}).all()

    # The check: the baseline reads the rows the move moves, and the move moves them all.
    moved = _owners(engine, accounts) == {ids[FROM_REP]}
    there()
    moved = moved and _owners(engine, accounts) == {ids[TO_REP]}
    moved = moved and len(baseline()) == len(accounts)
    back()
    moved = moved and _owners(engine, accounts) == {ids[FROM_REP]}
    # Warms up both first; the figure is one move of the two.
    timed = timings["reassign"] = paired(there_and_back, baseline, repeat, server_cpu=server_cpu)
    timed.action /= 2
    timed.action_cpu /= 2
    if timed.action_server_cpu is not None:
        timed.action_server_cpu /= 2
    figure, base = timed.action, timed.baseline
    few = accounts[:10]
    statements = {len(few): counter.count(move(FROM_REP, TO_REP, few))}
    move(TO_REP, FROM_REP, few)()
    statements[len(accounts)] = counter.count(there)
    back()
    note = f"{timed.runs_note}; {timed.cpu_note()}"
    if not moved:
        note += "; CHECK FAILED: the move did not leave every account with the rep it names"
    return [
        _timed_row(f"reassign {len(accounts):,} accounts", figure, base,
                   f"one SELECT of the same {len(accounts):,} account rows", note, checked=moved),
        _statements_row("reassign", statements, "accounts"),
    ]  # fmt: skip


def _owners(engine, accounts):
    """The set of reps the accounts `accounts` belong to, as stored."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT DISTINCT sales_rep_id FROM accounts WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": accounts},
        )
        return {rep for (rep,) in rows}


def _timed_row(what, figure, base, baseline, note="", checked=True):
    """A timed row; one whose check failed says so in its figure and is not met."""
    ratio = figure / base
    shown = f"{figure:.1f} ms" + ("" if checked else " (check failed)")
    return Row("B5", what, shown, f"{baseline}: {base:.1f} ms", f"{ratio:.1f}x",
               f"<= {TARGET:g}x the baseline", checked and ratio <= TARGET, note)  # fmt: skip


def _statements_row(what, statements, unit):
    figure = ", ".join(f"{n} at {size:,} {unit}" for size, n in sorted(statements.items()))
    return Row("B5", f"{what}: SQL statements", figure, "—", "—",
               "fixed whatever the size", len(set(statements.values())) == 1)  # fmt: skip
