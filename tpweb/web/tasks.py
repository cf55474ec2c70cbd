"""My tasks: the signed-in user's open tasks and due touchpoints, and recording a response."""

from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tpweb.domain.contacts import OPEN
from tpweb.domain.scope import may_open_contact, openable_contact_of_row, record_or_404
from tpweb.domain.touchpoints import (
    LIMIT,
    TODAY,
    Card,
    Named,
    anyone,
    card_rows,
    prepared,
    rows,
)
from tpweb.extensions import db
from tpweb.models import Contact, Touchpoint, TouchpointRecord, User
from tpweb.web.caching import own_lists, revalidated
from tpweb.web.contacts.forms import ResponseForm
from tpweb.web.pages import int_arg, render, user_today
from tpweb.web.writes import write

bp = Blueprint("tasks", __name__)

# A user's own list comes in pages (PAGE_SIZE items); the last page bounds what a request reads.
MAX_PAGES = 10
TASK_COUNT = "tpweb.task_count"


Author = aliased(User, name="author")


class OpenTask(NamedTuple):
    """An open task as My tasks shows it (record_entry, templates/contacts/entries.html): a plain
    row shaped as the ORM's TouchpointRecord, as the touchpoints beside it are Cards."""

    id: int
    description: str
    details: str
    date_due: date
    date_completed: date
    response_required: bool
    responded_on: None
    response_note: str
    contact_id: int
    assigned_to_id: int
    contact: Named
    author: Named
    assigned_to: Named
    responded_by: None
    # Whether the user may open the contact's page: a task may be theirs on a contact they may
    # not otherwise see (scope.record_or_404), and its row then names the contact without a link.
    contact_openable: bool

    @property
    def is_open_task(self):
        return self.response_required and self.responded_on is None

    @classmethod
    def of(cls, row, assignee):
        """The OpenTask of an _open_tasks_page() row of `assignee`'s (columns added after its own
        left out)."""
        contact, author, openable = row[10:13]
        return cls(
            *row[:10], Named(contact), Named(author), Named(assignee.name), None, bool(openable)
        )


def my_open_records(user):
    """The open tasks assigned to `user`."""
    return select(TouchpointRecord).where(TouchpointRecord.assigned_to_id == user.id, OPEN)


def _my_due_touchpoints(user, today):
    return card_rows(user, rep_id=user.id).where(Touchpoint.next_call <= today)


def my_tasks(user, today, page=1, size=50):
    """One page of open tasks and due touchpoints, by due date, overdue first: (due date, kind,
    item) each, whether more follow, and how many there are in all.

    Each query reads its first page * size + 1 rows, in due order, with how many it has in all
    (a window count, so My tasks's count costs no statement of its own); merged, they give the
    page: the same statements whatever the size of the list.
    """
    end = page * size
    params = {"user_id": user.id, "today": today, "limit": end + 1}
    records = rows(
        prepared(("my_tasks", "records", user.is_manager), lambda: _open_tasks_page(anyone(user))),
        params,
    )
    touchpoints = rows(
        prepared(("my_tasks", "touchpoints", user.is_manager), lambda: _due_page(anyone(user))),
        params,
    )
    items = [(row.date_due, "task", OpenTask.of(row, user)) for row in records]
    items += [(row.next_call, "touchpoint", Card.of(row)) for row in touchpoints]
    items.sort(key=itemgetter(0, 1))
    # Neither query has an offset: a list with any row carries its count, past the last page too.
    total = (records[0][-1] if records else 0) + (touchpoints[0][-1] if touchpoints else 0)
    return items[end - size : end], len(items) > end, total


def _open_tasks_page(user):
    """The open tasks of `user` (the user bound as USER_ID), as the columns of OpenTask.of
    (whose assignee is that user), with their count."""
    return (
        my_open_records(user)
        .join(Contact, TouchpointRecord.contact_id == Contact.id)
        .join(Author, TouchpointRecord.author_id == Author.id)
        .with_only_columns(
            TouchpointRecord.id,
            TouchpointRecord.description,
            TouchpointRecord.details,
            TouchpointRecord.date_due,
            TouchpointRecord.date_completed,
            TouchpointRecord.response_required,
            TouchpointRecord.responded_on,
            TouchpointRecord.response_note,
            TouchpointRecord.contact_id,
            TouchpointRecord.assigned_to_id,
            Contact.name,
            Author.name,
            openable_contact_of_row(user),
            func.count().over(),
        )
        .order_by(TouchpointRecord.date_due, TouchpointRecord.id)
        .limit(LIMIT)
    )


def _due_page(user):
    return (
        _my_due_touchpoints(user, TODAY)
        .add_columns(func.count().over())
        .order_by(Touchpoint.next_call, Touchpoint.id)
        .limit(LIMIT)
    )


def task_count():
    """How many items wait in the signed-in user's My tasks; one query, once per request."""
    if TASK_COUNT not in request.environ:
        tasks = my_open_records(current_user).with_only_columns(func.count()).scalar_subquery()
        due = (
            _my_due_touchpoints(current_user, user_today())
            .with_only_columns(func.count(Touchpoint.id))
            .scalar_subquery()
        )
        request.environ[TASK_COUNT] = db.session.scalar(select(tasks + due))
    return request.environ[TASK_COUNT]


@bp.get("/tasks")
@revalidated(own_lists)
def index():
    """My tasks, a page at a time: Show more asks htmx for the next page's rows."""
    today = user_today()
    page = int_arg("page", 1, high=MAX_PAGES)
    items, more, total = my_tasks(
        current_user, today, page=page, size=current_app.config["PAGE_SIZE"]
    )
    request.environ[TASK_COUNT] = total  # the navigation's count, from the page's own queries
    # Runs of one kind: a run of touchpoints is one call of the cards macro, not one per card.
    runs = [(kind, [item for *_, item in run]) for kind, run in groupby(items, itemgetter(1))]
    context = {"runs": runs, "more": more, "page": page, "today": today}
    if request.htmx and page > 1:
        return render_block("tasks/index.html", "rows", **context)
    return render("tasks/index.html", "content", **context)


@bp.route("/tasks/<int:record_id>/response", methods=["GET", "POST"])
@write
def respond(record_id):
    """Record the response that closes a task: its date and a note."""
    record = record_or_404(current_user, record_id, change=True)
    today = user_today()
    form = ResponseForm(today=today)
    contact_link = may_open_contact(current_user, record.contact_id)
    context = {"record": record, "form": form, "today": today, "contact_link": contact_link}
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
        if contact_link:
            return redirect(url_for("contacts.show", contact_id=record.contact_id), 303)
        return redirect(url_for(".index"), 303)
    return render_block("contacts/entry.html", "entry", **context)
