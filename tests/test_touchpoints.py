"""The touchpoint widget, Complete in two steps, Reschedule, Inactive, replays and conflicts."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tpweb.extensions import db
from tpweb.models import CallLog, IdempotencyKey, Touchpoint

from .conftest import snapshot

HTMX = {"HX-Request": "true"}


@pytest.fixture
def phone(make):
    return make.call_type("Phone")


def touchpoint_due(make, rep, today, days_from_today, name, frequency=30):
    """A touchpoint of a new customer of `rep` whose Next Call is today + `days_from_today`."""
    customer = make.customer(rep=rep, name=name)
    last_call = today + timedelta(days=days_from_today - frequency)
    return make.touchpoint(customer, last_call=last_call, frequency_days=frequency)


def test_list_shows_each_due_state_overdue_first(client, make, rep, today):
    touchpoint_due(make, rep, today, 5, "Upcoming Co")
    touchpoint_due(make, rep, today, 0, "Today Co")
    touchpoint_due(make, rep, today, -3, "Late Co")

    page = client.get("/touchpoints?view=list").text

    assert page.index("Late Co") < page.index("Today Co") < page.index("Upcoming Co")
    assert "Overdue 3 days" in page
    assert "Due today" in page
    assert "Upcoming · in 5 days" in page
    assert 'class="tp tp--overdue"' in page and 'class="tp tp--due-today"' in page


def test_list_shows_only_the_reps_own_active_touchpoints(client, make, rep, today):
    other = make.rep()
    touchpoint_due(make, other, today, -1, "Someone Elses Co")
    touchpoint_due(make, rep, today, 1, "Mine Co")
    dropped = touchpoint_due(make, rep, today, -1, "Dropped Co")
    dropped.inactive = True
    closed = touchpoint_due(make, rep, today, -1, "Closed Account Co")
    closed.account.active = False
    db.session.commit()

    page = client.get("/touchpoints?view=list").text

    assert "Mine Co" in page
    for hidden in ("Someone Elses Co", "Dropped Co", "Closed Account Co"):
        assert hidden not in page


def test_state_tab_filters_and_counts(client, make, rep, today):
    touchpoint_due(make, rep, today, -1, "Late Co")
    touchpoint_due(make, rep, today, 2, "Soon Co")

    fragment = client.get("/touchpoints?view=list&state=overdue", headers=HTMX)

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Late Co" in fragment.text and "Soon Co" not in fragment.text
    assert 'Overdue <span class="count">1</span>' in fragment.text
    assert 'Upcoming <span class="count">1</span>' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]


def test_whole_page_and_htmx_fragment_come_from_one_url(client, make, rep, today):
    touchpoint_due(make, rep, today, 0, "Today Co")
    page = client.get("/touchpoints?view=list")
    fragment = client.get("/touchpoints?view=list", headers=HTMX)
    assert page.text.startswith("<!doctype html>")
    assert fragment.text.lstrip().startswith('<section id="touchpoint-widget"')
    assert "Today Co" in fragment.text


def test_manager_sees_a_chosen_reps_list(client, make, auth, today):
    rep_a, rep_b = make.rep(name="Anna"), make.rep(name="Ben")
    touchpoint_due(make, rep_a, today, 0, "Anna Co")
    touchpoint_due(make, rep_b, today, 0, "Ben Co")
    auth.login(make.manager())

    everyone = client.get("/touchpoints?view=list").text
    only_ben = client.get(f"/touchpoints?view=list&rep={rep_b.id}").text

    assert "Anna Co" in everyone and "Ben Co" in everyone and "Sales Rep: Anna" in everyone
    assert "Ben Co" in only_ben and "Anna Co" not in only_ben


def test_a_rep_cannot_see_another_reps_list_with_rep_param(client, make, rep, today):
    other = make.rep()
    touchpoint_due(make, other, today, 0, "Other Co")
    assert "Other Co" not in client.get(f"/touchpoints?view=list&rep={other.id}").text


def test_paging_loads_the_next_rows(client, app, make, rep, today):
    app.config["PAGE_SIZE"] = 2
    try:
        for n in range(3):
            touchpoint_due(make, rep, today, n, f"Co {n}")
        first = client.get("/touchpoints?view=list").text
        more = client.get("/touchpoints?view=list&page=2", headers=HTMX).text
    finally:
        app.config["PAGE_SIZE"] = 50
    assert "Co 0" in first and "Co 1" in first and "Co 2" not in first and "Show more" in first
    assert "Co 2" in more and "Co 0" not in more and "<section" not in more


def test_card_links_are_the_routes_own_under_a_prefix(client, make, rep, today):
    """Cards build their links from one url_for per request (tpweb.web.pages.url_pattern)."""
    tp = touchpoint_due(make, rep, today, 0, "Prefix Co")
    site = make.jobsite(tp.account, rep=rep, name="Prefix Site")
    on_site = make.touchpoint(site, last_call=today - timedelta(days=30), frequency_days=30)
    # A prefix with a "%" and the id (touchpoints.views.ID_A) a pattern is built with.
    root = "/sales%team 2147483647"
    page = client.get(
        "/touchpoints?view=list", base_url="http://localhost/sales%25team%202147483647/"
    )
    assert f'href="{root}/tasks"' in page.text  # as url_for writes it everywhere
    for card, account in ((tp, tp.account), (on_site, site)):
        for path in (
            f"/{account.kind}s/{account.id}",
            f"/touchpoints/{card.id}",
            f"/touchpoints/{card.id}/complete",
            f"/touchpoints/{card.id}/edit",
        ):
            assert f'href="{root}{path}"' in page.text


@pytest.mark.parametrize("query", ["view=nope", "state=late", "page=0", "page=x", "rep=abc"])
def test_bad_list_parameters_are_400(client, rep, query):
    response = client.get(f"/touchpoints?{query}")
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_another_reps_touchpoint_is_404_everywhere(client, make, rep, today, phone):
    theirs = touchpoint_due(make, make.rep(), today, 0, "Other Co")
    before = (theirs.last_call, theirs.next_call, theirs.version)
    for url in ("", "/complete", "/edit"):
        assert client.get(f"/touchpoints/{theirs.id}{url}").status_code == 404
    call = {"called_on": today.isoformat(), "duration_minutes": 5, "call_type": phone.id}
    assert client.post(f"/touchpoints/{theirs.id}/complete", data=call).status_code == 404
    edit = {"last_call": today.isoformat(), "frequency_days": 7, "version": theirs.version}
    assert client.post(f"/touchpoints/{theirs.id}/edit", data=edit).status_code == 404
    db.session.expire_all()
    assert (theirs.last_call, theirs.next_call, theirs.version) == before
    assert db.session.scalar(select(func.count(CallLog.id))) == 0


def log_call(client, tp, day, phone, headers=HTMX, **extra):
    data = {"called_on": day.isoformat(), "duration_minutes": "20", "call_type": phone.id}
    return client.post(f"/touchpoints/{tp.id}/complete", data={**data, **extra}, headers=headers)


def test_complete_step_one_stores_the_call_and_answers_with_the_touchpoint_form(
    client, make, rep, today, phone
):
    tp = touchpoint_due(make, rep, today, -2, "Late Co", frequency=14)

    form = client.get(f"/touchpoints/{tp.id}/complete", headers=HTMX)
    assert 'name="called_on"' in form.text and f'value="{today.isoformat()}"' in form.text
    assert "Phone" in form.text

    response = log_call(client, tp, today, phone, notes="Talked about the spring order")

    assert response.status_code == 200
    assert "Step 2 of 2" in response.text
    assert f'name="last_call" required type="date" value="{today.isoformat()}"' in response.text
    next_call = (today + timedelta(days=14)).isoformat()
    assert f'name="next_call" type="date" value="{next_call}"' in response.text
    log = db.session.scalars(select(CallLog)).one()
    assert (log.called_on, log.duration_minutes, log.notes) == (
        today,
        20,
        "Talked about the spring order",
    )
    assert (log.user_id, log.account_id, log.touchpoint_id) == (rep.id, tp.account_id, tp.id)


def test_only_the_date_filled_in_as_today_is_marked_so(client, make, rep, today, phone):
    """data-today: what a phone moves to its own today when it shows a form kept from an earlier
    day (static/offline/forms.js); a date the rep sent back is theirs."""
    tp = touchpoint_due(make, rep, today, -2, "Late Co")
    day = today.isoformat()

    form = client.get(f"/touchpoints/{tp.id}/complete", headers=HTMX).text
    assert re.search(rf'<input data-today="{day}" [^>]*name="called_on"[^>]*value="{day}"', form)

    refused = log_call(client, tp, today - timedelta(days=3), phone, duration_minutes="")
    assert refused.status_code == 422
    assert "data-today" not in refused.text


def test_abandoning_step_two_loses_nothing(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, -2, "Late Co", frequency=14)

    log_call(client, tp, today, phone)  # and the rep walks away from step two

    db.session.expire_all()
    assert db.session.scalar(select(func.count(CallLog.id))) == 1
    assert (tp.last_call, tp.next_call) == (today, today + timedelta(days=14))
    page = client.get("/touchpoints?view=list").text
    assert "Upcoming · in 14 days" in page
    assert "Overdue" not in page.split('class="tp-list"')[1]


def test_step_two_saves_the_edited_schedule(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, -2, "Late Co", frequency=14)
    log_call(client, tp, today, phone)
    db.session.refresh(tp)

    response = client.post(
        f"/touchpoints/{tp.id}/edit",
        data={
            "last_call": today.isoformat(),
            "frequency_days": "21",
            "next_call": "",
            "comment": "Wife: Dana; loves fishing",
            "version": tp.version,
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    assert f'id="touchpoint-{tp.id}"' in response.text
    assert "Wife: Dana; loves fishing" in response.text
    db.session.refresh(tp)
    assert (tp.frequency_days, tp.next_call) == (21, today + timedelta(days=21))


def test_complete_without_htmx_redirects_to_step_two(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, 0, "Today Co")
    response = log_call(client, tp, today, phone, headers={})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/touchpoints/{tp.id}/edit?logged=1")
    assert "Step 2 of 2" in client.get(response.headers["Location"]).text


def test_an_old_call_logged_late_does_not_move_the_schedule_back(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, 10, "Co", frequency=30)
    before = (tp.last_call, tp.next_call)
    log_call(client, tp, tp.last_call - timedelta(days=5), phone)
    db.session.expire_all()
    assert (tp.last_call, tp.next_call) == before
    assert db.session.scalar(select(func.count(CallLog.id))) == 1


def test_a_second_call_on_the_day_of_the_last_call_moves_next_call_on(
    client, make, rep, today, phone
):
    tp = touchpoint_due(make, rep, today, -2, "Twice Co", frequency=14)
    log_call(client, tp, today, phone)
    db.session.refresh(tp)
    custom = today + timedelta(days=2)
    assert edit(client, tp, next_call=custom.isoformat()).status_code == 200  # step two

    response = log_call(client, tp, today, phone, notes="Called back about the quote")

    assert response.status_code == 200
    next_call = (today + timedelta(days=14)).isoformat()
    assert f'name="next_call" type="date" value="{next_call}"' in response.text
    db.session.expire_all()
    assert (tp.last_call, tp.next_call) == (today, today + timedelta(days=14))
    assert db.session.scalar(select(func.count(CallLog.id))) == 2


def test_replaying_a_complete_with_the_same_key_logs_one_call(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, -2, "Late Co", frequency=14)
    headers = {**HTMX, "Idempotency-Key": "call-1"}

    first = log_call(client, tp, today, phone, headers=headers)
    second = log_call(client, tp, today, phone, headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.text == first.text
    assert second.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count(CallLog.id))) == 1
    key = db.session.scalars(select(IdempotencyKey)).one()
    assert (key.user_id, key.key, key.status_code) == (rep.id, "call-1", 200)


def test_a_key_reused_for_a_different_request_is_refused(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, -2, "Late Co")
    headers = {**HTMX, "Idempotency-Key": "call-2"}
    log_call(client, tp, today, phone, headers=headers)
    before = snapshot()

    response = log_call(client, tp, today, phone, headers=headers, notes="different")

    assert response.status_code == 422
    assert snapshot() == before


def test_keys_belong_to_their_user(client, make, auth, today, phone):
    """Two reps may happen to send the same key; each gets their own write."""
    rep_a, rep_b = make.rep(), make.rep()
    tp_a = touchpoint_due(make, rep_a, today, 0, "A Co")
    tp_b = touchpoint_due(make, rep_b, today, 0, "B Co")
    for rep, tp in ((rep_a, tp_a), (rep_b, tp_b)):
        auth.login(rep)
        log_call(client, tp, today, phone, headers={**HTMX, "Idempotency-Key": "same"})
        auth.logout()
    assert db.session.scalar(select(func.count(CallLog.id))) == 2


def test_a_failed_write_does_not_burn_its_key(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, 0, "Co")
    headers = {**HTMX, "Idempotency-Key": "fix-me"}
    before = snapshot()
    bad = log_call(client, tp, today, phone, headers=headers, duration_minutes="-1")
    assert bad.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("key", ["", "x" * 101])
def test_a_malformed_key_is_refused(client, make, rep, today, phone, key):
    tp = touchpoint_due(make, rep, today, 0, "Co")
    before = snapshot()
    response = log_call(client, tp, today, phone, headers={**HTMX, "Idempotency-Key": key})
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("called_on", "", "Enter the date of the call."),
        ("called_on", "2026-13-01", "Not a valid date value."),
        ("called_on", "tomorrow", "Not a valid date value."),
        ("called_on", "1900-01-01", "Enter a date between"),
        ("duration_minutes", "1441", "Duration is 0 to 1440 minutes."),
        ("duration_minutes", "-1", "Duration is 0 to 1440 minutes."),
        ("duration_minutes", "ten", "Enter a whole number, in digits only (like 30)."),
        ("duration_minutes", "", "Enter the duration in minutes."),
        ("call_type", "999", "Not a valid choice."),
        ("call_type", "phone", "Invalid Choice"),
        ("notes", "x" * 5001, "Field cannot be longer than 5000 characters."),
    ],
)
def test_bad_call_log_is_422_with_the_error_beside_the_field(
    client, make, rep, today, phone, field, value, error
):
    tp = touchpoint_due(make, rep, today, -2, "Late Co")
    before = (tp.last_call, tp.next_call, tp.version)

    response = log_call(client, tp, today, phone, **{field: value})

    assert response.status_code == 422
    label = response.text.split(f'name="{field}"')[1].split("</label>")[0]
    assert error in label
    db.session.expire_all()
    assert db.session.scalar(select(func.count(CallLog.id))) == 0
    assert (tp.last_call, tp.next_call, tp.version) == before


def test_a_call_in_the_future_is_refused(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, 0, "Co")
    before = snapshot()
    response = log_call(client, tp, today + timedelta(days=1), phone)
    assert response.status_code == 422
    assert "A call cannot be logged in the future." in response.text
    assert snapshot() == before


def edit(client, tp, headers=HTMX, **fields):
    data = {
        "last_call": tp.last_call.isoformat(),
        "frequency_days": tp.frequency_days,
        "next_call": tp.next_call.isoformat(),
        "comment": tp.comment,
        "version": tp.version,
        **fields,
    }
    return client.post(f"/touchpoints/{tp.id}/edit", data=data, headers=headers)


def test_reschedule_to_a_custom_next_call(client, make, rep, today):
    tp = touchpoint_due(make, rep, today, -1, "Co")
    custom = today + timedelta(days=3)

    response = edit(client, tp, next_call=custom.isoformat())

    assert response.status_code == 200
    assert "Upcoming · in 3 days" in response.text
    db.session.refresh(tp)
    assert (tp.next_call, tp.version) == (custom, 2)


def test_reschedule_with_a_stale_version_is_409_and_shows_what_changed(client, make, rep, today):
    tp = touchpoint_due(make, rep, today, -1, "Co")
    seen = tp.version
    tp.next_call = today + timedelta(days=10)  # a manager reschedules meanwhile
    db.session.commit()
    before = snapshot()

    response = edit(client, tp, version=seen, next_call=(today + timedelta(days=2)).isoformat())

    assert response.status_code == 409
    assert "Someone changed this touchpoint" in response.text
    assert f'value="{(today + timedelta(days=10)).isoformat()}"' in response.text
    assert f"you had {today + timedelta(days=2):%a %b %-d}." in response.text
    assert snapshot() == before


def test_set_inactive_removes_it_from_the_list_and_reactivate_brings_it_back(
    client, make, rep, today
):
    tp = touchpoint_due(make, rep, today, 0, "Gone Co")

    card = edit(client, tp, inactive="y")
    assert "Inactive" in card.text and "Reactivate" in card.text
    assert "Gone Co" not in client.get("/touchpoints?view=list").text
    account_page = client.get(f"/customers/{tp.account_id}").text
    assert "Inactive" in account_page and "Add Touchpoint" in account_page

    db.session.refresh(tp)
    edit(client, tp)  # the form without the Inactive box ticked
    assert "Gone Co" in client.get("/touchpoints?view=list").text


def test_reactivating_beside_a_newer_active_touchpoint_is_refused(client, make, rep, today):
    old = touchpoint_due(make, rep, today, 0, "Co")
    old.inactive = True
    db.session.commit()
    make.touchpoint(old.account, last_call=today, frequency_days=7)
    before = snapshot()

    response = edit(client, old)

    assert response.status_code == 409
    assert "already has an active touchpoint" in response.text
    assert snapshot() == before
    db.session.refresh(old)
    assert old.inactive


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("frequency_days", "0", "Frequency is 1 to 3650 days."),
        ("frequency_days", "3651", "Frequency is 1 to 3650 days."),
        ("frequency_days", "weekly", "Enter a whole number, in digits only (like 30)."),
        ("last_call", "2026-02-30", "Not a valid date value."),
        ("last_call", "", "Enter the date of the last call."),
        ("next_call", "2000-01-01", "Next Call cannot be before Last Call."),
        ("next_call", "9999-12-31", "Enter a date between"),
        ("comment", "c" * 2001, "Field cannot be longer than 2000 characters."),
    ],
)
def test_bad_reschedule_is_422_and_saves_nothing(client, make, rep, today, field, value, error):
    tp = touchpoint_due(make, rep, today, -1, "Co")
    before = (tp.last_call, tp.frequency_days, tp.next_call, tp.comment, tp.version)

    response = edit(client, tp, **{field: value})

    assert response.status_code == 422
    assert error in response.text.split(f'name="{field}"')[1].split("</label>")[0]
    db.session.expire_all()
    assert (tp.last_call, tp.frequency_days, tp.next_call, tp.comment, tp.version) == before


def test_hostile_comment_is_stored_and_shown_escaped(client, make, rep, today):
    tp = touchpoint_due(make, rep, today, 0, "Co")
    edit(client, tp, comment="<script>alert(1)</script>")
    page = client.get("/touchpoints?view=list").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_next_call_is_worked_out_as_the_user_types(client, rep):
    response = client.get(
        "/touchpoints/next-call?last_call=2026-11-23&frequency_days=45&idp=tp3-", headers=HTMX
    )
    assert response.status_code == 200
    assert 'id="tp3-next_call" name="next_call" type="date" value="2027-01-07"' in response.text


def test_next_call_replaces_the_date_the_form_had(client, rep):
    """htmx sends the whole form, old Next Call included; the answer shows the new one."""
    response = client.get(
        "/touchpoints/next-call?last_call=2026-11-23&frequency_days=21&next_call=2027-01-22",
        headers=HTMX,
    )
    assert 'name="next_call" type="date" value="2026-12-14"' in response.text


def test_next_call_ignores_incomplete_input(client, rep):
    response = client.get("/touchpoints/next-call?last_call=2026-11-23&frequency_days=0")
    assert 'name="next_call" type="date" value=""' in response.text


def test_next_call_refuses_a_hostile_id_prefix(client, rep):
    response = client.get('/touchpoints/next-call?idp="><script>')
    assert response.status_code == 400


def test_the_list_runs_a_fixed_number_of_queries_at_10_and_500(
    client, make, rep, today, count_queries
):
    parent = make.customer(rep=rep, name="Parent Co")

    def grow_to(size):
        while db.session.scalar(select(func.count(Touchpoint.id))) < size:
            n = db.session.scalar(select(func.count(Touchpoint.id)))
            account = make.jobsite(parent, rep=rep) if n % 2 else make.customer(rep=rep)
            make.touchpoint(account, last_call=today - timedelta(days=n % 60), frequency_days=30)

    def queries_for(headers):
        db.session.expire_all()  # as in a real request, nothing is loaded yet
        count_queries.clear()
        response = client.get("/touchpoints?view=list", headers=headers)
        assert response.status_code == 200
        return len(count_queries), response.text.count('class="tp tp--')

    grow_to(10)
    small = queries_for({}), queries_for(HTMX)
    grow_to(500)
    large = queries_for({}), queries_for(HTMX)

    assert [rows for _, rows in small] == [10, 10]
    assert [rows for _, rows in large] == [50, 50]
    # The user; the ETag's fingerprint (tpweb.web.caching); the page of touchpoints with their
    # accounts, customers and reps; the counts; and for the whole page, the My tasks count.
    assert [queries for queries, _ in small + large] == [5, 4, 5, 4]


REACH = re.compile(r'<div class="reach" role="group"[^>]*>(.*?)</div>', re.S)
HREF = re.compile(r'<a href="([^"]*)"[^>]*>([^<]*)</a>')


def reach_links(page):
    """{label: href as the browser reads it} of each card's Call, Text, Email and Directions."""
    return [
        {label: html.unescape(href) for href, label in HREF.findall(group)}
        for group in REACH.findall(page)
    ]


