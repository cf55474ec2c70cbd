"""My tasks: open follow-ups and due touchpoints, the counts, and recording a response."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import IdempotencyKey, TouchpointRecord

from .conftest import snapshot

HTMX = {"HX-Request": "true"}
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def contact(make, customer):
    return make.contact(customer, name="Dana Freeze")


@pytest.fixture
def task(make, rep, contact, today):
    """An open task of the rep's, due tomorrow."""
    return make.record(
        contact,
        rep,
        response_required=True,
        description="Reactivate the membership",
        date_completed=today - timedelta(days=2),
        date_due=today + timedelta(days=1),
    )


def visible(page):
    """What a reader sees of `page`: its text without tags, blanks squashed."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def beside(page, field):
    """The markup of `field`'s <label>: where its error must be."""
    return page.split(f'name="{field}"')[1].split("</label>")[0]


def nav_count(page):
    return int(
        re.search(r'<span class="count nav-count" id="nav-task-count">(\d+)</span>', page).group(1)
    )


def heading_count(page):
    """The count beside My tasks' heading."""
    return int(re.search(r'My tasks <span class="count"[^>]*>(\d+)</span>', page).group(1))


def dashboard_count(client):
    return int(re.search(r"My tasks: (\d+) waiting", visible(client.get("/").text)).group(1))


def stored(record):
    """`record` as committed to the database."""
    db.session.rollback()
    return db.session.get(TouchpointRecord, record.id)


def respond(client, record, headers=HTMX, **fields):
    data = {
        "responded_on": today_in("America/Chicago").isoformat(),
        "response_note": "Reactivated; she starts again Monday.",
        **fields,
    }
    return client.post(f"/tasks/{record.id}/response", data=data, headers=headers)


def test_a_follow_up_from_creation_to_response(client, rep, customer, contact, today):
    """Seed 000 end to end, as a rep: the task shows everywhere until its response closes it."""
    assert "Nothing waits for you" in client.get("/tasks").text
    due = today + timedelta(days=2)
    created = client.post(
        f"/contacts/{contact.id}/touchpoints",
        data={
            "description": "Reactivate the membership",
            "details": "Frozen until the due date.",
            "response_required": "y",
            "date_due": due.isoformat(),
            "date_completed": today.isoformat(),
            "assigned_to": rep.id,
        },
    )
    assert created.status_code == 303
    record = db.session.scalars(select(TouchpointRecord)).one()

    awaiting = client.get("/contacts?response_required=1").text
    assert "Dana Freeze" in awaiting and "Response required · 1" in visible(awaiting)
    tasks = client.get("/tasks").text
    assert "Reactivate the membership" in tasks and "Dana Freeze" in tasks
    assert "Upcoming · in 2 days" in tasks
    assert f'href="/tasks/{record.id}/response"' in tasks
    assert nav_count(tasks) == 1
    assert heading_count(tasks) == 1
    assert dashboard_count(client) == 1

    form = client.get(f"/tasks/{record.id}/response", headers=HTMX)
    assert form.status_code == 200
    assert "Reactivate the membership · Dana Freeze" in visible(form.text)
    assert f'name="responded_on" required type="date" value="{today.isoformat()}"' in form.text
    answer = respond(client, record)

    assert answer.status_code == 200
    assert "Answered" in answer.text and "Record response" not in answer.text
    assert "by Rita Rep: Reactivated; she starts again Monday." in visible(answer.text)
    saved = stored(record)
    assert (saved.responded_on, saved.responded_by_id) == (today, rep.id)
    assert saved.response_note == "Reactivated; she starts again Monday."

    tasks = client.get("/tasks").text
    assert "Reactivate the membership" not in tasks and "Nothing waits for you" in tasks
    assert nav_count(tasks) == 0
    assert dashboard_count(client) == 0
    awaiting = client.get("/contacts?response_required=1").text
    assert "Dana Freeze" not in awaiting and "No contacts match." in awaiting
    for url in (f"/contacts/{contact.id}", f"/customers/{customer.id}"):
        tab = client.get(url).text.split('id="history-title"')[1]
        assert "Reactivate the membership" in tab and "Answered" in tab
        assert "Reactivated; she starts again Monday." in tab
    assert "Response required" not in client.get(f"/contacts/{contact.id}").text


