"""Offline-first: the web app manifest, the service worker, and what a phone keeps for offline use.

The service worker (static/sw.js) and its page side (static/offline.js) are static files, so the
Content-Security-Policy keeps script-src 'self'. This module serves them what they need to know:

- /sw.js, at the root so its scope is the whole app; its URL carries the version of the app shell,
  so a deploy that changes a shell file installs a new worker with a new precache;
- /offline/shell: the shell's files and the app's own URLs the worker needs (writes it may queue,
  as templates with an `{id}`; where to sign in), and the markup of a queued write's placeholder
  (templates/offline/pending.html), public, as the worker installs before anyone signs in;
- (X-Touchpoint-Version, on the answers of Complete and Edit, is set by their views:
  tpweb.web.touchpoints.views.versioned);
- /offline/urls: for the signed-in user, the pages and htmx fragments of the coming week to keep,
  and a fresh CSRF token for sending queued writes;
- /offline (the page shown for a page that was never saved) and /offline/attention (the writes the
  server refused, rendered on the phone from IndexedDB).
"""

import hashlib
from datetime import timedelta
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import and_, or_, select

from tpweb.domain.scope import contacts_for
from tpweb.domain.tasks import MAX_PAGES as MAX_TASK_PAGES
from tpweb.domain.tasks import my_open_records
from tpweb.domain.touchpoints import active_touchpoints
from tpweb.extensions import db
from tpweb.models import Contact, Plan, Touchpoint, TouchpointRecord
from tpweb.web.assets import CLUSTER, LEAFLET
from tpweb.web.pages import link, render, task_count, url_pattern, user_today

bp = Blueprint("offline", __name__)

# The touchpoints whose pages a phone keeps: due within this many days (and every overdue one).
DAYS_AHEAD = 7
# Bounds what a refresh fetches, whatever the size of the list: the most urgent come first.
MAX_TOUCHPOINTS = 60
MAX_TASKS = 60
THEME_COLOUR = "#007a50"  # Pico's jade, the app's primary colour
# Everything a page or the map's frame loads from static/; tests/test_offline.py checks that
# every static file the app's pages name is here.
SHELL_FILES = (
    "vendor/pico-2.1.1.jade.min.css",
    "app.css",
    "map.css",
    "offline.css",
    "vendor/htmx-2.0.11.min.js",
    "map.js",
    "offline.js",
    "map-frame.css",
    "map-frame.js",
    "plan.css",
    "plan.js",
    "plan-frame.js",
    "copy.js",
    "offline/bar.js",
    "offline/attention.js",
    "offline/forms.js",
    "offline/pending.js",
    "offline/cards.js",
    "offline/calls.js",
    "offline/schedule.js",
    "push.js",
    "offline/pins.js",
    "bulk.js",
    LEAFLET + "leaflet.js",
    LEAFLET + "leaflet.css",
    CLUSTER + "leaflet.markercluster.js",
    CLUSTER + "MarkerCluster.css",
    "icons/icon-192.png",
    "icons/icon-512.png",
)

# The service worker (a module worker) and every module it imports: the browser keeps them itself.
WORKER_FILES = (
    "sw.js",
    "sw/config.js",
    "sw/store.js",
    "sw/queue.js",
    "sw/writes.js",
    "sw/kept.js",
    "sw/refresh.js",
    "sw/pages.js",
    "sw/tiles.js",
    "sw/push.js",
    "vendor/workbox-7.4.1/workbox.js",
    "vendor/idb-8.0.4/index.js",
)


# The answers that show one touchpoint at a version a queued write may be based on.
def shell_version():
    """A digest of the shell's files and the worker's code, worked out once per process."""
    if "tpweb.offline_version" not in current_app.extensions:
        digest = hashlib.sha256()
        for name in (*SHELL_FILES, *WORKER_FILES):
            content = Path(current_app.static_folder, name).read_bytes()
            digest.update(name.encode() + b"\0" + content)
        current_app.extensions["tpweb.offline_version"] = digest.hexdigest()[:16]
    return current_app.extensions["tpweb.offline_version"]


