"""Customers, jobsites and their contacts: pages, the customer list, create and edit."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

# One view answers /customers/... and /jobsites/...; the rule says which kind of account.
KINDS = {"customer": {"kind": "customer"}, "jobsite": {"kind": "jobsite"}}

from tpweb.web.accounts import edit, views  # noqa: E402,F401  (routes register themselves on bp)
