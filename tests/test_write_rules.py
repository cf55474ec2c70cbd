"""The parts of the `write` decorator, asked directly (kept by mutation testing): which errors are
a concurrent write's, what an Idempotency-Key's request is, what a replay answers, what a failed
try leaves behind, and when a write is committed."""

import hashlib
import io
import json

import pytest
import sqlalchemy as sa
from flask import Response, get_flashed_messages, session, url_for
from flask_login import login_user
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest
from werkzeug.routing import ValidationError

from tpweb.domain import history
from tpweb.extensions import db
from tpweb.models import Account, IdempotencyKey, Touchpoint
from tpweb.web import pages, writes


class Orig(Exception):
    """A driver's error as SQLAlchemy wraps it: PostgreSQL's carries a SQLSTATE, SQLite's a name."""

    def __init__(self, sqlstate=None, sqlite_errorname=None):
        super().__init__("driver error")
        if sqlstate is not None:
            self.sqlstate = sqlstate
        if sqlite_errorname is not None:
            self.sqlite_errorname = sqlite_errorname


def wrapped(kind, **orig):
    return kind("INSERT ...", {}, Orig(**orig))


@pytest.mark.parametrize(
    ("error", "raced"),
    [
        (StaleDataError("version changed"), True),
        (wrapped(OperationalError, sqlstate="40001"), True),  # serialization failure
        (wrapped(OperationalError, sqlstate="40P01"), True),  # deadlock
        (wrapped(IntegrityError, sqlstate="23505"), True),  # unique violation
        (wrapped(IntegrityError, sqlstate="23503"), False),  # foreign key: a bad request
        (wrapped(IntegrityError, sqlstate="23514"), False),  # check: a bad request
        (wrapped(OperationalError, sqlstate="55P03"), False),  # lock timeout: busy, a 503
        (wrapped(IntegrityError, sqlite_errorname="SQLITE_CONSTRAINT_UNIQUE"), True),
        (wrapped(IntegrityError, sqlite_errorname="SQLITE_CONSTRAINT_CHECK"), False),
        (wrapped(OperationalError, sqlite_errorname="SQLITE_BUSY"), False),
        (wrapped(OperationalError), False),
    ],
)
def test_only_a_concurrent_writes_doing_is_run_again(error, raced):
    assert writes._raced(error) is raced


def test_a_real_unique_violation_is_a_race_and_a_real_check_violation_is_not(app, make):
    user = make.rep()
    tp = make.touchpoint(make.customer(rep=user))
    row = dict(user_id=user.id, key="k", request_hash="h", status_code=303, body="", headers="{}")
    with pytest.raises(IntegrityError) as unique:
        db.session.execute(sa.insert(IdempotencyKey), [row, row])
    db.session.rollback()
    assert writes._raced(unique.value)
    with pytest.raises(IntegrityError) as check:
        db.session.execute(
            sa.update(Touchpoint).where(Touchpoint.id == tp.id).values(frequency_days=0),
            execution_options={"history": history.NOT_A_CHANGE},
        )
    db.session.rollback()
    assert not writes._raced(check.value)


def fingerprint(app, path="/t/1/complete", query="", data=None, method="POST"):
    with app.test_request_context(f"{path}?{query}", method=method, data=data or {}):
        return writes._fingerprint()


def test_a_fingerprint_is_the_request_a_view_reads(app):
    base = fingerprint(app, data={"a": "1", "b": "2"})
    assert base == fingerprint(app, data={"b": "2", "a": "1"})  # the fields' order is no matter
    assert base == fingerprint(app, data={"a": "1", "b": "2", "csrf_token": "another"})
    assert len({
        base,
        fingerprint(app, data={"a": "1", "b": "3"}),
        fingerprint(app, data={"a": "1"}),
        fingerprint(app, path="/t/2/complete", data={"a": "1", "b": "2"}),
        fingerprint(app, query="x=1", data={"a": "1", "b": "2"}),
        fingerprint(app, method="PUT", data={"a": "1", "b": "2"}),
    }) == 6  # fmt: skip


def test_a_fingerprint_covers_each_uploaded_files_name_and_content(app):
    def upload(name, content, field="file"):
        return fingerprint(app, data={field: (io.BytesIO(content), name)})

    base = upload("a.csv", b"x,y\n")
    assert base == upload("a.csv", b"x,y\n")
    assert len({base, upload("b.csv", b"x,y\n"), upload("a.csv", b"x,z\n"),
                upload("a.csv", b"x,y\n", field="other")}) == 4  # fmt: skip


def test_a_files_digest_reads_it_all_and_leaves_it_at_its_start(tmp_path):
    # A real file, as a large upload is spooled to (a BytesIO is hashed whatever its position).
    stream = open(tmp_path / "upload.csv", "w+b")  # noqa: SIM115
    stream.write(b"name,phone\nAcme,555\n")
    stream.seek(5)
    assert writes._digest(stream) == hashlib.sha256(b"name,phone\nAcme,555\n").hexdigest()
    assert stream.tell() == 0
    stream.close()


