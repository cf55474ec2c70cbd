"""Call logs and touchpoint records read back from their exports: each good row matched by
external id to a saved one (a create, or nothing when it says the same), each bad row with its
reasons; then the good rows saved in bulk, in the caller's transaction.

Both are the accounts' history, so an import adds and never rewrites: a saved call log is never
changed, and a saved record only as the app itself changes one, answered once or handed to
another assignee (written in the history as the app's changes are).
"""

from sqlalchemy import select, update

from tpweb.domain import history
from tpweb.domain.csvio.importer import (
    BATCH,
    RECORDED,
    Plan,
    RowError,
    chunks,
    insert_returning_ids,
    parse_rows,
)
from tpweb.domain.history import EMPTY, TRACKED, plain
from tpweb.models import Account, CallLog, CallLogType, Contact, TouchpointRecord, User

MODELS = {"call log": CallLog, "touchpoint record": TouchpointRecord}
ATTRS = {
    "call log": (
        *("account_id", "user_id", "contact_id", "call_type_id", "called_on"),
        *("duration_minutes", "notes"),
    ),
    "touchpoint record": (
        *("contact_id", "author_id", "assigned_to_id", "description", "details"),
        *("response_required", "date_due", "date_completed", "responded_on", "responded_by_id"),
        "response_note",
    ),
}
# What a new one gets for a column its file leaves out (the rest are required).
DEFAULTS = {
    **dict.fromkeys(("notes", "details", "response_note"), ""),
    **dict.fromkeys(("contact_id", "date_due", "responded_on", "responded_by_id"), None),
    "duration_minutes": 0,
    "response_required": False,
}
# The file's column for each attribute named differently; a user is named by username.
COLUMN = {
    "account_id": "account_external_id",
    "contact_id": "contact_external_id",
    "call_type_id": "call_type",
    **{f"{c}_id": c for c in ("user", "author", "assigned_to", "responded_by")},
}
ANSWER = ("responded_on", "responded_by_id", "response_note")


def plan(session, sheet, progress) -> Plan:
    """Check every row of a call logs' or records' `sheet` against the database; nothing is
    written."""
    return _Planner(session, sheet.kind, progress).run(sheet)


