"""Customer and jobsite pages: summary panel, Add Touchpoint, its validation, scope and history."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tpweb.extensions import db
from tpweb.models import CallLog, Touchpoint

from .conftest import snapshot

HTMX = {"HX-Request": "true"}


def page_text(page):
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", page)).split())


def summary(page):
    panel = re.search(r'<article class="summary".*?</article>', page, re.S)
    assert panel, "no summary panel"
    return panel.group(0)


def field_error(page, name):
    """The error text inside the label of the form field `name`, or None when it has none."""
    label = re.search(rf'<label for="acct\d+-{name}">(.*?)</label>', page, re.S)
    assert label, f"no label for {name}"
    error = re.search(r'class="field-error">(.*?)</small>', label.group(1), re.S)
    return error and html.unescape(error.group(1))


def touchpoint_count(account):
    return db.session.scalar(
        select(func.count()).select_from(Touchpoint).filter_by(account_id=account.id)
    )


def the_touchpoint(account):
    db.session.expire_all()
    return db.session.scalars(select(Touchpoint).filter_by(account_id=account.id)).one()


def day(value):
    return value.strftime("%a %b %-d, %Y")


def add_data(today, **fields):
    data = {
        "last_call": (today - timedelta(days=10)).isoformat(),
        "frequency_days": "30",
        "next_call": "",
        "comment": "Likes fishing; kids Ann and Bo.",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


# The customer page


def test_customer_page_shows_details_contacts_and_add_touchpoint(client, make, rep):
    customer = make.customer(
        rep=rep, name="Acme Supply", address="12 Main St", city="Dallas", phone="555-0100"
    )
    make.contact(customer, name="Carla Contact", title="Buyer")

    response = client.get(f"/customers/{customer.id}")

    assert response.status_code == 200
    text = page_text(response.text)
    assert "Acme Supply" in text
    assert "12 Main St, Dallas" in text
    assert "555-0100" in text
    assert "Sales Rep Rita Rep" in text
    assert "Carla Contact" in text and "Buyer" in text
    assert "Add Touchpoint" in text


def test_customer_without_rep_asks_for_one_and_offers_no_add(client, make, manager):
    customer = make.customer(name="Orphan Co")

    text = page_text(client.get(f"/customers/{customer.id}").text)

    assert "Assign a sales rep" in text
    assert "Add Touchpoint" not in text


def test_add_touchpoint_without_rep_is_refused(client, make, manager, today):
    customer = make.customer(name="Orphan Co")
    before = snapshot()

    response = client.post(f"/customers/{customer.id}/touchpoints/new", data=add_data(today))

    assert response.status_code == 422
    assert "Assign a sales rep" in page_text(response.text)
    assert snapshot() == before


def test_rep_cannot_see_a_customer_without_rep(client, make, rep):
    customer = make.customer(name="Orphan Co")

    assert client.get(f"/customers/{customer.id}").status_code == 404


# Add Touchpoint


def test_add_touchpoint_computes_next_call_and_links_it(client, make, rep, today):
    customer = make.customer(rep=rep, name="Acme Supply")
    last_call = today - timedelta(days=10)

    response = client.post(f"/customers/{customer.id}/touchpoints/new", data=add_data(today))

    assert response.status_code == 303
    assert response.location == f"/customers/{customer.id}"
    tp = the_touchpoint(customer)
    assert tp.last_call == last_call and tp.frequency_days == 30
    assert tp.next_call == last_call + timedelta(days=30)
    assert tp.comment == "Likes fishing; kids Ann and Bo."
    page = client.get(response.location).text
    assert "Add Touchpoint" not in page_text(page)
    panel = summary(page)
    assert f'href="/touchpoints/{tp.id}"' in panel
    assert day(last_call + timedelta(days=30)) in page_text(panel)


def test_add_touchpoint_keeps_a_custom_next_call(client, make, rep, today):
    customer = make.customer(rep=rep)
    custom = today + timedelta(days=3)

    response = client.post(
        f"/customers/{customer.id}/touchpoints/new",
        data=add_data(today, next_call=custom.isoformat()),
    )

    assert response.status_code == 303
    assert the_touchpoint(customer).next_call == custom


def test_add_touchpoint_by_htmx_answers_with_the_card(client, make, rep, today):
    customer = make.customer(rep=rep, name="Acme Supply")

    response = client.post(
        f"/customers/{customer.id}/touchpoints/new", data=add_data(today), headers=HTMX
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    tp = the_touchpoint(customer)
    assert f'id="touchpoint-{tp.id}"' in response.text
    assert "Acme Supply" in response.text


def test_second_add_touchpoint_is_refused_with_conflict(client, make, rep, today):
    customer = make.customer(rep=rep)
    make.touchpoint(customer, last_call=today)
    before = snapshot()

    response = client.post(f"/customers/{customer.id}/touchpoints/new", data=add_data(today))

    assert response.status_code == 409
    assert "already has an active touchpoint" in page_text(response.text)
    assert snapshot() == before


def test_add_touchpoint_form_is_offered_with_defaults(client, make, rep, today):
    customer = make.customer(rep=rep)

    response = client.get(f"/customers/{customer.id}/touchpoints/new")

    assert response.status_code == 200
    assert f'value="{today.isoformat()}"' in response.text
    assert f'value="{(today + timedelta(days=30)).isoformat()}"' in response.text


BAD_INPUT = [
    ("frequency_days", "0"),
    ("frequency_days", "3651"),
    ("frequency_days", "abc"),
    ("frequency_days", "-5"),
    ("frequency_days", None),
    ("last_call", "2026-02-30"),
    ("last_call", "not a date"),
    ("last_call", None),
    ("last_call", "9999-12-31"),
    ("comment", "x" * 2001),
]


@pytest.mark.parametrize(("field", "value"), BAD_INPUT)
def test_bad_add_touchpoint_input_is_refused_beside_the_field(
    client, make, rep, today, field, value
):
    customer = make.customer(rep=rep)
    before = snapshot()

    response = client.post(
        f"/customers/{customer.id}/touchpoints/new", data=add_data(today, **{field: value})
    )

    assert response.status_code == 422
    assert field_error(response.text, field)
    assert snapshot() == before


def test_next_call_before_last_call_is_refused(client, make, rep, today):
    customer = make.customer(rep=rep)
    data = add_data(
        today, last_call=today.isoformat(), next_call=(today - timedelta(1)).isoformat()
    )
    before = snapshot()

    response = client.post(f"/customers/{customer.id}/touchpoints/new", data=data)

    assert response.status_code == 422
    assert field_error(response.text, "next_call") == "Next Call cannot be before Last Call."
    assert snapshot() == before


def test_hostile_comment_is_saved_and_shown_escaped(client, make, rep, today):
    customer = make.customer(rep=rep)
    script = "<script>alert(1)</script>"

    client.post(f"/customers/{customer.id}/touchpoints/new", data=add_data(today, comment=script))

    tp = the_touchpoint(customer)
    assert tp.comment == script
    for url in (f"/customers/{customer.id}", f"/touchpoints/{tp.id}"):
        page = client.get(url).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert script not in page


# Jobsites


def test_jobsite_page_names_its_customer_and_shows_its_contacts(client, make, rep):
    customer = make.customer(rep=rep, name="Acme Supply")
    make.contact(customer, name="Carla Contact")
    jobsite = make.jobsite(customer, rep=rep, name="North Yard")

    response = client.get(f"/jobsites/{jobsite.id}")

    assert response.status_code == 200
    text = page_text(response.text)
    assert "North Yard" in text
    assert "Jobsite of Acme Supply" in text
    assert "Carla Contact" in text
    assert "Add Touchpoint" in text


def test_add_touchpoint_on_a_jobsite(client, make, rep, today):
    jobsite = make.jobsite(make.customer(rep=rep), rep=rep)

    response = client.post(f"/jobsites/{jobsite.id}/touchpoints/new", data=add_data(today))

    assert response.status_code == 303
    assert response.location == f"/jobsites/{jobsite.id}"
    assert the_touchpoint(jobsite).next_call == today + timedelta(days=20)
    assert "Add Touchpoint" not in page_text(client.get(response.location).text)


def test_customer_and_jobsite_urls_do_not_mix(client, make, rep):
    customer = make.customer(rep=rep)
    jobsite = make.jobsite(customer, rep=rep)

    assert client.get(f"/customers/{jobsite.id}").status_code == 404
    assert client.get(f"/jobsites/{customer.id}").status_code == 404


# Who may see what


@pytest.fixture
def others_accounts(make):
    other = make.rep(name="Otto Other")
    customer = make.customer(rep=other, name="Elsewhere Inc")
    return {"customers": customer, "jobsites": make.jobsite(customer, rep=other)}


@pytest.mark.parametrize("kind", ["customers", "jobsites"])
def test_another_reps_account_is_not_found(client, rep, today, others_accounts, kind):
    account = others_accounts[kind]
    url = f"/{kind}/{account.id}"

    assert client.get(url).status_code == 404
    assert client.get(f"{url}/touchpoints/new").status_code == 404
    before = snapshot()
    assert client.post(f"{url}/touchpoints/new", data=add_data(today)).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["customers", "jobsites"])
def test_manager_sees_any_account(client, manager, others_accounts, kind):
    account = others_accounts[kind]

    response = client.get(f"/{kind}/{account.id}")

    assert response.status_code == 200
    assert account.name in page_text(response.text)
    assert "Otto Other" in page_text(response.text)


def test_jobsite_rep_sees_parent_customer_but_cannot_add_to_it(client, make, rep, today):
    customer = make.customer(rep=make.rep(), name="Parent Co")
    make.jobsite(customer, rep=rep)

    response = client.get(f"/customers/{customer.id}")

    assert response.status_code == 200
    assert "Parent Co" in page_text(response.text)
    assert "Add Touchpoint" not in page_text(response.text)
    before = snapshot()
    posted = client.post(f"/customers/{customer.id}/touchpoints/new", data=add_data(today))
    assert posted.status_code == 404
    assert snapshot() == before


# Inactive touchpoints and history


def test_inactive_touchpoint_is_marked_with_reactivate_and_add_is_offered(client, make, rep, today):
    customer = make.customer(rep=rep)
    tp = make.touchpoint(customer, last_call=today - timedelta(days=40), inactive=True)

    page = client.get(f"/customers/{customer.id}").text

    card = re.search(
        rf'<article class="tp tp--inactive" id="touchpoint-{tp.id}">.*?</article>', page, re.S
    )
    assert card, "no inactive card"
    assert "Inactive" in page_text(card.group(0))
    assert "Reactivate" in page_text(card.group(0))
    assert "Add Touchpoint" in page_text(page)


def test_call_logs_are_listed_newest_first_with_type_duration_and_author(client, make, rep, today):
    customer = make.customer(rep=rep)
    colleague = make.manager(name="Mona Manager")
    phone, visit = make.call_type("Phone"), make.call_type("Visit", position=1)
    older, newer = today - timedelta(days=9), today - timedelta(days=2)
    db.session.add_all(
        [
            CallLog(
                account_id=customer.id,
                user_id=rep.id,
                call_type_id=phone.id,
                called_on=older,
                duration_minutes=10,
                notes="Asked about prices",
            ),
            CallLog(
                account_id=customer.id,
                user_id=colleague.id,
                call_type_id=visit.id,
                called_on=newer,
                duration_minutes=45,
            ),
        ]
    )
    db.session.commit()

    text = page_text(client.get(f"/customers/{customer.id}").text)

    first = f"Visit · 45 min Call log {newer:%b %-d, %Y} · by Mona Manager"
    second = f"Phone · 10 min Call log {older:%b %-d, %Y} · by Rita Rep · at {customer.name} Asked"
    assert first in text and second in text
    assert text.index(first) < text.index(second)


def reach_links(page):
    """{label: href as the browser reads it} of the page's Call, Text, Email and Directions."""
    group = re.search(r'<div class="reach" role="group"[^>]*>(.*?)</div>', page, re.S)
    assert group, "no Call/Text/Email/Directions on the page"
    pairs = re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', group.group(1))
    return {label: html.unescape(href) for href, label in pairs}


