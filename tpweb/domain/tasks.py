"""My tasks: a user's open tasks and due touchpoints, merged by due date, a page at a time."""

from datetime import date
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tpweb.domain.scope import openable_contact_of_row
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

# A user's own list comes in pages (PAGE_SIZE items); the last page bounds what a request reads.
MAX_PAGES = 10

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

    # Every row of My tasks' query is an open task (TouchpointRecord.is_open_task).
    is_open_task = True

    @classmethod
    def of(cls, row, assignee):
        """The OpenTask of an _open_tasks_page() row of `assignee`'s (a Named), read by label."""
        m = row._mapping
        return cls(
            *(m[name] for name in RECORD_COLUMNS),
            contact=Named(m["contact_name"]),
            author=Named(m["author_name"]),
            assigned_to=assignee,
            responded_by=None,
            contact_openable=bool(m["contact_openable"]),
        )


# The columns of an OpenTask that are the record's own, as _open_tasks_page names them.
RECORD_COLUMNS = OpenTask._fields[:10]


def my_open_records(user):
    """The open tasks assigned to `user`."""
    return select(TouchpointRecord).where(
        TouchpointRecord.assigned_to_id == user.id, TouchpointRecord.is_open_task
    )


def my_due_touchpoints(user, today):
    """The active touchpoints of `user`'s own accounts due by `today`."""
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
    items = [(row.date_due, "task", row) for row in records]
    items += [(row.next_call, "touchpoint", row) for row in touchpoints]
    items.sort(key=itemgetter(0, 1))
    # Only the page's rows become OpenTasks and Cards: the rows before it and the one after it
    # are read to place and to count the page, not shown.
    assignee = Named(user.name)
    shown = [
        (day, kind, OpenTask.of(row, assignee) if kind == "task" else Card.of(row))
        for day, kind, row in items[end - size : end]
    ]
    # Neither query has an offset: a list with any row carries its count, past the last page too.
    total = (records[0].total if records else 0) + (touchpoints[0].total if touchpoints else 0)
    return shown, len(items) > end, total


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
            Contact.name.label("contact_name"),
            Author.name.label("author_name"),
            openable_contact_of_row(user).label("contact_openable"),
            func.count().over().label("total"),
        )
        .order_by(TouchpointRecord.date_due, TouchpointRecord.id)
        .limit(LIMIT)
    )


def _due_page(user):
    return (
        my_due_touchpoints(user, TODAY)
        .add_columns(func.count().over().label("total"))
        .order_by(Touchpoint.next_call, Touchpoint.id)
        .limit(LIMIT)
    )


def task_total(user, today):
    """How many items wait in `user`'s My tasks (open tasks and due touchpoints), in one query."""
    tasks = my_open_records(user).with_only_columns(func.count()).scalar_subquery()
    due = my_due_touchpoints(user, today).with_only_columns(func.count(Touchpoint.id))
    return db.session.scalar(select(tasks + due.scalar_subquery()))