def test_respond_without_htmx_redirects_to_the_contact(client, rep, contact, task):
    response = respond(client, task, headers={})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/contacts/{contact.id}")
    assert "Reactivated; she starts again Monday." in client.get(response.headers["Location"]).text


def test_my_tasks_lists_tasks_and_due_touchpoints_overdue_first(
    client, make, rep, boss, customer, contact, today
):
    make.record(
        contact,
        rep,
        response_required=True,
        description="Later task",
        date_due=today + timedelta(days=3),
    )
    make.record(
        contact,
        boss,
        assigned_to=rep,
        response_required=True,
        description="Todays task",
        date_due=today,
    )
    make.record(
        contact,
        rep,
        response_required=True,
        description="Late task",
        date_due=today - timedelta(days=1),
    )
    make.touchpoint(customer, last_call=today - timedelta(days=32), frequency_days=30)
    make.touchpoint(make.customer(rep=rep, name="Not Due Co"), last_call=today, frequency_days=7)
    make.record(contact, rep, description="No response needed")
    make.record(
        contact,
        rep,
        response_required=True,
        description="Answered task",
        responded_on=today,
        response_note="done",
    )

    page = client.get("/tasks").text

    order = ["Acme Fitness", "Late task", "Todays task", "Later task"]
    main = page.split('class="task-list"')[1]
    assert [main.index(text) for text in order] == sorted(main.index(text) for text in order)
    for text in ("Not Due Co", "No response needed", "Answered task"):
        assert text not in main
    assert "Overdue 2 days" in main and "Overdue 1 day" in main and "Due today" in main
    assert main.count("Record response") == 3 and main.count(">Complete</a>") == 1
    assert nav_count(page) == 4 and dashboard_count(client) == 4


def test_my_tasks_come_a_page_at_a_time_overdue_first(
    client, app, make, rep, customer, contact, today
):
    for days in (5, -4, 1, 0, 3):
        make.record(
            contact, rep, response_required=True, description=f"Task {days:+d}",
            date_due=today + timedelta(days=days),
        )  # fmt: skip
    for days in (-6, -1):  # due touchpoints, before the tasks due on or after their day
        account = make.customer(rep=rep, name=f"Touchpoint {days:+d} Co")
        make.touchpoint(account, last_call=today + timedelta(days=days - 30), frequency_days=30)
    app.config["PAGE_SIZE"] = 3
    try:
        first = client.get("/tasks").text
        second = client.get("/tasks?page=2", headers=HTMX).text
        last = client.get("/tasks?page=3", headers=HTMX).text
        without_js = client.get("/tasks?page=3").text
    finally:
        app.config["PAGE_SIZE"] = 50

    order = ["Touchpoint -6 Co", "Task -4", "Touchpoint -1 Co", "Task +0", "Task +1", "Task +3"]
    shown = [visible(page) for page in (first, second, last)]
    pages = [[text for text in order + ["Task +5"] if text in page] for page in shown]
    assert pages == [order[:3], order[3:], ["Task +5"]]
    assert nav_count(first) == 7 and heading_count(first) == 7
    assert '<a class="more" role="button" href="/tasks?page=2" hx-get="/tasks?page=2"' in first
    assert "<html" not in second and "<h1" not in second and 'href="/tasks?page=3"' in second
    assert "Show more" not in last and "Nothing waits" not in last
    assert without_js.startswith("<!doctype html>") and "Task +5" in without_js
    assert nav_count(without_js) == 7 and heading_count(without_js) == 7


def test_a_phone_keeps_every_page_of_my_tasks_for_offline_use(client, app, make, rep, contact):
    for _ in range(7):
        make.record(contact, rep, response_required=True)
    app.config["PAGE_SIZE"] = 3
    try:
        keep = client.get("/offline/urls").json
    finally:
        app.config["PAGE_SIZE"] = 50
    assert "/tasks" in keep["pages"]
    assert [url for url in keep["fragments"] if url.startswith("/tasks?")] == [
        "/tasks?page=2",
        "/tasks?page=3",
    ]


def test_past_the_last_page_my_tasks_is_empty_and_keeps_its_count(client, rep, task):
    page = client.get("/tasks?page=4").text
    assert "Reactivate the membership" not in page and "Nothing waits" not in page
    assert nav_count(page) == 1 and heading_count(page) == 1
    assert 'No more here. <a href="/tasks">Back to the first page</a>' in page