def test_a_card_calls_texts_emails_and_gives_directions_from_hostile_data(client, make, rep, today):
    customer = make.customer(
        rep=rep,
        name="Hostile Co",
        phone='javascript:alert("x")//+1 312 555 0100',
        address='1 Main St "><script>alert(1)</script>',
        city="Joliet & Co",
    )
    make.contact(customer, name="Inactive First", email="old@acme.example", active=False)
    make.contact(customer, name="Zed Later", email="zed@acme.example")
    make.contact(customer, name="Amy Main", email="amy'<b>@acme.example")
    make.touchpoint(customer, last_call=today - timedelta(days=30), frequency_days=30)

    page = client.get("/touchpoints?view=list").text

    [links] = reach_links(page)
    assert links == {
        "Call": "tel:13125550100",
        "Text": "sms:13125550100",
        # The main contact: the first active one by name, as the customer page lists them.
        "Email": "mailto:amy%27%3Cb%3E@acme.example",
        "Directions": "https://www.google.com/maps/dir/?api=1&destination="
        "1+Main+St+%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E,+Joliet+%26+Co",
    }
    # Typed text stays text: escaped where it shows, and no link is a javascript: URL.
    assert "<script>alert(1)" not in page
    assert not re.search(r'href="\s*javascript:', page, re.I)
    assert 'title="Call javascript:alert(&#34;x&#34;)//+1 312 555 0100"' in page
    assert "1 Main St &#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;, Joliet &amp; Co" in page


