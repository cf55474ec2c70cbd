"""What an import does, then doing it: each good row matched by external id to what is saved
(a create, an update, or nothing when it already says the same), each bad row with its reasons;
then the good rows saved in bulk, in the caller's transaction.

A touchpoint has no external id of its own: an active row is its account's active touchpoint
(at most one), an inactive row one of its account's past touchpoints with the same dates and
comment.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.exc import StaleDataError

from tpweb.domain import history, rules
from tpweb.domain.csvio.sheet import KINDS, parse
from tpweb.domain.history import EMPTY, TRACKED, plain
from tpweb.models import Account, Contact, Touchpoint, User, utcnow

# Enough keys per IN (...) to stay under every driver's parameter limit.
CHUNK = 500
# Every statement here writes the history of what it saves itself, from the plan's changes.
RECORDED = {history.HOW: history.RECORDED}
# Rows per INSERT or UPDATE batch, and so per step of a progress bar.
BATCH = 1000

_ACCOUNT = ("name", "address", "city", "phone", "notes", "latitude", "longitude", "sales_rep_id")
ATTRS = {
    "customer": (*_ACCOUNT, "active"),
    "jobsite": (*_ACCOUNT, "active", "customer_id"),
    "contact": ("name", "title", "email", "phone", "notes", "active", "customer_id"),
    "touchpoint": ("last_call", "frequency_days", "next_call", "comment", "inactive", "account_id"),
}
MODELS = {"customer": Account, "jobsite": Account, "contact": Contact, "touchpoint": Touchpoint}
# What a new record gets for a column its file leaves out.
DEFAULTS = {
    **dict.fromkeys(("address", "city", "phone", "notes", "title", "email", "comment"), ""),
    **dict.fromkeys(("latitude", "longitude", "sales_rep_id", "customer_id"), None),
    "active": True,
    "inactive": False,
}
# The file's column for each attribute that is named differently.
RENAMED = {"sales_rep": "sales_rep_id", "customer_external_id": "customer_id"}
SCHEDULE = ("last_call", "frequency_days", "next_call", "comment")
ACCOUNT = ("customer", "jobsite")
# What tells a new record from the others saved by the same INSERT.
IDENTITY = dict.fromkeys(("customer", "jobsite", "contact"), ("external_id",))
IDENTITY["touchpoint"] = ("account_id", *SCHEDULE, "inactive")
# The column holding the account whose history a kind's change goes in; an account's own: "id".
OWNER = {"contact": "customer_id", "touchpoint": "account_id"}


class Ref(NamedTuple):
    """An account by kind and external id: one the same import creates has no id until saved."""

    kind: str
    key: str


@dataclass
class RowError:
    line: int
    reasons: list[str]

    def __str__(self):
        return f"line {self.line}: {'; '.join(self.reasons)}"


@dataclass
class Plan:
    """How many records of each kind an import creates, updates and leaves alone; its bad rows."""

    # The kinds the file may hold: an accounts file's, or the one of a call logs' or records' file.
    kinds: tuple = KINDS
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    # Per kind: the values to insert or update, each with its changes for the history.
    inserts: dict = field(default_factory=lambda: defaultdict(list))
    updates: dict = field(default_factory=lambda: defaultdict(list))
    # Saved accounts the file names, by Ref; apply adds the ones it creates.
    ids: dict = field(default_factory=dict)

    @property
    def changes(self):
        return self.created.total() + self.updated.total()

    def summary(self):
        return [(k, self.created[k], self.updated[k], self.unchanged[k]) for k in self.kinds]


def plan(session, sheet, progress) -> Plan:
    """Check every row of an accounts `sheet` against the database; nothing is written."""
    return _Planner(session, progress).run(sheet)


def report_lines(plan, done):
    """The import's report as lines of text, for the command line."""
    verbs = ("created", "updated") if done else ("to create", "to update")
    yield f"{plan.rows} rows read."
    for kind, created, updated, unchanged in plan.summary():
        yield f"  {kind}: {created} {verbs[0]}, {updated} {verbs[1]}, {unchanged} unchanged"
    if plan.errors:
        yield f"{len(plan.errors)} bad row{'s' if len(plan.errors) != 1 else ''}, not imported:"
        yield from (f"  {error}" for error in plan.errors)


