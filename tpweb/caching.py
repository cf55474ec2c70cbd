"""Revalidation of the signed-in user's lists: a weak ETag from one cheap query, answered 304.

A phone opens its list again and again; most of the time nothing changed. The ETag is worked out
before the view's own queries, from what the page depends on:

- who asks (user, role, name, zone) and how (page or htmx fragment, query string);
- the user's today (due states change at midnight) and the deployed templates;
- one SELECT over the accounts in the list (their number and ids: reassignments) and the number
  of History rows on them, their customers and the customers of the user's open tasks. History
  is append-only and written for every change to an account, a touchpoint or a task (ORM flush
  hook, bulk statements, imports), so any change by anyone to the list adds a row there; a count,
  unlike max(id), also sees a transaction that commits after a later one;
- the number of writes this user made in this session (a contact the user renamed is not in
  History), and a quarter-hour bucket, which bounds how long anyone else's untracked change
  (a contact or user renamed) can stay on a revalidated page.

A 304 costs two queries (the user and the fingerprint) whatever the size of the list.
"""

import functools
import hashlib
import time
from pathlib import Path

from flask import current_app, make_response, request, session
from flask_login import current_user
from sqlalchemy import func, select, union

from .contacts.queries import OPEN
from .extensions import db
from .models import Account, Contact, History, TouchpointRecord
from .web import int_arg, user_today

# How long someone else's change that History does not record may stay on a revalidated page.
UNTRACKED_BUCKET_SECONDS = 15 * 60
WRITES = "tpweb.writes"


def init_app(app):
    app.after_request(_count_writes)
    # A new deploy's templates must not be revalidated against the old ones' ETags.
    root = Path(app.template_folder)
    stamp = sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*"))
    app.extensions["tpweb.template_stamp"] = hashlib.sha256(repr(stamp).encode()).hexdigest()


def _count_writes(response):
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and response.status_code < 400
        and current_user.is_authenticated
    ):
        session[WRITES] = session.get(WRITES, 0) + 1
    return response


def own_lists():
    """The reps whose accounts a page shows: the signed-in user's own (My tasks)."""
    return [current_user.id]


def widget_lists():
    """The reps whose touchpoints the widget shows: a rep's own; a manager's chosen rep or all."""
    if not current_user.is_manager:
        return [current_user.id]
    rep_id = int_arg("rep")
    # The page's navigation counts the manager's own due touchpoints too.
    return None if rep_id is None else [rep_id, current_user.id]


def fingerprint(rep_ids):
    """One SELECT whose answer changes whenever the lists of `rep_ids` (None: everyone) change."""
    accounts = select(Account.id)
    customers = select(Account.customer_id).where(Account.customer_id.is_not(None))
    if rep_ids is not None:
        accounts = accounts.where(Account.sales_rep_id.in_(rep_ids))
        customers = customers.where(Account.sales_rep_id.in_(rep_ids))
    open_tasks = select(TouchpointRecord.id).where(
        TouchpointRecord.assigned_to_id == current_user.id, OPEN
    )
    task_customers = (
        select(Contact.customer_id)
        .join(TouchpointRecord, TouchpointRecord.contact_id == Contact.id)
        .where(TouchpointRecord.assigned_to_id == current_user.id, OPEN)
    )
    watched = union(accounts, customers, task_customers)
    accounts, open_tasks = accounts.subquery(), open_tasks.subquery()
    return tuple(
        db.session.execute(
            select(
                select(func.count()).select_from(accounts).scalar_subquery(),
                select(func.sum(accounts.c.id)).scalar_subquery(),
                select(func.count()).select_from(open_tasks).scalar_subquery(),
                select(func.sum(open_tasks.c.id)).scalar_subquery(),
                select(func.count(History.id))
                .where(History.account_id.in_(watched))
                .scalar_subquery(),
            )
        ).one()
    )


def _etag(rep_ids):
    parts = (
        current_app.extensions["tpweb.template_stamp"],
        current_user.get_id(),
        current_user.role,
        current_user.name,
        current_user.timezone,
        session.get(WRITES, 0),
        user_today().isoformat(),
        int(time.time() // UNTRACKED_BUCKET_SECONDS),
        bool(request.htmx),
        bool(request.htmx and request.htmx.boosted),
        request.full_path,
        fingerprint(rep_ids),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _mark(response, etag):
    response.set_etag(etag, weak=True)
    # Stored by the browser only, and always revalidated: a list is never shown stale.
    response.headers["Cache-Control"] = "private, no-cache"
    # A boosted request gets the whole page at the same URL as the fragment.
    response.vary.add("HX-Boosted")
    return response


def revalidated(lists):
    """Answer a GET with 304 when its ETag still matches, before the view runs any query.

    `lists` names the reps whose lists the page shows (`own_lists` or `widget_lists`).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            # A pending flash message is part of the page: render it, and do not label it.
            if request.method not in ("GET", "HEAD") or "_flashes" in session:
                return view(*args, **kwargs)
            etag = _etag(lists())
            if request.if_none_match.contains_weak(etag):
                return _mark(current_app.response_class(status=304), etag)
            response = make_response(view(*args, **kwargs))
            return _mark(response, etag) if response.status_code == 200 else response

        return wrapper

    return decorator
