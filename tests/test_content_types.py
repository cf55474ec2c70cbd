"""Every write takes exactly the body its form means (urlencoded; multipart for the upload), and
the NUL, length, whole-number and Idempotency-Key rules hold for every way a value arrives."""

import io
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, Regexp

from tpweb.extensions import db
from tpweb.models import Touchpoint
from tpweb.web.forms import WholeNumberField

from .conftest import Database
from .csv_files import upload
from .signing_in import csrf_sign_in, csrf_token

# Bodies a form never sends: (content type, body). The attack's JSON came first.
JSON_OBJECT = ("application/json", json.dumps({"comment": 5, "last_call": 20261101}))
WRONG_BODIES = {
    "json object": JSON_OBJECT,
    "json array": ("application/json", json.dumps([{"comment": "x"}, 5])),
    "json frequency": ("application/json", json.dumps({"frequency_days": 30.7})),
    "text": ("text/plain", "comment=Typed as text"),
    "xml": ("application/xml", "<touchpoint><comment>x</comment></touchpoint>"),
    "untyped": (None, "comment=No type at all"),
    "multipart": ("multipart/form-data; boundary=B",
                  '--B\r\nContent-Disposition: form-data; name="comment"\r\n\r\nx\r\n--B--\r\n'),
}  # fmt: skip


@pytest.fixture
def world(make, rep, customer, contact, today):
    """Rep Rita, signed in, with a customer, a contact, a touchpoint and a call type."""
    return {
        "phone": make.call_type("Phone"),
        "touchpoint": make.touchpoint(customer, last_call=today - timedelta(days=10)),
        "customer": customer,
        "contact": contact,
    }


def routes(o):
    """The routes the outside tester sent JSON to, signed in as their rep."""
    tp, customer, contact = o["touchpoint"], o["customer"], o["contact"]
    return [
        f"/touchpoints/{tp.id}/edit",
        f"/touchpoints/{tp.id}/complete",
        "/settings",
        f"/contacts/{contact.id}/touchpoints",
        f"/customers/{customer.id}/contacts/new",
        f"/customers/{customer.id}/edit",
        f"/contacts/{contact.id}/edit",
    ]


def post(client, url, kind, headers=None):
    content_type, body = WRONG_BODIES[kind]
    return client.post(url, data=body.encode(), content_type=content_type, headers=headers or {})


@pytest.mark.parametrize("kind", sorted(WRONG_BODIES))
def test_a_body_no_form_sends_is_415_and_saves_nothing(client, world, kind):
    database = Database()
    for url in routes(world):
        for headers in ({}, {"HX-Request": "true", "Idempotency-Key": f"{kind}-{url}"}):
            response = post(client, url, kind, headers)
            assert response.status_code == 415, (url, response.status_code, response.text[:300])
            assert "takes a form" in response.text
            assert not database.changes(), url


@pytest.mark.parametrize("kind", sorted(WRONG_BODIES))
def test_a_visitor_posting_to_login_gets_415(app, make, kind):
    make.rep(username="typed")
    database = Database()
    visitor = app.test_client()
    response = post(visitor, "/login", kind)
    assert response.status_code == 415
    response = visitor.post(
        "/login", json={"username": "typed", "password": "correct horse", "remember": 1}
    )
    assert response.status_code == 415
    assert not database.changes()
    # Not signed in: the dashboard still sends the visitor to sign in.
    assert visitor.get("/").status_code == 302


def test_415s_to_login_are_not_counted_as_sign_in_attempts(app, make):
    user = make.rep()
    visitor = app.test_client()
    for _ in range(12):  # the limit is 9 refusals a minute from one address
        response = visitor.post("/login", data=JSON_OBJECT[1], content_type=JSON_OBJECT[0])
        assert response.status_code == 415
    form = {"username": user.username, "password": "correct horse"}
    assert visitor.post("/login", data=form).status_code == 303


