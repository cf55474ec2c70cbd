"""Fixtures: the app on a migrated database (SQLite, or PostgreSQL when asked), a client, logins;
the reminder tests' SMTP server, outbox and RQ queue."""

import os
import uuid

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue

from tpweb import create_app
from tpweb.config import TestConfig
from tpweb.domain.schedule import today_in
from tpweb.extensions import db, limiter, mail

from . import factories
from .sweeping import REDIS_URL, Inbox, free_port

# Helpers whose asserts check a test's outcome: pytest explains their failures as a test's own.
pytest.register_assert_rewrite("tests.access", "tests.access_world", "tests.signing_in")

CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get("TPWEB_TEST_POSTGRES")


def _without_waiting_for_disk(url):
    """`url` with synchronous_commit off for its connections: a commit returns before its WAL
    reaches the disk. The suite commits thousands of times (every test empties the tables) and
    nothing in it survives a crash of the server; the PostgreSQL pass took a third less time."""
    url = sa.make_url(url)
    options = url.query.get("options", "")
    options = " ".join(options) if isinstance(options, tuple) else options
    options = f"{options} -c synchronous_commit=off".strip()
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def _prepare_postgres(url):
    """An empty public schema in the test database, or a skip (a failure on CI) without one."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    except sa.exc.OperationalError as error:
        if CI:
            raise
        pytest.skip(f"PostgreSQL not reachable at {url}: {error.orig}".splitlines()[0])
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if POSTGRES_URL:
        _prepare_postgres(POSTGRES_URL)
        return _without_waiting_for_disk(POSTGRES_URL)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


def test_config(database_url, **overrides):
    """TestConfig as a mapping, on the session's database, with `overrides` laid over it."""
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    return {**config, "SQLALCHEMY_DATABASE_URI": database_url, **overrides}


@pytest.fixture(scope="session")
def migrated_app(database_url):
    """One app for the session, its schema built by the migrations exactly as in production."""
    app = create_app(test_config(database_url))
    app.test_client_class = FreshRequestClient
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


class FreshRequestClient(FlaskClient):
    """A test client whose requests start as a real one does, with nothing loaded.

    Tests keep an app context open to reach the database, and Flask lends it to each request;
    without this, the signed-in user and loaded rows would carry over from one request to the next.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        db.session.expire_all()
        return super().open(*args, **kwargs)


@pytest.fixture
def app(migrated_app):
    with migrated_app.app_context():
        yield migrated_app
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete().execution_options(**factories.TEST_DATA))
        db.session.commit()
        limiter.reset()  # sign-in attempts counted by one test don't slow the next


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    """Data builders bound to the test's database: make.rep(), make.touchpoint(account, ...)."""
    return factories.Builder()


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user, password=factories.PASSWORD):
        response = self.client.post(
            "/login", data={"username": user.username, "password": password}
        )
        assert response.status_code == 303, response.text
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def client_of(app, database_url):
    """A client of a separate app on the test database, made with `config` overrides.

    Its requests each get their own app context, as in production; the `client` fixture's
    requests share the test's context, so the signed-in user stays cached in `g` between them.
    """
    apps = []

    def build(**overrides):
        apps.append(create_app(test_config(database_url, **overrides)))
        return apps[-1].test_client()

    yield build
    for other in apps:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def today():
    """Today where the test users are (the factories' zone)."""
    return today_in("America/Chicago")


@pytest.fixture
def boss(make):
    return make.manager(name="Morgan Boss")


@pytest.fixture
def rep(make, auth, boss):
    """Rita Rep, reporting to the boss, signed in on `client`."""
    rep = make.rep(name="Rita Rep", manager=boss)
    auth.login(rep)
    return rep


@pytest.fixture
def manager(make, auth):
    """Mona Manager, signed in on `client`."""
    manager = make.manager(name="Mona Manager")
    auth.login(manager)
    return manager


@pytest.fixture
def customer(make, rep):
    return make.customer(rep=rep, name="Acme Fitness")


@pytest.fixture
def contact(make, customer):
    return make.contact(
        customer, name="Dana Freeze", email="dana@acme.example", phone="555-0100", title="Owner"
    )


def snapshot(*models):
    """The rows of `models`' tables (default: every table), read from the database in key order.

    Equal before and after a refused write: the database unchanged, not just the status code.
    """
    tables = [model.__table__ for model in models] or db.metadata.sorted_tables
    return {
        table.name: db.session.execute(sa.select(table).order_by(*table.primary_key)).all()
        for table in tables
    }


class Database:
    """Every table's rows, to tell whether a request changed anything."""

    def __init__(self):
        self.state = snapshot()

    def changes(self):
        """The tables whose rows changed since the last call, with their row counts."""
        before, self.state = self.state, snapshot()
        return {
            name: f"{len(rows)} -> {len(self.state[name])} rows"
            for name, rows in before.items()
            if rows != self.state[name]
        }


@pytest.fixture
def count_queries(app):
    """A list that gathers every SQL statement sent while the test runs."""
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def inbox(app):
    """A real SMTP server in this process, and the app's mail pointed at it."""
    handler = Inbox()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    smtp = {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": handler.port}
    saved = {key: app.config[key] for key in smtp}, app.extensions["mailman"]
    app.config.update(smtp)
    mail.init_app(app)
    yield handler
    app.config.update(saved[0])
    app.extensions["mailman"] = saved[1]
    controller.stop()


@pytest.fixture
def outbox(app):
    state = app.extensions["mailman"]
    state.outbox = []
    return state.outbox


@pytest.fixture
def queue():
    """An RQ queue of this test's own on the real Redis; only its keys are removed after."""
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisConnectionError as error:
        connection.close()
        if CI:
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}".splitlines()[0])
    queue = Queue(f"tpweb-test-{uuid.uuid4().hex[:12]}", connection=connection)
    yield queue
    for key in connection.scan_iter(f"*{queue.name}*"):
        connection.delete(key)
    connection.srem("rq:queues", queue.key)
    connection.srem("rq:workers", *[f"rq:worker:{queue.name}-{n}" for n in range(3)])
    connection.close()