@bp.app_template_global()
def offline_worker_url():
    """Where the page registers the service worker: its version and its settings in the URL."""
    return link("offline.service_worker", v=shell_version(), shell=link("offline.shell"))


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest, so the app installs on a phone's home screen."""
    icons = [
        {
            "src": url_for("static", filename=f"icons/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }
        for size, purpose in ((192, "any"), (512, "any"), (512, "maskable"))
    ]
    response = jsonify(
        name="tpweb Touchpoints",
        short_name="Touchpoints",
        description="Your customers and jobsites, due touchpoints and tasks, online or not.",
        id=url_for("dashboard.index"),
        start_url=url_for("dashboard.index"),
        scope=url_for("dashboard.index"),
        display="standalone",
        background_color="#ffffff",
        theme_color=THEME_COLOUR,
        icons=icons,
    )
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the root so that its scope can be the whole app."""
    # Read whole (it is small): a streamed file would stay open in a test client's hands.
    script = Path(current_app.static_folder, "sw.js").read_bytes()
    response = current_app.response_class(script, mimetype="text/javascript")
    response.add_etag()
    response.headers["Service-Worker-Allowed"] = url_for("dashboard.index")
    # The browser checks for a new worker on every visit; no cache may answer for the server.
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/offline/shell")
def shell():
    """The app shell to precache, and the app's URLs the worker needs to know."""
    writes = [
        _template("touchpoints.complete", "touchpoint_id"),
        _template("touchpoints.edit", "touchpoint_id"),
        _template("contacts.create_record", "contact_id"),
        _template("tasks.respond", "record_id"),
    ]
    response = jsonify(
        version=shell_version(),
        files=[
            *(url_for("static", filename=name) for name in SHELL_FILES),
            url_for(".manifest"),
            url_for(".page"),
        ],
        static=url_for("static", filename=""),
        offline=url_for(".page"),
        urls=url_for(".urls"),
        login=url_for("auth.login"),
        logout=url_for("auth.logout"),
        # The queueable writes, each with {id} standing for the id.
        writes=dict(zip(("complete", "edit", "record", "response"), writes, strict=True)),
        # Step two of Complete, which a queued step one answers with (from the kept copy).
        step_two=_template("touchpoints.edit", "touchpoint_id", logged=1),
        pending=render_template("offline/pending.html"),
        # The map's tile URL template ("" for none): the worker keeps the tiles a phone has shown.
        tiles=current_app.config["TPWEB_TILE_URL"],
        # Whether to keep the tiles around the week's accounts before a visit (the operator's own
        # tile server only: config.tile_prefetch); /offline/urls then names their places.
        tile_prefetch=_tile_prefetch(),
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def _tile_prefetch():
    config = current_app.config
    return bool(config.get("TPWEB_TILE_PREFETCH") and config["TPWEB_TILE_URL"])


def _template(endpoint, id_name, **values):
    """The endpoint's URL with `{id}` in the place of its id."""
    return url_pattern(endpoint, id_name, **values).replace("%d", "{id}").replace("%%", "%")


@bp.get("/offline")
def page():
    """Shown in place of a page that was never saved on this phone, when there is no network."""
    response = make_response(render("offline/page.html", "content"))
    # The worker keeps this page as it installs, which is often while the rep signs in: an answer
    # that set the session cookie (Flask-Login marks an anonymous session, the CSRF token is
    # stored) could put back the session the sign-in had just replaced.
    session.modified = False
    return response


@bp.get("/offline/attention")
def attention():
    """Needs your attention: writes made offline that the server refused. Filled in on the phone."""
    return render("offline/attention.html", "content")


@bp.get("/offline/urls")
def urls():
    """What this phone keeps for offline use: the pages and forms of the user's coming week."""
    today = user_today()
    touchpoints = (
        db.session.scalars(
            active_touchpoints(current_user, rep_id=current_user.id)
            .where(Touchpoint.next_call <= today + timedelta(days=DAYS_AHEAD))
            .order_by(Touchpoint.next_call, Touchpoint.id)
            .limit(MAX_TOUCHPOINTS)
        )
        .unique()
        .all()
    )
    pages = [
        url_for("dashboard.index"),
        url_for("touchpoints.index", view="list"),
        url_for("touchpoints.index", view="map"),
        url_for("touchpoints.map_frame"),
        url_for("tasks.index"),
        url_for(".attention"),
        url_for("plan.index"),
    ]
    # Today's plan and its map, when there is one (the plan's stops are among the touchpoints).
    plan = db.session.scalar(
        select(Plan.id).where(Plan.rep_id == current_user.id, Plan.day == today)
    )
    if plan is not None:
        pages.append(url_for("plan.frame", plan_id=plan))
    # The widget's tabs and List | Map switch ask for these as htmx fragments.
    fragments = [url_for("touchpoints.index", view="map")] + [
        url_for("touchpoints.index", view="list", state=state)
        for state in (None, "overdue", "due-today", "upcoming")
    ]
    customer_ids = set()
    for tp in touchpoints:
        account = tp.account
        customer_ids.add(account.customer_id or account.id)
        pages += [
            url_for("touchpoints.show", touchpoint_id=tp.id),
            url_for("accounts.show", kind=account.kind, account_id=account.id),
        ]
        # Complete (both steps), Reschedule, and the card Cancel brings back.
        fragments += [
            url_for("touchpoints.complete", touchpoint_id=tp.id),
            url_for("touchpoints.edit", touchpoint_id=tp.id, logged=1),
            url_for("touchpoints.edit", touchpoint_id=tp.id),
            url_for("touchpoints.show", touchpoint_id=tp.id),
        ]
    tasks = db.session.scalars(
        my_open_records(current_user)
        .order_by(TouchpointRecord.date_due, TouchpointRecord.id)
        .limit(MAX_TASKS)
    ).all()
    # A task's contact too, but only one the user may open: a task may be theirs on another's.
    contacts = db.session.scalars(
        contacts_for(current_user)
        .where(
            or_(
                and_(Contact.customer_id.in_(customer_ids), Contact.active),
                Contact.id.in_([task.contact_id for task in tasks]),
            )
        )
        .order_by(Contact.id)
    ).all()
    for contact in contacts:
        pages.append(url_for("contacts.show", contact_id=contact.id))
        fragments.append(url_for("contacts.create_record", contact_id=contact.id))
    fragments += [url_for("tasks.respond", record_id=task.id) for task in tasks]
    # My tasks comes a page at a time: the next pages, as its Show more asks htmx for them.
    task_pages = min(-(-task_count() // current_app.config["PAGE_SIZE"]), MAX_TASK_PAGES)
    fragments += [url_for("tasks.index", page=page) for page in range(2, task_pages + 1)]
    # Where the week's accounts are, for a phone to keep their streets (TPWEB_TILE_PREFETCH).
    places = [
        [tp.account.latitude, tp.account.longitude]
        for tp in touchpoints
        if tp.account.latitude is not None and tp.account.longitude is not None
    ]
    response = jsonify(
        user=current_user.id,
        csrf_token=generate_csrf(),
        touchpoints=len(touchpoints),
        places=list(map(list, dict.fromkeys(map(tuple, places)))) if _tile_prefetch() else [],
        pages=list(dict.fromkeys(pages)),
        fragments=list(dict.fromkeys(fragments)),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
