"""Team health's pages (/reports/team, /reports/me), their CSV and `flask report`: who may see
which numbers, what a bad query answers, and the numbers on screen being the domain's."""

import csv
import html
import importlib.util
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tpweb.domain.health import COLUMNS, MEASURES, table, team_health
from tpweb.extensions import db
from tpweb.models import CallLog
from tpweb.web.reports import pct

HTMX = {"HX-Request": "true"}
MIGRATION = next(
    (Path(__file__).parent.parent / "migrations" / "versions").glob(
        "*_call_log_completed_next_call.py"
    )
)


@pytest.fixture
def phone(make):
    return make.call_type("Phone")


def busy_rep(make, phone, today, manager=None, name="Rita Busy", on_time=2, late=1):
    """A rep with a touchpoint, calls on time and late this week, and an open task."""
    rep = make.rep(name=name, manager=manager)
    customer = make.customer(rep=rep)
    make.touchpoint(customer, last_call=today - timedelta(days=3), frequency_days=14)
    for n in range(on_time + late):
        due = today if n < on_time else today - timedelta(days=4)
        make.call_log(customer, rep, phone, called_on=today, completed_next_call=due)
    contact = make.contact(customer)
    make.record(contact, rep, response_required=True, date_completed=today, date_due=today)
    return rep


