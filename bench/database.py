"""Where a benchmark's data lives: a temporary SQLite file, or a schema of its own in PostgreSQL.

PostgreSQL is used when DATABASE_URL names it. The benchmark then works in its own schema
(`tpweb_bench_<name>`), dropped before and after, so the database's own tables are never touched.
"""

import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from tpweb import create_app
from tpweb.config import _database_url

# Long enough for production mode, which the benchmarks run in; never used outside them.
SECRET_KEY = "bench-only-secret-not-for-any-real-server-7d41c9e05b28"


def on_postgres():
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))


@contextlib.contextmanager
def bench_database(name):
    """Yield the SQLAlchemy URL of an empty database for the benchmark `name`."""
    if not on_postgres():
        folder = tempfile.mkdtemp(prefix=f"tpweb-bench-{name}-")
        try:
            yield f"sqlite:///{folder}/{name}.sqlite"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"tpweb_bench_{name}"
    base = sa.make_url(_database_url())
    engine = sa.create_engine(base)
    drop = sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    with engine.begin() as conn:
        conn.execute(drop)
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(drop)
        engine.dispose()


def bench_app(url, **overrides):
    """The app on `url`, configured as in production but for the database, the secret key and
    the map tiles (none: nothing leaves the machine, and B2's maps compare without them)."""
    settings = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "TPWEB_TILE_URL": ""}
    return create_app({**settings, **overrides})


def migrate(app):
    """Build the schema the way production does: the migrations."""
    with app.app_context():
        upgrade()


def describe(app):
    """The database's name and version, for the report."""
    from tpweb.extensions import db

    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return "SQLite " + conn.execute(sa.text("select sqlite_version()")).scalar()
            version = conn.execute(sa.text("show server_version")).scalar()
            return f"PostgreSQL {version}"


def tagged(url, tag):
    """`url` with its connections named `tag` (PostgreSQL's application_name), to find the
    server processes serving them; `url` itself on SQLite."""
    if not url.startswith("postgresql"):
        return url
    named = sa.make_url(url).update_query_dict({"application_name": tag})
    return named.render_as_string(hide_password=False)


class ServerCpu:
    """Calling it gives the user and system CPU seconds, so far, of the PostgreSQL server
    processes now serving connections named `tag` (read from /proc; the server runs on this
    machine). None on SQLite, whose work is in the app's own process. A connection closed
    meanwhile takes its CPU with it: read it around runs whose connections stay pooled."""

    def __init__(self, url, tag):
        self.tag = tag
        self.engine = None
        if url.startswith("postgresql"):
            # A connection of its own, not named `tag`: asking costs the measured side nothing.
            plain = sa.make_url(url).difference_update_query(["application_name"])
            self.engine = sa.create_engine(plain)
        self.tick = os.sysconf("SC_CLK_TCK")

    def pids(self):
        query = sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :tag")
        with self.engine.connect() as conn:
            return conn.execute(query, {"tag": self.tag}).scalars().all()

    def __call__(self):
        if self.engine is None:
            return None
        ticks = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile, or the server is on another machine
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / self.tick

    def close(self):
        if self.engine is not None:
            self.engine.dispose()


class Watcher(threading.Thread):
    """A thread that looks at the database every `every` seconds while its `with` block runs
    (only when `wanted`); `run` loops `while self.looking():`."""

    def __init__(self, engine, every, wanted=True):
        super().__init__(daemon=True)
        self.engine, self.every, self.wanted, self.done = engine, every, wanted, threading.Event()

    def looking(self):
        """Whether to look again, after waiting `every` seconds: not once the block has ended."""
        return not self.done.wait(self.every)

    def __enter__(self):
        if self.wanted:
            self.start()
        return self

    def __exit__(self, *exc_info):
        if self.is_alive():
            self.done.set()
            self.join()
