"""Revalidation of the rep's list and My tasks: 304 while unchanged, 200 after any change."""

import inspect
from datetime import timedelta

import pytest

from tpweb.extensions import db
from tpweb.models import Account

LIST = "/touchpoints?view=list"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def quarter_hour(monkeypatch):
    """The quarter hour stands still: no test straddles two (each is in the ETag)."""
    monkeypatch.setattr("tpweb.web.caching.untracked_bucket", lambda: 1)


@pytest.fixture
def touchpoint(make, rep, today):
    customer = make.customer(rep=rep, name="Acme Fitness")
    return make.touchpoint(customer, last_call=today - timedelta(days=20), frequency_days=30)


@pytest.fixture
def task(make, rep, touchpoint, today):
    contact = make.contact(touchpoint.account, name="Dana Freeze")
    return make.record(contact, rep, response_required=True, date_completed=today, date_due=today)


def etag_of(client, url, headers=HTMX):
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.headers["ETag"]


def again(client, url, etag, headers=HTMX):
    return client.get(url, headers={**headers, "If-None-Match": etag})


def signed_in_as(app, user):
    """A second browser, signed in as `user`."""
    other = app.test_client()
    response = other.post("/login", data={"username": user.username, "password": "correct horse"})
    assert response.status_code == 303
    return other


@pytest.mark.parametrize("url", [LIST, "/tasks"])
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["fragment", "page"])
def test_unchanged_list_is_answered_304(client, task, url, headers):
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    assert first.headers["ETag"].startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "HX-Request" in first.headers["Vary"]

    response = again(client, url, first.headers["ETag"], headers)

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == first.headers["ETag"]
    assert "HX-Request" in response.headers["Vary"]


def test_fragment_page_and_parameters_each_have_their_own_etag(client, touchpoint):
    tags = {
        etag_of(client, LIST),
        etag_of(client, LIST, {}),
        etag_of(client, LIST, {**HTMX, "HX-Boosted": "true"}),
        etag_of(client, LIST + "&state=overdue"),
    }
    assert len(tags) == 4


def test_a_change_by_someone_else_to_the_list_is_a_200(app, client, boss, touchpoint):
    etag = etag_of(client, LIST)
    manager = signed_in_as(app, boss)
    response = manager.post(
        f"/touchpoints/{touchpoint.id}/edit",
        data={
            "last_call": touchpoint.last_call.isoformat(),
            "frequency_days": "7",
            "next_call": "",
            "comment": "Moved up by the manager",
            "version": str(touchpoint.version),
        },
    )
    assert response.status_code == 303

    response = again(client, LIST, etag)

    assert response.status_code == 200
    assert "Moved up by the manager" in response.text


def change_touchpoint(touchpoint, make, rep, today):
    touchpoint.comment = "Changed elsewhere"


def rename_account(touchpoint, make, rep, today):
    touchpoint.account.name = "Acme Fitness Group"


def rename_jobsites_customer(touchpoint, make, rep, today):
    parent = make.customer(name="Parent Holdings")  # not the rep's own
    site = make.jobsite(parent, rep=rep, name="North site")
    make.touchpoint(site, last_call=today - timedelta(days=3), frequency_days=30)
    yield
    parent.name = "Parent Holdings Renamed"


def new_touchpoint(touchpoint, make, rep, today):
    make.touchpoint(make.customer(rep=rep), last_call=today - timedelta(days=3))


def account_set_inactive(touchpoint, make, rep, today):
    touchpoint.account.active = False


def account_moved_away(touchpoint, make, rep, today):
    # What a bulk reassignment does, and a move in of another account keeps the count the same.
    touchpoint.account.sales_rep = make.rep()
    other = make.customer(rep=make.rep())
    make.touchpoint(other, last_call=today - timedelta(days=3))
    yield
    other.sales_rep = rep


def task_answered(touchpoint, make, rep, today, task):
    task.responded_on = today
    task.response_note = "Done"


def task_due_date_moved(touchpoint, make, rep, today, task):
    task.date_due = today + timedelta(days=3)


def task_assigned_to_me(touchpoint, make, rep, today, task):
    somewhere = make.contact(make.customer(rep=make.rep()))
    make.record(somewhere, rep, response_required=True, date_completed=today, date_due=today)


CHANGES = [
    change_touchpoint,
    rename_account,
    rename_jobsites_customer,
    new_touchpoint,
    account_set_inactive,
    account_moved_away,
]
TASK_CHANGES = [task_answered, task_due_date_moved, task_assigned_to_me]


def prepared(change, *args):
    """Prepare `change` (a generator prepares up to its yield); return what makes the change."""
    if not inspect.isgeneratorfunction(change):
        return lambda: change(*args)
    steps = change(*args)
    next(steps)
    return lambda: next(steps, None)


