"""Customer and jobsite pages: the summary panel, Add Touchpoint and the Touchpoints tab."""

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .contacts.queries import history
from .extensions import db
from .models import Touchpoint
from .schedule import next_call
from .scope import account_or_404
from .touchpoints.forms import TouchpointForm
from .touchpoints.views import apply
from .web import render, user_today, write

bp = Blueprint("accounts", __name__)

KINDS = {"customer": {"kind": "customer"}, "jobsite": {"kind": "jobsite"}}


def may_add_touchpoint(account, active):
    """Add Touchpoint is offered once a sales rep is assigned, and only until one is active."""
    return (
        account.sales_rep_id is not None
        and active is None
        and (current_user.is_manager or account.sales_rep_id == current_user.id)
    )


@bp.get("/customers/<int:account_id>", defaults=KINDS["customer"])
@bp.get("/jobsites/<int:account_id>", defaults=KINDS["jobsite"])
def show(account_id, kind):
    """A customer's or jobsite's page."""
    account = account_or_404(current_user, account_id, kind)
    touchpoints = db.session.scalars(
        select(Touchpoint)
        .where(Touchpoint.account_id == account.id)
        .order_by(Touchpoint.inactive, Touchpoint.created_at.desc())
    ).all()
    active = next((tp for tp in touchpoints if not tp.inactive), None)
    if account.is_jobsite:
        entries = history(account_ids=[account.id])
    else:
        entries = history(
            contact_ids=[contact.id for contact in account.contacts],
            account_ids=[account.id, *(jobsite.id for jobsite in account.jobsites)],
        )
    return render(
        "accounts/show.html",
        "content",
        account=account,
        active=active,
        touchpoints=touchpoints,
        entries=entries,
        can_add=may_add_touchpoint(account, active),
        today=user_today(),
    )


@bp.route(
    "/customers/<int:account_id>/touchpoints/new",
    methods=["GET", "POST"],
    defaults=KINDS["customer"],
)
@bp.route(
    "/jobsites/<int:account_id>/touchpoints/new", methods=["GET", "POST"], defaults=KINDS["jobsite"]
)
@write
def add_touchpoint(account_id, kind):
    """Add Touchpoint: Last Call, Frequency, Next Call and Comment for an account with a rep."""
    account = account_or_404(current_user, account_id, kind)
    if not current_user.is_manager and account.sales_rep_id != current_user.id:
        abort(404)
    active = db.session.scalar(
        select(Touchpoint).where(Touchpoint.account_id == account.id, ~Touchpoint.inactive)
    )
    form = TouchpointForm()
    context = {"account": account, "form": form, "tp": None}
    if request.method == "GET":
        form.last_call.data = user_today()
        form.frequency_days.data = 30
        form.next_call.data = next_call(form.last_call.data, 30)
        return render("touchpoints/form.html", "form", **context)
    if account.sales_rep_id is None:
        form.form_errors.append("Assign a sales rep to this account before adding a touchpoint.")
        return render("touchpoints/form.html", "form", 422, **context)
    if active is not None:
        form.form_errors.append("This account already has an active touchpoint.")
        return render("touchpoints/form.html", "form", 409, **context)
    if not form.validate():
        return render("touchpoints/form.html", "form", 422, **context)
    tp = Touchpoint(account=account)
    apply(form, tp)
    tp.inactive = False
    db.session.add(tp)
    db.session.flush()
    if not request.htmx:
        return redirect(url_for(".show", account_id=account.id, kind=kind), 303)
    return render_block("touchpoints/show.html", "card", tp=tp, today=user_today())
