"""Contact maintenance, Create Touchpoint, the Touchpoints tab, scoping, bad input and replays."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Contact, IdempotencyKey, TouchpointRecord

from .conftest import snapshot

HTMX = {"HX-Request": "true"}
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def visible(page):
    """What a reader sees of `page`: its text without tags, blanks squashed."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def article(page, text):
    """The <article> of a list that holds `text`."""
    return next(chunk for chunk in page.split("<article")[1:] if text in chunk)


def beside(page, field):
    """The markup of `field`'s <label>: where its error must be."""
    return page.split(f'name="{field}"')[1].split("</label>")[0]


def history_of(page):
    """The Touchpoints tab of a contact, customer or jobsite page."""
    return page.split('id="history-title"')[1]


def stored_records():
    """The touchpoint records committed to the database."""
    db.session.rollback()
    return db.session.scalars(select(TouchpointRecord).order_by(TouchpointRecord.id)).all()


def create(client, contact, headers=HTMX, **fields):
    """POST Create Touchpoint on `contact`: by default a follow-up due in 3 days, for the rep."""
    today = today_in("America/Chicago")
    data = {
        "description": "Reactivate the membership",
        "details": "Membership frozen until the due date; call to reactivate.",
        "response_required": "y",
        "date_due": (today + timedelta(days=3)).isoformat(),
        "date_completed": today.isoformat(),
        **fields,
    }
    data = {name: value for name, value in data.items() if value is not None}
    return client.post(f"/contacts/{contact.id}/touchpoints", data=data, headers=headers)


# Create Touchpoint


def test_the_form_defaults_to_today_and_me_and_offers_me_and_my_manager(
    client, make, rep, boss, contact, today
):
    make.rep(name="Other Rep")
    make.manager(name="Other Manager")

    response = client.get(f"/contacts/{contact.id}/touchpoints", headers=HTMX)

    assert response.status_code == 200
    page = response.text
    for name in ("description", "details", "response_required", "date_due", "date_completed"):
        assert f'name="{name}"' in page
    assert "Requires a follow-up response" in page
    assert f'name="date_completed" required type="date" value="{today.isoformat()}"' in page
    options = beside(page, "assigned_to")
    assert f'<option selected value="{rep.id}">Rita Rep</option>' in options
    assert f'<option value="{boss.id}">Morgan Boss</option>' in options
    assert "Other Rep" not in options and "Other Manager" not in options


def test_create_a_record_that_requires_a_response(client, rep, contact, today):
    due = today + timedelta(days=3)

    response = create(client, contact, assigned_to=rep.id)

    assert response.status_code == 200
    assert "Reactivate the membership" in response.text
    assert "Record response" in response.text
    assert "Upcoming · in 3 days" in response.text
    record = stored_records()[0]
    assert (record.contact_id, record.author_id, record.assigned_to_id) == (
        contact.id,
        rep.id,
        rep.id,
    )
    assert record.description == "Reactivate the membership"
    assert record.details == "Membership frozen until the due date; call to reactivate."
    assert (record.response_required, record.date_due, record.date_completed) == (True, due, today)
    assert record.responded_on is None
    page = client.get(f"/contacts/{contact.id}").text
    assert "Reactivate the membership" in history_of(page)
    assert "Open tasks 1" in visible(page)


