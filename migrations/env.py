"""Alembic's environment: migrate the database of the Flask app that runs the command."""

import contextlib
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import text

config = context.config
# Keep the app's own loggers (and pytest's) working after Alembic configures logging.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline():
    """Emit the migrations as SQL to standard output."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Several instances starting at once each run `flask db upgrade`: on PostgreSQL they take turns
# on this advisory lock, and each after the first finds the schema at head and does nothing.
MIGRATION_LOCK = 7_310_285_114  # any number no other advisory lock of the database uses


@contextlib.contextmanager
def one_at_a_time(connection):
    """Hold PostgreSQL's advisory lock while migrating (SQLite: one writer at a time anyway)."""
    if connection.dialect.name != "postgresql":
        yield
        return
    # Wait as long as the other instance's migration takes, not the app's lock timeout.
    for setting in ("lock_timeout", "statement_timeout"):
        connection.execute(text(f"SET {setting} = 0"))
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
    for setting in ("lock_timeout", "statement_timeout"):
        connection.execute(text(f"RESET {setting}"))
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()


def run_migrations_online():
    """Run the migrations on the app's engine."""

    def skip_empty(context, revision, directives):
        # `flask db migrate` with nothing changed writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    with db.engine.connect() as connection, one_at_a_time(connection):
        context.configure(connection=connection, target_metadata=db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
