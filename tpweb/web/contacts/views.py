"""Contact maintenance, a contact's page with its Touchpoints tab, and Create Touchpoint."""

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from tpweb.domain.contacts import (
    assignees,
    contact_counts,
    contact_page,
    history,
    open_tasks_of,
)
from tpweb.domain.scope import contact_or_404, may_change
from tpweb.extensions import db
from tpweb.models import TouchpointRecord
from tpweb.web.contacts import bp
from tpweb.web.contacts.forms import RecordForm
from tpweb.web.pages import changed, day_words, int_arg, render, set_today, user_today
from tpweb.web.writes import write

MAX_SEARCH = 100


@bp.get("/contacts")
def index():
    """Contact maintenance: search by name, customer, email or phone; Response Required filter."""
    text = request.args.get("q", "").strip()[:MAX_SEARCH]
    response_required = request.args.get("response_required") == "1"
    page = int_arg("page", 1, high=10_000)
    rows, more = contact_page(
        current_user,
        text=text,
        response_required=response_required,
        page=page,
        size=current_app.config["PAGE_SIZE"],
    )
    context = {
        "rows": rows,
        "more": more,
        "page": page,
        "q": text,
        "response_required": response_required,
        "today": user_today(),
    }
    if request.htmx and page > 1:
        return render_block("contacts/index.html", "rows", **context)
    counts = contact_counts(current_user, text=text)
    return render("contacts/index.html", "results", counts=counts, **context)


@bp.get("/contacts/<int:contact_id>")
def show(contact_id):
    """A contact, their open tasks and their Touchpoints tab: records and calls, newest first."""
    contact = contact_or_404(current_user, contact_id)
    return render("contacts/show.html", "content", **show_context(contact))


def show_context(contact):
    """What a contact's page shows."""
    return {
        "contact": contact,
        "entries": history(contact_ids=[contact.id]),
        "open_tasks": open_tasks_of(contact.id),
        "today": user_today(),
        "can_change": may_change(current_user, contact),
    }


def contact_page_again(contact, message):
    """The htmx answer to a change made on a contact's page: the page's content drawn again (its
    open tasks, their count, its Activity), the address kept the contact's own."""
    url = url_for("contacts.show", contact_id=contact.id)
    body = render_block("contacts/show.html", "content", **show_context(contact))
    return changed(
        body,
        message,
        headers={"HX-Retarget": "#main", "HX-Reswap": "innerHTML", "HX-Replace-Url": url},
    )


def created_message(record):
    """What the status line says once an activity is logged."""
    if record.is_open_task:
        return (
            f"Activity logged. Task for {record.assigned_to.name}, "
            f"due {day_words(record.date_due)}."
        )
    return "Activity logged."


@bp.route("/contacts/<int:contact_id>/touchpoints", methods=["GET", "POST"])
@write
def create_record(contact_id):
    """Create Touchpoint on a contact: what happened, and whether it needs a follow-up response.
    Open to whoever may open the contact, its customer's family too: a record changes nothing
    of the contact's."""
    contact = contact_or_404(current_user, contact_id)
    today = user_today()
    form = RecordForm(assignees=assignees(current_user))
    context = {"contact": contact, "form": form, "today": today}
    if request.method == "GET":
        set_today(form.date_completed, today)
        form.assigned_to.data = current_user.id
        return render("contacts/record_form.html", "form", **context)
    if not form.validate():
        return render("contacts/record_form.html", "form", 422, **context)
    record = TouchpointRecord(
        contact=contact,
        author_id=current_user.id,
        assigned_to_id=form.assigned_to.data,
        description=form.description.data,
        details=form.details.data,
        response_required=form.response_required.data,
        # A date due means something only for a record that awaits a response.
        date_due=form.date_due.data if form.response_required.data else None,
        date_completed=form.date_completed.data,
    )
    db.session.add(record)
    db.session.flush()
    if not request.htmx:
        flash(created_message(record), "info")
        return redirect(url_for(".show", contact_id=contact.id), 303)
    return contact_page_again(contact, created_message(record))