def test_create_without_htmx_redirects_to_the_contact(client, rep, contact):
    response = create(client, contact, headers={}, assigned_to=rep.id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/contacts/{contact.id}")
    assert "Reactivate the membership" in client.get(response.headers["Location"]).text


def test_a_record_without_response_required_is_not_a_task(client, rep, contact, today):
    response = create(
        client,
        contact,
        response_required=None,
        description="Chatted at the gym",
        date_due=(today + timedelta(days=3)).isoformat(),
        assigned_to=rep.id,
    )

    assert response.status_code == 200
    record = stored_records()[0]
    assert (record.response_required, record.date_due) == (False, None)
    assert "Record response" not in response.text
    page = client.get(f"/contacts/{contact.id}").text
    assert "Chatted at the gym" in history_of(page)
    assert "Open tasks 0" in visible(page) and "Answered" not in page
    assert "No contacts match." in client.get("/contacts?response_required=1").text
    assert "Chatted at the gym" not in client.get("/tasks").text
    count = '<span class="count nav-count" id="nav-task-count" data-count="0">0</span>'
    assert count in client.get("/tasks").text


def test_a_record_without_response_required_needs_no_date_due(client, rep, contact):
    response = create(client, contact, response_required=None, date_due="", assigned_to=rep.id)
    assert response.status_code == 200
    assert len(stored_records()) == 1


def test_date_due_is_required_when_a_response_is(client, rep, contact):
    response = create(client, contact, date_due="", assigned_to=rep.id)

    assert response.status_code == 422
    label = beside(response.text, "date_due")
    assert "field-error" in label and "A follow-up response needs a date due." in label
    assert stored_records() == []


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("description", "", "Describe what happened."),
        ("description", "   ", "Describe what happened."),
        ("description", "d" * 201, "Field cannot be longer than 200 characters."),
        ("details", "x" * 5001, "Field cannot be longer than 5000 characters."),
        ("date_due", "2026-02-30", "Not a valid date value."),
        ("date_due", "soon", "Not a valid date value."),
        ("date_due", "9999-12-31", "Enter a date between"),
        ("date_completed", "", "Enter the date this happened."),
        ("date_completed", "2026-02-30", "Not a valid date value."),
        ("date_completed", "soon", "Not a valid date value."),
        ("date_completed", "9999-12-31", "Enter a date between"),
        ("assigned_to", "999999", "Not a valid choice."),
        ("assigned_to", "abc", "Invalid Choice"),
    ],
)
def test_bad_record_is_422_with_the_error_beside_the_field(
    client, rep, contact, field, value, error
):
    response = create(client, contact, **{"assigned_to": rep.id, field: value})

    assert response.status_code == 422
    label = beside(response.text, field)
    assert '<small id="c' in label and 'class="field-error"' in label
    assert error in label
    assert stored_records() == []


def test_a_bad_record_keeps_what_was_typed(client, rep, contact):
    before = snapshot()
    response = create(client, contact, assigned_to=rep.id, description="", details="Keep me")
    assert response.status_code == 422
    assert "Keep me" in beside(response.text, "details")
    assert snapshot() == before


def test_a_rep_may_assign_to_their_manager(client, rep, boss, contact):
    response = create(client, contact, assigned_to=boss.id)
    assert response.status_code == 200
    assert "assigned to Morgan Boss" in visible(response.text)
    assert stored_records()[0].assigned_to_id == boss.id


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_a_rep_may_not_assign_to_anyone_else(client, make, rep, contact, who):
    someone = make.user(who, name="Some One")

    response = create(client, contact, assigned_to=someone.id)

    assert response.status_code == 422
    assert "Not a valid choice." in beside(response.text, "assigned_to")
    assert "Some One" not in response.text
    assert stored_records() == []


def test_a_manager_may_assign_to_any_rep(client, make, auth, rep, boss, contact):
    other = make.rep(name="Otto Other")
    auth.logout()
    auth.login(boss)

    options = beside(client.get(f"/contacts/{contact.id}/touchpoints").text, "assigned_to")
    assert "Otto Other" in options and "Rita Rep" in options

    response = create(client, contact, assigned_to=other.id)

    assert response.status_code == 200
    record = stored_records()[0]
    assert (record.author_id, record.assigned_to_id) == (boss.id, other.id)


def test_hostile_text_is_shown_escaped_everywhere(client, rep, customer, contact):
    fragment = create(client, contact, assigned_to=rep.id, description=HOSTILE, details=HOSTILE)
    assert fragment.status_code == 200
    record = stored_records()[0]
    assert (record.description, record.details) == (HOSTILE, HOSTILE)

    pages = [
        fragment.text,
        client.get(f"/contacts/{contact.id}").text,
        client.get(f"/customers/{customer.id}").text,
        client.get("/tasks").text,
        client.get(f"/tasks/{record.id}/response").text,
        create(client, contact, assigned_to=rep.id, description=HOSTILE, details="d" * 5001).text,
    ]
    for page in pages:
        assert HOSTILE not in page
        assert ESCAPED in page
    assert len(stored_records()) == 1


# Idempotency-Key


