"""Builders for test data, with defaults a test overrides only where it matters."""

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from tpweb.extensions import db
from tpweb.models import Account, CallLogType, Contact, Touchpoint, User
from tpweb.schedule import next_call

PASSWORD = "correct horse"
# Hashing is slow on purpose; tests share one hash.
PASSWORD_HASH = generate_password_hash(PASSWORD)
_serial = itertools.count(1)


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