def test_a_repeated_field_or_file_is_part_of_the_fingerprint(app):
    twice = fingerprint(app, query="a=1&a=2", data={"b": ["1", "2"]})
    assert twice != fingerprint(app, query="a=1", data={"b": ["1", "2"]})
    assert twice != fingerprint(app, query="a=1&a=2", data={"b": "1"})
    two_files = {"file": [(io.BytesIO(b"1"), "a.csv"), (io.BytesIO(b"2"), "b.csv")]}
    one_file = {"file": [(io.BytesIO(b"1"), "a.csv")]}
    assert fingerprint(app, data=two_files) != fingerprint(app, data=one_file)


def stored(**fields):
    fields = {"key": "k", "user_id": 1, "request_hash": "abc", "status_code": 303, "body": "done",
              "headers": json.dumps({"Location": "/touchpoints"}), **fields}  # fmt: skip
    return IdempotencyKey(**fields)


def test_a_replay_gives_the_stored_answer_marked_as_replayed(app):
    with app.test_request_context("/"):
        answer = writes._replay(stored(), "abc")
    assert answer.status_code == 303
    assert answer.get_data(as_text=True) == "done"
    assert answer.headers["Location"] == "/touchpoints"
    assert answer.headers["Idempotent-Replayed"] == "true"


def test_a_key_reused_for_another_request_is_refused(app):
    with app.test_request_context("/"):
        answer = writes._replay(stored(), "another")
    assert answer.status_code == 422
    assert answer.get_data(as_text=True) == (
        "This Idempotency-Key was already used for a different request."
    )
    assert "Idempotent-Replayed" not in answer.headers


def test_a_key_is_found_for_its_own_user_only(app, make):
    ann, bob = make.rep(), make.rep()
    db.session.add(stored(user_id=ann.id))
    db.session.commit()
    with app.test_request_context("/"):
        login_user(ann)
        assert writes._stored("k").user_id == ann.id
        assert writes._stored("other") is None
    with app.test_request_context("/"):
        login_user(bob)
        assert writes._stored("k") is None


@pytest.mark.parametrize(
    ("status", "kept"),
    [(200, True), (303, True), (399, True), (400, False), (409, False), (422, False)],
)
def test_a_write_is_committed_only_for_a_success(app, make, status, kept):
    account = make.customer(name="Before")
    account.name = "After"
    with app.test_request_context("/"):
        assert writes._commit_or_rollback(Response("", status)).status_code == status
    db.session.expire_all()
    assert db.session.get(Account, account.id).name == ("After" if kept else "Before")


def test_a_failed_try_leaves_no_message_no_change_and_the_upload_at_its_start(app, make):
    account = make.customer(name="Before")
    upload = FileStorage(io.BytesIO(b"a,b\n"), filename="a.csv", name="file")
    with app.test_request_context("/", method="POST", data={"file": upload}):
        session["_flashes"] = [("info", "from the page before")]
        before = list(session["_flashes"])
        account.name = "Changed by the failed try"
        db.session.flush()
        session["_flashes"].append(("error", "from the failed try"))
        request_file = writes.request.files["file"]
        request_file.stream.read()
        writes._forget_attempt(before)
        assert get_flashed_messages(with_categories=True) == [("info", "from the page before")]
        assert request_file.stream.tell() == 0
    db.session.expire_all()
    assert db.session.get(Account, account.id).name == "Before"


def written(app, user, view, key="key-1"):
    """`view` run under `write` as a POST with `key`, signed in as `user`."""
    with app.test_request_context("/t", method="POST", headers={"Idempotency-Key": key}):
        login_user(user)
        session["_user_id"] = user.get_id()
        return writes.write(view)()


def test_a_keyed_success_is_stored_with_the_headers_a_replay_needs(app, make):
    user = make.rep()

    def view():
        return Response("made ✓", 303, {"Location": "/touchpoints", "X-Not-Replayed": "1"})

    assert written(app, user, view).status_code == 303
    [row] = db.session.scalars(sa.select(IdempotencyKey)).all()
    assert (row.user_id, row.key, row.status_code, row.body) == (user.id, "key-1", 303, "made ✓")
    assert json.loads(row.headers) == {"Content-Type": "text/html; charset=utf-8",
                                       "Location": "/touchpoints"}  # fmt: skip
    again = written(app, user, view)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.status_code, again.headers["Location"]) == (303, "/touchpoints")
    assert again.get_data(as_text=True) == "made ✓"


@pytest.mark.parametrize("status", [400, 401, 409, 422])
def test_a_keyed_refusal_is_not_stored_and_runs_again(app, make, status):
    user = make.rep()
    runs = []

    def view():
        runs.append(1)
        return Response("no", status)

    assert written(app, user, view).status_code == status
    assert written(app, user, view).status_code == status
    assert len(runs) == 2
    assert db.session.scalars(sa.select(IdempotencyKey)).all() == []


