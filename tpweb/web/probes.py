"""For the operator: /healthz (the process answers), /readyz (the database answers, its schema is
at head, Redis answers when configured) and /metrics (Prometheus, from allowed addresses only).

None needs a sign-in, none shows data, each costs a query or two. /readyz and a refused /metrics
answer a short reason in plain text.
"""

import ipaddress

from flask import Blueprint, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from tpweb.extensions import db
from tpweb.schema import behind
from tpweb.web import metrics

bp = Blueprint("probes", __name__)

PLAIN = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
# A probe must answer quickly even when Redis does not.
REDIS_TIMEOUT = 1


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return "ok\n", 200, PLAIN


@bp.get("/readyz")
def readyz():
    """Ready to serve: 200, or 503 with what is wrong."""
    problems = []
    try:
        with db.engine.connect() as connection:
            reason = behind(connection)
        if reason:
            problems.append(f"database: {reason}")
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        problems.append(f"database: unreachable ({type(cause).__name__})")
    if current_app.config.get("REDIS_URL"):
        try:
            redis().ping()
        except (RedisError, OSError) as error:
            problems.append(f"redis: unreachable ({type(error).__name__})")
    if problems:
        return "\n".join(problems) + "\n", 503, PLAIN
    return "ready\n", 200, PLAIN


def redis():
    """A client of REDIS_URL with short timeouts, one per app."""
    if "tpweb.probes_redis" not in current_app.extensions:
        current_app.extensions["tpweb.probes_redis"] = Redis.from_url(
            current_app.config["REDIS_URL"],
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
        )
    return current_app.extensions["tpweb.probes_redis"]


@bp.get("/metrics")
def metrics_page():
    """Prometheus metrics, for the addresses METRICS_ALLOW names; anyone else gets a 404."""
    if not allowed(request.remote_addr):
        abort(404)
    registry = metrics.registry(redis() if current_app.config.get("REDIS_URL") else None)
    return generate_latest(registry), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def allowed(address):
    """Whether `address` is in METRICS_ALLOW, and the request did not come through a proxy the
    app was not told to believe (TPWEB_PROXIES): then every client would look like the proxy."""
    if not current_app.config["TPWEB_PROXIES"] and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    ):
        return False
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(client in network for network in networks(current_app.config["METRICS_ALLOW"]))


def networks(setting):
    parts = [part.strip() for part in setting.split(",")]
    return [ipaddress.ip_network(part, strict=False) for part in parts if part]
