"""Whether the database's schema is the one this code was written for (migrations at head).

A process refuses to serve on a schema behind its code (`require_current`: the web entry point,
tpweb.wsgi, and tpweb/worker.py), and /readyz says 503 while it is. A schema ahead of the code (a
revision this code does not know, as while a rolling deploy upgrades the database before the
last old process stops) is not refused: migrations add before they take away.
"""

import functools
import sys
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from tpweb.config import CANNOT_BOOT_STATUS, ROOT

MIGRATIONS = ROOT / "migrations"


@functools.cache
def _revisions(directory):
    """The code's head revisions and every revision it knows, read once per process."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(directory))
    script = ScriptDirectory.from_config(config)
    return frozenset(script.get_heads()), frozenset(s.revision for s in script.walk_revisions())


def behind(connection, directory=MIGRATIONS):
    """Why the schema on `connection` is behind the code (a short sentence), or None."""
    heads, known = _revisions(Path(directory))
    current = set()
    if inspect(connection).has_table("alembic_version"):
        current = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    if not current:
        return "the database has no schema: run flask db upgrade"
    if current <= heads or not current & known:
        return None
    return (
        f"the schema is at {', '.join(sorted(current))}, the code needs {', '.join(sorted(heads))}:"
        " run flask db upgrade"
    )


def require_current(engine, directory=MIGRATIONS):
    """Exit (status 3, which stops gunicorn) with a clear message if the schema is behind."""
    with engine.connect() as connection:
        reason = behind(connection, directory)
    if reason:
        print(f"tpweb will not serve: {reason}", file=sys.stderr)
        raise SystemExit(CANNOT_BOOT_STATUS)
