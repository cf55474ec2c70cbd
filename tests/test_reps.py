"""Managers: the team overview, a rep's page, bulk reassignment, deactivation and history."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tpweb.extensions import db
from tpweb.models import Account, History, TouchpointRecord, User

from .conftest import snapshot
from .factories import TEST_DATA


def accounts_for(make, rep, n, today, prefix="Co"):
    """`n` customers of `rep`, each with an overdue touchpoint."""
    accounts = []
    for i in range(n):
        customer = make.customer(rep=rep, name=f"{prefix} {i:03}")
        make.touchpoint(customer, last_call=today - timedelta(days=40), frequency_days=30)
        accounts.append(customer)
    return accounts


def test_reps_shows_every_reps_counts(client, make, manager, today):
    anna, ben = make.rep(name="Anna"), make.rep(name="Ben")
    accounts_for(make, anna, 2, today)
    due = make.customer(rep=ben, name="Due Co")
    make.touchpoint(due, last_call=today - timedelta(days=7), frequency_days=7)
    soon = make.customer(rep=ben, name="Soon Co")
    make.touchpoint(soon, last_call=today - timedelta(days=4), frequency_days=7)
    make.customer(rep=ben, name="Bare Co")
    contact = make.contact(make.customer(rep=ben, name="Task Co"))
    db.session.add(
        TouchpointRecord(contact=contact, author=ben, assigned_to=ben, description="Call back",
                         response_required=True, date_due=today, date_completed=today)
    )  # fmt: skip
    db.session.commit()

    page = client.get("/reps").text

    anna_row = page.split(f'id="rep-{anna.id}"')[1].split("</tr>")[0]
    ben_row = page.split(f'id="rep-{ben.id}"')[1].split("</tr>")[0]
    cells = lambda row: [c.split(">")[-1] for c in row.split("</td>")[:-1]]  # noqa: E731
    assert cells(anna_row) == ["2", "0", "0", "0", "0"]
    assert cells(ben_row) == ["0", "1", "1", "1", "2"]
    assert page.index("Anna") < page.index("Ben")  # sorted by overdue
    by_name = client.get("/reps?sort=unassigned").text
    assert by_name.index("Ben") < by_name.index("Anna")


def test_reps_overview_takes_fixed_statements_whatever_the_team_size(
    client, make, manager, count_queries
):
    def measure():
        db.session.expire_all()
        count_queries.clear()
        assert client.get("/reps", headers={"HX-Request": "true"}).status_code == 200
        return len(count_queries)

    make.rep()  # reports to nobody: Mona has no team yet and sees every rep
    no_team = measure()
    for _ in range(20):
        make.customer(rep=make.rep())
    assert measure() == no_team == 3  # the user, the managers (with their teams' sizes), every rep
    make.rep(manager=manager)
    own_team = measure()
    for _ in range(20):
        make.customer(rep=make.rep(manager=manager))
    assert measure() == own_team == 3  # the user, the managers, her team


# A manager sees their own team first (a company of 2,000 reps is a hundred teams); every rep,
# or another manager's team, is one choice away.


def teams(make, manager):
    """Mona's team (Anna, Ben), Otto's (Cy), and Dee who reports to nobody."""
    otto = make.manager(name="Otto Other")
    anna, ben = make.rep(name="Anna", manager=manager), make.rep(name="Ben", manager=manager)
    cy, dee = make.rep(name="Cy", manager=otto), make.rep(name="Dee")
    return otto, anna, ben, cy, dee


def rep_rows(page):
    return re.findall(r'id="rep-\d+">\s*<th scope="row"><a [^>]*>([^<]*)</a>', page)


def test_a_manager_sees_their_own_team_first(client, make, manager, today):
    otto, anna, ben, cy, dee = teams(make, manager)
    accounts_for(make, ben, 2, today)
    accounts_for(make, cy, 5, today)

    page = client.get("/reps").text

    assert rep_rows(page) == ["Ben", "Anna"]  # by overdue: Ben's 2, Anna's none
    assert "My team" in page and '<option value="all">every manager</option>' in page
    assert f'<option value="{manager.id}" selected>Mona Manager (me)</option>' in page
    cells = page.split(f'id="rep-{ben.id}"')[1].split("</tr>")[0]
    assert 'data-label="Overdue">2</td>' in cells
    dashboard = client.get("/").text
    assert rep_rows(dashboard) == ["Ben", "Anna"] and "My team" in dashboard


def test_every_rep_or_another_managers_team_is_one_choice_away(client, make, manager, today):
    otto, anna, ben, cy, dee = teams(make, manager)
    accounts_for(make, cy, 1, today)

    every = client.get("/reps?manager=all").text
    assert rep_rows(every) == ["Cy", "Anna", "Ben", "Dee"]
    assert "Every rep" in every and '<option value="all" selected>' in every
    # Sorting keeps the choice; the chooser keeps the sort.
    assert 'href="/reps?sort=name&amp;manager=all"' in every
    by_name = client.get("/reps?manager=all&sort=name").text
    assert rep_rows(by_name) == ["Anna", "Ben", "Cy", "Dee"]
    assert '<input type="hidden" name="sort" value="name">' in by_name

    others = client.get(f"/reps?manager={otto.id}", headers={"HX-Request": "true"}).text
    assert rep_rows(others) == ["Cy"] and "Otto Other’s team" in others
    assert others.lstrip().startswith('<section id="team"')  # the chooser swaps the table only
    assert f'href="/reps?sort=name&amp;manager={otto.id}"' in others


def test_a_manager_with_no_team_sees_every_rep(client, make, auth, today):
    mona = make.manager(name="Mona Manager")
    otto = make.manager(name="Otto Other")
    make.rep(name="Cy", manager=otto)
    make.rep(name="Dee")
    auth.login(mona)
    page = client.get("/reps").text
    assert rep_rows(page) == ["Cy", "Dee"] and "Every rep" in page
    # Chosen on purpose, her own empty team says so.
    mine = client.get(f"/reps?manager={mona.id}").text
    assert rep_rows(mine) == [] and "No active reps report to Mona Manager." in mine
    admin = make.user("admin", name="Ada Admin")
    auth.logout()
    auth.login(admin)
    assert rep_rows(client.get("/").text) == ["Cy", "Dee"]


@pytest.mark.parametrize(
    ("value", "status"),
    [("abc", 400), ("-1", 400), ("1.5", 400), ("9" * 30, 400), ("<script>x</script>", 400),
     ("999999", 404), ("rep", 400)],
)  # fmt: skip
def test_a_team_that_is_not_a_managers_is_refused(client, make, manager, value, status):
    teams(make, manager)
    response = client.get("/reps", query_string={"manager": value})
    assert response.status_code == status
    assert "<script>x" not in response.text


def test_a_reps_number_is_not_a_team(client, make, manager):
    otto, anna, *_ = teams(make, manager)
    assert client.get(f"/reps?manager={anna.id}").status_code == 404
    otto.active = False
    db.session.commit()
    assert client.get(f"/reps?manager={otto.id}").status_code == 404


def test_the_move_offers_the_reps_team_mates_first(client, make, manager):
    otto, anna, ben, cy, dee = teams(make, manager)
    make.rep(name="Ex", manager=manager, active=False)
    page = client.get(f"/reps/{anna.id}").text
    choices = page.split('name="to_rep_id"')[1].split("</select>")[0]
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', choices)
    assert [(label, re.findall(r">([^<]+)</option>", options)) for label, options in groups] == [
        ("Mona Manager’s team", ["Ben"]),
        ("Other reps", ["Cy", "Dee"]),
    ]
    # A rep with no manager: one group, everyone else.
    page = client.get(f"/reps/{dee.id}").text
    choices = page.split('name="to_rep_id"')[1].split("</select>")[0]
    assert re.findall(r'<optgroup label="([^"]*)">', choices) == ["Other reps"]
    assert ">Dee</option>" not in choices and ">Anna</option>" in choices


def test_move_20_accounts_to_another_rep(client, make, auth, manager, today):
    anna, ben = make.rep(name="Anna"), make.rep(name="Ben")
    moving = accounts_for(make, anna, 20, today, prefix="Move")
    accounts_for(make, anna, 3, today, prefix="Stay")

    page = client.get(f"/reps/{anna.id}").text
    assert all(f'value="{a.id}"' in page for a in moving)
    response = client.post(
        f"/reps/{anna.id}/reassign",
        data={"account_ids": [a.id for a in moving], "to_rep_id": ben.id},
    )

    assert response.status_code == 303
    assert "Moved 20 accounts from Anna to Ben." in client.get(response.headers["Location"]).text
    counts = dict(
        db.session.execute(
            select(Account.sales_rep_id, func.count()).group_by(Account.sales_rep_id)
        ).all()
    )
    assert counts == {anna.id: 3, ben.id: 20}
    overview = client.get("/reps").text
    assert ">20<" in overview.split(f'id="rep-{ben.id}"')[1].split("</tr>")[0]
    history = client.get(f"/customers/{moving[0].id}").text
    assert "Sales Rep changed from Anna to Ben" in history
    auth.logout()
    auth.login(ben)
    assert "Move 000" in client.get("/touchpoints?view=list").text
    auth.logout()
    auth.login(anna)
    listed = client.get("/touchpoints?view=list").text
    assert "Move 000" not in listed and "Stay 000" in listed


def test_moving_open_tasks_too(client, make, manager, today):
    anna, ben = make.rep(name="Anna"), make.rep(name="Ben")
    customer = make.customer(rep=anna, name="Co")
    contact = make.contact(customer)
    task = TouchpointRecord(
        contact=contact,
        author=anna,
        assigned_to=anna,
        description="Call",
        response_required=True,
        date_due=today,
        date_completed=today,
    )
    db.session.add(task)
    db.session.commit()
    data = {"account_ids": [customer.id], "to_rep_id": ben.id, "move_tasks": "y"}

    assert client.post(f"/reps/{anna.id}/reassign", data=data).status_code == 303

    db.session.refresh(task)
    assert task.assigned_to_id == ben.id
    subjects = db.session.scalars(select(History.subject).order_by(History.id)).all()
    assert subjects[-2:] == ["task", "account"]


def test_select_all_in_the_filter(client, make, manager, today):
    anna, ben = make.rep(), make.rep()
    accounts_for(make, anna, 5, today, prefix="North")
    accounts_for(make, anna, 2, today, prefix="South")
    data = {"all_matching": "1", "q": "North", "to_rep_id": ben.id}
    client.post(f"/reps/{anna.id}/reassign", data=data)
    moved = db.session.scalars(select(Account.name).where(Account.sales_rep_id == ben.id)).all()
    assert sorted(moved) == [f"North {i:03}" for i in range(5)]


def test_reassigning_1000_accounts_takes_a_fixed_number_of_statements(
    client, make, manager, today, count_queries
):
    anna, ben = make.rep(), make.rep()

    def move(n, to):
        db.session.execute(
            Account.__table__.insert().execution_options(**TEST_DATA),
            [{"kind": "customer", "name": f"Co {i}", "sales_rep_id": anna.id, "address": "",
              "city": "", "phone": "", "notes": "", "active": True} for i in range(n)],
        )  # fmt: skip
        db.session.commit()
        ids = db.session.scalars(select(Account.id).where(Account.sales_rep_id == anna.id)).all()
        db.session.expire_all()
        count_queries.clear()
        response = client.post(
            f"/reps/{anna.id}/reassign", data={"account_ids": ids, "to_rep_id": to.id}
        )
        assert response.status_code == 303
        return len(count_queries)

    small = move(3, ben)
    large = move(1000, ben)
    assert large == small
    assert db.session.scalar(select(func.count()).where(Account.sales_rep_id == ben.id)) == 1003
    assert db.session.scalar(select(func.count(History.id))) == 1003


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"to_rep_id": ""}, 422, "Choose the rep who takes these accounts over."),
        ({"to_rep_id": "999999"}, 422, "Choose the rep who takes these accounts over."),
        ({"to_rep_id": "²"}, 422, "Choose the rep who takes these accounts over."),
        ({"to_rep_id": "9" * 5000}, 422, "Choose the rep who takes these accounts over."),
        ({"to_rep_id": "self"}, 422, "Choose a different rep."),
        ({"account_ids": []}, 422, "Select the accounts to move."),
        # Moved by someone else since the page was shown: a conflict, as a stale version is.
        ({"account_ids": ["other"]}, 409, "Some selected accounts are not this rep"),
    ],
)
def test_bad_reassignment_is_refused_and_moves_nothing(
    client, make, manager, today, data, status, error
):
    anna, ben = make.rep(name="Anna"), make.rep(name="Ben")
    mine = make.customer(rep=anna)
    theirs = make.customer(rep=ben)
    form = {"account_ids": [mine.id], "to_rep_id": ben.id, **data}
    form["to_rep_id"] = anna.id if form["to_rep_id"] == "self" else form["to_rep_id"]
    if form["account_ids"] == ["other"]:
        form["account_ids"] = [mine.id, theirs.id]
    before = snapshot()

    response = client.post(f"/reps/{anna.id}/reassign", data=form)

    assert response.status_code == status
    assert error in response.text
    db.session.expire_all()
    assert (mine.sales_rep_id, theirs.sales_rep_id) == (anna.id, ben.id)
    assert snapshot() == before


# "²".isdigit() and so are 5,000 nines, but int() reads neither: 500s found by tests/test_fuzz.py.
@pytest.mark.parametrize("value", ["1 OR 1=1", "²", "9" * 5000])
def test_account_ids_must_be_numbers(client, make, manager, value):
    anna, ben = make.rep(), make.rep()
    data = {"account_ids": [value], "to_rep_id": ben.id}
    before = snapshot()
    assert client.post(f"/reps/{anna.id}/reassign", data=data).status_code == 400
    assert snapshot() == before


def test_a_rep_cannot_reassign_or_see_rep_pages(client, make, auth, today):
    anna, ben = make.rep(), make.rep()
    mine = make.customer(rep=anna)
    auth.login(anna)
    assert client.get("/reps").status_code == 404
    assert client.get(f"/reps/{anna.id}").status_code == 404
    data = {"account_ids": [mine.id], "to_rep_id": ben.id}
    before = snapshot()
    assert client.post(f"/reps/{anna.id}/reassign", data=data).status_code == 404
    assert snapshot() == before
    db.session.refresh(mine)
    assert mine.sales_rep_id == anna.id


def test_a_rep_with_accounts_cannot_be_deactivated_until_handed_over(client, make, manager):
    anna, ben = make.rep(name="Anna"), make.rep()
    account = make.customer(rep=anna, active=False)
    before = snapshot()

    refused = client.post(f"/reps/{anna.id}/deactivate")
    assert refused.status_code == 409 and "still has 1 account" in refused.text
    assert snapshot() == before
    db.session.refresh(anna)
    assert anna.active

    account.sales_rep = ben
    db.session.commit()
    assert client.post(f"/reps/{anna.id}/deactivate").status_code == 303
    db.session.refresh(anna)
    assert not anna.active and anna.session_version == 2


def test_history_records_touchpoint_and_account_changes_with_who_and_before_after(
    client, make, auth, today
):
    rep = make.rep(name="Rita Rep")
    customer = make.customer(rep=rep, name="Histo Co")
    tp = make.touchpoint(customer, last_call=today - timedelta(days=3), frequency_days=30)
    auth.login(rep)
    client.post(
        f"/touchpoints/{tp.id}/edit",
        data={"last_call": tp.last_call.isoformat(), "frequency_days": "14", "version": tp.version},
    )

    page = client.get(f"/customers/{customer.id}").text

    assert re.search(r"Frequency changed from 30 days to 14 days;[^<]* by Rita Rep,", page)
    entries = db.session.scalars(
        select(History).where(History.subject == "touchpoint").order_by(History.id)
    ).all()
    assert [(e.action, e.user_id) for e in entries] == [("created", None), ("updated", rep.id)]


def test_history_is_shown_to_managers_on_a_manager_sales_rep_change(client, make, manager):
    anna, ben = make.rep(name="Anna"), make.rep(name="Ben")
    customer = make.customer(rep=anna, name="Co")
    client.post(
        f"/customers/{customer.id}/edit",
        data={"name": "Co", "sales_rep_id": ben.id},
    )
    page = client.get(f"/customers/{customer.id}").text
    assert "Sales Rep changed from Anna to Ben by Mona Manager" in page


def test_manager_dashboard_shows_team_and_most_overdue(client, make, manager, today):
    anna = make.rep(name="Anna")
    accounts_for(make, anna, 2, today, prefix="Late")
    page = client.get("/").text
    assert 'id="team"' in page and "Anna" in page and "Most overdue" in page
    assert "Late 000" in page and "Sales Rep: Anna" in page
    assert db.session.scalar(select(func.count(User.id))) == 2


def test_the_dashboard_follows_the_team_shown(client, make, manager, today):
    otto, anna, ben, cy, dee = teams(make, manager)
    accounts_for(make, anna, 1, today, prefix="Mine")
    accounts_for(make, cy, 1, today, prefix="Otto's")
    make.customer(rep=ben, name="Bare Mine")  # no touchpoint: Unassigned
    make.customer(rep=cy, name="Bare Otto's")

    def most_overdue(page):
        return page.split('id="overdue-title"')[1].split("</section>")[0]

    def unassigned(page):
        return page.split('id="unassigned-title"')[1].split("</section>")[0]

    mine = client.get("/").text
    assert "Mine 000" in most_overdue(mine) and "Otto" not in most_overdue(mine)
    assert "Bare Mine" in unassigned(mine) and "Otto" not in unassigned(mine)
    assert "Unassigned <strong>1</strong>" in mine
    assert 'hx-get="/" hx-target="#board" hx-select="#board"' in mine
    # Reps of: the board again, for the reps chosen (htmx picks it out of the page).
    every = client.get("/?manager=all", headers={"HX-Request": "true"}).text
    assert rep_rows(every) == ["Anna", "Cy", "Ben", "Dee"]
    assert "Otto&#39;s 000" in most_overdue(every) and "Mine 000" in most_overdue(every)
    assert "Bare Otto&#39;s" in unassigned(every) and "Unassigned <strong>2</strong>" in every
    others = client.get(f"/?manager={otto.id}").text
    assert rep_rows(others) == ["Cy"] and "Mine" not in most_overdue(others)
    assert "Bare Otto&#39;s" in unassigned(others) and "Bare Mine" not in unassigned(others)
    assert client.get("/?manager=nope").status_code == 400


# The move asks first: how many accounts go to whom; nothing moves until it is confirmed.


def test_the_pages_move_asks_first_and_moves_nothing(client, make, manager, today):
    anna, ben = make.rep(name="Anna"), make.rep(name="Ben <script>alert(1)</script>")
    moving = accounts_for(make, anna, 12, today, prefix="Move")
    page = client.get(f"/reps/{anna.id}").text
    assert '<input type="hidden" name="review" value="1">' in page
    form = {"review": "1", "account_ids": [a.id for a in moving], "to_rep_id": ben.id}
    before = snapshot()

    response = client.post(f"/reps/{anna.id}/reassign", data=form, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "false"  # the address stays the rep's page
    text = response.text
    assert "Move 12 accounts to Ben &lt;script&gt;alert(1)&lt;/script&gt;?" in text
    assert "<script>alert(1)" not in text
    assert "From <strong>Anna</strong>" in text and "and 4 more" in text
    assert all(f'name="account_ids" value="{a.id}"' in text for a in moving)
    assert 'name="review"' not in text  # its form moves them
    db.session.expire_all()
    assert snapshot() == before


def test_the_confirmed_move_replayed_with_its_key_moves_once(client, make, manager, today):
    anna, ben, cy = make.rep(name="Anna"), make.rep(name="Ben"), make.rep(name="Cy")
    moving = accounts_for(make, anna, 3, today, prefix="Move")
    confirm = {"account_ids": [a.id for a in moving], "to_rep_id": ben.id}
    key = {"Idempotency-Key": "move-3-to-ben"}

    first = client.post(f"/reps/{anna.id}/reassign", data=confirm, headers=key)
    # Meanwhile the accounts went on to Cy; the replay must not take them back.
    client.post(f"/reps/{ben.id}/reassign", data={**confirm, "to_rep_id": cy.id})
    history = select(func.count(History.id))
    recorded = db.session.scalar(history)
    again = client.post(f"/reps/{anna.id}/reassign", data=confirm, headers=key)

    assert first.status_code == again.status_code == 303
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.headers["Location"].endswith(f"/reps/{anna.id}")
    db.session.expire_all()
    assert {a.sales_rep_id for a in moving} == {cy.id}
    assert db.session.scalar(history) == recorded  # the replay changed nothing


def test_a_refused_move_says_why_beside_the_form(client, make, manager, today):
    anna, ben = make.rep(name="Anna"), make.rep(name="Ben")
    accounts_for(make, anna, 2, today)
    response = client.post(
        f"/reps/{anna.id}/reassign",
        data={"review": "1", "to_rep_id": ben.id},
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    assert response.status_code == 422
    assert response.headers["HX-Push-Url"] == "false"
    bar = response.text.split('class="bulk-bar"')[1].split("</form>")[0]
    assert 'id="reassign-problem">Select the accounts to move.</p>' in bar


def test_see_all_unassigned_follows_the_team_shown(client, make, manager, app, monkeypatch):
    otto, anna, ben, cy, dee = teams(make, manager)
    for rep in (anna, ben, cy, dee):
        make.customer(rep=rep, name=f"Bare {rep.name}")

    def listed(page):
        return re.findall(r'<a href="/customers/\d+">Bare ([\w ]+)</a>', page)

    mine = client.get("/unassigned").text
    assert listed(mine) == ["Anna", "Ben"]
    assert 'hx-get="/unassigned" hx-target="#unassigned-widget"' in mine
    assert f'<option value="{manager.id}" selected>' in mine
    assert listed(client.get("/unassigned?manager=all").text) == ["Anna", "Ben", "Cy", "Dee"]
    assert listed(client.get(f"/unassigned?manager={otto.id}").text) == ["Cy"]
    assert listed(client.get(f"/unassigned?rep={dee.id}").text) == ["Dee"]
    assert client.get("/unassigned?manager=nope").status_code == 400
    assert client.get(f"/unassigned?manager={anna.id}").status_code == 404

    # Show more and See all unassigned keep to the same reps.
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)
    first = client.get(f"/unassigned?manager={manager.id}").text
    assert listed(first) == ["Anna"]
    assert f'href="/unassigned?page=2&amp;manager={manager.id}"' in first
    assert listed(client.get(f"/unassigned?page=2&manager={manager.id}").text) == ["Ben"]
    assert 'href="/unassigned?page=2&amp;manager=all"' in client.get("/unassigned?manager=all").text
    one = client.get(f"/unassigned?rep={anna.id}").text
    assert "Show more" not in one
    make.customer(rep=anna, name="Bare Anna Two")
    one = client.get(f"/unassigned?rep={anna.id}").text
    assert f'href="/unassigned?page=2&amp;rep={anna.id}"' in one
    assert listed(client.get(f"/unassigned?page=2&rep={anna.id}").text) == ["Anna Two"]


def test_the_dashboards_see_all_unassigned_opens_on_the_team_shown(
    client, make, manager, monkeypatch
):
    otto, anna, ben, cy, dee = teams(make, manager)
    for rep in (anna, ben, cy, dee):
        make.customer(rep=rep, name=f"Bare {rep.name}")
    monkeypatch.setattr("tpweb.web.dashboard.DASHBOARD_WIDGET_SIZE", 1)

    assert f'href="/unassigned?manager={manager.id}">See all unassigned' in client.get("/").text
    every = client.get("/?manager=all").text
    assert 'href="/unassigned?manager=all">See all unassigned' in every
