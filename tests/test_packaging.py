"""`pip install .` gives a wheel that carries templates/, static/ and migrations/ and serves a
page from a fresh virtualenv, run outside the checkout."""

import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Run in the fresh virtualenv, from an empty folder: migrate a new database, then sign-in page
# and the stylesheet it names.
SERVE_A_PAGE = """
import re, sys, tpweb
from flask_migrate import upgrade
from tpweb import create_app
from tpweb.extensions import db
assert "site-packages" in tpweb.__file__, tpweb.__file__
app = create_app()
with app.app_context():
    upgrade()
    db.engine.dispose()
client = app.test_client()
page = client.get("/login")
css = re.search(r'href="(/static/app[.][0-9a-f]{12}[.]css)"', page.text).group(1)
style = client.get(css)
print(page.status_code, style.status_code, style.mimetype, "Sign in" in page.text)
style.close()
"""


def test_the_wheel_serves_a_page_from_a_fresh_virtualenv(tmp_path):
    if os.environ.get("TPWEB_TEST_POSTGRES"):
        pytest.skip("runs once, in the SQLite pass (it does not use the test database)")
    # From a copy of the sources: setuptools' build/ folder stays out of the checkout, and no
    # file left there by an earlier build can slip into this wheel.
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("tpweb", "templates", "static", "migrations"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "setup.py"):
        shutil.copy2(ROOT / name, source / name)
    built = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", built],
        cwd=source, check=True, timeout=600,
    )  # fmt: skip
    (wheel,) = built.glob("tpweb-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for carried in (
        "tpweb/templates/base.html",
        "tpweb/static/app.css",
        "tpweb/static/sw.js",
        "tpweb/static/vendor/workbox-7.4.1/workbox.js",
        "tpweb/worker.py",
        "tpweb/migrations/env.py",
        "tpweb/migrations/alembic.ini",
        "tpweb/migrations/versions/9c8fc416aa06_initial_schema.py",
    ):
        assert carried in names
    assert not [name for name in names if "__pycache__" in name and "/migrations/" in name]

    # A fresh virtualenv that borrows this one's installed packages for the dependencies.
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # A path entry, not a site folder: its .pth files (this checkout's editable tpweb) are not
    # read, so only the wheel's tpweb is found.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel],
        check=True, timeout=600,
    )  # fmt: skip

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "TPWEB_", "DATABASE_URL", "VIRTUAL_ENV"))
    }
    env.update(
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=f"sqlite:///{work / 'tpweb.sqlite'}",
        TPWEB_INSTANCE_PATH=str(work / "instance"),
    )
    served = subprocess.run(
        [python, "-c", SERVE_A_PAGE], cwd=work, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert served.returncode == 0, served.stderr[-3000:]
    assert served.stdout.split()[-4:] == ["200", "200", "text/css", "True"]