def test_the_same_key_twice_creates_one_record(client, rep, contact):
    headers = {**HTMX, "Idempotency-Key": "record-1"}

    first = create(client, contact, headers=headers, assigned_to=rep.id)
    second = create(client, contact, headers=headers, assigned_to=rep.id)

    assert first.status_code == second.status_code == 200
    assert second.text == first.text
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(stored_records()) == 1
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_the_same_key_with_a_different_body_is_refused(client, rep, contact):
    headers = {**HTMX, "Idempotency-Key": "record-2"}
    create(client, contact, headers=headers, assigned_to=rep.id)
    before = snapshot()

    response = create(client, contact, headers=headers, assigned_to=rep.id, description="Other")

    assert response.status_code == 422
    assert snapshot() == before
    assert [r.description for r in stored_records()] == ["Reactivate the membership"]


def test_a_refused_record_does_not_burn_its_key(client, rep, contact):
    headers = {**HTMX, "Idempotency-Key": "record-3"}
    before = snapshot()
    refused = create(client, contact, headers=headers, assigned_to=rep.id, date_due="")
    assert refused.status_code == 422
    assert snapshot() == before
    fixed = create(client, contact, headers=headers, assigned_to=rep.id)
    assert fixed.status_code == 200
    assert len(stored_records()) == 1


# Who sees what


def test_a_second_rep_sees_none_of_it(client, make, auth, rep, customer, contact):
    create(client, contact, assigned_to=rep.id)
    record = stored_records()[0]
    auth.logout()
    other = make.rep(name="Sam Second")
    make.contact(make.customer(rep=other, name="Sams Gym"), name="Sams Contact")
    auth.login(other)

    listing = client.get("/contacts").text
    assert "Sams Contact" in listing
    assert "Dana Freeze" not in listing and "Acme Fitness" not in listing
    assert "1 contact · 0 awaiting a response" in visible(listing)
    assert "Dana Freeze" not in client.get("/contacts?response_required=1").text
    assert "No contacts match." in client.get("/contacts?q=Dana").text
    tasks = client.get("/tasks").text
    assert "Reactivate the membership" not in tasks
    assert '<span class="count nav-count" id="nav-task-count" data-count="0">0</span>' in tasks
    assert "My tasks: 0 waiting" in visible(client.get("/").text)

    assert client.get(f"/contacts/{contact.id}").status_code == 404
    assert client.get(f"/contacts/{contact.id}/touchpoints").status_code == 404
    assert client.get(f"/customers/{customer.id}").status_code == 404
    assert create(client, contact, assigned_to=other.id).status_code == 404
    assert create(client, contact, assigned_to=rep.id).status_code == 404
    assert [r.id for r in stored_records()] == [record.id]


def test_a_manager_sees_every_reps_contacts(client, make, auth, rep, boss, contact):
    other = make.rep()
    make.contact(make.customer(rep=other, name="Otto Co"), name="Otto Contact")
    make.contact(make.customer(name="Nobody Co"), name="Unassigned Contact")
    make.record(contact, rep, response_required=True)
    auth.logout()
    auth.login(boss)

    listing = client.get("/contacts").text

    for name in ("Dana Freeze", "Otto Contact", "Unassigned Contact"):
        assert name in listing
    assert "3 contacts · 1 awaiting a response" in visible(listing)
    assert client.get(f"/contacts/{contact.id}").status_code == 200
    awaiting = client.get("/contacts?response_required=1").text
    assert "Dana Freeze" in awaiting and "Otto Contact" not in awaiting


def test_inactive_contacts_are_not_listed(client, make, rep, customer, contact):
    make.contact(customer, name="Gone Person", active=False)
    assert "Gone Person" not in client.get("/contacts").text


# Search, the Response Required filter and paging


@pytest.fixture
def people(make, rep, customer, contact):
    """Dana (Acme Fitness) and two contacts at another of the rep's customers."""
    other = make.customer(rep=rep, name="Birch Builders")
    make.contact(other, name="Lee Lumber", email="lee@birch.example", phone="555-0199")
    make.contact(other, name="Kim Nail", email="kim@birch.example", phone="555-0142")
    return contact


@pytest.mark.parametrize(
    ("q", "found", "not_found"),
    [
        ("dana", ["Dana Freeze"], ["Lee Lumber", "Kim Nail"]),
        ("BIRCH build", ["Lee Lumber", "Kim Nail"], ["Dana Freeze"]),
        ("acme.example", ["Dana Freeze"], ["Lee Lumber", "Kim Nail"]),
        ("555-0142", ["Kim Nail"], ["Dana Freeze", "Lee Lumber"]),
    ],
    ids=["name", "customer", "email", "phone"],
)
def test_search_by_name_customer_email_or_phone(client, people, q, found, not_found):
    page = client.get("/contacts", query_string={"q": q}).text
    for name in found:
        assert name in page
    for name in not_found:
        assert name not in page
    plural = "s" if len(found) != 1 else ""
    assert f"{len(found)} contact{plural} matching “{q}”" in visible(page)


