"""Configuration: the signing key production insists on, and the one development makes itself."""

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select

from tpweb import create_app
from tpweb.config import CANNOT_BOOT_STATUS, WEAK_KEY
from tpweb.extensions import db
from tpweb.models import User

from . import conftest

ROOT = Path(__file__).resolve().parent.parent
# The key every copy of tpweb shipped with until production refused to start without its own.
OLD_DEVELOPMENT_KEY = "dev-only-change-me"
WEAK_KEYS = [
    None,
    "",
    OLD_DEVELOPMENT_KEY,
    "short-key",
    "ab" * 32,
    "please-change-me-to-something-long-and-random",
]


def production(database_url, **overrides):
    """The app's settings as a production server has them: not testing, not development."""
    return conftest.test_config(database_url, TESTING=False, DEVELOPMENT=False, **overrides)


def development(database_url, key_file, **overrides):
    return conftest.test_config(
        database_url,
        TESTING=False,
        DEVELOPMENT=True,
        SECRET_KEY=None,
        SECRET_KEY_FILE=key_file,
        **overrides,
    )


def dispose(app):
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_production_refuses_to_start_without_a_strong_key(database_url, key, capsys):
    with pytest.raises(SystemExit) as refused:
        create_app(production(database_url, SECRET_KEY=key))
    assert refused.value.code == CANNOT_BOOT_STATUS != 0
    assert capsys.readouterr().err == WEAK_KEY + "\n"


def test_production_starts_with_a_strong_key(database_url):
    key = secrets.token_hex(32)
    app = create_app(production(database_url, SECRET_KEY=key))
    assert app.secret_key == key
    dispose(app)


@pytest.mark.parametrize("env", [{}, {"TPWEB_ENV": "production"}, {"SECRET_KEY": "dev"}])
def test_the_command_line_outside_development_says_what_to_set_and_exits(tmp_path, env):
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "TPWEB_ENV")}
    environ["DATABASE_URL"] = f"sqlite:///{tmp_path / 'tpweb.sqlite'}"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tpweb", "db", "upgrade"],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == CANNOT_BOOT_STATUS
    assert result.stderr == WEAK_KEY + "\n"
    assert not (tmp_path / "tpweb.sqlite").exists()


def test_development_makes_a_key_once_readable_by_its_owner_only(database_url, tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = create_app(development(database_url, key_file))
    second = create_app(development(database_url, key_file))
    assert len(first.secret_key) >= 32 and first.secret_key != OLD_DEVELOPMENT_KEY
    assert second.secret_key == first.secret_key == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]
    dispose(first)
    dispose(second)


def forged_session(key, user):
    """A session cookie for `user`, signed with `key` as Flask would sign it."""
    signer = SecureCookieSessionInterface().get_signing_serializer(
        create_app({"SECRET_KEY": key, "TESTING": True})
    )
    return signer.dumps({"_user_id": f"{user.id}:{user.session_version}", "_fresh": True})


def test_a_cookie_forged_with_the_old_development_key_opens_nothing(
    app, make, database_url, tmp_path
):
    admin = make.user("admin", name="Ada Admin")
    for config in (
        development(database_url, tmp_path / "secret_key"),
        production(database_url, SECRET_KEY=secrets.token_hex(32)),
    ):
        server = create_app(config)
        client = server.test_client()
        forged = forged_session(OLD_DEVELOPMENT_KEY, admin)
        genuine = forged_session(server.secret_key, admin)

        client.set_cookie("session", forged)
        refused = client.get("/admin/users")
        client.set_cookie("session", genuine)
        opened = client.get("/admin/users")

        assert refused.status_code == 302 and "/login" in refused.location
        assert opened.status_code == 200 and "Ada Admin" in opened.text  # the forgery is sound
        dispose(server)


def test_seed_demo_refuses_outside_development(app, database_url):
    server = create_app(production(database_url, SECRET_KEY=secrets.token_hex(32)))
    with server.app_context():
        result = server.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "TPWEB_ENV=development" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0
    dispose(server)


@pytest.mark.parametrize(
    "setting",
    [
        {"TPWEB_AVERAGE_SPEED_KMH": 0},
        {"TPWEB_AVERAGE_SPEED_KMH": -30.0},
        {"TPWEB_ROAD_FACTOR": 0.5},
        {"TPWEB_PLAN_SECONDS": 0},
        {"TPWEB_AVERAGE_SPEED_KMH": "fast"},
    ],
)
def test_a_plan_setting_no_plan_can_use_stops_the_start_and_names_it(database_url, setting, capsys):
    with pytest.raises(SystemExit) as refused:
        create_app(conftest.test_config(database_url, **setting))
    assert refused.value.code == CANNOT_BOOT_STATUS
    [name] = setting
    assert capsys.readouterr().err.startswith(f"{name} must be ")