@pytest.mark.parametrize("url", [LIST, "/tasks"])
@pytest.mark.parametrize("change", CHANGES + TASK_CHANGES, ids=lambda c: c.__name__)
def test_any_change_to_what_the_list_shows_is_a_200(
    client, make, rep, touchpoint, task, today, url, change
):
    args = (touchpoint, make, rep, today) + ((task,) if change in TASK_CHANGES else ())
    # A task shows on the list's whole page only, in the navigation's My tasks count.
    headers = {} if url == LIST and change in TASK_CHANGES else HTMX
    make_the_change = prepared(change, *args)
    db.session.commit()
    etag = etag_of(client, url, headers)
    make_the_change()
    db.session.commit()  # by no signed-in user: a script, an import, another process

    response = again(client, url, etag, headers)

    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_the_next_day_is_a_200(client, touchpoint, monkeypatch, today):
    etag = etag_of(client, LIST)
    monkeypatch.setattr("tpweb.web.caching.user_today", lambda: today + timedelta(days=1))
    assert again(client, LIST, etag).status_code == 200


def test_someone_elses_untracked_change_shows_within_a_quarter_hour(
    client, make, rep, boss, task, monkeypatch
):
    make.record(task.contact, boss, assigned_to=rep, response_required=True)
    etag = etag_of(client, "/tasks")
    boss.name = "Morgan Boss-Smith"  # users are not in History; the task shows its author
    db.session.commit()
    assert again(client, "/tasks", etag).status_code == 304

    monkeypatch.setattr("tpweb.web.caching.untracked_bucket", lambda: 2)

    response = again(client, "/tasks", etag)
    assert response.status_code == 200
    assert "by Morgan Boss-Smith" in response.text


def test_the_users_own_write_is_a_200_even_where_history_does_not_see_it(client, task, touchpoint):
    etag = etag_of(client, "/tasks")
    contact = task.contact
    response = client.post(
        f"/contacts/{contact.id}/edit",
        data={"name": "Dana Freeze-Smith", "email": "", "phone": "", "active": "y"},
    )
    assert response.status_code == 303

    response = again(client, "/tasks", etag)

    assert response.status_code == 200
    assert "Dana Freeze-Smith" in response.text


def test_never_a_304_across_users(app, client, make, rep, touchpoint):
    # Two reps with nothing at all: the same data, so only who asks tells the lists apart.
    other = make.rep(name="Olga Other")
    empty = make.rep(name="Emil Empty")
    for url in (LIST, "/tasks"):
        etag = etag_of(client, url)
        for user in (other, empty):
            browser = signed_in_as(app, user)
            response = again(browser, url, etag)
            assert response.status_code == 200
            assert "Acme Fitness" not in response.text
        empty_etag = etag_of(signed_in_as(app, empty), url)
        assert again(signed_in_as(app, other), url, empty_etag).status_code == 200


def test_a_manager_choosing_a_rep_gets_that_reps_etag(app, client, make, boss, rep, touchpoint):
    manager = signed_in_as(app, boss)
    url = f"{LIST}&rep={rep.id}"
    etag = etag_of(manager, url)
    assert again(manager, url, etag).status_code == 304
    touchpoint.comment = "Changed by the rep"
    db.session.commit()
    assert again(manager, url, etag).status_code == 200


def test_a_managers_list_of_everyone_is_not_revalidated(app, client, boss, touchpoint):
    response = signed_in_as(app, boss).get(LIST, headers=HTMX)
    assert response.status_code == 200
    assert "Acme Fitness" in response.text
    assert "ETag" not in response.headers


def test_a_pending_flash_is_rendered_and_not_labelled(app, client, touchpoint):
    etag = etag_of(client, LIST, {})
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Moved 3 account(s).")]

    response = again(client, LIST, etag, {})

    assert response.status_code == 200
    assert "Moved 3 account(s)." in response.text
    assert "ETag" not in response.headers


@pytest.mark.parametrize("url", [LIST, "/tasks"])
def test_the_304_path_runs_two_queries_whatever_the_size(
    client, make, rep, today, count_queries, url
):
    def grow_to(n):
        while db.session.query(Account).filter_by(sales_rep_id=rep.id).count() < n:
            account = make.customer(rep=rep)
            make.touchpoint(account, last_call=today - timedelta(days=35))
            contact = make.contact(account)
            make.record(contact, rep, response_required=True, date_completed=today, date_due=today)

    def queries_for_304():
        etag = etag_of(client, url)
        db.session.expire_all()  # as in a real request, nothing is loaded yet
        count_queries.clear()
        assert again(client, url, etag).status_code == 304
        return len(count_queries)

    grow_to(3)
    small = queries_for_304()
    grow_to(60)
    large = queries_for_304()
    # The signed-in user, then the fingerprint: never the list's own queries.
    assert small == large == 2


def test_counting_the_users_own_write_reads_nothing_after_the_commit(client, task, count_queries):
    response = client.post(
        f"/contacts/{task.contact.id}/edit",
        data={"name": "Dana Freeze-Smith", "email": "", "phone": "", "active": "y"},
    )

    assert response.status_code == 303
    writes = [i for i, s in enumerate(count_queries) if s.lstrip().startswith(("INSERT", "UPDATE"))]
    assert writes and count_queries[writes[-1] + 1 :] == []
