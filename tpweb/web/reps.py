"""Managers: the team overview, a Sales Rep page, and moving accounts from one rep to another."""

import json

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from sqlalchemy import Integer, String, and_, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from tpweb.domain.scope import rep_or_404, sales_reps
from tpweb.domain.search import contains
from tpweb.domain.team import SORTS, team_overview
from tpweb.extensions import db
from tpweb.models import Account, Contact, TouchpointRecord, User
from tpweb.web.access import manager_required
from tpweb.web.pages import choice_arg, int_arg, render, user_today, whole_number
from tpweb.web.team import team_context
from tpweb.web.widget import widget_context
from tpweb.web.writes import write

bp = Blueprint("reps", __name__, url_prefix="/reps")

MAX_SELECTED = 10_000
STALE = "Some selected accounts are not this rep's any more; reload."


def _accounts_of(rep_id, text=""):
    """The conditions that pick a rep's active accounts, optionally matching `text`."""
    conditions = [Account.sales_rep_id == rep_id, Account.active]
    if text:
        conditions.append(contains(text, Account.name, Account.city))
    return and_(*conditions)


@bp.get("")
@manager_required
def index():
    """The reps with overdue, due today, next 7 days, open tasks and unassigned counts."""
    sort = choice_arg("sort", SORTS, "overdue")
    return render("reps/index.html", "team", **team_context(user_today(), sort))


@bp.get("/<int:rep_id>")
@manager_required
def show(rep_id):
    """A Sales Rep page: their touchpoints, accounts and open tasks, all changeable in place."""
    return rep_page(rep_or_404(rep_id))


def rep_page(rep, status=200, problem=None):
    """The Sales Rep page of `rep`, as the request asks for it (filter, page, tab); `problem`:
    why a move was refused, shown in the move's own bar."""
    today = user_today()
    text = request.args.get("q", "").strip()[:100]
    page = int_arg("page", 1, high=10_000)
    size = current_app.config["PAGE_SIZE"]
    matching = select(Account).where(_accounts_of(rep.id, text))
    accounts = db.session.scalars(
        matching.order_by(Account.name, Account.id).limit(size).offset((page - 1) * size)
    ).all()
    tasks = db.session.scalars(
        select(TouchpointRecord)
        .where(TouchpointRecord.assigned_to_id == rep.id, TouchpointRecord.is_open_task)
        .order_by(TouchpointRecord.date_due)
        .limit(200)
    ).all()
    return render(
        "reps/show.html",
        "content",
        status,
        rep=rep,
        rep_counts=(team_overview(today, rep_id=rep.id) or [(rep, {})])[0][1],
        accounts=accounts,
        matching=db.session.scalar(matching.with_only_columns(func.count())),
        q=text,
        tasks=tasks,
        others=_move_targets(rep),
        problem=problem,
        **widget_context(rep.id),
    )


def _move_targets(rep):
    """Who `rep`'s accounts can go to, as (group label, [(id, name)]): their manager's other reps
    first, then every other rep (ids and names only: a company may have thousands)."""
    rows = db.session.execute(
        sales_reps()
        .with_only_columns(User.id, User.name, User.manager_id)
        .where(User.id != rep.id)
        .order_by(User.name, User.id)
    ).all()
    mates, others = [], []
    for row in rows:
        mate = rep.manager_id is not None and row.manager_id == rep.manager_id
        (mates if mate else others).append((row.id, row.name))
    groups = [(f"{rep.manager.name}’s team", mates)] if mates else []
    return groups + ([("Other reps", others)] if others else [])


def _selected_ids():
    ids = [whole_number(value) for value in request.form.getlist("account_ids")]
    if len(ids) > MAX_SELECTED or None in ids:
        abort(400, "account_ids must be account numbers.")
    return set(ids)


def _one_of(column, ids):
    """`column IN ids` with the ids as one parameter, however many: on PostgreSQL an array
    (unnest), on SQLite a JSON array read by json_each. A thousand ids were a thousand
    parameters bound, sent (and on PostgreSQL planned) in each of the move's statements. The
    array goes as its text, cast by the database (psycopg wrote a list of 1,000 numbers out one
    by one in Python, for each statement), and unnested: `= ANY` of the cast made a move of
    1,000 accounts take 100 ms instead of 45 on the benchmark's freshly loaded data (B5)."""
    ids = sorted(ids)
    if db.session.get_bind().dialect.name == "postgresql":
        text = "{" + ",".join(map(str, ids)) + "}"  # the array's literal: {1,2,3}
        listed = cast(bindparam("ids", text, type_=String, unique=True), ARRAY(Integer))
        return column.in_(select(func.unnest(listed)))
    listed = func.json_each(bindparam("ids", json.dumps(ids), unique=True))
    return column.in_(select(listed.table_valued("value").c.value))