# The request helpers beside `write` -----------------------------------------------------------


def arg(app, query, read):
    with app.test_request_context(f"/?{query}"):
        return read()


@pytest.mark.parametrize(
    ("query", "value"),
    [("", 7), ("n=", 7), ("n=1", 1), ("n=50", 50), ("n=100", 100), ("other=3", 7)],
)
def test_a_whole_number_argument_within_its_bounds(app, query, value):
    assert arg(app, query, lambda: pages.int_arg("n", default=7, low=1, high=100)) == value


@pytest.mark.parametrize("raw", ["0", "101", "-1", "1.5", "1e2", " 5", "²", "x"])
def test_a_whole_number_argument_outside_its_bounds_is_a_400_that_says_them(app, raw):
    with pytest.raises(BadRequest) as refused:
        arg(app, f"n={raw}", lambda: pages.int_arg("n", default=7, low=1, high=100))
    assert refused.value.description == "n must be a whole number from 1 to 100."


def test_a_whole_number_argument_has_sane_default_bounds(app):
    assert arg(app, "n=1", lambda: pages.int_arg("n")) == 1
    assert arg(app, "n=1000000", lambda: pages.int_arg("n")) == 1_000_000
    assert arg(app, "", lambda: pages.int_arg("n")) is None
    for raw in ("0", "1000001"):
        with pytest.raises(BadRequest) as refused:
            arg(app, f"n={raw}", lambda: pages.int_arg("n"))
        assert refused.value.description == "n must be a whole number from 1 to 1000000."


def test_a_whole_number_is_ascii_digits_of_at_most_its_length():
    assert pages.whole_number("0") == 0
    assert pages.whole_number("9" * 18) == int("9" * 18)
    assert pages.whole_number("1" * 19) is None
    assert pages.whole_number("12", digits=2) == 12
    assert pages.whole_number("123", digits=2) is None
    for raw in ("", "-1", "+1", "1.0", "١٢", "²", " 1"):
        assert pages.whole_number(raw) is None


def test_a_choice_argument_is_one_of_its_choices(app):
    choices = ("due", "all")
    assert arg(app, "show=all", lambda: pages.choice_arg("show", choices, default="due")) == "all"
    assert arg(app, "", lambda: pages.choice_arg("show", choices, default="due")) == "due"
    assert arg(app, "show=", lambda: pages.choice_arg("show", choices, default="due")) == "due"
    assert arg(app, "", lambda: pages.choice_arg("show", choices)) is None
    with pytest.raises(BadRequest) as refused:
        arg(app, "show=ALL", lambda: pages.choice_arg("show", choices, default="due"))
    assert refused.value.description == "show must be one of due, all."


def test_an_id_in_a_url_is_at_most_the_largest_a_table_holds(app, make):
    account = make.customer()
    client = app.test_client()
    assert client.get(f"/customers/{2**31}").status_code == 404  # no route, not a 500
    converter = pages.IdConverter(app.url_map)
    assert converter.to_python("2147483647") == 2147483647
    assert converter.to_url(account.id) == str(account.id)
    with pytest.raises(ValidationError):
        converter.to_python("2147483648")
    # No minimum and no fixed width: an id is any of its digits, unsigned (the regex says so).
    assert (converter.to_python("0"), converter.to_python("007")) == (0, 7)
    assert converter.regex == r"\d+"


def test_every_answer_varies_on_the_htmx_header(app):
    answer = pages._add_vary(Response("x", headers={"Vary": "Accept-Encoding"}))
    assert set(answer.vary) == {"Accept-Encoding", "HX-Request"}


def test_a_boosted_request_gets_the_whole_page_and_a_swap_only_its_block(client):
    whole = client.get("/login", headers={"HX-Request": "true", "HX-Boosted": "true"})
    block = client.get("/login", headers={"HX-Request": "true"})
    assert whole.status_code == block.status_code == 200
    assert "<html" in whole.get_data(as_text=True).lower()
    assert "<html" not in block.get_data(as_text=True).lower()
    assert 'name="username"' in block.get_data(as_text=True)


def test_a_rows_url_is_url_for_with_its_own_id_and_values(app):
    with app.test_request_context("/"):
        assert pages.row_url("contacts.show", "contact_id", 5) == url_for(
            "contacts.show", contact_id=5
        )
        # Each endpoint and set of values has its own pattern, in the same request.
        assert pages.row_url("contacts.create_record", "contact_id", 6) == "/contacts/6/touchpoints"
        assert pages.row_url("contacts.show", "contact_id", 7, q="50% off") == url_for(
            "contacts.show", contact_id=7, q="50% off"
        )
        assert pages.row_url("contacts.show", "contact_id", 8, q="a") == "/contacts/8?q=a"
