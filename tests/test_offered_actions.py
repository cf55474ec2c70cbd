"""Every action a page offers answers that user: reading is shared across a customer's family,
changing is for the account's own rep and managers, and a page offers only what its user may do.

Roles, around one customer (Family Co, of the owner) with a jobsite of another rep's:
- owner: the customer's sales rep;
- jobsite_rep: the sales rep of a jobsite under it, who reads the whole family;
- manager: everything;
- other_rep: a rep with none of the family, given one task on its contact by the manager.
"""

from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tpweb.domain.scope import accounts_for, customers_for
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint, TouchpointRecord

from .conftest import Database
from .factories import PASSWORD

HTMX = {"HX-Request": "true"}
ROLES = ("owner", "jobsite_rep", "manager", "other_rep")
# Answers that say "done" or "here it is": a refusal for who the user is would be 403 or 404.
ANSWERED = (200, 303)
# Offered everywhere and not about any record: signing out ends the client's session.
NOT_TRIED = {"auth.logout", "static"}


@dataclass
class Offer:
    """One action a page offers: how it is sent, where, and with what (for a form)."""

    method: str
    url: str
    fields: tuple = ()


class Offers(HTMLParser):
    """Every link, htmx request and form a page offers, in the order it shows them."""

    def __init__(self):
        super().__init__()
        self.found, self._form = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.found.append(Offer("GET", attrs["href"]))
        for name in ("hx-get", "hx-post"):
            if attrs.get(name) and tag != "form":  # a form's are its action, sent with its fields
                self.found.append(Offer(name[3:].upper(), attrs[name]))
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            self._form = Offer(method, attrs.get("action") or "", [])
            self.found.append(self._form)
        elif self._form is None or not attrs.get("name"):
            return
        elif tag == "input" and attrs.get("type") not in ("checkbox", "radio", "submit"):
            self._form.fields.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "textarea":
            # What a user would type there: the form is sent as filled in, not empty.
            self._form.fields.append((attrs["name"], "Noted while checking the offers"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def offers(page):
    parser = Offers()
    parser.feed(page)
    return [
        offer
        for offer in parser.found
        if offer.url.startswith("/") and not offer.url.startswith("//")
    ]


def endpoint(app, offer):
    """The endpoint an offer reaches, or None for a URL the app does not have."""
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(urlsplit(offer.url).path, method=offer.method)[0]
    except (NotFound, MethodNotAllowed):
        return None


@pytest.fixture
def world(app, make, today):
    """The family and its people, each signed in on a client of their own."""
    owner, jobsite_rep, other_rep = (
        make.rep(name="Olga Owner"),
        make.rep(name="Jo Jobsite"),
        make.rep(name="Otto Other"),
    )
    manager = make.manager(name="Mona Manager")
    phone = make.call_type("Phone")
    customer = make.customer(owner, name="Family Co", city="Springfield")
    jobsite = make.jobsite(customer, jobsite_rep, name="Family Yard")
    sibling = make.jobsite(customer, owner, name="Family Depot")
    contact = make.contact(customer, name="Cora Contact", phone="555-0100")
    w = {
        "owner": owner,
        "jobsite_rep": jobsite_rep,
        "manager": manager,
        "other_rep": other_rep,
        "customer": customer,
        "jobsite": jobsite,
        "sibling": sibling,
        "contact": contact,
        "own_customer": make.customer(other_rep, name="Elsewhere Co"),
        "customer_tp": make.touchpoint(customer, last_call=today - timedelta(days=40)),
        "old_tp": make.touchpoint(customer, last_call=today - timedelta(days=400), inactive=True),
        "jobsite_tp": make.touchpoint(jobsite, last_call=today - timedelta(days=35)),
    }
    for who in ("owner", "jobsite_rep", "other_rep"):
        w[f"{who}_task"] = make.record(
            contact,
            manager,
            assigned_to=w[who],
            response_required=True,
            description=f"Task for {w[who].name}",
            date_completed=today - timedelta(days=1),
            date_due=today,
        )
    make.record(contact, owner, description="A visit noted")
    make.call_log(jobsite, jobsite_rep, phone, contact=contact, notes="At the yard")
    make.call_log(sibling, owner, phone, notes="At the depot")
    w["clients"] = {who: signed_in(app, w[who]) for who in ROLES}
    return w


def signed_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 303
    return client


def pages(w, who):
    """The pages with actions that `who` may open."""
    family = [
        f"/customers/{w['customer'].id}",
        f"/jobsites/{w['jobsite'].id}",
        f"/jobsites/{w['sibling'].id}",
        f"/contacts/{w['contact'].id}",
        f"/touchpoints/{w['customer_tp'].id}",
        f"/touchpoints/{w['old_tp'].id}",
        f"/touchpoints/{w['jobsite_tp'].id}",
    ]
    own = [f"/tasks/{w[f'{who}_task'].id}/response"] if f"{who}_task" in w else []
    lists = ["/", "/touchpoints?view=list", "/tasks", "/customers", "/contacts", "/unassigned"]
    if who == "other_rep":
        return [*lists, *own, f"/customers/{w['own_customer'].id}"]
    return [*lists, *family, *own]


def tried(client, offer):
    """The answer to an offer: a link as the browser follows it, a form with the values it
    holds."""
    if offer.method == "GET":
        return client.get(offer.url)
    return client.post(offer.url, data=dict(offer.fields))


def offered_and_answered(app, w, who):
    """Every action offered to `who` on their pages, by endpoint, each tried: the problems."""
    client, problems, endpoints, posts = w["clients"][who], [], {}, []
    for page_url in pages(w, who):
        page = client.get(page_url)
        assert page.status_code == 200, (who, page_url, page.status_code)
        for offer in offers(page.text):
            name = endpoint(app, offer)
            if name in NOT_TRIED:
                continue
            endpoints.setdefault(name, set()).add(page_url)
            if name is None:
                problems.append(f"{page_url} offers {offer.method} {offer.url}: no such route")
            elif offer.method == "POST":
                posts.append((page_url, offer))  # last: they change what the pages show
            else:
                answer = tried(client, offer)
                if answer.status_code not in ANSWERED:
                    problems.append(
                        f"{page_url} offers GET {offer.url}: answered {answer.status_code}"
                    )
    for page_url, offer in posts:
        answer = tried(client, offer)
        if answer.status_code not in ANSWERED:
            problems.append(f"{page_url} offers POST {offer.url}: answered {answer.status_code}")
    return problems, endpoints


# What each role must find offered somewhere (so that the test is not blind) and never.
MUST_OFFER = {
    "owner": {
        "touchpoints.complete",
        "touchpoints.edit",
        "accounts.edit_account",
        "accounts.edit_contact",
        "accounts.new_contact",
        "accounts.add_touchpoint",
        "contacts.create_record",
        "tasks.respond",
    },
    "jobsite_rep": {
        "touchpoints.complete",
        "touchpoints.edit",
        "accounts.edit_account",
        "contacts.create_record",
        "tasks.respond",
        "accounts.show",
        "touchpoints.show",
        "contacts.show",
    },
    "manager": {
        "touchpoints.complete",
        "touchpoints.edit",
        "accounts.edit_account",
        "accounts.edit_contact",
        "accounts.new_contact",
        "accounts.new_jobsite",
        "accounts.set_status",
        "contacts.create_record",
        "tasks.respond",
    },
    "other_rep": {"tasks.respond", "accounts.show"},
}
NEVER_OFFER = {
    "owner": {"accounts.set_status", "accounts.new_jobsite", "accounts.new_customer", "reps.show"},
    "jobsite_rep": {
        "accounts.edit_contact",
        "accounts.new_contact",
        "accounts.set_status",
        "accounts.new_jobsite",
        "accounts.new_customer",
    },
    "manager": set(),
    "other_rep": {"contacts.show", "contacts.create_record"},
}


@pytest.mark.parametrize("who", ROLES)
def test_every_action_offered_answers(app, world, who):
    """For each role, every page with actions: each link, htmx request and form it offers
    answers 200 or 303 for that user, never 403 or 404."""
    problems, endpoints = offered_and_answered(app, world, who)
    assert not problems, "\n".join(problems)
    missing = MUST_OFFER[who] - endpoints.keys()
    assert not missing, f"{who} was never offered {sorted(missing)}: the test is blind there"
    wrongly = NEVER_OFFER[who] & endpoints.keys()
    assert not wrongly, f"{who} was offered {sorted(wrongly)}"


def test_the_customer_page_offers_a_jobsite_rep_no_change(app, world):
    """The outside tester's page: the jobsite rep reads the customer, its touchpoint and
    contacts, and is offered none of Complete, Reschedule, Reactivate, Edit or New contact."""
    page = world["clients"]["jobsite_rep"].get(f"/customers/{world['customer'].id}")
    assert page.status_code == 200
    text = page.text
    assert "Family Co" in text and "Cora Contact" in text and "Family Depot" in text
    assert f'id="touchpoint-{world["customer_tp"].id}"' in text
    for label in (">Complete<", ">Reschedule<", ">Reactivate<", ">Edit", ">New contact<"):
        assert label not in text, label
    owner_page = world["clients"]["owner"].get(f"/customers/{world['customer'].id}").text
    for label in (">Complete<", ">Reschedule<", ">Reactivate<", ">Edit notes<", ">New contact<"):
        assert label in owner_page, label


def test_the_contact_page_offers_edit_to_whoever_may_change_the_contact(world):
    url = f"/contacts/{world['contact'].id}"
    for who, offered in (("owner", True), ("manager", True), ("jobsite_rep", False)):
        page = world["clients"][who].get(url).text
        assert ("Edit contact" in page) is offered, who
        assert "Log activity" in page, who


def family_changes(w, today):
    """Every change a jobsite rep might try on the family that is not theirs: (url, body)."""
    tp = db.session.get(Touchpoint, w["customer_tp"].id)
    contact_form = {"name": "Renamed", "title": "", "email": "", "phone": "", "notes": ""}
    touchpoint_form = {
        "last_call": tp.last_call.isoformat(),
        "frequency_days": "7",
        "next_call": "",
        "comment": "Mine now",
        "version": str(tp.version),
    }
    call_form = {
        "called_on": today.isoformat(),
        "duration_minutes": "5",
        "call_type": "1",
        "contact_id": "0",
        "notes": "",
    }
    account_form = {"name": "Renamed Co", "notes": "Mine now"}
    new_touchpoint = {"last_call": today.isoformat(), "frequency_days": "30", "next_call": ""}
    return [
        (f"/contacts/{w['contact'].id}/edit", {**contact_form, "active": "y"}),
        (f"/contacts/{w['contact'].id}/edit", contact_form),  # inactive: a contact "who left"
        (f"/customers/{w['customer'].id}/contacts/new", contact_form),
        (f"/customers/{w['customer'].id}/edit", account_form),
        (f"/jobsites/{w['sibling'].id}/edit", account_form),
        (f"/jobsites/{w['sibling'].id}/touchpoints/new", new_touchpoint),
        (f"/customers/{w['customer'].id}/status", {"active": "0"}),
        (f"/touchpoints/{w['customer_tp'].id}/edit", touchpoint_form),
        (f"/touchpoints/{w['old_tp'].id}/edit", {**touchpoint_form, "version": "1"}),
        (f"/touchpoints/{w['customer_tp'].id}/complete", call_form),
        (f"/tasks/{w['owner_task'].id}/response", {"responded_on": today.isoformat(),
                                                    "response_note": "Done"}),
    ]  # fmt: skip


@pytest.mark.parametrize("htmx", [False, True])
def test_a_jobsite_rep_changes_nothing_of_the_family(world, today, htmx):
    """Each change to another rep's account, touchpoint, contact or task in the family: 404
    for its form and its POST, and the database unchanged."""
    client = world["clients"]["jobsite_rep"]
    database = Database()
    for url, body in family_changes(world, today):
        if not url.endswith("/status"):
            assert client.get(url).status_code == 404, url
        headers = {**HTMX, "Idempotency-Key": f"family-{url}"} if htmx else {}
        response = client.post(url, data=body, headers=headers)
        assert response.status_code == 404, (url, response.status_code)
        assert not database.changes(), url
    db.session.expire_all()
    assert db.session.get(Contact, world["contact"].id).name == "Cora Contact"
    assert db.session.get(Account, world["customer"].id).name == "Family Co"


def test_a_jobsite_rep_records_a_touchpoint_on_the_shared_contact(world, today):
    """Creating a record on a contact they may open changes nothing of the contact's: allowed."""
    client = world["clients"]["jobsite_rep"]
    response = client.post(
        f"/contacts/{world['contact'].id}/touchpoints",
        data={
            "description": "Met at the yard",
            "details": "",
            "date_completed": today.isoformat(),
            "assigned_to": str(world["jobsite_rep"].id),
        },
    )
    assert response.status_code == 303
    assert db.session.query(TouchpointRecord).filter_by(description="Met at the yard").count() == 1


def test_a_task_on_a_contact_the_user_cannot_open_still_opens(world, today):
    """The other rep's task on the family's contact: in My tasks, without a link to the contact
    page (404 for them), and answered there; afterwards they come back to My tasks."""
    client, task = world["clients"]["other_rep"], world["other_rep_task"]
    contact_url = f"/contacts/{world['contact'].id}"
    assert client.get(contact_url).status_code == 404
    listed = client.get("/tasks").text
    assert "Task for Otto Other" in listed and "Cora Contact" in listed
    assert f'href="{contact_url}"' not in listed
    form = client.get(f"/tasks/{task.id}/response")
    assert form.status_code == 200 and f'href="{contact_url}"' not in form.text

    answered = client.post(
        f"/tasks/{task.id}/response",
        data={"responded_on": today.isoformat(), "response_note": "Called back"},
    )

    assert answered.status_code == 303
    assert urlsplit(answered.headers["Location"]).path == "/tasks"
    db.session.expire_all()
    assert db.session.get(TouchpointRecord, task.id).response_note == "Called back"


def test_my_tasks_links_a_task_to_its_contact_where_the_user_may_open_it(world):
    """The family's reps open the contact (the owner's customer, the jobsite rep's through their
    jobsite), so their rows link to it; the other rep's row names it alone."""
    link = f'href="/contacts/{world["contact"].id}"'
    for who, linked in (("owner", True), ("jobsite_rep", True), ("other_rep", False)):
        listed = world["clients"][who].get("/tasks").text
        assert f"Task for {world[who].name}" in listed, who
        assert (link in listed) is linked, who


def test_an_htmx_response_on_such_a_task_names_the_contact_without_a_link(world, today):
    client, task = world["clients"]["other_rep"], world["other_rep_task"]
    entry = client.post(
        f"/tasks/{task.id}/response",
        data={"responded_on": today.isoformat(), "response_note": "Called back"},
        headers=HTMX,
    )
    assert entry.status_code == 200 and "Cora Contact" in entry.text
    assert f'href="/contacts/{world["contact"].id}"' not in entry.text


def test_the_offline_list_keeps_no_contact_page_the_user_cannot_open(world):
    urls = world["clients"]["other_rep"].get("/offline/urls").get_json()
    every = urls["pages"] + urls["fragments"]
    assert f"/tasks/{world['other_rep_task'].id}/response" in every
    assert not [url for url in every if url.startswith(f"/contacts/{world['contact'].id}")]


def names(query):
    return sorted(db.session.scalars(query.with_only_columns(Account.name)))


def test_the_customer_lists_rule_gives_the_family_rules_customers(world, make):
    """scope.customers_for (the list's cheaper rule) and accounts_for agree on customers, for
    every role, with a customer of the jobsite rep's own and one with no rep too."""
    make.customer(world["jobsite_rep"], name="Jo's Own Co")
    make.customer(None, name="Nobody's Co")
    for who in ROLES:
        user = world[who]
        wide = accounts_for(user).where(Account.kind == "customer")
        assert names(customers_for(user)) == names(wide), who
    assert names(customers_for(world["jobsite_rep"])) == ["Family Co", "Jo's Own Co"]