@pytest.mark.parametrize("page", ["0", "x", "11", "-1", "1.5"])
def test_a_bad_tasks_page_is_400(client, rep, page):
    response = client.get(f"/tasks?page={page}")
    assert response.status_code == 400 and "Traceback" not in response.text


def test_a_task_assigned_to_the_manager_is_on_the_managers_list_only(
    client, make, auth, rep, boss, contact, task
):
    theirs = make.record(
        contact, rep, assigned_to=boss, response_required=True, description="Manager should call"
    )

    mine = client.get("/tasks").text
    assert "Manager should call" not in mine and "Reactivate the membership" in mine
    assert nav_count(mine) == 1
    assert client.get(f"/tasks/{theirs.id}/response").status_code == 404
    assert respond(client, theirs).status_code == 404
    entry = client.get(f"/contacts/{contact.id}").text.split("Manager should call")[1]
    assert "Record response" not in entry.split("</article>")[0]
    assert stored(theirs).responded_on is None

    auth.logout()
    auth.login(boss)
    managers = client.get("/tasks").text
    assert "Manager should call" in managers and "Reactivate the membership" not in managers
    assert nav_count(managers) == 1
    assert respond(client, theirs).status_code == 200
    assert stored(theirs).responded_by_id == boss.id


def test_a_manager_may_record_the_response_to_a_reps_task(client, auth, rep, boss, task):
    auth.logout()
    auth.login(boss)

    assert respond(client, task, response_note="Handled it myself").status_code == 200

    saved = stored(task)
    assert (saved.response_note, saved.responded_by_id) == ("Handled it myself", boss.id)
    auth.logout()
    auth.login(rep)
    assert "Reactivate the membership" not in client.get("/tasks").text


def test_a_second_rep_sees_none_of_it(client, make, auth, rep, contact, task):
    other = make.rep(name="Sam Second")
    auth.logout()
    auth.login(other)

    tasks = client.get("/tasks").text
    assert "Reactivate the membership" not in tasks and "Nothing waits for you" in tasks
    assert nav_count(tasks) == 0 and dashboard_count(client) == 0
    assert client.get(f"/tasks/{task.id}/response").status_code == 404
    assert client.get(f"/tasks/{task.id}/response", headers=HTMX).status_code == 404
    assert respond(client, task).status_code == 404
    assert respond(client, task, headers={**HTMX, "Idempotency-Key": "k"}).status_code == 404
    saved = stored(task)
    assert (saved.responded_on, saved.response_note, saved.responded_by_id) == (None, "", None)
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 0


def test_a_rep_answers_a_task_a_manager_assigned_on_another_reps_contact(
    client, make, auth, rep, boss, contact, today
):
    """Rep A may not open rep B's contact, but may answer the task a manager assigned A there."""
    rep_a = make.rep(name="Andy Other", manager=boss)
    auth.logout()
    auth.login(boss)
    due = today + timedelta(days=3)
    created = client.post(
        f"/contacts/{contact.id}/touchpoints",
        data={
            "description": "Cover Rita's client",
            "response_required": "y",
            "date_due": due.isoformat(),
            "date_completed": today.isoformat(),
            "assigned_to": rep_a.id,
        },
    )
    assert created.status_code == 303
    record = db.session.scalars(select(TouchpointRecord)).one()
    auth.logout()
    auth.login(rep_a)
    assert client.get(f"/contacts/{contact.id}").status_code == 404

    tasks = client.get("/tasks").text
    assert "Cover Rita&#39;s client" in tasks and "Dana Freeze" in tasks
    assert nav_count(tasks) == 1
    link = re.search(r'href="([^"]*/response)"', tasks).group(1)
    assert link == f"/tasks/{record.id}/response"
    form = client.get(link, headers=HTMX)
    assert form.status_code == 200
    assert "Cover Rita's client · Dana Freeze" in visible(form.text)
    answer = respond(client, record, response_note="Called her; all sorted.")

    assert answer.status_code == 200
    assert "Answered" in answer.text
    saved = stored(record)
    assert (saved.responded_on, saved.responded_by_id) == (today, rep_a.id)
    assert saved.response_note == "Called her; all sorted."
    assert "Nothing waits for you" in client.get("/tasks").text