@bp.post("/<int:rep_id>/reassign")
@manager_required
@write
def reassign(rep_id):
    """Move the selected accounts (or every account matching the filter) to another rep.

    Their touchpoints follow, being the accounts'; their open tasks follow if asked. A fixed
    number of statements whatever the number of accounts.
    """
    rep = rep_or_404(rep_id)
    target_id = whole_number(request.form.get("to_rep_id", ""))
    target = None
    if target_id is not None:
        target = db.session.scalar(sales_reps().where(User.id == target_id))
    problem, status = None, 422
    if target is None:
        problem = "Choose the rep who takes these accounts over."
    elif target.id == rep.id:
        problem = "Choose a different rep."
    reviewing = request.form.get("review") == "1"
    ids = None  # every account matching the filter
    if request.form.get("all_matching") == "1":
        chosen = _accounts_of(rep.id, request.form.get("q", "").strip()[:100])
    else:
        ids = _selected_ids()
        chosen = and_(_one_of(Account.id, ids), _accounts_of(rep.id))
        if not ids:
            problem = problem or "Select the accounts to move."
        elif problem is None and reviewing and _count(chosen) != len(ids):
            # Moved by someone else since the page was shown (a move finds it by its own count,
            # below: one statement fewer).
            problem, status = STALE, 409
    # A boosted form would show /reps/<id>/reassign in the address bar: keep the rep's page.
    stay = {"HX-Push-Url": "false"}
    if problem:
        body, status = rep_page(rep, status, problem)
        return body, status, stay
    if reviewing:
        # The page's form asks first: how many accounts go to whom, moving nothing yet.
        return (*review(rep, target, chosen), stay)
    moved = select(Account.id).where(chosen)
    if request.form.get("move_tasks") == "y":
        tasks = (
            select(TouchpointRecord.id)
            .join(TouchpointRecord.contact)
            .where(
                TouchpointRecord.assigned_to_id == rep.id,
                TouchpointRecord.is_open_task,
                Contact.customer_id.in_(moved),
            )
        )
        # Both UPDATEs are in the history: the session records each row they change.
        db.session.execute(
            update(TouchpointRecord)
            .where(TouchpointRecord.id.in_(tasks))
            .values(assigned_to_id=target.id)
            .execution_options(synchronize_session=False)
        )
    result = db.session.execute(
        update(Account)
        .where(chosen)
        .values(sales_rep_id=target.id)
        .execution_options(synchronize_session=False)
    )
    moved_count = result.rowcount
    if ids is not None and moved_count != len(ids):
        # Some moved by someone else since the page was shown: a conflict, not a bad form; none
        # of this move is kept (the write rolls back a 409 too, and the page shows the rep now).
        db.session.rollback()
        body, status = rep_page(rep, 409, STALE)
        return body, status, stay
    plural = "" if moved_count == 1 else "s"
    flash(f"Moved {moved_count} account{plural} from {rep.name} to {target.name}.", "info")
    return redirect(url_for(".show", rep_id=rep.id), 303)


def _count(chosen):
    return db.session.scalar(select(func.count(Account.id)).where(chosen))


def review(rep, target, chosen):
    """The confirmation of a move: how many accounts, the first of their names, from whom to
    whom; its form posts the same choice again, without `review`, to move them."""
    count = _count(chosen)
    names = db.session.scalars(
        select(Account.name).where(chosen).order_by(Account.name, Account.id).limit(REVIEW_NAMES)
    ).all()
    kept = [(k, v) for k, v in request.form.items(multi=True) if k in REVIEW_FIELDS]
    return render(
        "reps/confirm.html",
        "content",
        rep=rep,
        target=target,
        count=count,
        names=names,
        fields=kept,
        move_tasks=request.form.get("move_tasks") == "y",
    )


REVIEW_NAMES = 8
REVIEW_FIELDS = ("account_ids", "to_rep_id", "move_tasks", "all_matching", "q")


@bp.post("/<int:rep_id>/deactivate")
@manager_required
@write
def deactivate(rep_id):
    """Deactivate a rep once every account is handed over; their sessions end at once."""
    rep = rep_or_404(rep_id)
    # Inactive accounts too: whoever reactivates one must find a rep on it.
    remaining = db.session.scalar(
        select(func.count(Account.id)).where(Account.sales_rep_id == rep.id)
    )
    if remaining:
        abort(409, f"{rep.name} still has {remaining} account(s): move every one of them first.")
    rep.active = False
    rep.session_version += 1
    flash(f"{rep.name} is deactivated.", "info")
    return redirect(url_for(".index"), 303)