def test_search_combined_with_response_required(client, make, rep, people):
    lee = db.session.scalar(select(Contact).filter_by(name="Lee Lumber"))
    make.record(lee, rep, response_required=True)
    make.record(people, rep, response_required=True)
    kim = db.session.scalar(select(Contact).filter_by(name="Kim Nail"))
    make.record(kim, rep, response_required=False)

    page = client.get("/contacts?q=birch&response_required=1").text

    assert "Lee Lumber" in page
    assert "Kim Nail" not in page and "Dana Freeze" not in page
    assert "2 contacts matching “birch” · 1 awaiting a response" in visible(page)
    assert "Response required · 1" in article(page, "Lee Lumber")
    assert 'name="response_required" value="1" role="switch" checked' in page


def test_response_required_lists_only_contacts_with_an_open_task(client, make, rep, people, today):
    lee = db.session.scalar(select(Contact).filter_by(name="Lee Lumber"))
    kim = db.session.scalar(select(Contact).filter_by(name="Kim Nail"))
    make.record(people, rep, response_required=True, date_due=today - timedelta(days=1))
    make.record(people, rep, response_required=True, date_due=today + timedelta(days=4))
    make.record(lee, rep, response_required=True, responded_on=today, response_note="Done")
    make.record(kim, rep)

    page = client.get("/contacts?response_required=1").text

    assert "Dana Freeze" in page
    assert "Lee Lumber" not in page and "Kim Nail" not in page
    assert "Response required · 2" in article(page, "Dana Freeze")
    assert "badge--overdue" in article(page, "Dana Freeze")
    assert "3 contacts · 1 awaiting a response" in visible(page)


def test_paging_with_counts_keeps_the_search_and_the_filter(client, app, make, rep, customer):
    pats = [make.contact(customer, name=f"Pat {n}") for n in range(1, 8)]
    make.contact(customer, name="Someone Else")
    for pat in pats[:5]:
        make.record(pat, rep, response_required=True)
    app.config["PAGE_SIZE"] = 2
    try:
        first = client.get("/contacts?q=pat&response_required=1").text
        pages = [first]
        while "Show more" in pages[-1]:
            more = re.search(r'href="([^"]+)"[^>]*>Show more', pages[-1]).group(1)
            pages.append(client.get(html.unescape(more), headers=HTMX).text)
        plain = client.get("/contacts?q=pat").text
    finally:
        app.config["PAGE_SIZE"] = 50

    assert "7 contacts matching “pat” · 5 awaiting a response" in visible(first)
    shown = [re.findall(r">(Pat \d)</a>", page) for page in pages]
    assert shown == [["Pat 1", "Pat 2"], ["Pat 3", "Pat 4"], ["Pat 5"]]
    assert all("<section" not in page and "counts" not in page for page in pages[1:])
    assert re.findall(r">(Pat \d)</a>", plain) == ["Pat 1", "Pat 2"]
    assert "Someone Else" not in plain


@pytest.mark.parametrize(("q", "found"), [("100%", "Gains 100% Co"), ("a_b", "Tom a_b")])
def test_percent_and_underscore_match_literally(client, make, rep, customer, q, found):
    make.contact(make.customer(rep=rep, name="Gains 100% Co"), name="Percent Person")
    make.contact(customer, name="Tom a_b")
    make.contact(customer, name="Tom axb")
    make.contact(make.customer(rep=rep, name="Gains 1000 Co"), name="Zero Person")

    page = client.get("/contacts", query_string={"q": q}).text

    assert found in page
    assert "Tom axb" not in page and "Zero Person" not in page
    assert f"1 contact matching “{q}”" in visible(page)


def test_a_very_long_search_does_not_crash(client, contact):
    response = client.get("/contacts", query_string={"q": "x" * 10_000})
    assert response.status_code == 200
    assert "No contacts match." in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("query", ["page=0", "page=x", "page=-1"])
def test_bad_page_is_400(client, contact, query):
    assert client.get(f"/contacts?{query}").status_code == 400


# The Touchpoints tab