class _Planner:
    def __init__(self, session, kind, progress):
        self.session = session
        self.kind = kind
        self.progress = progress
        self.plan = Plan(kinds=(kind,))

    def run(self, sheet):
        rows = parse_rows(sheet, self.progress)
        self.plan.rows = len(rows)
        first = {}
        for row in rows:
            line = first.setdefault(row.key, row.line) if row.key else row.line
            if line != row.line:
                row.reasons.append(f"duplicate external_id '{row.key}' (first on line {line})")
        good = [row for row in rows if not row.reasons]
        self._look_up(good)
        for row in good:
            attrs, owner = self._attrs(row)
            if not row.reasons:
                self._save(row, attrs, owner)
        self.plan.errors = [RowError(row.line, row.reasons) for row in rows if row.reasons]
        return self.plan

    def _look_up(self, rows):
        """What the rows name, by the file's names: only those, in a few queries."""

        def names(*columns):
            return sorted({row.values.get(c) for row in rows for c in columns} - {"", None})

        users = ("user", "author", "assigned_to", "responded_by")
        self.users = self._find(User.username, (User.id, User.active), names(*users))
        self.contacts = self._find(
            Contact.external_id, (Contact.id, Contact.customer_id), names("contact_external_id")
        )
        self.accounts = {}
        for kind in ("customer", "jobsite"):
            keys = {row.values.get("account_external_id") for row in rows if row.ref[0] == kind}
            found = self._find(
                Account.external_id,
                (Account.id, Account.customer_id),
                sorted(keys - {"", None}),
                Account.kind == kind,
            )
            self.accounts.update(((kind, key), ids) for key, ids in found.items())
        self.call_types = dict(self.session.execute(select(CallLogType.name, CallLogType.id)).all())
        model = MODELS[self.kind]
        columns = (model.id, *(getattr(model, a) for a in ATTRS[self.kind]))
        self.saved = self._find(model.external_id, columns, names("external_id"))

    def _find(self, key, columns, wanted, *where):
        found = {}
        for chunk in chunks(wanted):
            query = select(key.label("key"), *columns).where(key.in_(chunk), *where)
            found.update((r["key"], dict(r)) for r in self.session.execute(query).mappings())
        return found

    def _attrs(self, row):
        """The row's values as the model's, and the account whose history it goes in; a reason
        for each name nothing answers to."""
        values = row.values
        attrs = {
            a: values[COLUMN.get(a, a)] for a in ATTRS[self.kind] if COLUMN.get(a, a) in values
        }
        for attr in ("user_id", "author_id", "assigned_to_id", "responded_by_id"):
            if attrs.get(attr):
                user = self.users.get(attrs[attr])
                attrs[attr] = user and user["id"]
                if user is None:
                    row.reasons.append(f"{COLUMN[attr]}: unknown user '{values[COLUMN[attr]]}'")
            elif attr in attrs:
                attrs[attr] = None
        contact = self.contacts.get(values.get("contact_external_id"))
        if values.get("contact_external_id") and contact is None:
            row.reasons.append(f"unknown contact '{values['contact_external_id']}'")
        if "contact_id" in attrs:
            attrs["contact_id"] = contact and contact["id"]
        if self.kind == "call log":
            self._call_log(row, attrs, contact)
        return attrs, contact and contact["customer_id"]

    def _call_log(self, row, attrs, contact):
        account = self.accounts.get(row.ref)
        if account is None:
            row.reasons.append(f"unknown {row.ref[0]} '{row.ref[1]}'")
        else:
            attrs["account_id"] = account["id"]
            if contact and contact["customer_id"] not in (account["id"], account["customer_id"]):
                contact_key = row.values["contact_external_id"]
                row.reasons.append(f"contact '{contact_key}' is not at {row.ref[0]} '{row.ref[1]}'")
        name = row.values["call_type"]
        attrs["call_type_id"] = self.call_types.get(name)
        if attrs["call_type_id"] is None:
            known = ", ".join(sorted(self.call_types)) or "none yet: an admin adds them"
            row.reasons.append(f"unknown call type '{name}' (the call types are: {known})")

    def _save(self, row, attrs, owner):
        """Plan a create, an answer or reassignment of a saved record, or nothing; any other
        difference from what is saved is the row's error."""
        kind, tracked = self.kind, TRACKED.get(MODELS[self.kind], ("", ()))[1]
        current = self.saved.get(row.key)
        # The form's rule (rules.TASK_ASSIGNEE) for a new or handed-over task.
        assignee = row.values.get("assigned_to")
        handed = attrs.get("assigned_to_id") != (current or {}).get("assigned_to_id")
        if assignee and handed and not self.users[assignee]["active"]:
            row.reasons.append(
                f"assigned_to '{assignee}' is deactivated: a task goes to an active user"
            )
            return
        if current is None:
            values = {a: DEFAULTS.get(a) for a in ATTRS[kind]} | attrs | {"external_id": row.key}
            changes = {a: [None, plain(values[a])] for a in tracked if values[a] not in EMPTY}
            self.plan.inserts[kind].append((values, changes, owner))
            self.plan.created[kind] += 1
            return
        differ = [a for a, v in attrs.items() if current[a] != v]
        allowed = set()
        if kind == "touchpoint record":
            allowed = {"assigned_to_id", *(ANSWER if current["responded_on"] is None else ())}
        if refused := [COLUMN.get(a, a) for a in differ if a not in allowed]:
            row.reasons.append(
                f"{kind} '{row.key}' is saved already with other values in "
                f"{', '.join(refused)}: an import never rewrites a saved {kind}"
            )
        elif differ:
            values = {"id": current["id"], **{a: attrs[a] for a in differ}}
            changes = {a: [plain(current[a]), plain(attrs[a])] for a in differ if a in tracked}
            self.plan.updates[kind].append((values, changes, owner))
            self.plan.updated[kind] += 1
        else:
            self.plan.unchanged[kind] += 1


def apply(session, plan, progress, user_id):
    """Save the plan's good rows, and each new or changed record in the history, as `user_id`'s."""
    (kind,) = plan.kinds
    model = MODELS[kind]
    saved = []
    for batch in chunks(plan.updates[kind], BATCH):
        values = [v for v, _, _ in batch]
        session.execute(update(model), values, execution_options=RECORDED)
        saved += [(owner, v["id"], changes, False) for v, changes, owner in batch]
        progress(len(batch))
    for batch in chunks(plan.inserts[kind], BATCH):
        values = [dict(v) for v, _, _ in batch]  # the plan's own stay as planned
        insert_returning_ids(session, model, ("external_id",), values)
        saved += [(o, v["id"], c, True) for v, (_, c, o) in zip(values, batch, strict=True)]
        progress(len(batch))
    if model in TRACKED:  # a record is a task in the history; a call log is not in it
        history.write(session, TRACKED[model][0], saved, user_id)