def test_a_card_without_a_phone_takes_its_main_contacts_and_goes_to_its_pin(
    client, make, rep, today
):
    customer = make.customer(rep=rep, name="Pinned Co", latitude=41.52503, longitude=-88.0817)
    make.contact(customer, name="Dana", phone="(815) 555-0142", email="not an address")
    jobsite = make.jobsite(customer, rep=rep, name="Pinned Yard")
    for account in (customer, jobsite):
        make.touchpoint(account, last_call=today - timedelta(days=30), frequency_days=30)

    links = reach_links(client.get("/touchpoints?view=list").text)

    # The jobsite's people are its customer's; it has no place of its own, so no Directions.
    assert sorted(links, key=len) == [
        {"Call": "tel:8155550142", "Text": "sms:8155550142"},
        {
            "Call": "tel:8155550142",
            "Text": "sms:8155550142",
            "Directions": "https://www.google.com/maps/dir/?api=1&destination=41.52503,-88.0817",
        },
    ]


# Every change shows at once: the card, the tab counts, the navigation's count, a status line.


def oob(page, element_id):
    """The out-of-band element with `element_id` in an htmx answer, as text."""
    match = re.search(rf'<[a-z]+ [^>]*id="{element_id}"[^>]*hx-swap-oob[^>]*>(.*?)</', page, re.S)
    assert match, f"no out-of-band #{element_id}"
    return match.group(0)


