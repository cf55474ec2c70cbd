"""Production serving: compressed pages, static files under hashed names with a year's immutable
caching and precompressed copies, gunicorn with its checked-in settings and JSON access log, and
no serving on a schema behind the code."""

import gzip
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import brotli
import pytest
from flask_migrate import downgrade, upgrade

from tpweb import create_app
from tpweb.config import CANNOT_BOOT_STATUS
from tpweb.extensions import db
from tpweb.web import statics

from . import conftest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    return tmp_path_factory.mktemp("static")


@pytest.fixture
def production_client(app, database_url, static_root):
    """A client of the app as production builds it: hashed static files served by WhiteNoise."""
    served = create_app(
        conftest.test_config(
            database_url, TPWEB_STATIC_BUILD=True, TPWEB_STATIC_ROOT=str(static_root)
        )
    )
    yield served.test_client()
    with served.app_context():
        db.engine.dispose()


def static_urls(html):
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_a_page_is_sent_compressed_with_brotli_or_gzip_as_the_client_takes_it(client):
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        answer = client.get("/login", headers={"Accept-Encoding": encoding})
        assert answer.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert len(answer.data) < len(plain.data) / 2
        assert decompress(answer.data) == plain.data


def test_pages_name_static_files_by_their_contents_and_they_are_cached_for_a_year(
    production_client,
):
    html = production_client.get("/login").get_data(as_text=True)
    urls = static_urls(html)
    css = next(url for url in urls if "/app." in url and url.endswith(".css"))
    assert re.fullmatch(r"/static/app\.[0-9a-f]{12}\.css", css)
    answer = production_client.get(css)
    assert answer.status_code == 200
    assert answer.data == (ROOT / "static" / "app.css").read_bytes()
    assert "immutable" in answer.headers["Cache-Control"]
    assert "max-age=315360000" in answer.headers["Cache-Control"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    answer.close()


def test_static_files_go_out_precompressed(production_client):
    css = next(u for u in static_urls(production_client.get("/login").text) if "/app." in u)
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        answer = production_client.get(css, headers={"Accept-Encoding": encoding})
        assert answer.headers["Content-Encoding"] == encoding
        assert decompress(answer.data) == (ROOT / "static" / "app.css").read_bytes()
        answer.close()


def test_the_service_worker_and_its_modules_keep_their_names(production_client):
    """The worker imports its modules by relative paths and the pages load the offline modules
    the same way: those keep their names, and a deploy is seen by revalidation."""
    html = production_client.get("/login").text
    assert "/static/offline.js" in static_urls(html)
    shell = production_client.get("/offline/shell").json
    assert "/static/offline.js" in shell["files"]
    modules = ("sw/config.js", "sw/queue.js", "offline/bar.js", "vendor/workbox-7.4.1/workbox.js")
    for name in modules:
        answer = production_client.get(f"/static/{name}")
        assert answer.status_code == 200
        assert "immutable" not in answer.headers["Cache-Control"]
        answer.close()
    # The offline shell names the files the pages load, hashed or not: what is kept is what is used.
    assert {u for u in static_urls(html)} <= set(shell["files"])
    worker = production_client.get("/sw.js")
    assert worker.status_code == 200 and b"./static/sw/config.js" in worker.data


def test_the_build_is_made_once_for_several_processes_at_once(tmp_path):
    """Four processes building at once end with one complete build, the same for each."""
    folder, root = tmp_path / "static", tmp_path / "built"
    for name in ("app.css", "sw/queue.js", "offline/bar.js", "icons/icon-192.png"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes((ROOT / "static" / name).read_bytes())
    code = "import sys; from tpweb.web import statics; print(statics.build(*sys.argv[1:]))"
    runs = [
        subprocess.Popen([sys.executable, "-c", code, folder, root], stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    built = {run.communicate(timeout=120)[0].decode().strip() for run in runs}
    assert len(built) == 1
    assert (
        [p.name for p in root.iterdir()] == [Path(built.pop()).name] == [statics.digest_of(folder)]
    )
    manifest = json.loads((root / statics.digest_of(folder) / statics.MANIFEST).read_text())
    assert (
        manifest["sw/queue.js"] == "sw/queue.js" and manifest["offline/bar.js"] == "offline/bar.js"
    )
    hashed = root / statics.digest_of(folder) / manifest["app.css"]
    assert hashed.name != "app.css"
    assert brotli.decompress(Path(f"{hashed}.br").read_bytes()) == (folder / "app.css").read_bytes()
    assert gzip.decompress(Path(f"{hashed}.gz").read_bytes()) == (folder / "app.css").read_bytes()


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The production command (docs/deploy.md), after `gunicorn`.
SERVE = ["-c", "python:tpweb.gunicorn_conf", "tpweb.wsgi:app"]
# Built once for every gunicorn of the test run (the master builds it when it is missing).
STATIC_ROOT = Path(os.environ.get("TMPDIR", "/tmp")) / f"tpweb-test-static-{os.getuid()}"


def gunicorn(tmp_path, database_url, **env):
    """gunicorn with tpweb's settings, as docs/deploy.md starts it; (process, base URL, log)."""
    port = _free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "TPWEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "TPWEB_INSTANCE_PATH": str(tmp_path / "instance"),
        "TPWEB_STATIC_ROOT": str(STATIC_ROOT),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{port}"),
        **env,
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *SERVE],
            cwd=tmp_path,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}", log


def wait_for(base, process, log, path="/healthz"):
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(base + path, timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer: {log.read_text()[-2000:]}")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'served.sqlite'}"


def migrate(database_url, revision="head"):
    app = create_app(conftest.test_config(database_url))
    with app.app_context():
        upgrade(revision=revision)
        db.engine.dispose()
    return app


def test_gunicorn_serves_with_its_settings_and_logs_each_request_as_json(tmp_path, sqlite_url):
    migrate(sqlite_url)
    process, base, log = gunicorn(tmp_path, sqlite_url)
    try:
        assert wait_for(base, process, log)
        request = urllib.request.Request(base + "/login", headers={"X-Request-ID": "req-42.a"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.headers["X-Request-ID"] == "req-42.a"
            html = answer.read().decode()
        css = next(u for u in static_urls(html) if "/app." in u)
        with urllib.request.urlopen(base + css, timeout=10) as answer:
            assert answer.status == 200 and "immutable" in answer.headers["Cache-Control"]
        # A hostile id is not taken: the app makes its own.
        hostile = urllib.request.Request(base + "/login", headers={"X-Request-ID": 'a"b<c'})
        with urllib.request.urlopen(hostile, timeout=10) as answer:
            made = answer.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
        # The metrics of both of gunicorn's workers, added up (PROMETHEUS_MULTIPROC_DIR).
        with urllib.request.urlopen(base + "/metrics", timeout=10) as answer:
            metrics = answer.read().decode()
        login = 'tpweb_http_request_duration_seconds_count{endpoint="auth.login",method="GET",'
        assert login + 'status="200"} 2.0' in metrics
    finally:
        stop(process)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("path") == "/login"]
    assert [line["request_id"] for line in access] == ["req-42.a", made]
    assert all(line["status"] == 200 and line["method"] == "GET" for line in access)


def test_gunicorn_refuses_to_serve_a_schema_behind_the_code(tmp_path, sqlite_url):
    migrate(sqlite_url)
    app = create_app(conftest.test_config(sqlite_url))
    with app.app_context():
        downgrade(revision="-1")
        db.engine.dispose()
    process, base, log = gunicorn(tmp_path, sqlite_url)
    try:
        assert not wait_for(base, process, log)
        assert process.wait(timeout=30) != 0
    finally:
        if process.poll() is None:
            stop(process)
    text = log.read_text()
    assert "tpweb will not serve: the schema is at " in text
    assert "run flask db upgrade" in text
    assert f"exited with code {CANNOT_BOOT_STATUS}" in text


def test_gunicorn_refuses_to_start_without_a_real_secret_key(tmp_path, sqlite_url):
    migrate(sqlite_url)
    process, base, log = gunicorn(tmp_path, sqlite_url, SECRET_KEY="change-me")
    assert process.wait(timeout=60) != 0
    assert "SECRET_KEY is missing or weak" in log.read_text()


def test_the_list_goes_over_the_wire_in_a_quarter_of_its_size_or_less(client, make, rep):
    """The rep's list with 40 touchpoints: Brotli and gzip each send a quarter or less."""
    for n in range(40):
        make.touchpoint(make.customer(rep=rep, name=f"Account {n:02d}", city="Springfield"))
    plain = client.get("/touchpoints?view=list")
    assert plain.status_code == 200 and len(plain.data) > 20_000
    for encoding in ("br", "gzip"):
        answer = client.get("/touchpoints?view=list", headers={"Accept-Encoding": encoding})
        assert answer.headers["Content-Encoding"] == encoding
        assert len(answer.data) <= len(plain.data) / 4
