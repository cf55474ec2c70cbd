"""Revalidation of the signed-in user's lists: a weak ETag from one cheap query, answered 304.

A phone opens its list again and again; most of the time nothing changed. The ETag is worked out
before the view's own queries, from what the page depends on:

- who asks (user, role, name, zone) and how (page or htmx fragment, query string);
- the user's today (due states change at midnight) and the deployed templates;
- one SELECT over the accounts in the list (their number and ids: reassignments), the user's
  open tasks, and the number of recent History rows on those accounts, their customers and the
  customers of the tasks' contacts. History is append-only and written for every change to an
  account, a touchpoint, a contact or a task (ORM flush hook, bulk statements, imports), so any
  change by anyone to the list adds a row there; a count, unlike max(id), also sees a
  transaction that commits after a later one;
- the number of writes this user made in this session (any that History does not see), and
  a quarter-hour bucket, which bounds how long anyone else's untracked change
  (a user renamed) can stay on a revalidated page.

A 304 costs two queries (the user and the fingerprint) whatever the size of the list.
"""

import functools
import hashlib
import time
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, make_response, request, session
from flask_login import current_user
from sqlalchemy import bindparam, text

from tpweb.extensions import db
from tpweb.models import TouchpointRecord
from tpweb.web.pages import int_arg, user_today

# How long someone else's change that History does not record may stay on a revalidated page.
UNTRACKED_BUCKET_SECONDS = 15 * 60
WRITES = "tpweb.writes"


def init_app(app):
    app.after_request(_count_writes)
    # A new deploy's templates must not be revalidated against the old ones' ETags; their
    # contents, not their times, so that every server of one deploy gives the same ETags.
    digest = hashlib.sha256()
    root = Path(app.template_folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    app.extensions["tpweb.template_stamp"] = digest.hexdigest()


def _count_writes(response):
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and response.status_code < 400
        # Not is_authenticated: that reads the user's `active`, expired by the write's commit,
        # and cost every write one more SELECT.
        and not current_user.is_anonymous
    ):
        session[WRITES] = session.get(WRITES, 0) + 1
    return response


def fragment():
    """Whether this request gets one block of its page (an htmx request that is not boosted)."""
    return bool(request.htmx) and not request.htmx.boosted


def own_lists():
    """What My tasks shows: the signed-in user's accounts and open tasks."""
    return [current_user.id], True


def widget_lists():
    """What the touchpoint widget shows: a rep's own list or a manager's chosen rep's, and for a
    whole page, the navigation's My tasks count; None (no revalidation) for a manager's list of
    everyone, which only a cheap query over every account would fingerprint."""
    if not current_user.is_manager:
        return [current_user.id], not fragment()
    rep_id = int_arg("rep")
    if rep_id is None:
        return None
    return ([rep_id], False) if fragment() else ([rep_id, current_user.id], True)


# Hand-written: it runs on every revalidation, and building and caching these statements with
# SQLAlchemy's expression language cost more than the queries themselves. Rows are tagged, so
# their order does not depend on how the database runs a UNION ALL.
ACCOUNTS = """
SELECT 1, count(*), sum(id) FROM accounts WHERE sales_rep_id IN :reps
UNION ALL
SELECT 2, count(*), 0 FROM accounts JOIN history
  ON history.account_id = accounts.id AND history.at >= :since
  WHERE accounts.sales_rep_id IN :reps
UNION ALL
SELECT 3, count(*), 0 FROM accounts JOIN history
  ON history.account_id = accounts.customer_id AND history.at >= :since
  WHERE accounts.sales_rep_id IN :reps
"""
# The signed-in user's open tasks, with the model's own definition of an open task.
MY_OPEN_TASKS = "touchpoint_records.assigned_to_id = :me AND " + str(
    TouchpointRecord.is_open_task.compile(compile_kwargs={"literal_binds": True})
)
TASKS = f"""
UNION ALL
SELECT 4, count(*), sum(id) FROM touchpoint_records WHERE {MY_OPEN_TASKS}
UNION ALL
SELECT 5, count(*), 0 FROM touchpoint_records
  JOIN contacts ON contacts.id = touchpoint_records.contact_id
  JOIN history ON history.account_id = contacts.customer_id AND history.at >= :since
  WHERE {MY_OPEN_TASKS}
"""
FINGERPRINT = {
    with_tasks: text(ACCOUNTS + (TASKS if with_tasks else "")).bindparams(
        bindparam("reps", expanding=True)
    )
    for with_tasks in (False, True)
}


def fingerprint(rep_ids, with_tasks, today):
    """One SELECT whose answer changes whenever what the lists of `rep_ids` show changes.

    The accounts of those reps (their number and ids: a reassignment), the History rows on them
    and on their customers, and `with_tasks`, the signed-in user's open tasks (number and ids)
    and the History rows on their contacts' customers.

    History is counted from two days before `today` only, so the query does not grow with the
    years of history; `today` is in the ETag, so within one ETag's life the window never moves
    and a new row always raises the count (a row is stamped when it is written, and two days
    cover any zone and any transaction).
    """
    since = datetime.combine(today - timedelta(days=2), datetime.min.time())
    params = {"me": current_user.id, "reps": rep_ids, "since": since}
    return tuple(sorted(tuple(row) for row in db.session.execute(FINGERPRINT[with_tasks], params)))


def untracked_bucket():
    """The quarter hour we are in: in the ETag, so no revalidated page outlives it."""
    return int(time.time() // UNTRACKED_BUCKET_SECONDS)


def _etag(lists):
    today = user_today()
    parts = (
        current_app.extensions["tpweb.template_stamp"],
        current_user.get_id(),
        current_user.role,
        current_user.name,
        current_user.timezone,
        session.get(WRITES, 0),
        today.isoformat(),
        untracked_bucket(),
        bool(request.htmx),
        fragment(),
        request.full_path,
        fingerprint(*lists, today),
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

    `lists` tells what the page shows (`own_lists` or `widget_lists`): the reps whose accounts
    it lists and whether it counts the user's tasks; None when the page is not revalidated.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            # A pending flash message is part of the page: render it, and do not label it.
            if request.method not in ("GET", "HEAD") or "_flashes" in session:
                return view(*args, **kwargs)
            shown = lists()
            if shown is None:
                return view(*args, **kwargs)
            etag = _etag(shown)
            if request.if_none_match.contains_weak(etag):
                return _mark(current_app.response_class(status=304), etag)
            response = make_response(view(*args, **kwargs))
            return _mark(response, etag) if response.status_code == 200 else response

        return wrapper

    return decorator