def test_complete_answers_with_the_counts_and_a_confirmation(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, -2, "Late Co", frequency=14)
    touchpoint_due(make, rep, today, 0, "Today Co")
    assert 'id="nav-task-count" data-count="2">2<' in client.get("/touchpoints").text

    response = log_call(client, tp, today, phone)

    assert response.headers["HX-Trigger"] == "tpweb-changed"
    assert oob(response.text, "nav-task-count").endswith(">1</")  # Late Co is no longer due
    status = oob(response.text, "status-line")
    next_call = today + timedelta(days=14)
    assert f"Call logged for Late Co. Next Call {next_call:%a %b %-d}" in status
    # The tabs, asked for again on that event, for the tab the rep is on.
    tabs = client.get("/touchpoints/counts?state=overdue", headers=HTMX).text
    assert tabs.strip().startswith('<nav class="tabs" id="touchpoint-tabs"')
    assert counts_of(tabs) == {"All": 2, "Overdue": 0, "Due today": 1, "Upcoming": 1}
    assert 'hx-get="/touchpoints/counts?state=overdue"' in tabs


def counts_of(tabs):
    return {
        label.strip(): int(count)
        for label, count in re.findall(r'>\s*([A-Za-z ]+?) <span class="count">(\d+)<', tabs)
    }


