"""What serving adds around every request: an id for each (tpweb.logs), compressed answers,
request metrics, hashed and precompressed static files in production, and Sentry with a DSN."""

from flask import request

from tpweb import logs
from tpweb.extensions import compress
from tpweb.web import metrics, statics


def init_app(app):
    # First of the request hooks, so that a request refused early has its id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _name_request)
    app.after_request(_answer_request_id)
    app.teardown_request(_forget_request_id)
    compress.init_app(app)
    metrics.init_app(app)
    if app.config["TPWEB_STATIC_BUILD"]:
        statics.init_app(app)
    if app.config["SENTRY_DSN"]:
        _sentry(app.config)


def _name_request():
    request.environ["tpweb.request_id"] = logs.choose_request_id(request.headers.get(logs.HEADER))
    logs.request_id.set(request.environ["tpweb.request_id"])


def _answer_request_id(response):
    response.headers[logs.HEADER] = request.environ.get("tpweb.request_id", "")
    return response


def _forget_request_id(error=None):
    logs.request_id.set(None)


def _sentry(config):
    """Errors to Sentry: imported here only, so with no DSN the SDK is never loaded."""
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=config["SENTRY_DSN"],
        integrations=[FlaskIntegration()],
        environment="development" if config.get("DEVELOPMENT") else "production",
        # Errors only: no performance tracing, and no user data unless an operator adds it.
        traces_sample_rate=0,
        send_default_pii=False,
    )
