"""Import and export in the app: upload, preview, confirm; downloads; managers only."""

import csv
import io
import random
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from tpweb.domain.csvio import importer
from tpweb.extensions import db
from tpweb.models import (
    Account,
    CallLog,
    Contact,
    History,
    IdempotencyKey,
    Touchpoint,
    TouchpointRecord,
)
from tpweb.web import imports

from .conftest import snapshot
from .csv_files import contact, csv_text, customer, upload

TEAM = (
    "kind,external_id,customer_external_id,name,email,sales_rep,account_kind,account_external_id,"
    "last_call,frequency_days\r\n"
    "customer,C1,,Acme Paving,,ann,,,,\r\n"
    "jobsite,J1,C1,Acme North,,ann,,,,\r\n"
    "contact,P1,C1,Zoë Diaz,zoe@example.com,,,,,\r\n"
    "touchpoint,,,,,,jobsite,J1,2026-03-01,14\r\n"
    "customer,C2,,Bad Rep Inc,,bob,,,,\r\n"
)


@pytest.fixture
def ann(make):
    return make.rep(username="ann")


def payload_of(response):
    return re.search(r'name="payload" value="([^"]+)"', response.text).group(1)


def total(model):
    return db.session.scalar(select(func.count(model.id)))


def test_upload_previews_then_confirm_imports_the_good_rows(client, manager, ann):
    page = client.get("/imports")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    preview = upload(client, TEAM)
    assert preview.status_code == 200
    assert "Check the import" in preview.text and "team.csv · 5 rows" in preview.text
    assert '<th scope="row">Customers</th><td>1</td><td>0</td><td>0</td>' in preview.text
    assert "<strong>Line 6</strong>: unknown sales rep &#39;bob&#39;" in preview.text
    assert "Import 4 changes" in preview.text
    # A preview saves nothing.
    assert total(Account) == 0
    done = client.post("/imports/confirm", data={"payload": payload_of(preview)})
    assert done.status_code == 200
    assert "<h1>Imported</h1>" in done.text
    assert "1 bad row, not imported" in done.text
    assert (total(Account), total(Contact), total(Touchpoint)) == (2, 1, 1)
    site = db.session.scalar(select(Account).filter_by(kind="jobsite"))
    assert (site.customer.name, site.sales_rep_id) == ("Acme Paving", ann.id)
    # Every change is in the history, as the manager's.
    assert set(db.session.scalars(select(History.user_id))) == {manager.id}


def test_a_10000_row_upload_fits_and_imports_through_preview_and_confirm(client, manager, ann):
    rng = random.Random(4)
    words = ["call", "back", "about", "the", "north", "site", "quote", "gravel", "order", "crew"]
    notes = [" ".join(rng.choices(words, k=30)) for _ in range(500)]
    rows = [customer(f"C{i}", sales_rep="ann", notes=notes[i % 500]) for i in range(5000)]
    rows += [contact(f"P{i}", f"C{i}", notes=notes[-i % 500]) for i in range(5000)]
    text = csv_text(rows)
    assert len(text) > 2_000_000  # bigger than a plain form may be
    preview = upload(client, text, "big.csv")
    assert preview.status_code == 200
    assert "big.csv · 10000 rows" in preview.text
    done = client.post("/imports/confirm", data={"payload": payload_of(preview)})
    assert done.status_code == 200
    assert (total(Account), total(Contact)) == (5000, 5000)


def test_a_file_already_imported_has_nothing_left_to_confirm(client, manager, ann):
    client.post("/imports/confirm", data={"payload": payload_of(upload(client, TEAM))})
    again = upload(client, TEAM)
    assert "Nothing to import" in again.text
    assert 'name="payload"' not in again.text


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (b"\x00\x01\x02binary", "team.csv", "This is not a CSV file: it holds binary data."),
        ("kind,name\r\n".encode("utf-16"), "team.csv", "This is UTF-16 text"),
        (b"kind,name\ncustomer,Caf\xe9\n", "team.csv", "line 2 has bytes that are not UTF-8 text"),
        (b"", "team.csv", "The file is empty."),
        (b"kind,name\n", "team.xlsx", "Choose a file ending in .csv"),
        (b"name,city\nAcme,Elgin\n", "team.csv", "Missing required column: kind"),
    ],
)
def test_a_file_that_is_not_csv_is_refused_beside_the_field(client, manager, data, name, error):
    before = snapshot()
    response = upload(client, data, name)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert error in response.text
    assert snapshot() == before


