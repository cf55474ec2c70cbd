"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url

from tpweb.extensions import db
from tpweb.schema import behind

ROOT = Path(__file__).resolve().parent.parent


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_two_instances_upgrading_at_once_on_postgresql_migrate_once(database_url, tmp_path):
    """Two `flask db upgrade` at once on a fresh PostgreSQL database (as two instances starting
    together run them): both succeed, each migration runs once, the schema ends at head."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the migration lock is PostgreSQL's (SQLite allows one writer anyway)")
    server = make_url(database_url)
    name = f"{server.database}_upgrade_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    fresh = server.set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": fresh, "SECRET_KEY": secrets.token_hex(32)}
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "tpweb", "db", "upgrade"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=300)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        ran = "".join(outputs)
        first = ran.count("Running upgrade  -> ")
        assert first == 1, ran
        engine = sa.create_engine(fresh)
        with engine.connect() as connection:
            versions = connection.scalars(sa.text("SELECT version_num FROM alembic_version")).all()
            assert behind(connection) is None
        engine.dispose()
        assert len(versions) == 1
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