def test_the_account_page_offers_directions_not_coordinates_and_escapes_hostile_data(
    client, make, rep
):
    customer = make.customer(
        rep=rep,
        name="Pinned Co",
        phone="' onclick='alert(1)' 815 555 0100",
        address="<script>alert(1)</script> Main St",
        latitude=41.525031,
        longitude=-88.081712,
    )
    make.contact(customer, name="Dana", phone="javascript:alert(2)", email='d"a@acme.example')

    page = client.get(f"/customers/{customer.id}").text

    assert reach_links(page) == {
        "Call": "tel:18155550100",
        "Text": "sms:18155550100",
        "Email": "mailto:d%22a@acme.example",
        "Directions": "https://www.google.com/maps/dir/?api=1&destination=41.52503,-88.08171",
    }
    assert "41.52503, -88.08171" not in page and "on the map" in summary(page)
    assert (
        "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Main St" in page
    )
    assert not re.search(r'href="\s*javascript:', page, re.I)
    # The contact's own number is no number: shown as typed, with no link to call it.
    assert "· javascript:alert(2)" in page and 'href="tel:2"' not in page


def test_a_jobsite_without_a_phone_or_place_reaches_its_customers_main_contact(client, make, rep):
    customer = make.customer(rep=rep, name="Parent Co", phone="")
    make.contact(customer, name="Ann", phone="312-555-0101", email="ann@parent.example")
    jobsite = make.jobsite(customer, rep=rep, name="North Yard")

    links = reach_links(client.get(f"/jobsites/{jobsite.id}").text)

    assert links == {
        "Call": "tel:3125550101",
        "Text": "sms:3125550101",
        "Email": "mailto:ann@parent.example",
    }
