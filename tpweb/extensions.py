"""Every Flask extension, created here and bound to the app in create_app."""

import sqlite3

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

# Named constraints, so Alembic can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))


@event.listens_for(Engine, "connect")
def _sqlite_write_ahead_log(dbapi_connection, connection_record):
    """SQLite in WAL mode: readers (other gunicorn workers) never wait for a writer, and a
    commit writes each page once with no fsync (a rollback journal copied every page first and
    synced three times: most of a bulk reassignment's time; see docs/benchmarks.md, B5)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")


@event.listens_for(Engine, "do_connect")
def _postgres_planner_costs(dialect, connection_record, cargs, cparams):
    """PostgreSQL told that a random read costs about what a sequential one does (1.1, not 4),
    as on SSDs and with the working set in memory: with the default it joined a rep's 237
    accounts to their touchpoints by reading all 50,000 touchpoints (6 ms) instead of 237 index
    lookups (0.7 ms), on every list, count and map (docs/benchmarks.md, B1). Set as a startup
    option of the app's own connections, after any options the URL gives."""
    if dialect.name == "postgresql":
        cparams["options"] = f"{cparams.get('options', '')} -c random_page_cost=1.1".strip()


migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
# No session protection: "basic" only marks a session not fresh when the address or browser it
# comes from changes (nothing here asks for a fresh sign-in), and to do so it wrote the cookie of
# every anonymous request carrying the sign-in form's token: such a response, to a request sent
# before a sign-in (the service worker fetching the shell), then replaced the signed-in cookie.
# "strong" would end a phone's session at every change of network.
login_manager.session_protection = None
csrf = CSRFProtect()
# Pages and fragments compressed with Brotli or gzip, as the client takes them.
compress = Compress()
htmx = Htmx()
mail = Mail()
# Sign-in attempts are counted per address by default; a route adds its own keys.
limiter = Limiter(key_func=get_remote_address)
