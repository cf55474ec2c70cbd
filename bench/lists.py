"""B1: a rep's list fragment and My tasks served by gunicorn under load, rendered and then
revalidated (304), each against the same server answering a constant body of the same size.

Every request carries the same headers (the session cookie, HX-Request), baseline included, so
the baseline pays for the same HTTP, WSGI and session decoding; only the view's work differs.
Runs alternate baseline and app, round after round, so a drift in the machine hits both.
"""

import sqlalchemy as sa

from tpweb.extensions import db

from . import load
from .database import bench_app
from .report import Row

LIST = "/touchpoints?view=list"
TASKS = "/tasks"
HTMX = {"HX-Request": "true"}
PASSWORD = "tpweb-demo"
# A rep of the usual size (about 237 touchpoints, 100 open tasks), and the biggest (2,000).
REP, BIG_REP = "rep3", "rep1"
FIRST_RENDER_TARGET, REVALIDATION_TARGET = 0.2, 0.5


def query_counts(url):
    """SQL statements per request for the list, My tasks and a 304, at two sizes of rep."""
    app = bench_app(url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        engine = db.engine
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(1))
    counts = {}
    for username in (REP, BIG_REP):
        client = app.test_client()
        client.post("/login", data={"username": username, "password": PASSWORD})
        for name, path, headers in (("list", LIST, HTMX), ("tasks", TASKS, {})):
            statements.clear()
            response = client.get(path, headers=headers)
            rendered = len(statements)
            statements.clear()
            again = client.get(path, headers={**headers, "If-None-Match": response.headers["ETag"]})
            assert response.status_code == 200 and again.status_code == 304
            counts[name, username] = (rendered, len(statements))
    return counts


def run(url, seconds, rounds, connections, workers):
    counts = query_counts(url)
    with load.gunicorn(url, workers) as base:
        cookie = {"Cookie": load.sign_in(base, REP, PASSWORD)}
        pages = {}
        for name, path, headers in (("list", LIST, HTMX), ("tasks", TASKS, {})):
            headers = {**cookie, **headers}
            status, answer, body = load.request(base, path, headers)
            assert status == 200, (path, status)
            etag = answer["ETag"]
            revalidate = {**headers, "If-None-Match": etag}
            assert load.request(base, path, revalidate)[0] == 304
            pages[name] = {
                "app": (path, headers),
                "304": (path, revalidate),
                "constant": (f"/_bench/constant/{len(body)}", headers),
                "size": len(body),
            }
        rep_id = _rep_id(url, REP)
        pages["list"]["raw"] = (f"/_bench/raw-list/{rep_id}", {**cookie, **HTMX})
        runs = [(page, kind) for page in pages for kind in ("constant", "app", "304", "raw")
                if kind in pages[page]]  # fmt: skip
        for page, kind in runs:  # warm up: templates compiled, connections pooled
            load.load(base, *pages[page][kind], seconds=1, connections=connections)
        results = {run: [] for run in runs}
        for _ in range(rounds):
            for page, kind in runs:
                path, headers = pages[page][kind]
                result = load.load(base, path, headers, seconds, connections)
                assert result.bad_status == 0, (page, kind, result)
                results[page, kind].append(result)
    return _rows(results, pages, counts)


def _rep_id(url, username):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT id FROM users WHERE username = :u")
            return conn.execute(query, {"u": username}).scalar_one()
    finally:
        engine.dispose()


def _merged(results):
    """Several runs as one: all their requests over all their time, the worst p95."""
    requests = sum(r.requests for r in results)
    seconds = sum(r.seconds for r in results)
    return requests / seconds, max(r.p95_ms for r in results)


def _figure(results):
    rps, p95 = _merged(results)
    return f"{rps:,.0f} req/s, p95 {p95:.0f} ms"


def _rows(results, pages, counts):
    rows = []
    what = {"list": "rep's list fragment (50 rows)", "tasks": "/tasks (whole page)"}
    for page in ("list", "tasks"):
        baseline = results[page, "constant"]
        base_rps = _merged(baseline)[0]
        size = f"constant {pages[page]['size']:,} B: {_figure(baseline)}"
        for kind, target, label in (
            ("app", FIRST_RENDER_TARGET, "first render"),
            ("304", REVALIDATION_TARGET, "revalidated, 304"),
        ):
            ratio = _merged(results[page, kind])[0] / base_rps
            rows.append(Row("B1", f"{what[page]}, {label}", _figure(results[page, kind]), size,
                            f"{ratio:.2f}", f">= {target}", ratio >= target))  # fmt: skip
    ratio = _merged(results["list", "raw"])[0] / _merged(results["list", "constant"])[0]
    rows.append(Row("B1", "reference: hand-written raw SQL + f-strings, 50 rows",
                    _figure(results["list", "raw"]), "constant, as above", f"{ratio:.2f}",
                    "none", None, "what hand-written code reaches on this machine"))  # fmt: skip
    fixed = all(counts[p, REP] == counts[p, BIG_REP] for p in ("list", "tasks"))
    figure = "; ".join(
        f"{p} {counts[p, REP][0]} (304: {counts[p, REP][1]}) at {REP}, "
        f"{counts[p, BIG_REP][0]} (304: {counts[p, BIG_REP][1]}) at {BIG_REP}"
        for p in ("list", "tasks")
    )
    rows.append(Row("B1", "SQL statements per request", figure,
                    f"{REP}: ~237 touchpoints; {BIG_REP}: 2,000", "—",
                    "fixed whatever the rep's size", fixed))  # fmt: skip
    return rows
