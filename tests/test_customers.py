"""The customer list, and creating, editing and deactivating customers, jobsites and contacts."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tpweb.extensions import db
from tpweb.models import Account, Touchpoint

from .conftest import snapshot


def customer_form(**fields):
    return {
        "name": "Prairie Ridge Builders",
        "address": "1200 W Main St",
        "city": "Naperville",
        "phone": "(630) 555-0101",
        "notes": "Gate code 4411",
        "latitude": "41.7508",
        "longitude": "-88.1535",
        "sales_rep_id": "0",
        **fields,
    }


def test_manager_creates_a_customer_with_a_jobsite_and_a_contact_and_assigns_a_rep(
    client, make, auth, manager
):
    rep = make.rep(name="Rita Rep")

    created = client.post("/customers/new", data=customer_form(sales_rep_id=rep.id))
    assert created.status_code == 303
    customer = db.session.scalars(select(Account).filter_by(kind="customer")).one()
    assert (customer.city, customer.latitude, customer.sales_rep_id) == (
        "Naperville",
        41.7508,
        rep.id,
    )

    jobsite = client.post(
        f"/customers/{customer.id}/jobsites/new",
        data=customer_form(name="Library site", sales_rep_id=rep.id, phone=""),
    )
    assert jobsite.status_code == 303
    contact = client.post(
        f"/customers/{customer.id}/contacts/new",
        data={
            "name": "Pat Owner",
            "title": "Owner",
            "email": "pat@example.com",
            "phone": "630 555 0199",
        },
    )
    assert contact.status_code == 303

    auth.logout()
    auth.login(rep)
    unassigned = client.get("/unassigned").text
    assert "Prairie Ridge Builders" in unassigned and "Library site" in unassigned
    by_city = client.get("/customers?q=naperville").text
    by_contact = client.get("/customers?q=Pat%20Own").text
    assert "Prairie Ridge Builders" in by_city and "Prairie Ridge Builders" in by_contact
    assert "No customers match." in client.get("/customers?q=Springfield").text


def test_the_rep_can_then_set_touchpoints_on_both(client, make, auth, manager, today):
    rep = make.rep()
    customer = make.customer(rep=rep, name="Acme")
    jobsite = make.jobsite(customer, rep=rep, name="Acme Yard")
    auth.logout()
    auth.login(rep)
    for url in (f"/customers/{customer.id}", f"/jobsites/{jobsite.id}"):
        response = client.post(
            f"{url}/touchpoints/new",
            data={"last_call": today.isoformat(), "frequency_days": "14"},
        )
        assert response.status_code == 303
    assert db.session.scalar(select(func.count(Touchpoint.id))) == 2


def test_list_shows_rep_next_call_and_due_state_and_filters(client, make, manager, today):
    rep = make.rep(name="Rita Rep")
    late = make.customer(rep=rep, name="Late Co")
    make.touchpoint(late, last_call=today - timedelta(days=40), frequency_days=30)
    make.customer(rep=rep, name="Bare Co")
    make.customer(name="Orphan Co")
    gone = make.customer(rep=rep, name="Gone Co", active=False)

    page = client.get("/customers").text
    assert "Late Co" in page and "Overdue 10 days" in page and "Rita Rep" in page
    assert "Orphan Co" in page and "No sales rep" in page
    assert gone.name not in page
    assert "4 customers" not in page and "3 customers" in page

    without = client.get("/customers?touchpoint=without").text
    assert "Bare Co" in without and "Late Co" not in without
    with_tp = client.get("/customers?touchpoint=with").text
    assert "Late Co" in with_tp and "Bare Co" not in with_tp
    no_rep = client.get("/customers?rep=0").text
    assert "Orphan Co" in no_rep and "Late Co" not in no_rep
    by_rep = client.get(f"/customers?rep={rep.id}").text
    assert "Late Co" in by_rep and "Orphan Co" not in by_rep
    assert "Gone Co" in client.get("/customers?status=inactive").text


def test_a_rep_sees_only_their_own_customers(client, make, auth):
    rep, other = make.rep(), make.rep()
    make.customer(rep=rep, name="Mine Co")
    theirs = make.customer(rep=other, name="Theirs Co")
    auth.login(rep)
    page = client.get(f"/customers?rep={other.id}").text
    assert "Mine Co" in page and "Theirs Co" not in page
    assert client.get(f"/customers/{theirs.id}/edit").status_code == 404
    before = snapshot()
    assert (
        client.post(f"/customers/{theirs.id}/contacts/new", data={"name": "X"}).status_code == 404
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    "url", ["/customers/new", "/customers/{id}/jobsites/new", "/customers/{id}/status"]
)
def test_manager_only_actions_are_404_for_a_rep_and_change_nothing(client, make, auth, url):
    rep = make.rep()
    customer = make.customer(rep=rep, name="Mine Co")
    auth.login(rep)
    before = snapshot()
    response = client.post(url.format(id=customer.id), data={**customer_form(), "active": "0"})
    assert response.status_code == 404
    assert snapshot() == before


def test_a_rep_edits_only_the_notes_of_their_own_account(client, make, auth):
    rep = make.rep()
    customer = make.customer(rep=rep, name="Mine Co")
    auth.login(rep)
    form = client.get(f"/customers/{customer.id}/edit").text
    assert (
        'name="notes"' in form and 'name="name"' not in form and 'name="sales_rep_id"' not in form
    )
    response = client.post(
        f"/customers/{customer.id}/edit",
        data={"notes": "Ask for Sam", "name": "Hijacked", "sales_rep_id": "0"},
    )
    assert response.status_code == 303
    db.session.refresh(customer)
    assert (customer.notes, customer.name, customer.sales_rep_id) == (
        "Ask for Sam",
        "Mine Co",
        rep.id,
    )


def test_changing_the_sales_rep_moves_the_touchpoint_with_the_account(
    client, make, auth, manager, today
):
    old, new = make.rep(name="Old Rep"), make.rep(name="New Rep")
    customer = make.customer(rep=old, name="Moving Co")
    make.touchpoint(customer, last_call=today, frequency_days=7)
    client.post(
        f"/customers/{customer.id}/edit", data=customer_form(name="Moving Co", sales_rep_id=new.id)
    )
    auth.logout()
    auth.login(new)
    assert "Moving Co" in client.get("/touchpoints?view=list").text
    auth.logout()
    auth.login(old)
    assert "Moving Co" not in client.get("/touchpoints?view=list").text


def test_deactivating_a_customer_hides_it_and_sets_its_touchpoints_inactive(
    client, make, auth, manager, today
):
    rep = make.rep()
    customer = make.customer(rep=rep, name="Closing Co")
    jobsite = make.jobsite(customer, rep=rep, name="Closing Yard")
    tp = make.touchpoint(customer, last_call=today, frequency_days=7)
    site_tp = make.touchpoint(jobsite, last_call=today, frequency_days=7)

    response = client.post(f"/customers/{customer.id}/status", data={"active": "0"})

    assert response.status_code == 303
    db.session.expire_all()
    assert not customer.active and not jobsite.active
    assert tp.inactive and site_tp.inactive
    assert db.session.scalar(select(func.count(Account.id))) == 2  # nothing deleted
    auth.logout()
    auth.login(rep)
    for url in ("/touchpoints?view=list", "/unassigned", "/customers"):
        assert "Closing" not in client.get(url).text
    assert "Inactive" in client.get(f"/customers/{customer.id}").text

    auth.logout()
    auth.login(manager)
    client.post(f"/customers/{customer.id}/status", data={"active": "1"})
    db.session.expire_all()
    assert customer.active
    assert "Closing Co" in client.get("/customers").text


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "", "Enter a name."),
        ("name", "n" * 201, "Field cannot be longer than 200 characters."),
        ("latitude", "200", "Latitude is -90 to 90."),
        ("latitude", "north", "Not a valid float value."),
        ("longitude", "-181", "Longitude is -180 to 180."),
        ("longitude", "", "Give both latitude and longitude, or neither."),
        ("phone", "call me", "Use digits, spaces and + ( ) - . only."),
        ("sales_rep_id", "999", "Not a valid choice."),
        ("notes", "x" * 5001, "Field cannot be longer than 5000 characters."),
    ],
)
def test_bad_customer_form_is_422_and_saves_nothing(client, manager, field, value, error):
    before = snapshot()
    response = client.post("/customers/new", data=customer_form(**{field: value}))
    assert response.status_code == 422
    assert error in response.text.split(f'name="{field}"')[1].split("</label>")[0]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "   ", "Enter a name."),
        ("email", "not-an-email", "Enter an email address like name@example.com."),
        ("title", "t" * 121, "Field cannot be longer than 120 characters."),
    ],
)
def test_bad_contact_form_is_422_and_saves_nothing(client, make, manager, field, value, error):
    customer = make.customer(name="Co")
    data = {"name": "Pat", "email": "pat@example.com", field: value}
    before = snapshot()
    response = client.post(f"/customers/{customer.id}/contacts/new", data=data)
    assert response.status_code == 422
    assert error in response.text
    assert snapshot() == before


def test_a_contact_who_left_is_set_inactive_and_kept(client, make, manager):
    customer = make.customer(name="Co")
    contact = make.contact(customer, name="Leaving Lee")
    response = client.post(f"/contacts/{contact.id}/edit", data={"name": "Leaving Lee"})
    assert response.status_code == 303
    db.session.refresh(contact)
    assert not contact.active
    assert "Leaving Lee" not in client.get("/contacts").text


def test_hostile_names_are_shown_escaped_in_the_list(client, manager):
    client.post("/customers/new", data=customer_form(name="<img src=x onerror=alert(1)>"))
    page = client.get("/customers").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_bad_list_parameters_are_400(client, manager):
    for query in ("status=gone", "touchpoint=maybe", "rep=-1", "page=0"):
        assert client.get(f"/customers?{query}").status_code == 400


def test_customer_list_runs_a_fixed_number_of_queries(client, make, manager, today, count_queries):
    def measure():
        db.session.expire_all()
        count_queries.clear()
        assert client.get("/customers").status_code == 200
        return len(count_queries)

    for _ in range(5):
        make.touchpoint(make.customer(rep=manager), last_call=today, frequency_days=7)
    small = measure()
    for _ in range(60):
        make.touchpoint(make.customer(rep=manager), last_call=today, frequency_days=7)
    assert measure() == small


def test_an_inactive_account_offers_no_add_touchpoint_and_refuses_one(client, make, manager, today):
    rep = make.rep()
    customer = make.customer(rep=rep, name="Closed Co", active=False)
    assert "Add Touchpoint" not in client.get(f"/customers/{customer.id}").text
    before = snapshot()
    response = client.post(
        f"/customers/{customer.id}/touchpoints/new",
        data={"last_call": today.isoformat(), "frequency_days": "7"},
    )
    assert response.status_code == 409 and "reactivate it" in response.text
    assert snapshot() == before


def test_the_add_touchpoint_form_itself_is_refused_without_a_rep(client, make, manager):
    customer = make.customer(name="Orphan Co")
    response = client.get(f"/customers/{customer.id}/touchpoints/new")
    assert response.status_code == 422 and "Assign a sales rep" in response.text


def test_the_location_map_is_offered_only_with_tiles(client, app, manager):
    assert "location-picker.js" not in client.get("/customers/new").text
    app.config["TPWEB_TILE_URL"] = "https://tiles.example/{z}/{x}/{y}.png"
    try:
        form = client.get("/customers/new").text
    finally:
        app.config["TPWEB_TILE_URL"] = ""
    assert 'data-tiles="https://tiles.example/{z}/{x}/{y}.png"' in form
    assert "location-picker.js" in form


def test_an_account_without_a_location_is_listed_as_no_location(client, make, manager):
    located = make.customer(name="Mapped Co", latitude=41.75, longitude=-88.15)
    unlocated = make.customer(name="Unmapped Co")
    listed = client.get("/customers").text
    assert "no location" in listed.split(">Unmapped Co<")[1].split("</article>")[0]
    assert "no location" not in listed.split(">Mapped Co<")[1].split("</article>")[0]
    assert "no location" in client.get(f"/customers/{unlocated.id}").text
    # Not the raw numbers: the page gives Directions to them.
    page = client.get(f"/customers/{located.id}").text
    assert "on the map" in page and "41.75000, -88.15000" not in page
    assert "maps/dir/?api=1&amp;destination=41.75,-88.15" in page


def test_a_location_is_cleared_by_saving_both_fields_empty(client, make, manager):
    customer = make.customer(name="Moved Co", latitude=41.75, longitude=-88.15)
    form = customer_form(name="Moved Co", latitude="", longitude="")
    assert client.post(f"/customers/{customer.id}/edit", data=form).status_code == 303
    db.session.refresh(customer)
    assert (customer.latitude, customer.longitude) == (None, None)


def test_latitude_without_longitude_is_named_at_the_top_and_focused(client, manager):
    response = client.post("/customers/new", data=customer_form(longitude=""))
    assert response.status_code == 422
    summary = response.text.split('class="error-summary"')[1].split("</div>")[0]
    assert "Fix this to save:" in summary
    assert (
        '<a href="#longitude">Longitude: Give both latitude and longitude, or neither.</a>'
        in summary
    )
    field = re.search(r'<input [^>]*name="longitude"[^>]*>', response.text).group(0)
    assert "autofocus" in field and 'aria-describedby="longitude-error"' in field
    assert response.text.index("error-summary") < response.text.index('name="name"')
