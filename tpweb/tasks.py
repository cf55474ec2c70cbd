"""My tasks: the signed-in user's open tasks and due touchpoints, and recording a response."""

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .caching import own_lists, revalidated
from .contacts.forms import ResponseForm
from .contacts.queries import OPEN
from .extensions import db
from .models import Contact, Touchpoint, TouchpointRecord
from .scope import record_or_404
from .touchpoints.queries import active_touchpoints
from .web import render, user_today, write

bp = Blueprint("tasks", __name__)

# A user's own list; the cap only guards against a runaway import.
MAX_ITEMS = 500


def _my_open_records(user):
    return select(TouchpointRecord).where(TouchpointRecord.assigned_to_id == user.id, OPEN)


def _my_due_touchpoints(user, today):
    return active_touchpoints(user, rep_id=user.id).where(Touchpoint.next_call <= today)


def my_tasks(user, today):
    """Open tasks and due touchpoints, by due date, overdue first: (due date, kind, item)."""
    records = db.session.scalars(
        _my_open_records(user)
        .options(
            joinedload(TouchpointRecord.contact).joinedload(Contact.customer),
            joinedload(TouchpointRecord.author),
            joinedload(TouchpointRecord.assigned_to),
        )
        .order_by(TouchpointRecord.date_due, TouchpointRecord.id)
        .limit(MAX_ITEMS)
    ).all()
    touchpoints = (
        db.session.scalars(
            _my_due_touchpoints(user, today).order_by(Touchpoint.next_call).limit(MAX_ITEMS)
        )
        .unique()
        .all()
    )
    items = [(r.date_due, "task", r) for r in records]
    items += [(tp.next_call, "touchpoint", tp) for tp in touchpoints]
    items.sort(key=lambda item: (item[0], item[1]))
    return items


def task_count():
    """How many items wait in the signed-in user's My tasks; one query, once per request."""
    if "tpweb.task_count" not in request.environ:
        tasks = _my_open_records(current_user).with_only_columns(func.count()).scalar_subquery()
        due = (
            _my_due_touchpoints(current_user, user_today())
            .with_only_columns(func.count(Touchpoint.id))
            .scalar_subquery()
        )
        request.environ["tpweb.task_count"] = db.session.scalar(select(tasks + due))
    return request.environ["tpweb.task_count"]


@bp.get("/tasks")
@revalidated(own_lists)
def index():
    """My tasks."""
    today = user_today()
    return render("tasks/index.html", "content", items=my_tasks(current_user, today), today=today)


@bp.route("/tasks/<int:record_id>/response", methods=["GET", "POST"])
@write
def respond(record_id):
    """Record the response that closes a task: its date and a note."""
    record = record_or_404(current_user, record_id)
    if record.assigned_to_id != current_user.id and not current_user.is_manager:
        abort(404)
    today = user_today()
    form = ResponseForm(today=today)
    context = {"record": record, "form": form, "today": today}
    if not record.is_open_task:
        form.form_errors.append("This task is already closed.")
        return render("tasks/response.html", "form", 409, **context)
    if request.method == "GET":
        form.responded_on.data = today
        return render("tasks/response.html", "form", **context)
    if not form.validate():
        return render("tasks/response.html", "form", 422, **context)
    record.responded_on = form.responded_on.data
    record.response_note = form.response_note.data
    record.responded_by_id = current_user.id
    db.session.flush()
    if not request.htmx:
        return redirect(url_for("contacts.show", contact_id=record.contact_id), 303)
    return render_block("contacts/entry.html", "entry", record=record, today=today)
