"""CSV in and out: customers, jobsites, contacts and touchpoints, one format both ways.

`read` turns a file into checked rows (or a FileError), `plan` matches them to what is saved,
`apply` saves the good rows; `export_lines` streams the same format back out, and call logs and
touchpoint records in their own. No Flask here: plain functions over a session.
"""

from .export import EXPORTS, assign_external_ids, export_lines
from .importer import Plan, RowError, apply, plan, report_lines
from .sheet import COLUMNS, FIELDS, KINDS, REQUIRED, FileError, Sheet, read

__all__ = [
    "COLUMNS",
    "EXPORTS",
    "FIELDS",
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
