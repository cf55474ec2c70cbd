"""Team health: is every customer getting its cadence? Each measure defined once here (its
sentence is shown under its chart), counted in SQL by GROUP BY: a fixed number of statements
whatever the team's size or the period's length (docs/benchmarks.md, B8). No Flask here.

Whose numbers: a call is its caller's, a touchpoint and an account their sales rep's now, a task
its assignee's now; so an account reassigned mid-period leaves its earlier calls with the rep
who made them. The team is the active sales reps in view, and its figures are theirs summed.
Weeks run Monday to Sunday in the viewer's time zone; the period is the week of today and the
weeks before it, up to today.
"""

import csv
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from tpweb.domain import rules
from tpweb.domain.csvio.sheet import escape_cell
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import Account, CallLog, CallLogType, Touchpoint, TouchpointRecord, User

WEEKS = (4, 12, 52)
# Open tasks' ages, in days since their record's date: (label, fewest, most or None).
AGES = (("0–7 days", 0, 7), ("8–30 days", 8, 30), ("over 30 days", 31, None))
# How many accounts the "not contacted" list names (the count says how many there are).
SILENT_SHOWN = 50


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    definition: str


MEASURES = {
    m.key: m
    for m in (
        Measure("on_time", "Calls on time",
                "Of the calls logged in the period against a touchpoint, the share made on or "
                "before the Next Call they completed (an early call is on time)."),
        Measure("not_overdue", "Touchpoints not overdue today",
                "Of the active touchpoints of active accounts, the share whose Next Call is "
                "today or later."),
        Measure("late", "Days overdue at completion",
                "How many days after its Next Call each call in the period was made (0 when on "
                "time or early): the median and the 90th percentile, by nearest rank."),
        Measure("silent", "Not contacted in over twice the frequency",
                "Active touchpoints whose Last Call was more than twice their frequency ago."),
        Measure("activity", "Calls logged per week",
                "Calls logged in each week of the period, Monday to Sunday in your time zone, "
                "by call type."),
        Measure("visits", "Visits and phone",
                "Calls of a type whose name begins with “Visit” against every other call."),
        Measure("task_age", "Open tasks by age",
                "Tasks waiting for a response, by days since their record's date: 0–7, 8–30, "
                "over 30."),
        Measure("answered", "Answered by the date due",
                "Of the tasks due in the period up to today, the share whose response was "
                "recorded on or before the date due."),
        Measure("coverage", "Coverage",
                "Active accounts with a sales rep but no active touchpoint (the Unassigned list), "
                "and active accounts with no sales rep."),
    )
}  # fmt: skip


def is_visit(call_type_name):
    """Whether calls of this type are visits (in person); every other type is by phone."""
    return call_type_name.strip().lower().startswith("visit")


class days_between(FunctionElement):
    """Whole days from the date `earlier` to the date `later`, in SQL (negative when before)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def tally(condition):
    return func.count(case((condition, 1)))


@dataclass(frozen=True)
class Period:
    """The `weeks` weeks up to `today`, the last one today's (Monday to Sunday)."""

    weeks: int
    today: date

    @property
    def start(self):
        return self.today - timedelta(days=self.today.weekday() + 7 * (self.weeks - 1))

    @property
    def week_starts(self):
        return [self.start + timedelta(days=7 * n) for n in range(self.weeks)]

    def week_of(self, column):
        """The week (0 = the first) a date column falls in, in SQL."""
        return days_between(column, literal(self.start)) // 7


def share(part, whole):
    """part / whole, or None when there is nothing to measure."""
    return part / whole if whole else None


