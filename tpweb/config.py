"""Configuration from the environment, with defaults that run on a laptop."""

import os
import re
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

PACKAGE = Path(__file__).resolve().parent
# templates/, static/ and migrations/: beside the package in a checkout, inside it in a wheel.
ROOT = PACKAGE if (PACKAGE / "templates").is_dir() else PACKAGE.parent
# The instance folder (SQLite, the development key, mail files, built static files): the
# checkout's, or for an installed wheel Flask's place for it, unless TPWEB_INSTANCE_PATH names one.
INSTANCE = Path(
    os.environ.get("TPWEB_INSTANCE_PATH")
    or (ROOT / "instance" if ROOT != PACKAGE else Path(sys.prefix) / "var" / "tpweb-instance")
)


def _database_url():
    url = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'tpweb.sqlite'}")
    # psycopg 3 is the driver; accept the plain postgres:// spellings hosts hand out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def public_urls(app):
    """`url(endpoint, **values)`: absolute links under TPWEB_PUBLIC_URL, for what is read outside
    the app's pages (emails, the calendar feed). Bound once, not per link."""
    base = urlsplit(app.config["TPWEB_PUBLIC_URL"])
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return lambda endpoint, **values: adapter.build(endpoint, values, force_external=True)


def _flag(name, default=False):
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


# Words of keys copied from code or docs, never replaced: anyone could sign a session with them.
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "dev-only", "placeholder", "your-secret")
WEAK_KEY = (
    "SECRET_KEY is missing or weak: set SECRET_KEY to at least 32 random characters, "
    'e.g. python -c "import secrets; print(secrets.token_hex(32))"'
)
# gunicorn stops on a worker that exits 3 (it cannot boot) rather than starting one after another.
CANNOT_BOOT_STATUS = 3


# OpenStreetMap's standard tiles: free for light use under its tile usage policy (attribution
# shown, tiles the phone has seen cached, no bulk prefetch); a busy installation names its own.
OPENSTREETMAP_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def tile_prefetch(setting, url):
    """Whether the phone may fetch the tiles around the week's accounts ahead of a visit: only when
    TPWEB_TILE_PREFETCH=1 names the operator's own tile server, never OpenStreetMap's (its tile
    policy forbids downloading tiles for offline use ahead of time)."""
    return setting.strip() == "1" and bool(url) and "openstreetmap.org" not in url.lower()


def tile_url(setting):
    """The tile URL template a TPWEB_TILE_URL setting names: unset or empty, OpenStreetMap's;
    "none", no tiles ("")."""
    setting = setting.strip()
    if setting.lower() == "none":
        return ""
    return setting or OPENSTREETMAP_TILES


