"""Writes that commit exactly once: one transaction per request, concurrent writers taking
turns, and a repeated Idempotency-Key answered with the stored answer."""

import functools
import hashlib
import json

from flask import Response, abort, make_response, request, session
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from tpweb.extensions import db, login_manager
from tpweb.models import IdempotencyKey

# Headers a replay must give back for the client to act as it did the first time.
REPLAYED_HEADERS = (
    "Content-Type",
    "Location",
    "HX-Trigger",
    "HX-Retarget",
    "HX-Reswap",
    # The version a touchpoint write left: a phone whose answer was lost bases its next queued
    # write to that touchpoint on it (static/sw/queue.js).
    "X-Touchpoint-Version",
)
MAX_KEY_LENGTH = 100


def write(view):
    """Commit what `view` wrote, once per Idempotency-Key, with the key in the same transaction.

    A view under this decorator never commits: an answer below 400 is committed, any other is
    rolled back. A replay of a key gets the stored answer and writes nothing; the same key with
    a different request is refused with 422. Concurrent writes take turns (`_begin_write`); one
    that a concurrent write still upsets is rolled back and run again on what that one
    committed, and after RETRIES more tries is answered 409, never 500.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method in ("GET", "HEAD"):
            return view(*args, **kwargs)  # the form to fill in: nothing to write or lock
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()):
            return Response("Idempotency-Key must be 1 to 100 printable characters.", 400)
        flashes = list(session.get("_flashes", []))
        for _ in range(1 + RETRIES):
            try:
                return _write_once(view, key, args, kwargs)
            except (StaleDataError, IntegrityError, OperationalError) as error:
                if not _raced(error):
                    raise
                _forget_attempt(flashes)
        abort(409, RACED)

    return wrapper


# How many times a write upset by a concurrent one is run again before it is refused.
RETRIES = 3
RACED = (
    "Someone else changed this at the same moment, so nothing was saved. "
    "Reload the page to see their change, and try again."
)
# PostgreSQL's codes for a concurrent write: serialization failure, deadlock, unique violation.
RACE_SQLSTATES = ("40001", "40P01", "23505")


def _write_once(view, key, args, kwargs):
    _begin_write()
    # Keys are kept per user: a visitor's write (a reminder's one-tap action, which records its
    # own token's use) has no one to keep one for, and runs as a write without a key.
    if key is None or current_user.is_anonymous:
        return _commit_or_rollback(make_response(view(*args, **kwargs)))
    fingerprint = _fingerprint()
    # A replay sent after the first answer, or one that raced it and lost (its unique key
    # taken meanwhile): both get the answer the first one stored.
    stored = _stored(key)
    if stored is not None:
        return _replay(stored, fingerprint)
    response = make_response(view(*args, **kwargs))
    if response.status_code < 400:
        db.session.add(
            IdempotencyKey(
                user_id=current_user.id,
                key=key,
                request_hash=fingerprint,
                status_code=response.status_code,
                headers=json.dumps(
                    {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
                ),
                body=response.get_data(as_text=True),
            )
        )
    return _commit_or_rollback(response)


def _begin_write():
    """Start the write's own transaction, so that concurrent writers take turns, and read the
    signed-in user again inside it: a write checks what is in the database now, not what was
    there when the request began."""
    db.session.rollback()
    if db.session.get_bind().dialect.name == "sqlite":
        # One writer at a time, from before the first read: the next one waits for the lock.
        db.session.execute(text("BEGIN IMMEDIATE"))
    else:
        # Writers run side by side, and one whose outcome would differ from some order of
        # running them one at a time (as SQLite's do) fails and runs again on what the others
        # committed. REPEATABLE READ was not enough: a rep deactivated while accounts moved to
        # them, each write reading the row the other changed, left accounts on an inactive rep.
        db.session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
    user = current_user._get_current_object()
    # is_anonymous, not is_authenticated: the latter reads `active`, which the rollback above
    # expired, and so loaded the row once more before the refresh loads it.
    if not user.is_anonymous:
        db.session.refresh(user)
        # Signed out everywhere or deactivated since the request began.
        if not user.active or user.get_id() != session.get("_user_id"):
            abort(make_response(login_manager.unauthorized()))


def _forget_attempt(flashes):
    """Undo what a failed try did, so that the next one starts as the first did."""
    db.session.rollback()
    # Only the answer that is sent may leave a message for the next page.
    session["_flashes"] = list(flashes)
    for upload in request.files.values():
        upload.stream.seek(0)


def _raced(error):
    """Whether `error` is a concurrent write's doing, which running the view again resolves."""
    if isinstance(error, StaleDataError):
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in RACE_SQLSTATES
    return getattr(error.orig, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_UNIQUE"


def _commit_or_rollback(response):
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _fingerprint():
    """The request as a view can read it: the path, the query, the form and each uploaded
    file's name and content, so that a key reused for any other request is refused."""
    # A multipart part without a name has None for a name: no form reads it, so leave it out.
    fields = sorted(
        (k, v) for k, v in request.form.items(multi=True) if k not in (None, "csrf_token")
    )
    query = sorted(request.args.items(multi=True))
    files = sorted(
        (k, upload.filename or "", _digest(upload.stream))
        for k, upload in request.files.items(multi=True)
        if k is not None
    )
    payload = json.dumps([request.method, request.path, query, fields, files])
    return hashlib.sha256(payload.encode()).hexdigest()


def _digest(stream):
    """The SHA-256 of an uploaded file, read from the start and left there for the view."""
    stream.seek(0)
    digest = hashlib.file_digest(stream, "sha256").hexdigest()
    stream.seek(0)
    return digest


def _stored(key):
    return db.session.scalar(select(IdempotencyKey).filter_by(user_id=current_user.id, key=key))


def _replay(stored, fingerprint):
    if stored.request_hash != fingerprint:
        return Response("This Idempotency-Key was already used for a different request.", 422)
    response = Response(stored.body, stored.status_code, json.loads(stored.headers))
    response.headers["Idempotent-Replayed"] = "true"
    return response