def percentile(histogram, p):
    """The p-th percentile (nearest rank) of the values counted in `histogram` {value: n}."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = math.ceil(p / 100 * total), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover - the ranks add up to total


@dataclass
class Calls:
    """What the calls of a rep, the team or a week add up to: how many, how many measured and on
    time, how late, by call type; the tasks due and answered by their date."""

    calls: int = 0
    measured: int = 0
    on_time: int = 0
    due: int = 0
    answered: int = 0
    late_days: Counter = field(default_factory=Counter)
    by_type: Counter = field(default_factory=Counter)

    @property
    def on_time_share(self):
        return share(self.on_time, self.measured)

    @property
    def answered_share(self):
        return share(self.answered, self.due)

    @property
    def late_median(self):
        return percentile(self.late_days, 50)


@dataclass
class Figures(Calls):
    """One rep's measures, or the team's (the reps' summed)."""

    active: int = 0
    not_overdue: int = 0
    silent: int = 0
    visits: int = 0
    uncovered: int = 0
    ages: list = field(default_factory=lambda: [0] * len(AGES))

    @property
    def not_overdue_share(self):
        return share(self.not_overdue, self.active)

    @property
    def late_p90(self):
        return percentile(self.late_days, 90)

    @property
    def open_tasks(self):
        return sum(self.ages)

    def add(self, other):
        for name in ("calls", "measured", "on_time", "active", "not_overdue", "silent",
                     "visits", "uncovered", "due", "answered"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.late_days.update(other.late_days)
        self.by_type.update(other.by_type)
        self.ages = [a + b for a, b in zip(self.ages, other.ages, strict=True)]


@dataclass
class Week(Calls):
    """The team's figures of one week of the period, for the trend lines."""

    start: date = None


@dataclass
class Rep:
    id: int
    name: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class Report:
    period: Period
    reps: list
    team: Figures
    weeks: list
    call_types: list
    silent: list
    # Active accounts with no sales rep; None on a rep's own report.
    no_rep: int | None


def reps_in_view(viewer, manager_id=None):
    """The sales reps whose numbers `viewer` may see: a manager (or admin) every active rep, or
    one manager's; anyone else only themselves (domain/scope.py's rule for lists)."""
    query = select(User.id, User.name).where(rules.SALES_REP)
    if not viewer.is_manager:
        return query.where(User.id == viewer.id)
    if manager_id is not None:
        query = query.where(User.manager_id == manager_id)
    return query


def team_health(viewer, weeks, *, now=None, manager_id=None):
    """The Report of the `weeks` weeks up to now, in the viewer's time zone: six statements."""
    period = Period(weeks, today_in(viewer.timezone, now))
    scope = reps_in_view(viewer, manager_id)
    reps = [Rep(row.id, row.name) for row in db.session.execute(scope.order_by(User.name, User.id))]
    ids = scope.with_only_columns(User.id).scalar_subquery()
    by_id = {rep.id: rep.figures for rep in reps}
    week_list = [Week(start=start) for start in period.week_starts]
    types = db.session.execute(
        select(CallLogType.id, CallLogType.name).order_by(CallLogType.position, CallLogType.name)
    ).all()
    names = dict(types)
    _calls(period, by_id, week_list, names)
    no_rep = _accounts(period, ids, by_id, with_no_rep=viewer.is_manager)
    _tasks(period, ids, by_id, week_list)
    team = Figures()
    for rep in reps:
        team.add(rep.figures)
    used = [name for _, name in types if team.by_type[name]]
    return Report(period, reps, team, week_list, used, _silent(period, ids), no_rep)


def _in_period(period, column):
    return column.between(period.start, period.today)


def _calls(period, by_id, week_list, names):
    """Calls per rep and per week, by call type and by days overdue at completion (0: on time
    or early; None: no Next Call on record)."""
    visit_types = {type_id for type_id, name in names.items() if is_visit(name)}
    for rep, n_week, type_id, late, n in _call_counts(period, list(by_id)):
        target = by_id[rep] if rep is not None else week_list[n_week]
        target.calls += n
        target.by_type[names[type_id]] += n
        if late is not None:
            target.measured += n
            target.on_time += n if late == 0 else 0
            target.late_days[late] += n
        if rep is not None and type_id in visit_types:
            target.visits += n


def _call_counts(period, rep_ids):
    """(rep, None, call type, days late, n) per rep and (None, week, call type, days late, n)
    per week, days late clamped at 0 (on time or early) and None with no Next Call on record.

    Two groupings of the period's call logs in one statement, which PostgreSQL reads in
    parallel, both from the covering index ix_call_logs_team_health where it pays. SQLite, which
    sorts to group, groups the team's per day, in that index's order, so with no sort, and makes
    weeks and days late once per group. The reps are named by id: a hash lookup on PostgreSQL,
    where joining to users took a fifth of each reading. GROUPING SETS, one reading grouped
    both ways, took less CPU but cannot run in parallel and was the slower
    (docs/benchmarks.md, B8)."""
    where = (_in_period(period, CallLog.called_on), CallLog.user_id.in_(rep_ids))
    diff = days_between(CallLog.called_on, CallLog.completed_next_call)
    week, count = period.week_of(CallLog.called_on), func.count()
    per_week = select(cast(null(), Integer), week, CallLog.call_type_id, diff, count).where(*where)
    if db.session.get_bind().dialect.name == "sqlite":
        per_week = per_week.group_by(
            CallLog.called_on, CallLog.call_type_id, CallLog.completed_next_call
        )
    else:
        per_week = per_week.group_by(week, CallLog.call_type_id, diff)
    per_rep = (
        select(CallLog.user_id, literal(None, Integer), CallLog.call_type_id, diff, count)
        .where(*where)
        .group_by(CallLog.user_id, CallLog.call_type_id, diff)
    )
    for rep, n_week, type_id, days, n in db.session.execute(union_all(per_week, per_rep)):
        yield rep, n_week, type_id, None if days is None else max(days, 0), n


def _accounts(period, ids, by_id, with_no_rep):
    """Active touchpoints (not overdue, not contacted in twice their frequency) and accounts
    without one, per sales rep; and the active accounts with no rep. Returns that last count."""
    today = literal(period.today)
    query = (
        select(
            Account.sales_rep_id,
            func.count(Account.id).label("accounts"),
            func.count(Touchpoint.id).label("active"),
            tally(Touchpoint.next_call >= today).label("not_overdue"),
            tally(silent_condition(today)).label("silent"),
            tally(Touchpoint.id.is_(None)).label("uncovered"),
        )
        .outerjoin(Touchpoint, and_(Touchpoint.account_id == Account.id, ~Touchpoint.inactive))
        .where(Account.active)
        .group_by(Account.sales_rep_id)
    )
    in_view = Account.sales_rep_id.in_(ids)
    query = query.where(or_(in_view, Account.sales_rep_id.is_(None)) if with_no_rep else in_view)
    no_rep = 0 if with_no_rep else None
    for row in db.session.execute(query):
        if row.sales_rep_id is None:
            no_rep = row.accounts
            continue
        figures = by_id[row.sales_rep_id]
        figures.active, figures.not_overdue = row.active, row.not_overdue
        figures.silent, figures.uncovered = row.silent, row.uncovered
    return no_rep


def silent_condition(today):
    """A touchpoint not contacted in more than twice its frequency, on `today`."""
    return days_between(today, Touchpoint.last_call) > 2 * Touchpoint.frequency_days


@dataclass(frozen=True)
class Silent:
    account_id: int
    kind: str
    name: str
    rep_id: int
    days: int
    frequency_days: int


def _silent(period, ids):
    """The accounts longest without a call past twice their frequency, at most SILENT_SHOWN."""
    today = literal(period.today)
    days = days_between(today, Touchpoint.last_call)
    query = (
        select(
            Account.id,
            Account.kind,
            Account.name,
            Account.sales_rep_id,
            days,
            Touchpoint.frequency_days,
        )  # fmt: skip
        .join(Touchpoint.account)
        .where(~Touchpoint.inactive, Account.active, Account.sales_rep_id.in_(ids))
        .where(silent_condition(today))
        .order_by(Touchpoint.last_call, Account.name, Account.id)
        .limit(SILENT_SHOWN)
    )
    return [Silent(*row) for row in db.session.execute(query)]


def _tasks(period, ids, by_id, week_list):
    """Open tasks by age, and tasks due in the period answered by their date due: per assignee,
    and (those due in the period) per week due."""
    due_in_period = _in_period(period, TouchpointRecord.date_due)
    age = days_between(literal(period.today), TouchpointRecord.date_completed)
    open_task = TouchpointRecord.is_open_task
    ages = [
        tally(and_(open_task, age >= low, *(() if high is None else (age <= high,))))
        for _, low, high in AGES
    ]
    answered = and_(
        due_in_period,
        TouchpointRecord.responded_on.is_not(None),
        TouchpointRecord.responded_on <= TouchpointRecord.date_due,
    )
    counts = (tally(due_in_period).label("due"), tally(answered).label("answered"))
    mine = (TouchpointRecord.response_required, TouchpointRecord.assigned_to_id.in_(ids))
    per_assignee = (
        select(TouchpointRecord.assigned_to_id, literal(-1).label("week"), *counts, *ages)
        .where(*mine, or_(open_task, due_in_period))
        .group_by(TouchpointRecord.assigned_to_id)
    )
    week = period.week_of(TouchpointRecord.date_due)
    none = literal(0)
    per_week = (
        select(cast(null(), Integer), week, *counts, *(none for _ in AGES))
        .where(*mine, due_in_period)
        .group_by(week)
    )
    for assignee, n_week, due, answered_n, *age_counts in db.session.execute(
        union_all(per_assignee, per_week)
    ):
        if assignee is None:
            week_list[n_week].due, week_list[n_week].answered = due, answered_n
            continue
        figures = by_id[assignee]
        figures.due, figures.answered, figures.ages = due, answered_n, age_counts


# The report's table, as the CSV export and `flask report` give it: one row per rep, then the
# team's. Shares in per cent to one decimal; empty where there was nothing to measure.
COLUMNS = (
    "rep", "calls", "on time %", "not overdue today %", "median days overdue",
    "p90 days overdue", "not contacted in 2x frequency", "visits", "phone and other",
    "open tasks 0-7 days", "open tasks 8-30 days", "open tasks over 30 days",
    "answered by date due %", "accounts with no touchpoint",
)  # fmt: skip


def percent(value):
    return None if value is None else round(100 * value, 1)


def table_row(name, f):
    return [
        name, f.calls, percent(f.on_time_share), percent(f.not_overdue_share), f.late_median,
        f.late_p90, f.silent, f.visits, f.calls - f.visits, *f.ages,
        percent(f.answered_share), f.uncovered,
    ]  # fmt: skip


def table(report):
    """The report's rows under COLUMNS: each rep's, then the team's."""
    return [table_row(rep.name, rep.figures) for rep in report.reps] + [
        table_row("Team", report.team)
    ]


def csv_text(report):
    """The report's table as CSV, each name made safe from being read as a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in table(report):
        writer.writerow(
            ["" if v is None else escape_cell(v) if isinstance(v, str) else v for v in row]
        )
    return buffer.getvalue()