def test_the_touchpoints_tab_lists_records_and_calls_newest_first_with_their_authors(
    client, make, rep, boss, customer, contact, today
):
    phone = make.call_type("Phone")
    jobsite = make.jobsite(customer, rep=rep, name="Acme North")
    tp = make.touchpoint(jobsite, last_call=today - timedelta(days=30), frequency_days=30)
    sam = make.contact(customer, name="Sam Spade")
    make.record(contact, boss, description="Welcome visit", date_completed=today - timedelta(10))
    make.record(sam, rep, description="Sams own record", date_completed=today - timedelta(1))
    make.call_log(customer, boss, phone, called_on=today - timedelta(5), notes="Nobody named")
    create(client, contact, description="Freeze until March", assigned_to=rep.id)

    form = client.get(f"/touchpoints/{tp.id}/complete", headers=HTMX).text
    assert f'<option value="{contact.id}">Dana Freeze</option>' in form
    call = {
        "called_on": (today - timedelta(days=3)).isoformat(),
        "duration_minutes": "20",
        "call_type": phone.id,
        "contact_id": contact.id,
        "notes": "Asked about the freeze",
    }
    assert client.post(f"/touchpoints/{tp.id}/complete", data=call, headers=HTMX).status_code == 200

    tab = history_of(client.get(f"/contacts/{contact.id}").text)
    order = ["Freeze until March", "Asked about the freeze", "Welcome visit"]
    assert [tab.index(text) for text in order] == sorted(tab.index(text) for text in order)
    assert "Sams own record" not in tab and "Nobody named" not in tab
    assert "by Rita Rep" in visible(article(tab, "Freeze until March"))
    assert "by Morgan Boss" in visible(article(tab, "Welcome visit"))
    call_entry = visible(article(tab, "Asked about the freeze"))
    assert "Phone · 20 min" in call_entry and "Call log" in call_entry
    assert "by Rita Rep · at Acme North · spoke to Dana Freeze" in call_entry

    tab = history_of(client.get(f"/customers/{customer.id}").text)
    order = [
        "Freeze until March",
        "Sams own record",
        "Asked about the freeze",
        "Nobody named",
        "Welcome visit",
    ]
    assert [tab.index(text) for text in order] == sorted(tab.index(text) for text in order)
    assert "Dana Freeze" in article(tab, "Freeze until March")
    assert "by Morgan Boss" in visible(article(tab, "Nobody named"))

    tab = history_of(client.get(f"/jobsites/{jobsite.id}").text)
    assert "Asked about the freeze" in tab and "spoke to Dana Freeze" in visible(tab)
    assert "Nobody named" not in tab


