"""Builders for test data, with defaults a test overrides only where it matters."""

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from tpweb.domain.history import HOW, NOT_A_CHANGE
from tpweb.domain.schedule import next_call
from tpweb.extensions import db
from tpweb.models import Account, CallLogType, Contact, Touchpoint, User

PASSWORD = "correct horse"
# Hashing is slow on purpose (scrypt, N=32768: a tenth to a third of a second a sign-in); the
# tests' users share one hash made with N=1024, so each of the suite's thousands of sign-ins
# checks it in a millisecond. The app's own hashing (set_password, the unknown user's) is unchanged.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
_serial = itertools.count(1)
# The mark a test's bulk statement needs to write test data straight to a table the history
# watches (accounts, touchpoints, contacts, tasks), with no History rows.
TEST_DATA = {HOW: NOT_A_CHANGE}


class Builder:
    def user(self, role="rep", **fields):
        n = next(_serial)
        fields.setdefault("username", f"{role}{n}")
        fields.setdefault("name", f"{role.title()} Number{n}")
        fields.setdefault("timezone", "America/Chicago")
        user = User(role=role, password_hash=PASSWORD_HASH, **fields)
        return self._save(user)

    def rep(self, **fields):
        return self.user("rep", **fields)

    def manager(self, **fields):
        return self.user("manager", **fields)

    def customer(self, rep=None, **fields):
        fields.setdefault("name", f"Customer {next(_serial)}")
        return self._save(Account(kind="customer", sales_rep=rep, **fields))

    def jobsite(self, customer, rep=None, **fields):
        fields.setdefault("name", f"Jobsite {next(_serial)}")
        return self._save(Account(kind="jobsite", customer=customer, sales_rep=rep, **fields))

    def contact(self, customer, **fields):
        fields.setdefault("name", f"Contact {next(_serial)}")
        return self._save(Contact(customer=customer, **fields))

    def touchpoint(self, account, last_call=date(2026, 11, 1), frequency_days=30, **fields):
        fields.setdefault("next_call", next_call(last_call, frequency_days))
        return self._save(
            Touchpoint(
                account=account, last_call=last_call, frequency_days=frequency_days, **fields
            )
        )

    def call_type(self, name="Phone", position=0):
        return self._save(CallLogType(name=name, position=position))

    def _save(self, obj):
        db.session.add(obj)
        db.session.commit()
        return obj

    def record(self, contact, author, assigned_to=None, response_required=False, **fields):
        """A touchpoint record on `contact`; with `response_required`, a task due in a week."""
        from datetime import timedelta

        from tpweb.models import TouchpointRecord

        fields.setdefault("description", f"Record {next(_serial)}")
        fields.setdefault("date_completed", date(2026, 11, 1))
        if response_required:
            fields.setdefault("date_due", fields["date_completed"] + timedelta(days=7))
        return self._save(
            TouchpointRecord(
                contact=contact,
                author=author,
                assigned_to=assigned_to or author,
                response_required=response_required,
                **fields,
            )
        )

    def call_log(self, account, user, call_type, called_on=date(2026, 11, 1), **fields):
        """A call log at `account` by `user`; `contact=` names the contact spoken to."""
        from tpweb.models import CallLog

        fields.setdefault("duration_minutes", 15)
        return self._save(
            CallLog(account=account, user=user, call_type=call_type, called_on=called_on, **fields)
        )
