"""Team health's measures (tpweb/domain/health.py) on hand-built histories: on time, late and
early calls, a reassignment mid-period, inactive touchpoints and accounts, tasks by age and
answered by due, coverage, and the weeks in the viewer's time zone."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from tpweb.domain.health import Period, is_visit, percentile, team_health
from tpweb.extensions import db

# Wednesday 2 December 2026, noon in Chicago: the period of 4 weeks is Mon 9 Nov to today.
NOW = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
TODAY = date(2026, 12, 2)
START = date(2026, 11, 9)


def manager_in(zone="America/Chicago"):
    return SimpleNamespace(id=None, is_manager=True, timezone=zone)


def report_for(viewer=None, weeks=4, now=NOW, **options):
    return team_health(viewer or manager_in(), weeks, now=now, **options)


def rep_of(report, rep):
    (found,) = [r for r in report.reps if r.id == rep.id]
    return found.figures


@pytest.fixture
def phone(make):
    return make.call_type("Phone", position=0)


@pytest.fixture
def visit(make):
    return make.call_type("Visit on site", position=1)


def account_with_touchpoint(make, rep, last_call=TODAY - timedelta(days=10), frequency=30, **tp):
    customer = make.customer(rep=rep)
    return customer, make.touchpoint(customer, last_call=last_call, frequency_days=frequency, **tp)


def call(make, account, rep, kind, day, next_call):
    return make.call_log(account, rep, kind, called_on=day, completed_next_call=next_call)


def test_the_period_is_whole_weeks_up_to_today():
    period = Period(4, TODAY)
    assert period.start == START and period.start.weekday() == 0
    assert period.week_starts == [START + timedelta(days=7 * n) for n in range(4)]
    assert Period(52, TODAY).start == TODAY - timedelta(days=2 + 7 * 51)


def test_percentiles_by_nearest_rank():
    assert percentile(Counter(), 50) is None
    assert percentile(Counter({0: 2, 5: 1}), 50) == 0
    assert percentile(Counter({0: 2, 5: 1}), 90) == 5
    assert percentile(Counter({1: 1, 2: 1, 3: 1, 4: 1}), 50) == 2  # the lower middle
    assert percentile(Counter({n: 1 for n in range(1, 11)}), 90) == 9
    assert percentile(Counter({0: 0, 7: 3}), 50) == 7  # a value counted 0 times is not there


def test_visits_are_the_types_named_visit():
    assert is_visit("Visit") and is_visit(" visit on site") and not is_visit("Video call")


def test_calls_on_time_early_late_and_unmeasured(app, make, phone, visit):
    rep = make.rep(name="Ann")
    customer, _ = account_with_touchpoint(make, rep)
    call(make, customer, rep, phone, date(2026, 11, 10), date(2026, 11, 10))  # on the day
    call(make, customer, rep, visit, date(2026, 11, 12), date(2026, 11, 20))  # early
    call(make, customer, rep, phone, date(2026, 11, 25), date(2026, 11, 20))  # 5 days late
    call(make, customer, rep, phone, date(2026, 11, 26), None)  # no Next Call on record

    report = report_for()
    ann = rep_of(report, rep)

    assert (ann.calls, ann.measured, ann.on_time) == (4, 3, 2)
    assert ann.on_time_share == pytest.approx(2 / 3)
    assert ann.late_days == Counter({0: 2, 5: 1})
    assert (ann.late_median, ann.late_p90) == (0, 5)
    assert (ann.visits, ann.by_type) == (1, Counter({"Phone": 3, "Visit on site": 1}))
    week = {w.start: w for w in report.weeks}
    assert (week[START].measured, week[START].on_time) == (2, 2)
    assert (week[date(2026, 11, 23)].measured, week[date(2026, 11, 23)].on_time) == (1, 0)
    assert week[date(2026, 11, 23)].late_median == 5
    assert week[date(2026, 11, 23)].calls == 2
    assert week[date(2026, 11, 16)].on_time_share is None  # nothing to measure: a gap
    assert report.team.calls == 4 and report.call_types == ["Phone", "Visit on site"]


def test_the_period_starts_on_its_first_monday_and_ends_today(app, make, phone):
    rep = make.rep()
    customer, _ = account_with_touchpoint(make, rep)
    for day in (START - timedelta(days=1), START, TODAY, TODAY + timedelta(days=1)):
        call(make, customer, rep, phone, day, day)

    report = report_for()

    assert rep_of(report, rep).calls == 2
    assert (report.weeks[0].calls, report.weeks[-1].calls) == (1, 1)


def test_a_week_runs_monday_to_sunday(app, make, phone):
    rep = make.rep()
    customer, _ = account_with_touchpoint(make, rep)
    call(make, customer, rep, phone, date(2026, 11, 29), None)  # a Sunday
    call(make, customer, rep, phone, date(2026, 11, 30), None)  # the Monday after

    weeks = report_for().weeks

    assert [w.calls for w in weeks] == [0, 0, 1, 1]


def test_a_reassigned_account_leaves_earlier_calls_with_their_caller(app, make, phone):
    ann, bob = make.rep(name="Ann"), make.rep(name="Bob")
    customer, _ = account_with_touchpoint(make, ann, last_call=date(2026, 11, 24))
    call(make, customer, ann, phone, date(2026, 11, 10), date(2026, 11, 12))
    customer.sales_rep = bob  # reassigned mid-period
    db.session.commit()
    call(make, customer, bob, phone, date(2026, 11, 24), date(2026, 11, 20))

    report = report_for()

    assert (rep_of(report, ann).calls, rep_of(report, ann).on_time) == (1, 1)
    assert (rep_of(report, bob).calls, rep_of(report, bob).on_time) == (1, 0)
    assert (rep_of(report, ann).active, rep_of(report, bob).active) == (0, 1)
    assert (report.team.calls, report.team.measured, report.team.on_time) == (2, 2, 1)


def test_touchpoints_not_overdue_today_and_not_contacted_in_twice_the_frequency(app, make):
    rep = make.rep()
    account_with_touchpoint(make, rep, next_call=TODAY)  # due today: not overdue
    account_with_touchpoint(make, rep, next_call=TODAY - timedelta(days=1))  # overdue
    # Exactly twice its frequency ago: not yet; one day more: in the list.
    account_with_touchpoint(make, rep, last_call=TODAY - timedelta(days=60), frequency=30)
    silent, _ = account_with_touchpoint(
        make, rep, last_call=TODAY - timedelta(days=61), frequency=30
    )

    report = report_for()
    figures = rep_of(report, rep)

    assert (figures.active, figures.not_overdue) == (4, 1)
    assert figures.silent == 1
    assert [(s.account_id, s.days, s.frequency_days) for s in report.silent] == [
        (silent.id, 61, 30)
    ]


def test_inactive_touchpoints_and_accounts_are_not_counted(app, make, phone):
    rep = make.rep()
    customer, _ = account_with_touchpoint(
        make, rep, inactive=True, last_call=TODAY - timedelta(days=100)
    )
    call(make, customer, rep, phone, date(2026, 11, 20), date(2026, 11, 10))  # still activity
    closed, _ = account_with_touchpoint(make, rep, last_call=TODAY - timedelta(days=100))
    closed.active = False
    db.session.commit()

    report = report_for()
    figures = rep_of(report, rep)

    assert (figures.active, figures.silent, figures.uncovered) == (0, 0, 1)
    assert (figures.calls, figures.measured, figures.on_time) == (1, 1, 0)
    assert report.silent == []


def test_coverage_and_a_rep_sees_only_themselves(app, make):
    ann, bob = make.rep(name="Ann", timezone="America/Chicago"), make.rep(name="Bob")
    make.customer(rep=ann)  # a rep but no touchpoint
    account_with_touchpoint(make, bob)
    make.customer()  # no rep
    make.customer(active=False)  # inactive: not counted

    team = report_for()
    own = report_for(viewer=ann)

    assert (rep_of(team, ann).uncovered, rep_of(team, bob).uncovered, team.no_rep) == (1, 0, 1)
    assert [r.id for r in own.reps] == [ann.id]
    assert own.no_rep is None and own.team.uncovered == 1 and own.team.active == 0


def test_a_managers_reps_only(app, make, phone):
    boss, other = make.manager(), make.manager()
    ann, bob = make.rep(name="Ann", manager=boss), make.rep(name="Bob", manager=other)
    for rep in (ann, bob):
        customer, _ = account_with_touchpoint(make, rep)
        call(make, customer, rep, phone, TODAY, TODAY)

    report = report_for(manager_id=boss.id)

    assert [r.name for r in report.reps] == ["Ann"] and report.team.calls == 1


def test_a_deactivated_rep_is_not_in_the_team(app, make, phone):
    gone = make.rep(active=False)
    customer, _ = account_with_touchpoint(make, gone)
    call(make, customer, gone, phone, TODAY, TODAY)

    report = report_for()

    assert report.reps == [] and report.team.calls == 0


def test_open_tasks_by_age_and_answered_by_due(app, make):
    rep = make.rep()
    contact = make.contact(make.customer(rep=rep))

    def task(recorded_days_ago, due, responded=None):
        return make.record(
            contact, rep, response_required=True, date_completed=TODAY - timedelta(
                days=recorded_days_ago), date_due=due, responded_on=responded,
        )  # fmt: skip

    future = TODAY + timedelta(days=5)
    for days in (0, 7, 8, 30, 31):
        task(days, future)
    task(40, date(2026, 11, 20), responded=date(2026, 11, 20))  # answered on the day due
    task(40, date(2026, 11, 20), responded=date(2026, 11, 21))  # a day late
    task(40, date(2026, 11, 25))  # due in the period, still open: over 30 days old
    task(60, START - timedelta(days=1), responded=START - timedelta(days=1))  # due before
    make.record(contact, rep)  # needs no response: not a task

    report = report_for()
    figures = rep_of(report, rep)

    assert figures.ages == [2, 2, 2]
    assert (figures.due, figures.answered) == (3, 1)
    assert figures.answered_share == pytest.approx(1 / 3)
    week = {w.start: w for w in report.weeks}
    assert (week[date(2026, 11, 16)].due, week[date(2026, 11, 16)].answered) == (2, 1)
    assert (week[date(2026, 11, 23)].due, week[date(2026, 11, 23)].answered) == (1, 0)


def test_the_weeks_are_the_viewers_own(app, make, phone):
    """At 03:00 UTC on Monday 30 November it is still Sunday evening in Chicago and already
    Monday in Berlin: the same calls fall in other weeks and periods for each."""
    rep = make.rep()
    customer, _ = account_with_touchpoint(make, rep)
    call(make, customer, rep, phone, date(2026, 11, 5), None)  # Thursday of 4 weeks back
    call(make, customer, rep, phone, date(2026, 11, 30), None)  # Berlin's today
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)

    chicago = report_for(manager_in("America/Chicago"), now=now)
    berlin = report_for(manager_in("Europe/Berlin"), now=now)

    assert (chicago.period.today, chicago.period.start) == (date(2026, 11, 29), date(2026, 11, 2))
    assert (berlin.period.today, berlin.period.start) == (date(2026, 11, 30), date(2026, 11, 9))
    assert [w.calls for w in chicago.weeks] == [1, 0, 0, 0]
    assert [w.calls for w in berlin.weeks] == [0, 0, 0, 1]


def test_a_fixed_number_of_statements_whatever_the_size(app, make, phone, count_queries):
    def grow(n):
        for _ in range(n):
            rep = make.rep()
            customer, _ = account_with_touchpoint(make, rep)
            call(make, customer, rep, phone, TODAY, TODAY)
            make.record(make.contact(customer), rep, response_required=True, date_due=TODAY)
        count_queries.clear()
        report_for()
        return len(count_queries)

    assert grow(1) == grow(5) == 6