def test_the_contact_page_as_an_htmx_fragment(client, make, rep, contact):
    make.record(contact, rep, response_required=True, description="Call back")

    response = client.get(f"/contacts/{contact.id}", headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text and "nav-count" not in response.text
    assert "Call back" in history_of(response.text)
    assert "Record response" in response.text


@pytest.mark.parametrize("kind", ["customers", "jobsites"])
def test_the_account_page_as_an_htmx_fragment(client, make, rep, customer, contact, kind):
    make.record(contact, rep, description="Call back")
    phone = make.call_type("Phone")
    jobsite = make.jobsite(customer, rep=rep)
    make.call_log(jobsite, rep, phone, notes="Walked the site")
    account = customer if kind == "customers" else jobsite

    response = client.get(f"/{kind}/{account.id}", headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Walked the site" in history_of(response.text)


def test_an_empty_touchpoints_tab_says_so(client, contact):
    assert "Nothing recorded yet." in history_of(client.get(f"/contacts/{contact.id}").text)


# Query counts


def test_response_required_runs_a_fixed_number_of_queries_at_5_and_100(
    client, make, rep, boss, count_queries, today
):
    authors = [rep, boss]

    def grow_to(size):
        while (n := db.session.scalar(select(func.count(Contact.id)))) < 2 * size:
            customer = make.customer(rep=rep, name=f"Customer {n:03}")
            waiting = make.contact(customer, name=f"Waiting {n:03}")
            make.record(
                waiting,
                authors[n // 2 % 2],
                assigned_to=authors[n // 4 % 2],
                response_required=True,
                date_due=today + timedelta(days=n % 9 - 4),
            )
            make.record(make.contact(customer, name=f"Answered {n:03}"), rep)

    def queries_for(headers):
        db.session.expire_all()  # as in a real request, nothing is loaded yet
        count_queries.clear()
        response = client.get("/contacts?response_required=1", headers=headers)
        assert response.status_code == 200
        assert "Answered" not in response.text
        return len(count_queries), response.text.count('class="contact contact--open"')

    grow_to(5)
    small = queries_for({}), queries_for(HTMX)
    grow_to(100)
    large = queries_for({}), queries_for(HTMX)

    assert [rows for _, rows in small] == [5, 5]
    assert [rows for _, rows in large] == [50, 50]
    # The user; the page of contacts with their customers and open tasks; the counts;
    # and for the whole page, the navigation's My tasks count.
    assert [queries for queries, _ in small + large] == [4, 3, 4, 3]


# Contact changes in the customer's history


def changes_of(page):
    """The customer page's History list, as a reader sees it."""
    return visible(page.split('class="changes"')[1].split("</details>")[0])


def test_a_rep_editing_a_contact_puts_the_change_in_the_customers_history(
    client, rep, customer, contact
):
    data = {"name": "Dana Freeze", "title": "Manager", "email": "dana@acme.example",
            "phone": "555-0100", "active": "y"}  # fmt: skip
    assert client.post(f"/contacts/{contact.id}/edit", data=data).status_code == 303
    shown = changes_of(client.get(f"/customers/{customer.id}").text)
    assert "Contact Dana Freeze: title changed from “Owner” to “Manager” by Rita Rep" in shown
    # A rename shows the contact by its new name, and the old one in the change.
    client.post(f"/contacts/{contact.id}/edit", data=data | {"name": "Dana Thaw"})
    shown = changes_of(client.get(f"/customers/{customer.id}").text)
    assert "Contact Dana Thaw: name changed from “Dana Freeze” to “Dana Thaw” by Rita Rep" in shown
    assert shown.index("name changed from") < shown.index("title changed from")


def test_a_contact_added_and_set_inactive_are_in_the_customers_history(client, rep, customer):
    data = {"name": "Lee Leaving", "title": "Buyer", "active": "y"}
    assert client.post(f"/customers/{customer.id}/contacts/new", data=data).status_code == 303
    lee = db.session.scalar(select(Contact).filter_by(name="Lee Leaving"))
    client.post(f"/contacts/{lee.id}/edit", data={"name": "Lee Leaving", "title": "Buyer"})
    shown = changes_of(client.get(f"/customers/{customer.id}").text)
    assert "Contact Lee Leaving set inactive by Rita Rep" in shown
    assert "Contact Lee Leaving created by Rita Rep" in shown


def test_an_unchanged_contact_saved_again_adds_no_history(client, rep, customer, contact):
    data = {"name": "Dana Freeze", "title": "Owner", "email": "dana@acme.example",
            "phone": "555-0100", "active": "y"}  # fmt: skip
    client.post(f"/contacts/{contact.id}/edit", data=data)
    shown = changes_of(client.get(f"/customers/{customer.id}").text)
    assert "contact Dana Freeze updated" not in shown


def test_the_contact_page_reaches_them_in_one_tap_with_hostile_data_encoded(client, make, rep):
    customer = make.customer(rep=rep, name="Far Co", address="9 Elm St", city="Joliet")
    long_email = "a" * 100 + "@" + "b" * 11 + ".example"
    contact = make.contact(customer, name="Q" * 80, phone="+1 (630) 555-0177 <x>", email=long_email)
    hostile = make.contact(customer, name="Eve", phone="javascript:", email="javascript:alert(1)")

    page = client.get(f"/contacts/{contact.id}").text
    group = re.search(r'<div class="reach" role="group"[^>]*>(.*?)</div>', page, re.S).group(1)
    links = {
        label: html.unescape(href)
        for href, label in re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', group)
    }

    assert len(long_email) == 120
    assert links == {
        "Call": "tel:+16305550177",
        "Text": "sms:+16305550177",
        "Email": "mailto:" + long_email,
        "Directions": "https://www.google.com/maps/dir/?api=1&destination=9+Elm+St,+Joliet",
    }
    assert "+1 (630) 555-0177 &lt;x&gt;" in page

    # Neither a number nor an address: shown as typed, a link to nothing; their customer's
    # place is still one tap away.
    page = client.get(f"/contacts/{hostile.id}").text
    assert not re.search(r'href="\s*javascript:', page, re.I)
    assert "mailto:" not in page and "tel:" not in page and "sms:" not in page
    assert "<dd>javascript:alert(1)</dd>" in page and "Directions" in page