class Config:
    # No default: production refuses to start without one; development makes its own (below).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SECRET_KEY_FILE = INSTANCE / "secret_key"
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Seconds a statement waits for another's lock (SQLite's busy timeout, PostgreSQL's
    # lock_timeout), and may run at all (PostgreSQL's statement_timeout), before the answer is a
    # 503 "busy" that the phone's queue tries again; 0 turns PostgreSQL's limit off.
    TPWEB_DB_LOCK_TIMEOUT = float(os.environ.get("TPWEB_DB_LOCK_TIMEOUT", "3"))
    TPWEB_DB_STATEMENT_TIMEOUT = float(os.environ.get("TPWEB_DB_STATEMENT_TIMEOUT", "20"))
    REDIS_URL = os.environ.get("REDIS_URL")
    # The zone for new users and for anyone whose own zone is unset.
    TPWEB_TIMEZONE = os.environ.get("TPWEB_TIMEZONE", "America/Chicago")
    # Writes queued offline are sent hours later; their CSRF token must still verify.
    WTF_CSRF_TIME_LIMIT = None
    # Cookies travel over HTTPS only, except on a developer's own machine (TPWEB_ENV=development).
    DEVELOPMENT = os.environ.get("TPWEB_ENV") == "development"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = not DEVELOPMENT
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = not DEVELOPMENT
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    # Sign-in attempts: counted in Redis when there is one, so every web process shares them;
    # if Redis goes away the app keeps counting in memory rather than refusing to sign anyone in.
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_KEY_PREFIX = "tpweb-limits"
    # How many reverse proxies in front of the app to believe about the client (X-Forwarded-For
    # and -Proto); 0, the default, believes none.
    TPWEB_PROXIES = int(os.environ.get("TPWEB_PROXIES", "0"))
    # Room for a CSV import of 10,000+ rows, and for its preview's signed copy sent to confirm.
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 4 * 1024 * 1024
    PAGE_SIZE = 50
    # Map tiles are the one thing the map loads from the network: OpenStreetMap's standard tiles
    # unless the operator names a tile server of their own; "none" turns them off (a server with no
    # network, tests), and the pins show on a plain background.
    TPWEB_TILE_URL = tile_url(os.environ.get("TPWEB_TILE_URL", ""))
    # The operator's own tile server allows it: phones keep the tiles around their week's accounts.
    TPWEB_TILE_PREFETCH = tile_prefetch(os.environ.get("TPWEB_TILE_PREFETCH", ""), TPWEB_TILE_URL)
    # Shown in the map's corner whenever tiles are; the tile provider's terms usually require it.
    TPWEB_TILE_ATTRIBUTION = os.environ.get(
        "TPWEB_TILE_ATTRIBUTION", "© OpenStreetMap contributors"
    )
    # "Find from address" on the account form: off while empty; "nominatim" turns it on, with a
    # user agent naming this installation (the service's usage policy) and a short timeout, as the
    # manager waits on it. TPWEB_GEOCODER_DOMAIN points it at a Nominatim of one's own.
    TPWEB_GEOCODER = os.environ.get("TPWEB_GEOCODER", "")
    TPWEB_GEOCODER_USER_AGENT = os.environ.get("TPWEB_GEOCODER_USER_AGENT", "")
    TPWEB_GEOCODER_DOMAIN = os.environ.get("TPWEB_GEOCODER_DOMAIN", "")
    TPWEB_GEOCODER_TIMEOUT = float(os.environ.get("TPWEB_GEOCODER_TIMEOUT", "3"))
    # An object with geopy's .geocode(query) in place of the configured one (tests set a fake).
    TPWEB_GEOCODER_CLIENT = None
    # Plan my day. Drive times from great-circle distance × TPWEB_ROAD_FACTOR at
    # TPWEB_AVERAGE_SPEED_KMH (defaults in tpweb/domain/routing.py: 1.3 and 50 km/h), unless
    # TPWEB_ROUTING_URL names an OSRM server (its table service; e.g. http://osrm:5000), asked
    # with a timeout of TPWEB_ROUTING_TIMEOUT seconds and the estimate used when it fails.
    TPWEB_ROUTING_URL = os.environ.get("TPWEB_ROUTING_URL", "")
    TPWEB_ROUTING_TIMEOUT = float(os.environ.get("TPWEB_ROUTING_TIMEOUT", "3"))
    TPWEB_ROAD_FACTOR = float(os.environ.get("TPWEB_ROAD_FACTOR", "1.3"))
    TPWEB_AVERAGE_SPEED_KMH = float(os.environ.get("TPWEB_AVERAGE_SPEED_KMH", "50"))
    # How long the solver searches for a plan: the CPU a plan costs (docs/benchmarks.md, B6).
    TPWEB_PLAN_SECONDS = float(os.environ.get("TPWEB_PLAN_SECONDS", "0.8"))
    # The local time of day a plan starts from ("HH:MM") instead of the clock: tests, demos.
    TPWEB_PLAN_NOW = os.environ.get("TPWEB_PLAN_NOW", "")
    # Reminder emails: links in them start with the public URL; the worker's queue on REDIS_URL.
    TPWEB_PUBLIC_URL = os.environ.get("TPWEB_PUBLIC_URL", "http://127.0.0.1:5000")
    TPWEB_QUEUE = os.environ.get("TPWEB_QUEUE", "tpweb")
    # How many past nights a sweep catches up after the worker was down.
    TPWEB_REMINDER_CATCHUP_DAYS = int(os.environ.get("TPWEB_REMINDER_CATCHUP_DAYS", "7"))
    # A claim older than this is a crashed sender's, and the item is tried again.
    TPWEB_REMINDER_LEASE_SECONDS = int(os.environ.get("TPWEB_REMINDER_LEASE_SECONDS", "900"))
    TPWEB_REMINDER_MAX_ATTEMPTS = 5
    # Web Push reminders: a VAPID key pair (`flask --app tpweb vapid-keys` prints one) and an
    # address the push services may write to about this installation, a real mailto: or https:
    # one (Apple refuses @localhost). Without the keys, notifications are not offered at all.
    VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "")
    VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
    VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "")
    # A phone's subscription names the push service to post to: only https, on a host name.
    # Tests turn this on for their receiver on http://127.0.0.1.
    TPWEB_PUSH_ANY_ENDPOINT = False
    TPWEB_PUSH_TIMEOUT = float(os.environ.get("TPWEB_PUSH_TIMEOUT", "10"))
    # Flask-Mailman: SMTP once MAIL_SERVER is set, otherwise the console ("file" writes to
    # MAIL_FILE_PATH), so a laptop needs no mail server.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND") or (
        "smtp" if os.environ.get("MAIL_SERVER") else "console"
    )
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _flag("MAIL_USE_TLS")
    MAIL_USE_SSL = _flag("MAIL_USE_SSL")
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "30"))
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "tpweb <reminders@localhost>")
    MAIL_FILE_PATH = os.environ.get("MAIL_FILE_PATH", str(INSTANCE / "mail"))
    # Production serving (docs/deploy.md). Pages compressed with Brotli or gzip, as the client
    # takes them; a streamed CSV export stays streamed.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_STREAMS = False
    # Static files with hashed names, precompressed, served by WhiteNoise (tpweb.web.statics);
    # Flask serves them as they are in development and tests.
    TPWEB_STATIC_BUILD = _flag("TPWEB_STATIC_BUILD", not DEVELOPMENT)
    TPWEB_STATIC_ROOT = os.environ.get("TPWEB_STATIC_ROOT", str(INSTANCE / "static"))
    # Log lines as JSON (one object a line, with the request id), or as text on a laptop.
    TPWEB_LOG_JSON = _flag("TPWEB_LOG_JSON", not DEVELOPMENT)
    # Who may read /metrics: addresses or networks, comma-separated; the client's address as
    # TPWEB_PROXIES lets the app believe it.
    METRICS_ALLOW = os.environ.get("METRICS_ALLOW", "127.0.0.1/32,::1/128")
    # Errors to Sentry: off (and sentry_sdk never imported) without a DSN.
    SENTRY_DSN = os.environ.get("SENTRY_DSN", "")


