"""tpweb: touchpoints for field sales teams."""

from pathlib import Path

from flask import Flask

from tpweb import logs
from tpweb.config import (
    INSTANCE,
    ROOT,
    Config,
    apply_database_timeouts,
    check_plan,
    check_push,
    check_secret_key,
)


def create_app(config=None):
    """Build the app: `config` is a config class, or a mapping laid over the environment's."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(INSTANCE),
    )
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    check_secret_key(app.config)
    check_push(app.config)
    check_plan(app.config)
    apply_database_timeouts(app.config)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    return app


def register_logging(app):
    # Tests keep pytest's own capture of log records.
    if not app.testing:
        logs.configure(json_lines=app.config["TPWEB_LOG_JSON"])


def register_extensions(app):
    from tpweb.extensions import csrf, db, htmx, limiter, login_manager, mail, migrate

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    from tpweb.domain import history
    from tpweb.web import access

    history.init(db.session, who=access.signed_in_user_id)
    mail.init_app(app)
    limiter.init_app(app)


def register_blueprints(app):
    from tpweb import web

    web.init_app(app)


def register_cli(app):
    from tpweb import cli

    app.cli.add_command(cli.create_user)
    app.cli.add_command(cli.seed_demo)
    app.cli.add_command(cli.send_reminders)
    app.cli.add_command(cli.vapid_keys)
    app.cli.add_command(cli.report)
