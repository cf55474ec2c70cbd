"""/readyz against a PostgreSQL of the test's own (initdb in a temporary folder, on a free port):
200, then 503 while it is stopped or its schema is behind, 200 again after; never the machine's
shared server."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade

from tpweb import create_app
from tpweb.extensions import db

from . import conftest

BIN = Path(os.environ.get("TPWEB_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(command):
    """initdb and pg_ctl refuse to run as root: as the postgres user, then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *map(str, command)]
    return [str(c) for c in command]


class Cluster:
    """A throwaway PostgreSQL cluster in `folder`, on loopback at `port`, trust auth."""

    def __init__(self, folder, port):
        self.data, self.port = folder / "data", port
        self.log = folder / "postgres.log"

    def ctl(self, *args):
        command = [BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", *args]
        subprocess.run(_as_owner(command), check=True, capture_output=True, timeout=120)

    def init(self):
        command = [BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        subprocess.run(_as_owner(command), check=True, capture_output=True, timeout=300)

    def start(self):
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.ctl("-o", options, "start")

    def stop(self):
        self.ctl("-m", "fast", "stop")


@pytest.fixture
def cluster():
    if os.environ.get("TPWEB_TEST_POSTGRES"):
        pytest.skip("runs once, in the SQLite pass (it does not use the test database)")
    if not (BIN / "initdb").exists():
        if conftest.CI:
            pytest.fail(f"no initdb in {BIN}")
        pytest.skip(f"no initdb in {BIN} (apt-get install postgresql)")
    # Outside pytest's own folders, which the postgres user may not enter.
    folder = Path(tempfile.mkdtemp(prefix="tpweb-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    cluster = Cluster(folder, _free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        subprocess.run(
            _as_owner([BIN / "pg_ctl", "-D", cluster.data, "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(folder, ignore_errors=True)


def readyz(client):
    answer = client.get("/readyz")
    return answer.status_code, answer.text


def test_readyz_follows_its_own_postgresql_going_away_and_coming_back(cluster):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres"
    app = create_app(conftest.test_config(url))
    client = app.test_client()
    with app.app_context():
        assert readyz(client)[0] == 503  # no schema yet
        upgrade()
        db.engine.dispose()
    assert readyz(client) == (200, "ready\n")
    cluster.stop()
    started = time.monotonic()
    status, text = readyz(client)
    assert status == 503
    assert text.startswith("database: unreachable")
    assert time.monotonic() - started < 10  # a probe answers quickly, even then
    cluster.start()
    assert readyz(client) == (200, "ready\n")
    with app.app_context():
        downgrade(revision="-1")
        status, text = readyz(client)
        assert status == 503 and text.startswith("database: the schema is at ")
        upgrade()
        assert readyz(client) == (200, "ready\n")
        db.engine.dispose()
