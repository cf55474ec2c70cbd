"""The team overview: each active sales rep's overdue, due today, next 7 days, open tasks and
unassigned counts."""

from datetime import timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from tpweb.domain.rules import SALES_REP_ROLE
from tpweb.domain.schedule import DUE_TODAY, OVERDUE
from tpweb.domain.scope import sales_reps
from tpweb.domain.touchpoints import due_conditions
from tpweb.extensions import db
from tpweb.models import Account, Touchpoint, TouchpointRecord, User

SORTS = ("name", "overdue", "due_today", "next_7_days", "open_tasks", "unassigned")


def _tally(condition):
    return func.count(case((condition, 1)))


def managers():
    """Who reps can report to, each a team to look at: active managers and admins, by name, each
    with how many active reps report to them (`reps`), in one statement."""
    rep = aliased(User)
    return db.session.execute(
        select(User.id, User.name, func.count(rep.id).label("reps"))
        .outerjoin(rep, and_(rep.manager_id == User.id, rep.active, rep.role == SALES_REP_ROLE))
        .where(User.active, User.role.in_(("manager", "admin")))
        .group_by(User.id, User.name)
        .order_by(User.name, User.id)
    ).all()


def team_overview(today, sort="overdue", *, rep_id=None, manager_id=None):
    """Every active rep with their counts, in one query: (rep, {count name: n}); only the reps
    of `manager_id`, or only `rep_id`, when given.

    A manager's team is counted from its own reps' accounts and tasks (by their indexes), so its
    cost follows the team's size, not the company's (docs/benchmarks.md, B9).

    The counts are grouped in one pass over the accounts and one over the open tasks: a scalar
    subquery per rep and count read every account five times, and SQLite chose the next_call
    index for "due today", reading every touchpoint due today once per rep (1 s at 200 reps and
    50,000 touchpoints; see docs/benchmarks.md, B5).
    """
    week = today + timedelta(days=7)
    due = due_conditions(today)
    per_rep = (
        select(
            Account.sales_rep_id.label("rep_id"),
            _tally(due[OVERDUE]).label("overdue"),
            _tally(due[DUE_TODAY]).label("due_today"),
            _tally(and_(Touchpoint.next_call > today, Touchpoint.next_call <= week)).label(
                "next_7_days"
            ),
            _tally(Touchpoint.id.is_(None)).label("unassigned"),
        )
        .outerjoin(Touchpoint, and_(Touchpoint.account_id == Account.id, ~Touchpoint.inactive))
        .where(Account.active, Account.sales_rep_id.is_not(None))
        .group_by(Account.sales_rep_id)
    )
    tasks = (
        select(TouchpointRecord.assigned_to_id.label("rep_id"), func.count().label("open_tasks"))
        .where(TouchpointRecord.is_open_task)
        .group_by(TouchpointRecord.assigned_to_id)
    )
    reps = sales_reps()
    if rep_id is not None:
        reps = reps.where(User.id == rep_id)
    if manager_id is not None:
        reps = reps.where(User.manager_id == manager_id)
    if rep_id is not None or manager_id is not None:
        ids = reps.with_only_columns(User.id)
        per_rep = per_rep.where(Account.sales_rep_id.in_(ids))
        tasks = tasks.where(TouchpointRecord.assigned_to_id.in_(ids))
    per_rep, tasks = per_rep.subquery(), tasks.subquery()
    counts = {
        name: func.coalesce(column, 0)
        for name, column in (
            ("overdue", per_rep.c.overdue),
            ("due_today", per_rep.c.due_today),
            ("next_7_days", per_rep.c.next_7_days),
            ("open_tasks", tasks.c.open_tasks),
            ("unassigned", per_rep.c.unassigned),
        )
    }
    query = (
        reps.add_columns(*(c.label(name) for name, c in counts.items()))
        .outerjoin(per_rep, per_rep.c.rep_id == User.id)
        .outerjoin(tasks, tasks.c.rep_id == User.id)
    )
    order = User.name if sort == "name" else counts[sort].desc()
    rows = db.session.execute(query.order_by(order, User.name)).all()
    return [(row.User, {name: row._mapping[name] for name in counts}) for row in rows]
