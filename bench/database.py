"""Where a benchmark's data lives: a temporary SQLite file, or a schema of its own in PostgreSQL.

PostgreSQL is used when DATABASE_URL names it. The benchmark then works in its own schema
(`tpweb_bench_<name>`), dropped before and after, so the database's own tables are never touched.
"""

import contextlib
import os
import shutil
import tempfile

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
