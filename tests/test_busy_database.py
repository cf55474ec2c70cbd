"""A busy or unreachable database: 503 with Retry-After, nothing stored, a log line saying which.

Each cause is real: another connection holding SQLite's write lock or a PostgreSQL row lock, a
statement past its timeout, a PostgreSQL address where nobody listens.
"""

import logging
import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tpweb.config import TestConfig, apply_database_timeouts
from tpweb.extensions import db
from tpweb.models import CallLog
from tpweb.web.errors import database_trouble

from .conftest import Auth

NOBODY_LISTENS = "postgresql+psycopg://postgres@127.0.0.1:1/tpweb"
HTMX = {"HX-Request": "true"}


def backend(url):
    return sa.make_url(url).get_backend_name()


@pytest.fixture
def impatient(client_of, make, today):
    """A client of the app waiting half a second for a lock, signed in as a rep whose touchpoint
    is due; and a Complete's step one on it to send."""
    rep = make.rep()
    tp = make.touchpoint(make.customer(rep=rep), last_call=today, frequency_days=14)
    phone = make.call_type("Phone")
    client = client_of(TPWEB_DB_LOCK_TIMEOUT=0.5)
    Auth(client).login(rep)
    call = {"called_on": today.isoformat(), "duration_minutes": "20", "call_type": phone.id}

    def complete():
        return client.post(f"/touchpoints/{tp.id}/complete", data=call, headers=HTMX)

    return complete, tp


def busy_answer(response, caplog, trouble, seconds):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(seconds)
    assert "Busy, try again shortly" in response.text and "Nothing was saved" in response.text
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith(f"database {trouble}: POST ") for m in logged), logged


def calls():
    db.session.expire_all()
    return db.session.scalar(select(func.count(CallLog.id)))


@pytest.mark.parametrize("lock", ["IMMEDIATE", "EXCLUSIVE"])
def test_a_write_while_another_sqlite_writer_holds_the_lock_is_503_busy_and_stores_nothing(
    database_url, impatient, caplog, lock
):
    if backend(database_url) != "sqlite":
        pytest.skip("SQLite's write lock (the SQLite pass)")
    complete, tp = impatient
    version = tp.version
    other = sqlite3.connect(sa.make_url(database_url).database, isolation_level=None)
    try:
        other.execute(f"BEGIN {lock}")
        refused = complete()
        assert calls() == 0  # read while the lock is still held
        other.execute("ROLLBACK")
    finally:
        other.close()

    busy_answer(refused, caplog, "busy", 5)
    db.session.refresh(tp)
    assert tp.version == version
    # Once the lock is gone, the same write goes through.
    assert complete().status_code == 200 and calls() == 1


def test_a_write_waiting_on_a_postgres_row_lock_is_503_busy_and_stores_nothing(
    database_url, impatient, caplog
):
    if backend(database_url) != "postgresql":
        pytest.skip("a PostgreSQL row lock (the PostgreSQL pass)")
    complete, tp = impatient
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as other:
            other.execute(
                sa.text("SELECT id FROM touchpoints WHERE id = :id FOR UPDATE"), {"id": tp.id}
            )
            refused = complete()
            other.rollback()
    finally:
        engine.dispose()

    busy_answer(refused, caplog, "busy", 5)
    assert calls() == 0
    assert complete().status_code == 200 and calls() == 1


def test_a_postgres_statement_past_its_timeout_is_busy(database_url):
    if backend(database_url) != "postgresql":
        pytest.skip("PostgreSQL's statement_timeout (the PostgreSQL pass)")
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "TPWEB_DB_LOCK_TIMEOUT": 3,
        "TPWEB_DB_STATEMENT_TIMEOUT": 0.2,
    }
    apply_database_timeouts(config)
    engine = sa.create_engine(database_url, **config["SQLALCHEMY_ENGINE_OPTIONS"])
    try:
        with pytest.raises(sa.exc.OperationalError) as timed_out, engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_sleep(2)"))
    finally:
        engine.dispose()
    assert database_trouble(timed_out.value) == "busy"


def test_an_unreachable_database_is_503_with_a_longer_retry_after(client_of, caplog):
    client = client_of(SQLALCHEMY_DATABASE_URI=NOBODY_LISTENS)

    response = client.post("/login", data={"username": "rep1", "password": "tpweb-demo"})

    busy_answer(response, caplog, "unreachable", 30)
    assert "cannot be reached" in response.text and "<html" in response.text
    assert "Sign out" not in response.text  # the plain layout: no menu read from the database
    fragment = client.post("/login", data={"username": "rep1", "password": "x"}, headers=HTMX)
    assert fragment.status_code == 503 and fragment.headers["Retry-After"] == "30"
    assert "cannot be reached" in fragment.text and "<html" not in fragment.text


def test_another_database_error_is_still_a_500(client_of, tmp_path, caplog):
    """SQLite calls a missing table an OperationalError too: trying again would not help."""
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    client = client_of(SQLALCHEMY_DATABASE_URI=empty, PROPAGATE_EXCEPTIONS=False)

    response = client.post("/login", data={"username": "rep1", "password": "tpweb-demo"})

    assert response.status_code == 500 and "Something went wrong" in response.text
    assert "Retry-After" not in response.headers
    assert not any(r.getMessage().startswith("database ") for r in caplog.records)


def test_the_engines_wait_no_longer_than_configured():
    sqlite = {**vars_of(TestConfig), "SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite"}
    apply_database_timeouts(sqlite)
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"timeout": 3.0}
    url = "postgresql+psycopg://u@h/db?options=-csearch_path%3Dbench"
    postgres = {**vars_of(TestConfig), "SQLALCHEMY_DATABASE_URI": url}
    apply_database_timeouts(postgres)
    assert postgres["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True,
        "connect_args": {
            "connect_timeout": 5,
            "options": "-csearch_path=bench -c lock_timeout=3000 -c statement_timeout=20000",
        },
    }
    assert TestConfig.SQLALCHEMY_ENGINE_OPTIONS == {"pool_pre_ping": True}  # left as it was


def vars_of(config):
    return {k: getattr(config, k) for k in dir(config) if k.isupper()}