def parse_rows(sheet, progress):
    """Every record of `sheet` typed and checked, a step of `progress` per BATCH of them."""
    rows = []
    for n, (line, cells) in enumerate(sheet.records, 1):
        rows.append(parse(line, cells, sheet.columns, sheet.kind))
        if n % BATCH == 0 or n == len(sheet.records):
            progress(n % BATCH or BATCH)
    return rows


class _Planner:
    def __init__(self, session, progress):
        self.session = session
        self.progress = progress
        self.plan = Plan()
        # Rows with errors, so the rows that need them are refused too, saying why.
        self.bad = {}
        self.new = set()

    def run(self, sheet):
        rows = parse_rows(sheet, self.progress)
        self.plan.rows = len(rows)
        self._refuse_duplicates(rows)
        by_kind = defaultdict(list)
        for row in rows:
            by_kind[row.kind].append(row)
        reps = self._reps(by_kind)
        saved = self._saved(by_kind)
        for kind in ("customer", "jobsite", "contact"):
            for row in by_kind[kind]:
                self._record(row, saved[kind], reps)
        self._touchpoints(by_kind["touchpoint"])
        for row in rows:
            if row.reasons:
                self.plan.errors.append(RowError(row.line, row.reasons))
        return self.plan

    def _refuse_duplicates(self, rows):
        first = {}
        for row in rows:
            if row.kind in ("customer", "jobsite", "contact") and row.key:
                line = first.setdefault((row.kind, row.key), row.line)
                if line != row.line:
                    row.reasons.append(
                        f"duplicate {row.kind} external_id '{row.key}' (first on line {line})"
                    )

    def _reps(self, by_kind):
        names = {r.values.get("sales_rep") for k in ("customer", "jobsite") for r in by_kind[k]}
        names.discard(None)
        names.discard("")
        found = {}
        for chunk in chunks(sorted(names)):
            users = self.session.scalars(select(User).where(User.username.in_(chunk)))
            found.update((user.username, user) for user in users)
        return found

    def _saved(self, by_kind):
        """The saved records the file names, by external id: only those, only what is compared."""
        keys = {kind: {row.key for row in by_kind[kind]} for kind in ("customer", "jobsite")}
        keys["contact"] = {row.key for row in by_kind["contact"]}
        for kind in ("jobsite", "contact"):
            keys["customer"] |= {row.values.get("customer_external_id") for row in by_kind[kind]}
        for row in by_kind["touchpoint"]:
            if row.ref[0] in keys:
                keys[row.ref[0]].add(row.ref[1])
        saved = {}
        for kind, wanted in keys.items():
            model = MODELS[kind]
            columns = [getattr(model, a) for a in ("id", "external_id", *ATTRS[kind])]
            query = select(*columns)
            if model is Account:
                query = query.where(Account.kind == kind)
            saved[kind] = {}
            for chunk in chunks(sorted(wanted - {"", None})):
                found = self.session.execute(query.where(model.external_id.in_(chunk)))
                saved[kind].update((r["external_id"], dict(r)) for r in found.mappings())
        for kind in ("customer", "jobsite"):
            self.plan.ids.update((Ref(kind, key), r["id"]) for key, r in saved[kind].items())
        return saved

    def _record(self, row, saved, reps):
        attrs = {RENAMED.get(c, c): v for c, v in row.values.items() if c != "external_id"}
        if attrs.get("sales_rep_id"):
            rep = reps.get(row.values["sales_rep"])
            attrs["sales_rep_id"] = rep and rep.id
            current = saved.get(row.key, {}).get("sales_rep_id")
            if rep is None:
                row.reasons.append(f"unknown sales rep '{row.values['sales_rep']}'")
            elif rep.id != current and not rules.is_sales_rep(rep):
                # The form's rule; an account keeps the rep it has (an export imports back).
                row.reasons.append(
                    f"sales rep '{rep.username}' is {rules.not_a_sales_rep(rep)}: an account's "
                    "sales rep is an active user with the sales rep role"
                )
        elif "sales_rep_id" in attrs:
            attrs["sales_rep_id"] = None
        if attrs.get("customer_id"):
            attrs["customer_id"] = self._account(row, Ref("customer", attrs["customer_id"]))
        if row.reasons:
            self.bad.setdefault(Ref(row.kind, row.key), row.line)
            return
        if row.kind != "contact":
            attrs["kind"] = row.kind
        self._save(row.kind, attrs, saved.get(row.key), external_id=row.key)
        if row.kind != "contact" and row.key not in saved:
            self.new.add(Ref(row.kind, row.key))

    def _account(self, row, ref):
        """The id (or, if this file creates it, the Ref) of the account a row needs."""
        if ref in self.plan.ids or ref in self.new:
            return self.plan.ids.get(ref, ref)
        if ref in self.bad:
            line = self.bad[ref]
            row.reasons.append(f"{ref.kind} '{ref.key}' is not imported: line {line} is bad")
        else:
            row.reasons.append(f"unknown {ref.kind} '{ref.key}'")
        return None

    def _save(self, kind, attrs, current, **new):
        """Plan a create, an update of what differs, or nothing."""
        tracked = TRACKED[MODELS[kind]][1]
        if current is None:
            values = {a: DEFAULTS.get(a) for a in ATTRS[kind]} | attrs | new
            changes = {a: [None, plain(values[a])] for a in tracked if values[a] not in EMPTY}
            self.plan.inserts[kind].append((values, changes))
            self.plan.created[kind] += 1
        elif any(current[a] != v for a, v in attrs.items() if a in current):
            keep = {a: current[a] for a in ("id", *ATTRS[kind], "version") if a in current}
            values = keep | {a: attrs[a] for a in ATTRS[kind] if a in attrs}
            changes = {
                a: [plain(current[a]), plain(values[a])] for a in tracked if current[a] != values[a]
            }
            self.plan.updates[kind].append((values, changes))
            self.plan.updated[kind] += 1
        else:
            self.plan.unchanged[kind] += 1

    def _touchpoints(self, rows):
        for row in rows:
            if not row.reasons:
                row.values["account_id"] = self._account(row, Ref(*row.ref))
        good = [row for row in rows if not row.reasons]
        if not good:
            return
        # Past touchpoints are told apart by their schedule: the columns this file has of it.
        alike = [a for a in SCHEDULE if a in good[0].values]
        saved = self._saved_touchpoints({r.values["account_id"] for r in good})
        active = {tp["account_id"]: tp for tp in saved if not tp["inactive"]}
        past = defaultdict(Counter)
        for tp in saved:
            if tp["inactive"]:
                past[tp["account_id"]][tuple(tp[a] for a in alike)] += 1
        # An account's active touchpoint is the file's active row for it, and only one.
        claimed = {}
        for row in good:
            if not row.values.get("inactive"):
                first = claimed.setdefault(row.ref, row.line)
                if first != row.line:
                    kind, key = row.ref
                    row.reasons.append(
                        f"a second active touchpoint for {kind} '{key}' (first on line {first})"
                    )
        for row in good:
            if row.reasons:
                continue
            attrs = {a: row.values[a] for a in ATTRS["touchpoint"] if a in row.values}
            attrs["inactive"] = row.values.get("inactive", False)
            current = active.get(attrs["account_id"])
            if attrs["inactive"]:
                pool = past[attrs["account_id"]]
                content = tuple(attrs[a] for a in alike)
                if pool[content] > 0:
                    # The same past touchpoint as one saved: nothing to do.
                    pool[content] -= 1
                    self.plan.unchanged["touchpoint"] += 1
                    continue
                # A row that ends the active touchpoint of its date, unless the file keeps
                # that one active; otherwise a past touchpoint the database does not have.
                same_day = current and current["last_call"] == attrs["last_call"]
                if same_day and row.ref not in claimed:
                    del active[attrs["account_id"]]
                else:
                    current = None
            self._save("touchpoint", attrs, current)

    def _saved_touchpoints(self, account_ids):
        ids = sorted(i for i in account_ids if isinstance(i, int))
        columns = [getattr(Touchpoint, a) for a in ("id", "version", *ATTRS["touchpoint"])]
        found = []
        for chunk in chunks(ids):
            query = select(*columns).where(Touchpoint.account_id.in_(chunk))
            found += [dict(r) for r in self.session.execute(query).mappings()]
        return found