def test_an_unknown_task_is_404(client, rep):
    assert client.get("/tasks/999999/response").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("responded_on", "", "Enter a date."),
        ("responded_on", "2026-02-30", "Not a valid date value."),
        ("responded_on", "soon", "Not a valid date value."),
        ("responded_on", "9999-12-31", "Enter a date between"),
        ("responded_on", "tomorrow", "A response cannot be dated in the future."),
        ("response_note", "", "Say what the response was."),
        ("response_note", "  \n\t ", "Say what the response was."),
        ("response_note", "x" * 5001, "Field cannot be longer than 5000 characters."),
    ],
)
def test_bad_response_is_422_with_the_error_beside_the_field(
    client, rep, task, today, field, value, error
):
    if value == "tomorrow":
        value = (today + timedelta(days=1)).isoformat()

    response = respond(client, task, **{field: value})

    assert response.status_code == 422
    label = beside(response.text, field)
    assert f'<small id="r{task.id}-{field}-error" class="field-error">' in label
    assert error in label
    saved = stored(task)
    assert (saved.responded_on, saved.response_note, saved.responded_by_id) == (None, "", None)
    assert "Reactivate the membership" in client.get("/tasks").text


def test_a_bad_response_keeps_what_was_typed(client, rep, task):
    before = snapshot()
    response = respond(client, task, responded_on="soon", response_note="Keep me")
    assert response.status_code == 422
    assert "Keep me" in beside(response.text, "response_note")
    assert snapshot() == before


def test_a_response_dated_today_or_earlier_is_accepted(client, rep, task, today):
    response = respond(client, task, responded_on=(today - timedelta(days=1)).isoformat())
    assert response.status_code == 200
    assert stored(task).responded_on == today - timedelta(days=1)


def test_an_answered_task_is_409_and_keeps_its_response(client, rep, task):
    assert respond(client, task, response_note="First answer").status_code == 200
    before = snapshot()

    for response in (
        client.get(f"/tasks/{task.id}/response"),
        respond(client, task, response_note="Second answer"),
    ):
        assert response.status_code == 409
        assert '<p class="form-error">This task is already closed.</p>' in (response.text)
        assert 'name="response_note"' not in response.text
    assert stored(task).response_note == "First answer"
    assert snapshot() == before


def test_a_record_that_needs_no_response_cannot_be_answered(client, make, rep, contact):
    record = make.record(contact, rep, description="Just a note")
    before = snapshot()
    response = respond(client, record)
    assert response.status_code == 409
    assert "This task is already closed." in response.text
    saved = stored(record)
    assert (saved.responded_on, saved.response_note) == (None, "")
    assert snapshot() == before


def test_a_hostile_response_note_is_shown_escaped(client, rep, customer, contact, task):
    answer = respond(client, task, response_note=HOSTILE)
    assert stored(task).response_note == HOSTILE
    before = snapshot()

    refused = respond(client, task, response_note=HOSTILE, responded_on="soon")
    assert snapshot() == before
    pages = [
        answer.text,
        client.get(f"/contacts/{contact.id}").text,
        client.get(f"/customers/{customer.id}").text,
    ]
    for page in pages:
        assert HOSTILE not in page
        assert ESCAPED in page
    assert refused.status_code == 409 and HOSTILE not in refused.text


def test_a_hostile_note_on_a_refused_response_is_escaped_in_the_form(client, rep, task):
    before = snapshot()
    response = respond(client, task, response_note=HOSTILE, responded_on="soon")
    assert response.status_code == 422
    assert HOSTILE not in response.text
    assert ESCAPED in beside(response.text, "response_note")
    assert snapshot() == before


