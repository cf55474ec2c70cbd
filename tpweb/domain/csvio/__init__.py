"""CSV in and out: customers, jobsites, contacts and touchpoints, one format both ways; call logs
and touchpoint records each in their own, also both ways.

`read` turns a file into checked rows (or a FileError), `plan` matches them to what is saved,
`apply` saves the good rows; `export_lines` streams each format back out. No Flask here: plain
functions over a session.
"""

from tpweb.domain.csvio import importer, logs
from tpweb.domain.csvio.export import EXPORTS, assign_external_ids, export_lines
from tpweb.domain.csvio.importer import Plan, RowError, report_lines
from tpweb.domain.csvio.sheet import (
    COLUMNS,
    FIELDS,
    FILE_KINDS,
    KINDS,
    REQUIRED,
    FileError,
    Sheet,
    read,
)


def plan(session, sheet, progress=None) -> Plan:
    """Check every row of `sheet` against the database; nothing is written. `progress(steps)`
    hears of each step done."""
    return (logs if sheet.kind else importer).plan(session, sheet, progress or _ignore)


def apply(session, plan, progress=None, user_id=None):
    """Save the plan's good rows, and each change in the history, as `user_id`'s."""
    module = importer if plan.kinds == KINDS else logs
    module.apply(session, plan, progress or _ignore, user_id)


def _ignore(steps):
    pass


__all__ = [
    "COLUMNS",
    "EXPORTS",
    "FIELDS",
    "FILE_KINDS",
    "KINDS",
    "REQUIRED",
    "FileError",
    "Plan",
    "RowError",
    "Sheet",
    "apply",
    "assign_external_ids",
    "export_lines",
    "plan",
    "read",
    "report_lines",
]
