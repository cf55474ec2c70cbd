"""Configuration from the environment, with defaults that run on a laptop."""

import os
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def _database_url():
    url = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'tpweb.sqlite'}")
    # psycopg 3 is the driver; accept the plain postgres:// spellings hosts hand out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL")
    # The zone for new users and for anyone whose own zone is unset.
    TPWEB_TIMEZONE = os.environ.get("TPWEB_TIMEZONE", "America/Chicago")
    # Writes queued offline are sent hours later; their CSRF token must still verify.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    PAGE_SIZE = 50


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