def test_json_with_a_valid_csrf_header_is_still_415(client_of, make, today):
    # The attack: Flask-WTF takes the token from the header and read the JSON as the form.
    csrf_client = client_of(WTF_CSRF_ENABLED=True)
    rep = make.rep()
    tp = make.touchpoint(make.customer(rep=rep), last_call=today)
    csrf_sign_in(csrf_client, rep)
    token = csrf_token(csrf_client.get(f"/touchpoints/{tp.id}/edit").text)
    body = {"last_call": today.isoformat(), "frequency_days": 30.7, "comment": "x\x00y",
            "version": str(tp.version)}  # fmt: skip
    database = Database()
    response = csrf_client.post(
        f"/touchpoints/{tp.id}/edit", json=body, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 415
    assert not database.changes()


def test_what_browsers_htmx_and_the_offline_queue_send_is_taken(client, world):
    """The form type, with a charset or in capitals, and a bare POST with no body at all."""
    settings = {"email": "", "timezone": "America/Denver", "reminder_hour": "7",
                "delivery": "item"}  # fmt: skip
    for content_type in (
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded",
    ):
        response = client.post("/settings", data=urlencode(settings), content_type=content_type)
        assert response.status_code == 303, (content_type, response.text[:300])
    # A button's form with nothing in it: the browser sends the type with an empty body.
    empty = client.post("/logout", data=b"", content_type="application/x-www-form-urlencoded")
    assert empty.status_code == 303


def test_a_bare_post_without_a_body_is_not_refused_for_its_type(client, rep):
    assert client.post("/logout").status_code == 303


def test_the_upload_takes_multipart_and_nothing_else(client, manager):
    csv = "kind,external_id,name\r\ncustomer,CT-1,Typed Co\r\n"
    assert upload(client, csv, name="accounts.csv").status_code == 200
    database = Database()
    for content_type, body in (
        ("application/json", json.dumps({"file": csv})),
        ("text/csv", csv),
        ("text/plain", csv),
    ):
        response = client.post("/imports", data=body.encode(), content_type=content_type)
        assert response.status_code == 415, content_type
    # The confirmation is a plain form: multipart there is refused.
    response = client.post(
        "/imports/confirm", data={"payload": "x", "file": (io.BytesIO(b"x"), "a.csv")}
    )
    assert response.status_code == 415
    assert not database.changes()


# NUL, wherever it arrives


def test_a_nul_in_the_path_query_file_name_or_header_is_400(client, manager):
    database = Database()
    assert client.get("/exports/accounts%00.csv").status_code == 400
    assert client.post("/exports/accounts%00.csv").status_code == 400
    assert client.post("/imports?next=%00", data={}).status_code == 400
    csv = "kind,external_id,name\r\ncustomer,NUL-1,Nul Co\r\n"
    assert upload(client, csv, name="acc\x00ounts.csv").status_code == 400
    response = client.post(
        "/imports", data={"fi\x00le": (io.BytesIO(csv.encode()), "accounts.csv")}
    )
    assert response.status_code == 400
    response = client.get("/customers", headers={"HX-Request": "true", "HX-Target": "a\x00b"})
    assert response.status_code == 400
    assert not database.changes()


# Idempotency-Key: the same key for a different request is refused, never replayed


def test_a_reused_key_with_another_query_is_refused(client, rep):
    form = {"email": "", "timezone": "America/Denver", "reminder_hour": "7", "delivery": "item"}
    first = client.post("/settings?from=a", data=form, headers={"Idempotency-Key": "q-1"})
    assert first.status_code == 303
    again = client.post("/settings?from=a", data=form, headers={"Idempotency-Key": "q-1"})
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = client.post("/settings?from=b", data=form, headers={"Idempotency-Key": "q-1"})
    assert other.status_code == 422
    assert "Idempotent-Replayed" not in other.headers


def test_a_reused_key_with_another_file_is_refused(client, manager):
    first_csv = "kind,external_id,name\r\ncustomer,KEY-1,First Co\r\n"
    other_csv = "kind,external_id,name\r\ncustomer,KEY-2,Second Co\r\ncustomer,KEY-3,Third\r\n"
    key = {"Idempotency-Key": "file-1"}
    first = upload(client, first_csv, name="accounts.csv", headers=key)
    assert first.status_code == 200
    again = upload(client, first_csv, name="accounts.csv", headers=key)
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = upload(client, other_csv, name="accounts.csv", headers=key)
    assert other.status_code == 422
    assert "Idempotent-Replayed" not in other.headers
    renamed = upload(client, first_csv, name="renamed.csv", headers=key)
    assert renamed.status_code == 422


# Whole numbers: refused beside the field, never rounded


def field_error(response, field):
    return response.text.split(f'name="{field}"')[1].split("</label>")[0]


@pytest.mark.parametrize("value", ["30.7", "1e3", " 30", "30 ", "+30", "3_0", "٣٠", "0x1e", "30d"])
def test_a_frequency_that_is_not_a_whole_number_is_refused_beside_the_field(
    client, world, today, value
):
    tp = world["touchpoint"]
    before = (tp.last_call, tp.frequency_days, tp.next_call, tp.version)
    form = {"last_call": today.isoformat(), "frequency_days": value, "next_call": "",
            "comment": "", "version": str(tp.version)}  # fmt: skip
    response = client.post(f"/touchpoints/{tp.id}/edit", data=form)
    assert response.status_code == 422
    assert "Enter a whole number, in digits only (like 30)." in field_error(
        response, "frequency_days"
    )
    db.session.expire_all()
    tp = db.session.get(Touchpoint, tp.id)
    assert (tp.last_call, tp.frequency_days, tp.next_call, tp.version) == before


@pytest.mark.parametrize("value", ["15.5", "1e1", " 15"])
def test_a_duration_that_is_not_a_whole_number_is_refused_beside_the_field(
    client, world, today, value
):
    tp = world["touchpoint"]
    database = Database()
    form = {"called_on": today.isoformat(), "duration_minutes": value,
            "call_type": str(world["phone"].id),
            "contact_id": "0", "notes": ""}  # fmt: skip
    response = client.post(f"/touchpoints/{tp.id}/complete", data=form)
    assert response.status_code == 422
    assert "Enter a whole number" in field_error(response, "duration_minutes")
    assert not database.changes()


def test_whole_numbers_still_save(client, world, today):
    tp = world["touchpoint"]
    form = {"last_call": today.isoformat(), "frequency_days": "30", "next_call": "",
            "comment": "", "version": str(tp.version)}  # fmt: skip
    assert client.post(f"/touchpoints/{tp.id}/edit", data=form).status_code == 303
    db.session.expire_all()
    assert db.session.get(Touchpoint, tp.id).frequency_days == 30


# The rules hold for every form, not only the ones the tester tried


def every_form_field():
    """(form, field name, unbound field) for every field of every form class of the app."""

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for form in sorted(set(subclasses(FlaskForm)), key=lambda c: f"{c.__module__}.{c.__name__}"):
        for name in dir(form):
            field = getattr(form, name)
            if isinstance(field, UnboundField):
                yield form, name, field


def test_every_text_field_has_a_length_and_every_count_is_a_whole_number(app):
    """A new text field with no maximum, or a count read by int() (" 30", "3_0"), fails here."""
    wrong = []
    for form, name, field in every_form_field():
        positional = field.args[1] if len(field.args) > 1 else []
        validators = field.kwargs.get("validators") or positional
        where = f"{form.__module__}.{form.__name__}.{name}"
        if (
            issubclass(field.field_class, IntegerField)
            and field.field_class is not WholeNumberField
        ):
            wrong.append(f"{where}: an IntegerField; use WholeNumberField")
        bounded = [v for v in validators if isinstance(v, (Length, Regexp))]
        typed = issubclass(field.field_class, StringField)
        if typed and not issubclass(field.field_class, HiddenField) and not bounded:
            wrong.append(f"{where}: text with no Length(max=...)")
    assert not wrong, "\n".join(wrong)
