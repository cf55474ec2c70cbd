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
    return _rows(*measure(url, seconds, rounds, connections, workers))


def measure(url, seconds, rounds, connections, workers):
    """B1's runs: ({(page, kind): [Result, ...]}, the pages asked for, the statement counts)."""
    counts = query_counts(url)
    with load.gunicorn(url, workers) as server:
        base = server.base
        cookie = {"Cookie": load.sign_in(base, REP, PASSWORD)}
        pages = {}
        for name, path, headers in (("list", LIST, HTMX), ("tasks", TASKS, {})):
            headers = load.settled(base, path, {**cookie, **headers})
            status, answer, body = load.request(base, path, headers)
            assert status == 200, (path, status)
            revalidate = {**headers, "If-None-Match": answer["ETag"]}
            assert load.request(base, path, revalidate)[0] == 304, "no revalidation"
            pages[name] = {
                "constant": (f"/_bench/constant/{len(body)}", headers),
                "app": (path, headers),
                "304": (path, revalidate),
                "size": len(body),
            }
        pages["list"]["raw"] = ("/_bench/raw-list", pages["list"]["app"][1])
        # Bytes on the wire: the list as a browser asks for it (Brotli or gzip, Flask-Compress).
        packed = {**pages["list"]["app"][1], "Accept-Encoding": "br, gzip"}
        status, answer, body = load.request(base, LIST, packed)
        assert status == 200, (LIST, status)
        pages["list"]["wire"] = (len(body), answer["Content-Encoding"])
        runs = [(page, kind) for page in pages for kind in ("constant", "app", "304", "raw")
                if kind in pages[page]]  # fmt: skip
        for page, kind in runs:  # warm up: templates compiled, connections pooled
            load.load(base, *pages[page][kind], seconds=1, connections=connections)
        results = {run: [] for run in runs}
        # Round after round, each figure's runs sit beside its baseline's: a machine that slows
        # down for a while slows both.
        for _ in range(rounds):
            for page, kind in runs:
                path, headers = pages[page][kind]
                for _ in range(2):
                    if kind == "304":
                        # The ETag of now: it changes with the quarter hour (tpweb.web.caching), as
                        # a phone's does, and a stale one would measure first renders.
                        headers = {**headers, "If-None-Match": _etag(base, pages[page]["app"])}
                    cpu, db_cpu = server.cpu_seconds(), server.db_cpu_seconds()
                    result = load.load(base, path, headers, seconds, connections)
                    if cpu is not None:
                        result.cpu_seconds = server.cpu_seconds() - cpu
                    if db_cpu is not None:
                        result.db_cpu_seconds = server.db_cpu_seconds() - db_cpu
                    if kind != "304" or result.bytes_per_request < 2_000:
                        break
                    # The quarter hour turned during the run: again, with the new ETag.
                assert result.bad_status == 0, (page, kind, result)
                if kind == "304":  # headers alone: every answer was a 304
                    assert result.bytes_per_request < 2_000, (page, kind, result)
                results[page, kind].append(result)
    return results, pages, counts


def _etag(base, page):
    status, answer, _ = load.request(base, *page)
    assert status == 200, (page, status)
    return answer["ETag"]


def _merged(results):
    """Several runs as one: all their requests over all their time, the worst p95, and the
    workers' CPU milliseconds per request (None where it cannot be read)."""
    requests = sum(r.requests for r in results)
    seconds = sum(r.seconds for r in results)
    cpu = [r.cpu_seconds for r in results]
    cpu_ms = None if None in cpu else sum(cpu) * 1000 / requests
    return requests / seconds, max(r.p95_ms for r in results), cpu_ms


def _figure(results):
    rps, p95, cpu_ms = _merged(results)
    cpu = "" if cpu_ms is None else f", {cpu_ms:.2f} ms CPU"
    return f"{rps:,.0f} req/s, p95 {p95:.0f} ms{cpu}"


def _cpu_note(results, baseline, target=None):
    app, base = _merged(results)[2], _merged(baseline)[2]
    if app is None or base is None:
        return ""
    note = f"by the workers' CPU per request (steadier on a shared machine): {base / app:.2f}"
    if target is not None:
        note += ", target met" if base / app >= target else ", target missed"
    return note


def _rows(results, pages, counts):
    rows = []
    what = {"list": "rep's list fragment (50 rows)", "tasks": "/tasks (whole page, 50 items)"}
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
                            f"{ratio:.2f}", f">= {target}", ratio >= target,
                            _cpu_note(results[page, kind], baseline, target)))  # fmt: skip
    (wire, encoding), size = pages["list"]["wire"], pages["list"]["size"]
    ratio = wire / size
    rows.append(Row("B1", "rep's list fragment's bytes on the wire, compressed as asked",
                    f"{wire:,} B ({encoding})", f"uncompressed {size:,} B", f"{ratio:.2f}",
                    "<= 0.25", ratio <= 0.25, "Flask-Compress, as a browser asks"))  # fmt: skip
    raw, baseline = results["list", "raw"], results["list", "constant"]
    ratio = _merged(raw)[0] / _merged(baseline)[0]
    rows.append(Row("B1", "reference: the list's 50 cards by one raw SQL statement + f-strings",
                    _figure(raw), "constant, as for the list", f"{ratio:.2f}", "none", None,
                    "what hand-written code reaches on this machine; "
                    + _cpu_note(raw, baseline)))  # fmt: skip
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