def is_weak(key):
    """A key anyone could guess: absent, short, a placeholder, or a few characters repeated."""
    if not key or len(key) < 32 or len(set(key)) < 10:
        return True
    return any(word in key.lower() for word in PLACEHOLDER_WORDS)


def _development_key(path):
    """The key kept in `path` (mode 0600), made once, so sessions outlive a restart."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        spare = path.with_name(f".{path.name}.{os.getpid()}")
        spare.unlink(missing_ok=True)
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(spare, path)  # two processes starting at once keep the first one's key
        except FileExistsError:
            pass
        finally:
            spare.unlink()
    return path.read_text().strip()


def check_secret_key(config):
    """Refuse to run outside development and tests without a strong SECRET_KEY.

    A known key lets anyone sign a session cookie as any user, an admin included.
    """
    if config.get("TESTING"):
        return
    if config.get("DEVELOPMENT") and not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _development_key(config["SECRET_KEY_FILE"])
    elif not config.get("DEVELOPMENT") and is_weak(config.get("SECRET_KEY")):
        print(WEAK_KEY, file=sys.stderr)
        raise SystemExit(CANNOT_BOOT_STATUS)


def push_enabled(config):
    """Whether Web Push is set up: both VAPID keys given."""
    return bool(config.get("VAPID_PUBLIC_KEY") and config.get("VAPID_PRIVATE_KEY"))


def check_push(config):
    """Refuse to start with VAPID keys but no real subject: push services refuse the pushes."""
    subject = config.get("VAPID_SUBJECT") or ""
    real = re.fullmatch(r"mailto:[^@\s]+@[^@\s]+\.[^@\s]+|https://[^\s/]+\.[^\s]+", subject)
    if push_enabled(config) and (not real or "localhost" in subject.lower()):
        print(
            "VAPID_SUBJECT must be a real mailto: or https: address (e.g. "
            "mailto:ops@example.com) when the VAPID keys are set",
            file=sys.stderr,
        )
        raise SystemExit(CANNOT_BOOT_STATUS)


# Plan my day's settings a plan cannot be made with, and what each must be.
PLAN_LIMITS = {
    "TPWEB_AVERAGE_SPEED_KMH": (lambda v: v > 0, "a speed above 0 km/h, e.g. 50"),
    "TPWEB_ROAD_FACTOR": (lambda v: v >= 1, "at least 1 (roads are never shorter), e.g. 1.3"),
    "TPWEB_PLAN_SECONDS": (lambda v: v > 0, "a search time above 0 seconds, e.g. 0.8"),
}


def check_plan(config):
    """Refuse to start with drive-time settings no plan can use (a speed of 0 divides by 0)."""
    wrong = [
        f"{name} must be {must} (it is {config.get(name)!r})"
        for name, (fits, must) in PLAN_LIMITS.items()
        if not isinstance(config.get(name), int | float) or not fits(config[name])
    ]
    if wrong:
        print("\n".join(wrong), file=sys.stderr)
        raise SystemExit(CANNOT_BOOT_STATUS)


# Seconds to wait for PostgreSQL to accept a connection: past that, it is unreachable.
CONNECT_TIMEOUT = 5


def apply_database_timeouts(config):
    """The lock, statement and connect timeouts, as the configured database's driver takes them."""
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    lock, statement = config["TPWEB_DB_LOCK_TIMEOUT"], config["TPWEB_DB_STATEMENT_TIMEOUT"]
    if url.get_backend_name() == "sqlite":
        timeouts = {"timeout": lock}
    elif url.get_backend_name() == "postgresql":
        # After the URL's own startup options, which connect_args would otherwise replace.
        options = url.query.get("options", "")
        options = " ".join(options) if isinstance(options, tuple) else options
        limits = f"-c lock_timeout={int(lock * 1000)} -c statement_timeout={int(statement * 1000)}"
        timeouts = {"connect_timeout": CONNECT_TIMEOUT, "options": f"{options} {limits}".strip()}
    else:
        return
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["connect_args"] = {**timeouts, **options.get("connect_args", {})}
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    # The test client speaks plain HTTP.
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_STORAGE_URI = "memory://"
    TPWEB_TILE_URL = ""
    TPWEB_TILE_PREFETCH = False
    # No geocoder, whatever the environment says: a test that wants one sets a fake client.
    TPWEB_GEOCODER = ""
    # Mail stays in memory unless a test points the app at its own SMTP server.
    MAIL_BACKEND = "locmem"
    TPWEB_PUBLIC_URL = "https://tpweb.example"
    # Plans from the estimate, in a short search, as of 07:00 (before the day's hours begin).
    TPWEB_ROUTING_URL = ""
    TPWEB_PLAN_SECONDS = 0.2
    TPWEB_PLAN_NOW = "07:00"
    # The push tests' receiver listens on http://127.0.0.1.
    TPWEB_PUSH_ANY_ENDPOINT = True
    TPWEB_STATIC_BUILD = False
    TPWEB_LOG_JSON = False
    SENTRY_DSN = ""