def text_of(page):
    """The page's words, tags taken out and entities read, spaces made single."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_a_manager_sees_every_reps_numbers_as_the_domain_counts_them(
    client, make, manager, phone, today
):
    ann = busy_rep(make, phone, today, name="Ann Able", on_time=3, late=1)
    bob = busy_rep(make, phone, today, name="Bob Baker", on_time=1, late=2)

    response = client.get("/reports/team?weeks=12")

    assert response.status_code == 200
    words = text_of(response.text)
    report = team_health(manager, 12)
    for rep in report.reps:
        f = rep.figures
        assert f"{rep.name} {pct(f.on_time_share)} ({f.on_time} of {f.measured})" in words
        assert f"{pct(f.not_overdue_share)} ({f.not_overdue} of {f.active})" in words
    team = report.team
    assert f"{pct(team.on_time_share)} calls on time {team.on_time} of {team.measured}" in words
    assert (team.on_time, team.measured) == (4, 7)
    assert f"{team.open_tasks} open tasks" in words
    for measure in MEASURES.values():
        assert html.escape(measure.definition, quote=False) in response.text.replace("&#39;", "'")
    # A rep's row leads to their Sales Rep page, showing what the chart showed: the overdue.
    assert f'href="/reps/{ann.id}?state=overdue#touchpoint-widget"' in response.text
    assert f'href="/reps/{bob.id}#tasks-title"' in response.text
    assert response.text.count('<svg class="chart"') == 9
    assert '<th scope="row">' in response.text and "<caption>" in response.text


def test_the_sales_rep_page_shows_the_overdue_a_chart_links_to(client, make, manager, today):
    rep = make.rep(name="Rita Late")
    late, fine = make.customer(rep=rep, name="Late Co"), make.customer(rep=rep, name="Fine Co")
    make.touchpoint(late, last_call=today - timedelta(days=40), frequency_days=30)
    make.touchpoint(fine, last_call=today, frequency_days=30)

    page = client.get(f"/reps/{rep.id}?state=overdue").text

    assert "Late Co" in page and "Fine Co" not in page.split('id="accounts-title"')[0]


def test_one_managers_reps(client, make, manager, phone, today):
    boss = make.manager(name="Other Boss")
    busy_rep(make, phone, today, manager=boss, name="Ann Able")
    busy_rep(make, phone, today, name="Bob Baker")

    page = client.get(f"/reports/team?manager={boss.id}").text

    assert "Ann Able" in page and "Bob Baker" not in page
    assert f'<option value="{boss.id}" selected>' in page


def test_a_manager_opens_on_their_own_team_and_every_rep_is_one_choice_away(
    client, make, manager, phone, today
):
    busy_rep(make, phone, today, manager=manager, name="Ann Able")
    busy_rep(make, phone, today, name="Bob Baker")

    mine = client.get("/reports/team").text
    assert "Ann Able" in mine and "Bob Baker" not in mine
    assert f'<option value="{manager.id}" selected>Mona Manager (me)</option>' in mine
    assert "1 rep." in text_of(mine)
    csv = client.get("/reports/team?format=csv").text
    assert "Ann Able" in csv and "Bob Baker" not in csv

    every = client.get("/reports/team?manager=all").text
    assert "Ann Able" in every and "Bob Baker" in every
    assert '<option value="all" selected>every manager</option>' in every


def test_a_manager_with_no_team_opens_on_every_rep(client, make, manager, phone, today):
    busy_rep(make, phone, today, manager=make.manager(name="Other Boss"), name="Ann Able")
    busy_rep(make, phone, today, name="Bob Baker")

    page = client.get("/reports/team").text

    assert "Ann Able" in page and "Bob Baker" in page
    assert '<option value="all" selected>every manager</option>' in page
    # Asked for on purpose, her own (empty) team is shown as such.
    mine = client.get(f"/reports/team?manager={manager.id}").text
    assert "Ann Able" not in mine and "0 reps." in text_of(mine)


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("weeks=abc", 400, "weeks must be one of 4, 12, 52."),
        ("weeks=9999", 400, "weeks must be one of 4, 12, 52."),
        ("weeks=0", 400, "weeks must be one of 4, 12, 52."),
        ("manager=abc", 400, "manager must be a manager's number or all."),
        ("manager=" + "9" * 40, 400, "manager must be a manager's number or all."),
        ("manager=-1", 400, "manager must be a manager's number or all."),
        ("manager=<script>", 400, "manager must be a manager's number or all."),
    ],
)
def test_a_bad_query_is_refused_with_a_clear_message(client, manager, query, status, message):
    response = client.get(f"/reports/team?{query}")

    assert response.status_code == status
    assert message in html.unescape(response.text)


def test_a_manager_who_is_not_one_is_not_found(client, make, manager):
    rep = make.rep()

    assert client.get(f"/reports/team?manager={rep.id}").status_code == 404
    assert client.get("/reports/team?manager=2147483647").status_code == 404


def test_a_rep_cannot_see_the_team_or_anyone_elses_numbers(client, make, rep, phone, today):
    other = busy_rep(make, phone, today, name="Otto Other")
    mine = make.customer(rep=rep)
    make.call_log(mine, rep, phone, called_on=today, completed_next_call=today)

    assert client.get("/reports/team").status_code == 404
    assert client.get("/reports/team?format=csv").status_code == 404
    page = client.get(f"/reports/me?manager={other.manager_id or 1}&rep={other.id}")

    assert page.status_code == 200
    assert "My cadence" in page.text and "Otto Other" not in page.text
    assert "100% calls on time 1 of 1" in text_of(page.text)
    own_csv = client.get("/reports/me?format=csv").text
    assert "Otto Other" not in own_csv and "Rita Rep" in own_csv
    assert client.get("/reports/me?weeks=5").status_code == 400


def test_a_manager_asking_for_their_own_is_sent_to_the_team(client, manager):
    response = client.get("/reports/me?weeks=4")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/reports/team?weeks=4")


def test_signed_out_is_sent_to_sign_in(client):
    for url in ("/reports/team", "/reports/me"):
        assert "/login" in client.get(url).headers["Location"]


def test_the_navigation_offers_team_health_to_managers_and_my_cadence_to_reps(client, make, auth):
    manager, rep = make.manager(), make.rep()
    auth.login(manager)
    page = client.get("/").text
    assert 'href="/reports/team">Team health</a>' in page and "My cadence" not in page
    auth.logout()
    auth.login(rep)
    page = client.get("/").text
    assert 'href="/reports/me">My cadence</a>' in page and "Team health" not in page


def test_the_csv_is_the_reports_table_and_safe_in_a_spreadsheet(
    client, make, manager, phone, today
):
    busy_rep(make, phone, today, name='=HYPERLINK("http://x")')
    busy_rep(make, phone, today, name="Bob Baker")

    response = client.get("/reports/team?weeks=4&format=csv")

    assert response.mimetype == "text/csv"
    assert 'filename="tpweb-health-team-4w-' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert tuple(rows[0]) == COLUMNS
    assert rows[1][0] == '\'=HYPERLINK("http://x")' and rows[2][0] == "Bob Baker"
    expected = table(team_health(manager, 4))
    assert [row[1:] for row in rows[1:]] == [
        ["" if v is None else str(v) for v in row[1:]] for row in expected
    ]
    assert rows[-1][0] == "Team"


def test_flask_report_prints_the_same_numbers(app, runner, make, phone, today, manager):
    busy_rep(make, phone, today, name="Ann Able")

    result = runner.invoke(args=["report", "--weeks", "12", "--timezone", "America/Chicago"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "\t".join(COLUMNS)
    expected = table(team_health(manager, 12))
    assert lines[2:4] == ["\t".join("" if v is None else str(v) for v in r) for r in expected]
    bad = runner.invoke(args=["report", "--weeks", "9"])
    assert bad.exit_code == 2 and "'9' is not one of '4', '12', '52'" in bad.output


def test_completing_a_touchpoint_records_the_next_call_it_completed(
    client, make, rep, phone, today
):
    customer = make.customer(rep=rep)
    tp = make.touchpoint(customer, last_call=today - timedelta(days=35), frequency_days=30)
    due = tp.next_call
    form = {"called_on": today.isoformat(), "duration_minutes": "10", "call_type": phone.id}

    response = client.post(
        f"/touchpoints/{tp.id}/complete", data=form, headers={**HTMX, "Idempotency-Key": "k1"}
    )
    again = client.post(
        f"/touchpoints/{tp.id}/complete", data=form, headers={**HTMX, "Idempotency-Key": "k1"}
    )

    assert response.status_code == again.status_code == 200
    log = db.session.scalars(select(CallLog)).one()  # the replay logged nothing more
    assert (log.called_on, log.completed_next_call) == (today, due)
    assert "0% calls on time 0 of 1" in text_of(client.get("/reports/me").text)


def _migration():
    spec = importlib.util.spec_from_file_location("completed_next_call", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_fills_the_next_call_from_history_and_counts_the_rest(
    app, make, phone, today
):
    """History has the touchpoint's Next Call as it changed; a call log gets the value in force
    when it was logged. One with no History before it, or no touchpoint, is left empty."""
    rep = make.rep()
    customer = make.customer(rep=rep)
    tp = make.touchpoint(customer, last_call=today - timedelta(days=40), frequency_days=30)
    first_due = tp.next_call
    before = make.call_log(customer, rep, phone, touchpoint_id=tp.id)
    before.created_at = datetime(2000, 1, 1)  # logged before the touchpoint's History began
    after_created = make.call_log(customer, rep, phone, touchpoint_id=tp.id)
    tp.next_call = today + timedelta(days=3)  # rescheduled: History records it
    db.session.commit()
    after_reschedule = make.call_log(customer, rep, phone, touchpoint_id=tp.id)
    no_touchpoint = make.call_log(customer, rep, phone)
    recorded = make.call_log(customer, rep, phone, completed_next_call=today)
    db.session.commit()

    filled, missing = _migration().backfill(db.session.connection())

    assert (filled, missing) == (2, 2)
    db.session.expire_all()
    assert [
        log.completed_next_call
        for log in (before, after_created, after_reschedule, no_touchpoint, recorded)
    ] == [None, first_due, today + timedelta(days=3), None, today]


def test_a_hostile_rep_name_is_text_in_the_charts_and_tables(client, make, manager, phone, today):
    busy_rep(make, phone, today, name='<img src=x onerror="alert(1)">')

    page = client.get("/reports/team").text

    assert "<img src=x" not in page
    assert page.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") >= 5  # the tables
    assert "&lt;img src=x onerro…" in page  # the charts' clipped labels