def test_step_two_answers_with_the_card_in_its_new_state(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, -2, "Late Co", frequency=14)
    log_call(client, tp, today, phone)
    db.session.refresh(tp)
    edit = {"last_call": today.isoformat(), "frequency_days": "14", "next_call": ""}

    response = client.post(
        f"/touchpoints/{tp.id}/edit?logged=1", data={**edit, "version": tp.version}, headers=HTMX
    )

    assert response.status_code == 200 and response.headers["HX-Trigger"] == "tpweb-changed"
    assert f'<article class="tp tp--upcoming" id="touchpoint-{tp.id}">' in response.text
    assert "Late Co: Next Call" in oob(response.text, "status-line")
    # An Overdue tab keeps only overdue cards: this one leaves it (app.css).
    page = client.get("/touchpoints?view=list&state=overdue").text
    assert 'class="tp-list" data-only="overdue"' in page


def test_step_two_stays_complete_when_it_fails_validation(client, make, rep, today, phone):
    tp = touchpoint_due(make, rep, today, -2, "Late Co", frequency=14)
    step_two = log_call(client, tp, today, phone).text
    assert f'action="/touchpoints/{tp.id}/edit?logged=1"' in step_two
    db.session.refresh(tp)

    response = client.post(
        f"/touchpoints/{tp.id}/edit?logged=1",
        data={"last_call": today.isoformat(), "frequency_days": "0", "version": tp.version},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "Complete · Step 2 of 2" in response.text and "Reschedule" not in response.text
    page = client.post(
        f"/touchpoints/{tp.id}/edit?logged=1",
        data={"last_call": today.isoformat(), "frequency_days": "0", "version": tp.version},
    ).text
    assert "<h1>Complete: Late Co</h1>" in page