def test_hostile_cell_text_is_shown_escaped(client, manager):
    hostile = "kind,external_id,name,sales_rep\r\ncustomer,C1,Acme,<script>alert(1)</script>\r\n"
    response = upload(client, hostile, name="<b>x</b>.csv")
    assert "unknown sales rep &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;" in response.text
    assert "<script>alert(1)" not in response.text
    assert "<b>x</b>" not in response.text


def test_confirm_refuses_a_tampered_or_stale_preview(client, manager, ann, monkeypatch):
    payload = payload_of(upload(client, TEAM))
    before = snapshot()
    assert client.post("/imports/confirm", data={"payload": payload[:-2]}).status_code == 400
    monkeypatch.setattr(imports, "MAX_AGE", -1)
    stale = client.post("/imports/confirm", data={"payload": payload})
    assert stale.status_code == 422
    assert "upload the file again" in stale.text
    assert snapshot() == before


def test_confirm_with_the_same_idempotency_key_applies_once(client, manager, ann):
    payload = payload_of(upload(client, TEAM))
    headers = {"Idempotency-Key": "import-1"}
    first = client.post("/imports/confirm", data={"payload": payload}, headers=headers)
    assert first.status_code == 200
    # Changed meanwhile: a replay must not import the file over it again.
    acme = db.session.scalar(select(Account).filter_by(external_id="C1"))
    acme.name = "Acme Paving & Sons"
    db.session.commit()
    replay = client.post("/imports/confirm", data={"payload": payload}, headers=headers)
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.text == first.text
    db.session.refresh(acme)
    assert acme.name == "Acme Paving & Sons"
    assert total(IdempotencyKey) == 1


def test_export_downloads_the_import_format_with_formulas_defused(client, manager, make, ann):
    acme = make.customer(rep=ann, name="=cmd|' /C calc'!A0", latitude=41.5, longitude=-87.25)
    make.contact(acme, name="@Zoë")
    response = client.post("/exports/accounts.csv")
    assert response.status_code == 303
    assert response.location.endswith("/exports/accounts.csv")
    download = client.get(response.location)
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    text = download.get_data(as_text=True)
    assert text.startswith("\ufeffkind,external_id,")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["kind"], r["name"]) for r in rows] == [
        ("customer", "'=cmd|' /C calc'!A0"),
        ("contact", "'@Zoë"),
    ]
    assert rows[0]["external_id"] == f"tpweb-{acme.id}"
    assert (rows[0]["sales_rep"], rows[0]["longitude"]) == ("ann", "-87.25")
    assert rows[1]["customer_external_id"] == f"tpweb-{acme.id}"


@pytest.mark.parametrize("what", ["call-logs", "touchpoint-records"])
def test_history_exports_download_with_their_header(client, manager, what):
    download = client.get(f"/exports/{what}.csv")
    assert download.status_code == 200
    assert download.get_data(as_text=True).startswith("\ufeff")


def test_an_unknown_export_is_not_found(client, manager):
    assert client.get("/exports/users.csv").status_code == 404
    assert client.post("/exports/users.csv").status_code == 404


def test_managers_see_the_link_and_reps_do_not(client, auth, make, manager):
    assert 'href="/imports"' in client.get("/").text
    auth.logout()
    auth.login(make.rep())
    assert 'href="/imports"' not in client.get("/").text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/imports"),
        ("post", "/imports"),
        ("post", "/imports/confirm"),
        ("get", "/exports/accounts.csv"),
        ("post", "/exports/accounts.csv"),
        ("get", "/exports/call-logs.csv"),
    ],
)
def test_a_rep_gets_404_on_imports_and_exports(client, auth, make, method, path):
    make.customer(external_id="C1", name="Secret")
    auth.login(make.rep())
    before = snapshot()
    response = getattr(client, method)(path, data={"payload": "x"})
    assert response.status_code == 404
    assert "Secret" not in response.text
    assert snapshot() == before