def apply(session, plan, progress, user_id):
    """Save the plan's good rows, parents first so that the rows needing them find their ids,
    and each change to an account, contact or touchpoint in the history, as `user_id`'s."""
    ids = dict(plan.ids)
    saved = []
    for kind in ("customer", "jobsite", "contact", "touchpoint"):
        model = MODELS[kind]
        # Updates first: a touchpoint set inactive makes room for its account's new active one.
        for batch in chunks(plan.updates[kind], BATCH):
            values = [_resolved(v, ids) for v, _ in batch]
            if kind == "touchpoint":
                _update_touchpoints(session, values)
            else:
                session.execute(update(model), values, execution_options=RECORDED)
            saved += [(v, c, False) for v, (_, c) in zip(values, batch, strict=True)]
            progress(len(batch))
        for batch in chunks(plan.inserts[kind], BATCH):
            values = [_resolved(v, ids) for v, _ in batch]
            insert_returning_ids(session, model, IDENTITY[kind], values)
            saved += [(v, c, True) for v, (_, c) in zip(values, batch, strict=True)]
            if kind in ACCOUNT:
                ids.update((Ref(kind, v["external_id"]), v["id"]) for v in values)
            progress(len(batch))
        owner = OWNER.get(kind, "id")
        changes = [(v[owner], v["id"], c, new) for v, c, new in saved]
        history.write(session, TRACKED[MODELS[kind]][0], changes, user_id)
        saved.clear()


