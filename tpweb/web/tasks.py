"""My tasks: the signed-in user's open tasks and due touchpoints, and recording a response."""

from itertools import groupby
from operator import itemgetter
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from wtforms import TextAreaField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from tpweb.domain.contacts import open_tasks_of
from tpweb.domain.scope import may_open_contact, record_or_404
from tpweb.domain.tasks import MAX_PAGES, my_tasks
from tpweb.extensions import db
from tpweb.web import pages
from tpweb.web.caching import own_lists, revalidated
from tpweb.web.forms import DayField, longest, strip
from tpweb.web.pages import changed, int_arg, render, set_today, user_today
from tpweb.web.writes import write

bp = Blueprint("tasks", __name__)


class ResponseForm(FlaskForm):
    responded_on = DayField("Date of the response", validators=[InputRequired("Enter a date.")])
    response_note = TextAreaField(
        "Response",
        filters=[strip],
        validators=[DataRequired("Say what the response was."), longest("response_note")],
    )

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def validate_responded_on(self, field):
        if field.data and self.today and field.data > self.today:
            raise ValidationError("A response cannot be dated in the future.")


@bp.get("/tasks")
@revalidated(own_lists)
def index():
    """My tasks, a page at a time: Show more asks htmx for the next page's rows."""
    today = user_today()
    page = int_arg("page", 1, high=MAX_PAGES)
    items, more, total = my_tasks(
        current_user, today, page=page, size=current_app.config["PAGE_SIZE"]
    )
    request.environ[pages.TASK_COUNT] = total  # the navigation's count, from the page's own queries
    # Runs of one kind: a run of touchpoints is one call of the cards macro, not one per card.
    runs = [(kind, [item for *_, item in run]) for kind, run in groupby(items, itemgetter(1))]
    context = {"runs": runs, "more": more, "page": page, "today": today}
    if request.htmx and page > 1:
        return render_block("tasks/index.html", "rows", **context)
    return render("tasks/index.html", "content", **context)


@bp.get("/tasks/count")
def count():
    """How many items wait in My tasks: the counts on a page other than the navigation's ask for
    it again after a change (pages.CHANGED)."""
    return str(pages.task_count())


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
        set_today(form.responded_on, today)
        return render("tasks/response.html", "form", **context)
    if not form.validate():
        return render("tasks/response.html", "form", 422, **context)
    record.responded_on = form.responded_on.data
    record.response_note = form.response_note.data
    record.responded_by_id = current_user.id
    db.session.flush()
    message = f"Response recorded: “{record.description}” is closed."
    if not request.htmx:
        flash(message, "info")
        if contact_link:
            return redirect(url_for("contacts.show", contact_id=record.contact_id), 303)
        return redirect(url_for(".index"), 303)
    body = render_block("contacts/entry.html", "entry", **context)
    if _on_page(url_for("contacts.show", contact_id=record.contact_id)):
        # The contact's summary counts its open tasks: one fewer now.
        body += render_block(
            "contacts/show.html",
            "summary",
            contact=record.contact,
            open_tasks=open_tasks_of(record.contact_id),
            oob=True,
        )
    return changed(body, message)


def _on_page(url):
    """Whether the htmx request came from the page at `url`."""
    return urlsplit(request.headers.get("HX-Current-URL", "")).path == url
