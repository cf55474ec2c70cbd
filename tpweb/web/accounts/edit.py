"""Creating and editing customers, jobsites and contacts; setting accounts inactive and back."""

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import update

from tpweb.domain import geocode
from tpweb.domain.accounts import assignable_reps
from tpweb.domain.scope import account_or_404, contact_or_404
from tpweb.extensions import db
from tpweb.models import Account, Contact, Touchpoint
from tpweb.web.access import manager_required
from tpweb.web.accounts import KINDS, bp
from tpweb.web.accounts.forms import AccountForm, ContactForm, LocationForm, NotesForm
from tpweb.web.pages import render
from tpweb.web.writes import write

FORM = "customers/form.html"


def account_url(account):
    return url_for(".show", kind=account.kind, account_id=account.id)


def save_account(account, form, customer=None):
    """Render `form` for `account`, or copy it onto the account and go to the account's page."""
    context = {
        "account": account,
        "form": form,
        "customer": customer or account.customer,
        "find_from_address": geocode.enabled(current_app.config),
    }
    if request.method == "GET":
        return render(FORM, "form", **context)
    if not form.validate():
        return render(FORM, "form", 422, **context)
    for name, field in form._fields.items():
        if name != "csrf_token":
            setattr(account, name, field.data)
    if isinstance(form, AccountForm):
        account.sales_rep_id = form.sales_rep_id.data or None
    db.session.add(account)
    db.session.flush()
    return redirect(account_url(account), 303)


def account_form(account=None):
    reps = assignable_reps()
    if account is not None and account.sales_rep and account.sales_rep not in reps:
        # Saved before the rule (rules.SALES_REP): the account keeps its rep until changed.
        reps = [account.sales_rep, *reps]
    form = AccountForm(obj=account, reps=reps)
    if request.method == "GET" and account is not None:
        form.sales_rep_id.data = account.sales_rep_id or 0
    return form


@bp.route("/customers/new", methods=["GET", "POST"])
@manager_required
@write
def new_customer():
    """A new customer (managers and admins)."""
    return save_account(Account(kind="customer"), account_form())


@bp.route("/customers/<int:customer_id>/jobsites/new", methods=["GET", "POST"])
@manager_required
@write
def new_jobsite(customer_id):
    """A new jobsite under a customer (managers and admins)."""
    customer = account_or_404(current_user, customer_id, "customer", change=True)
    form = account_form()
    if request.method == "GET":
        form.city.data = customer.city
        form.sales_rep_id.data = customer.sales_rep_id or 0
    return save_account(Account(kind="jobsite", customer_id=customer.id), form, customer)


@bp.route("/customers/<int:account_id>/edit", methods=["GET", "POST"], defaults=KINDS["customer"])
@bp.route("/jobsites/<int:account_id>/edit", methods=["GET", "POST"], defaults=KINDS["jobsite"])
@write
def edit_account(account_id, kind):
    """Edit an account: everything for a manager, the notes for the account's own rep."""
    account = account_or_404(current_user, account_id, kind, change=True)
    if current_user.is_manager:
        return save_account(account, account_form(account))
    return save_account(account, NotesForm(obj=account))


NOT_FOUND = "Address not found: check it, or type the location or tap the map."
UNAVAILABLE = "The geocoder is unavailable: type the location or tap the map."


@bp.post("/accounts/locate")
@manager_required
def locate():
    """Find from address: the form's Location fieldset, filled from its address and city."""
    if not geocode.enabled(current_app.config):
        abort(404)
    form = LocationForm()
    try:
        text = geocode.query(request.form.get("address"), request.form.get("city"))
    except ValueError as error:
        return location(form, str(error), 422)
    try:
        latitude, longitude, place = geocode.locate(geocode.for_app(current_app), text)
    except geocode.NotFound:
        return location(form, NOT_FOUND, 422)
    except (geocode.Unavailable, geocode.Misconfigured) as error:
        current_app.logger.warning("Find from address failed: %s", error)
        return location(form, UNAVAILABLE, 503)
    # What was typed there is replaced, so the fields show the numbers found.
    for field, value in ((form.latitude, latitude), (form.longitude, longitude)):
        field.data, field.raw_data = value, None
    found = f"Found {place[:200]}." if place else "Found."
    return location(form, f"{found} Check the pin, and move it if it is off.")


def location(form, note, status=200):
    failed = status >= 400
    context = {"form": form, "location_note": note, "location_failed": failed}
    return render_block(FORM, "location", find_from_address=True, **context), status


@bp.post("/customers/<int:account_id>/status", defaults=KINDS["customer"])
@bp.post("/jobsites/<int:account_id>/status", defaults=KINDS["jobsite"])
@manager_required
@write
def set_status(account_id, kind):
    """Set an account inactive (with its jobsites and touchpoints) or active again."""
    account = account_or_404(current_user, account_id, kind, change=True)
    if request.form.get("active") not in ("0", "1"):
        abort(400, "active must be 0 or 1.")
    active = request.form["active"] == "1"
    accounts = [account] if account.is_jobsite or active else [account, *account.jobsites]
    for each in accounts:
        each.active = active
    if not active:
        # An inactive account keeps its touchpoint, inactive, so reactivating loses no history.
        db.session.execute(
            update(Touchpoint)
            .where(Touchpoint.account_id.in_([a.id for a in accounts]), ~Touchpoint.inactive)
            .values(inactive=True, version=Touchpoint.version + 1)
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    return redirect(account_url(account), 303)


def contact_form(contact, customer):
    form = ContactForm(obj=contact)
    context = {"contact": contact, "customer": customer, "form": form}
    if request.method == "GET":
        return render("customers/contact_form.html", "form", **context)
    if not form.validate():
        return render("customers/contact_form.html", "form", 422, **context)
    form.populate_obj(contact)
    db.session.add(contact)
    db.session.flush()
    return redirect(url_for("contacts.show", contact_id=contact.id), 303)


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
@write
def new_contact(customer_id):
    """A new contact at a customer the user may change (its own rep, or a manager)."""
    customer = account_or_404(current_user, customer_id, "customer", change=True)
    return contact_form(Contact(customer_id=customer.id), customer)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@write
def edit_contact(contact_id):
    """Edit a contact, or mark one who left as inactive: its customer's rep, or a manager."""
    contact = contact_or_404(current_user, contact_id, change=True)
    return contact_form(contact, contact.customer)
