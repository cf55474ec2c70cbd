"""The web layer: one blueprint per area, and what every view shares (pages, writes, caching,
security, errors). Areas never import each other's views; shared rules live in tpweb.domain."""

from tpweb.web import (
    access,
    accounts,
    admin,
    auth,
    caching,
    contacts,
    dashboard,
    errors,
    imports,
    notifications,
    offline,
    pages,
    plan,
    probes,
    reminders,
    reports,
    reps,
    security,
    serving,
    settings,
    tasks,
    touchpoints,
    widget,
)

AREAS = (
    auth,
    dashboard,
    touchpoints,
    accounts,
    contacts,
    tasks,
    reps,
    settings,
    imports,
    notifications,
    offline,
    plan,
    reminders,
    reports,
    probes,
)


def init_app(app):
    """Every <int:...> id bounded, then the areas' blueprints and the shared request hooks."""
    # Before any rule is added: every <int:...> id in a URL is one the database can hold.
    app.url_map.converters["int"] = pages.IdConverter
    access.init_app(app)
    for module in (*AREAS, admin, errors):
        app.register_blueprint(module.bp)
    pages.init_app(app)
    caching.init_app(app)
    security.init_app(app)
    widget.init_app(app)
    serving.init_app(app)