def test_the_same_key_twice_records_one_response(client, rep, task):
    headers = {**HTMX, "Idempotency-Key": "response-1"}

    first = respond(client, task, headers=headers)
    second = respond(client, task, headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.text == first.text
    assert second.headers["Idempotent-Replayed"] == "true"
    assert stored(task).response_note == "Reactivated; she starts again Monday."
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_the_same_key_with_a_different_response_is_refused(client, rep, task):
    headers = {**HTMX, "Idempotency-Key": "response-2"}
    respond(client, task, headers=headers)
    before = snapshot()

    response = respond(client, task, headers=headers, response_note="Something else")

    assert response.status_code == 422
    assert snapshot() == before
    assert stored(task).response_note == "Reactivated; she starts again Monday."


def test_tasks_run_a_fixed_number_of_queries_at_5_and_100(
    client, make, rep, boss, customer, count_queries, today
):
    authors = [rep, boss]

    def grow_to(size):
        while (n := db.session.scalar(select(func.count(TouchpointRecord.id)))) < size:
            if n % 5 == 0:  # the team grows with the work: more colleagues hand out tasks
                authors.append(make.manager())
            contact = make.contact(customer)
            make.record(
                contact,
                authors[n % len(authors)],
                assigned_to=rep,
                response_required=True,
                date_due=today + timedelta(days=n % 9 - 4),
            )
            if n % 5 == 0:
                account = make.customer(rep=rep)
                make.touchpoint(account, last_call=today - timedelta(days=31 + n % 7))

    def queries_for(headers, url="/tasks"):
        db.session.expire_all()  # as in a real request, nothing is loaded yet
        count_queries.clear()
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        page = response.text
        return len(count_queries), (page.count("entry--open"), page.count('class="tp tp--'))

    grow_to(5)
    small = queries_for({}), queries_for(HTMX)
    grow_to(100)
    large = queries_for({}), queries_for(HTMX)

    assert [rows for _, rows in small] == [(5, 1)] * 2
    # The first page of 50 of the 120: tasks and touchpoints by due date.
    assert [sum(rows) for _, rows in large] == [50, 50]
    # The user; the ETag's fingerprint (tpweb.web.caching); the page's open tasks with their
    # contacts and people, and its due touchpoints with their accounts, each with how many there
    # are in all (the navigation's My tasks count, which needs no statement of its own).
    assert [queries for queries, _ in small + large] == [4, 4, 4, 4]
    # The last page, its rows alone (Show more) and as a whole page: the same statements.
    last = queries_for(HTMX, "/tasks?page=3"), queries_for({}, "/tasks?page=3")
    assert last == ((4, (20, 0)), (4, (20, 0)))  # items 101 to 120: the latest tasks


# A change shows at once: the counts, the contact's summary and a status line, with no reload.


def test_logging_a_task_redraws_the_contact_with_its_count_and_the_action(
    client, rep, contact, today
):
    response = client.post(
        f"/contacts/{contact.id}/touchpoints",
        data={
            "description": "Send the <b>price</b> list",
            "response_required": "y",
            "date_due": (today + timedelta(days=3)).isoformat(),
            "date_completed": today.isoformat(),
            "assigned_to": rep.id,
        },
        headers={**HTMX, "HX-Current-URL": f"http://localhost/contacts/{contact.id}"},
    )

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "tpweb-changed"
    assert response.headers["HX-Retarget"] == "#main"
    assert response.headers["HX-Replace-Url"] == f"/contacts/{contact.id}"
    page = visible(response.text)
    assert "Open tasks 1" in page and "Log activity" in page
    assert "Send the <b>price</b> list" in page and "<b>price" not in response.text
    assert nav_count(response.text.replace(' hx-swap-oob="true"', "")) == 1
    due = today + timedelta(days=3)
    assert f"Activity logged. Task for {rep.name}, due {due:%a %b %-d}." in page


def test_a_response_on_the_contacts_page_updates_its_open_tasks(client, rep, contact, task):
    assert "Open tasks 1" in visible(client.get(f"/contacts/{contact.id}").text)

    response = respond(
        client, task, headers={**HTMX, "HX-Current-URL": f"http://localhost/contacts/{contact.id}"}
    )

    assert response.status_code == 200 and response.headers["HX-Trigger"] == "tpweb-changed"
    assert f'id="contact-summary-{contact.id}" hx-swap-oob="true"' in response.text
    assert "Open tasks 0" in visible(response.text)
    assert nav_count(response.text.replace(' hx-swap-oob="true"', "")) == 0
    assert "Response recorded: “Reactivate the membership” is closed." in visible(response.text)


def test_a_response_on_my_tasks_updates_the_count_only(client, rep, contact, task):
    response = respond(client, task, headers={**HTMX, "HX-Current-URL": "http://localhost/tasks"})

    assert "contact-summary" not in response.text  # not on this page: nothing to swap
    assert nav_count(response.text.replace(' hx-swap-oob="true"', "")) == 0


def test_the_counts_on_a_page_ask_for_themselves_after_a_change(client, rep, contact, task):
    for page in (client.get("/").text, client.get("/tasks").text):
        assert 'hx-get="/tasks/count" hx-trigger="tpweb-changed from:body">1<' in page
    respond(client, task)
    assert client.get("/tasks/count", headers=HTMX).text == "0"