def _update_touchpoints(session, values):
    """One UPDATE for many touchpoints, each only at the version the plan read, as the ORM checks
    one by one: a touchpoint changed meanwhile fails the import rather than being overwritten."""
    table = Touchpoint.__table__
    query = update(table).where(
        table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version")
    )
    now = utcnow()
    params = [
        {a: v[a] for a in ATTRS["touchpoint"]}
        | {"b_id": v["id"], "b_version": v["version"], "version": v["version"] + 1}
        | {"updated_at": now}
        for v in values
    ]
    if session.execute(query, params, execution_options=RECORDED).rowcount != len(params):
        raise StaleDataError("a touchpoint changed while the file was imported: import it again")


def insert_returning_ids(session, model, key, values):
    """Insert in one statement per page, and put each new row's id in its values."""
    # RETURNING is not in VALUES order everywhere (SQLite), so rows are matched by what they
    # hold, the `key` columns: an external id, or a touchpoint's all (two alike are
    # interchangeable).
    # Core's INSERT, not the ORM's bulk one: the ORM adds nothing here but CPU time per row.
    query = insert(model.__table__).returning(model.id, *(getattr(model, a) for a in key))
    found = defaultdict(list)
    for id_, *saved in session.execute(query, values, execution_options=RECORDED):
        found[tuple(saved)].append(id_)
    for v in values:
        v["id"] = found[tuple(v[a] for a in key)].pop()


def _resolved(values, ids):
    return {a: ids[v] if isinstance(v, Ref) else v for a, v in values.items()}


def chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]
