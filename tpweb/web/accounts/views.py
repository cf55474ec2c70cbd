"""Customer and jobsite pages: the summary panel, Add Touchpoint and the Touchpoints tab."""

from flask import current_app, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from tpweb.domain.accounts import assignable_reps, customer_count, customer_page
from tpweb.domain.contacts import history
from tpweb.domain.history import account_history
from tpweb.domain.schedule import next_call
from tpweb.domain.scope import account_or_404, may_change
from tpweb.extensions import db
from tpweb.models import Touchpoint
from tpweb.web.accounts import KINDS, bp
from tpweb.web.pages import choice_arg, int_arg, render, set_today, user_today
from tpweb.web.touchpoints.forms import TouchpointForm
from tpweb.web.writes import write


def may_add_touchpoint(account, active):
    """Add Touchpoint is offered once a sales rep is assigned, and only until one is active."""
    return (
        account.sales_rep_id is not None
        and account.active
        and active is None
        and may_change(current_user, account)
    )


TOUCHPOINT_FILTERS = ("with", "without")


@bp.get("/customers")
def index():
    """Customers: search by name, address, city or contact; filter by rep, touchpoint, status."""
    filters = {
        "text": request.args.get("q", "").strip()[:100],
        "touchpoint": choice_arg("touchpoint", TOUCHPOINT_FILTERS),
        "active": choice_arg("status", ("active", "inactive"), "active") == "active",
        # ?rep=0 asks for customers with no sales rep.
        "rep_id": int_arg("rep", low=0) if current_user.is_manager else None,
    }
    page = int_arg("page", 1, high=10_000)
    rows, more = customer_page(
        current_user, page=page, size=current_app.config["PAGE_SIZE"], **filters
    )
    context = {
        "rows": rows,
        "more": more,
        "next_url": url_for(".index", **{**request.args.to_dict(), "page": page + 1}),
        "today": user_today(),
        "args": request.args,
    }
    if request.htmx and page > 1:
        return render_block("customers/index.html", "rows", **context)
    return render(
        "customers/index.html",
        "results",
        total=customer_count(current_user, **filters),
        reps=assignable_reps() if current_user.is_manager else [],
        **context,
    )


@bp.get("/customers/<int:account_id>", defaults=KINDS["customer"])
@bp.get("/jobsites/<int:account_id>", defaults=KINDS["jobsite"])
def show(account_id, kind):
    """A customer's or jobsite's page: open to the customer's family, its actions offered to
    whoever may change the account."""
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
        changes=account_history(db.session, account),
        can_add=may_add_touchpoint(account, active),
        can_change=may_change(current_user, account),
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
    account = account_or_404(current_user, account_id, kind, change=True)
    active = db.session.scalar(
        select(Touchpoint).where(Touchpoint.account_id == account.id, ~Touchpoint.inactive)
    )
    form = TouchpointForm()
    context = {"account": account, "form": form, "tp": None}
    if account.sales_rep_id is None:
        refusal = 422, "Assign a sales rep to this account before adding a touchpoint."
    elif not account.active:
        refusal = 409, "This account is inactive; reactivate it before adding a touchpoint."
    elif active is not None:
        refusal = 409, "This account already has an active touchpoint."
    else:
        refusal = None
    if refusal:
        form.form_errors.append(refusal[1])
        return render("touchpoints/form.html", "form", refusal[0], **context)
    if request.method == "GET":
        set_today(form.last_call, user_today())
        form.frequency_days.data = 30
        form.next_call.data = next_call(form.last_call.data, 30)
        return render("touchpoints/form.html", "form", **context)
    if not form.validate():
        return render("touchpoints/form.html", "form", 422, **context)
    tp = Touchpoint(account=account)
    form.apply_to(tp)
    tp.inactive = False
    db.session.add(tp)
    db.session.flush()
    if not request.htmx:
        return redirect(url_for(".show", account_id=account.id, kind=kind), 303)
    return render_block("touchpoints/show.html", "card", tp=tp, today=user_today(), actions=True)