def test_no_file_chosen_is_refused_beside_the_field(client, manager):
    before = snapshot()
    response = client.post("/imports", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a CSV file to import." in response.text
    assert snapshot() == before


def test_a_reloaded_result_page_goes_back_to_the_upload_form(client, manager):
    response = client.get("/imports/confirm")
    assert response.status_code == 303
    assert response.location.endswith("/imports")


def test_a_touchpoint_changed_while_confirming_saves_nothing_and_says_so(
    client, manager, ann, make, monkeypatch
):
    account = make.customer(external_id="C9", rep=ann)
    make.touchpoint(account)
    payload = payload_of(upload(client, TEAM + "touchpoint,,,,,,customer,C9,2026-01-01,7\r\n"))
    before = snapshot()

    def changed_meanwhile(session, values):
        raise StaleDataError("a touchpoint changed while the file was imported")

    # Customers, jobsites and contacts are written by then; they must not stay.
    monkeypatch.setattr(importer, "_update_touchpoints", changed_meanwhile)
    response = client.post("/imports/confirm", data={"payload": payload})
    assert response.status_code == 409
    assert "nothing was saved" in response.text
    assert snapshot() == before


CALL_LOGS = (
    "external_id,called_on,account_kind,account_external_id,account_name,user,"
    "contact_external_id,contact_name,call_type,duration_minutes,notes\r\n"
    "L1,2026-03-01,customer,C1,Acme,ann,P1,Zoë,Phone,20,Asked for a quote\r\n"
    "L2,2026-03-02,customer,C1,Acme,ann,,,Fax,5,\r\n"
    "L3,2026-03-02,customer,C1,Acme,nobody,,,Phone,5,\r\n"
)
RECORDS = (
    "external_id,contact_external_id,description,response_required,date_due,date_completed,"
    "author,assigned_to\r\n"
    "R1,P1,Send the quote,yes,2026-03-09,2026-03-01,ann,ann\r\n"
    "R2,P1,Follow up,yes,,2026-03-01,ann,ann\r\n"
)


def test_call_logs_and_records_preview_then_import_from_their_exports_form(
    client, manager, ann, make
):
    client.post("/imports/confirm", data={"payload": payload_of(upload(client, TEAM))})
    make.call_type("Phone")
    page = client.get("/imports").text
    assert "<td>Call logs</td><td><strong>external_id</strong>, <strong>called_on</strong>" in page
    preview = upload(client, CALL_LOGS, "calls.csv")
    assert preview.status_code == 200
    assert "calls.csv · 3 rows" in preview.text
    assert '<th scope="row">Call logs</th><td>1</td><td>0</td><td>0</td>' in preview.text
    assert (
        "<strong>Line 3</strong>: unknown call type &#39;Fax&#39; (the call types are: Phone)"
        in preview.text
    )
    assert "<strong>Line 4</strong>: user: unknown user &#39;nobody&#39;" in preview.text
    assert total(CallLog) == 0  # a preview saves nothing
    done = client.post("/imports/confirm", data={"payload": payload_of(preview)})
    assert "<h1>Imported</h1>" in done.text
    (log,) = db.session.scalars(select(CallLog)).all()
    assert (log.external_id, log.user_id, log.contact.name, log.notes) == (
        "L1", ann.id, "Zoë Diaz", "Asked for a quote"
    )  # fmt: skip
    assert "Nothing to import" in upload(client, CALL_LOGS, "calls.csv").text
    preview = upload(client, RECORDS, "records.csv")
    assert '<th scope="row">Touchpoint records</th><td>1</td>' in preview.text
    assert "date_due is required when response_required is yes" in preview.text
    client.post("/imports/confirm", data={"payload": payload_of(preview)})
    (record,) = db.session.scalars(select(TouchpointRecord)).all()
    assert (record.description, record.is_open_task) == ("Send the quote", True)
    # The new task is in its customer's history, as the manager's, like one made in the app.
    acme = db.session.scalar(select(Account).filter_by(external_id="C1"))
    assert "Task created by Mona Manager" in client.get(f"/customers/{acme.id}").text
