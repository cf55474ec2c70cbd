"""The CSV formats, and reading a file in one: decode it, check its header, type each row's cells.

Accounts: one row per record, a `kind` column saying which record, and the union of every kind's
columns; a row ignores the columns that are not its kind's. Call logs and touchpoint records:
a file of one kind, the form their exports have. Nothing here touches the database.
"""

import codecs
import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date

from tpweb.domain import rules
from tpweb.domain.rules import EARLIEST, LATEST
from tpweb.domain.schedule import next_call

KINDS = ("customer", "jobsite", "contact", "touchpoint")
ACCOUNT_KINDS = ("customer", "jobsite")
COLUMNS = (
    "kind",
    "external_id",
    "customer_external_id",
    "name",
    "title",
    "address",
    "city",
    "phone",
    "email",
    "notes",
    "latitude",
    "longitude",
    "sales_rep",
    "active",
    "account_kind",
    "account_external_id",
    "last_call",
    "frequency_days",
    "next_call",
    "comment",
    "inactive",
)
_ACCOUNT = ("name", "address", "city", "phone", "notes", "latitude", "longitude", "sales_rep")
# The call logs' and records' own files, with names beside the ids for a reader (`NAMES`).
CALL_LOG_COLUMNS = (
    *("external_id", "called_on", "account_kind", "account_external_id", "account_name", "user"),
    *("contact_external_id", "contact_name", "call_type", "duration_minutes", "notes"),
)
RECORD_COLUMNS = (
    *("external_id", "contact_external_id", "contact_name", "customer_external_id"),
    *("customer_name", "description", "details", "response_required", "date_due"),
    *("date_completed", "author", "assigned_to", "responded_on", "responded_by", "response_note"),
)
# A file's kind when it has no `kind` column: told by a column only that kind's file has.
FILE_KINDS = {"called_on": "call log", "date_completed": "touchpoint record"}
FILE_COLUMNS = {"call log": CALL_LOG_COLUMNS, "touchpoint record": RECORD_COLUMNS}
NAMES = ("account_name", "contact_name", "customer_external_id", "customer_name")
# Each kind's own columns; the rest of a row is ignored.
FIELDS = {
    "customer": ("external_id", *_ACCOUNT, "active"),
    "jobsite": ("external_id", "customer_external_id", *_ACCOUNT, "active"),
    "contact": (
        *("external_id", "customer_external_id", "name", "title", "email", "phone", "notes"),
        "active",
    ),
    "touchpoint": (
        *("account_kind", "account_external_id", "last_call", "frequency_days", "next_call"),
        *("comment", "inactive"),
    ),
    **{k: tuple(c for c in columns if c not in NAMES) for k, columns in FILE_COLUMNS.items()},
}
# Columns a kind's rows cannot do without: the header must have them, each such row a value.
REQUIRED = {
    "customer": ("external_id", "name"),
    "jobsite": ("external_id", "customer_external_id", "name"),
    "contact": ("external_id", "customer_external_id", "name"),
    "touchpoint": ("account_kind", "account_external_id", "last_call", "frequency_days"),
    "call log": (
        *("external_id", "called_on", "account_kind", "account_external_id", "user"),
        "call_type",
    ),
    "touchpoint record": (
        *("external_id", "contact_external_id", "description", "date_completed", "author"),
        "assigned_to",
    ),
}
# The longest text each column takes: its field's (rules.LENGTHS), a user's by username.
LENGTHS = {
    **dict.fromkeys(
        ("external_id", "customer_external_id", "account_external_id", "contact_external_id"),
        rules.LENGTHS["external_id"],
    ),
    **dict.fromkeys(
        ("sales_rep", "user", "author", "assigned_to", "responded_by"), rules.LENGTHS["username"]
    ),
    **{c: rules.LENGTHS[c] for c in ("name", "title", "address", "city", "phone", "email")},
    **{c: rules.LENGTHS[c] for c in ("notes", "comment", "call_type", "description", "details")},
    "response_note": rules.LENGTHS["response_note"],
}
BOUNDS = {"latitude": rules.LATITUDE, "longitude": rules.LONGITUDE}
# Each whole number's unit, bounds, and value when its cell is empty.
WHOLE = {
    "frequency_days": ("days", rules.FREQUENCY_DAYS, None),
    "duration_minutes": ("minutes", rules.DURATION_MINUTES, 0),
}
# Each flag's value when its cell is empty.
FLAGS = {"active": True, "inactive": False, "response_required": False}
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA = ("=", "+", "-", "@", "\t", "\r")


class FileError(ValueError):
    """The file as a whole cannot be imported: not CSV, or a header the format cannot read."""


class Invalid(ValueError):
    """One cell's value is not what its column takes."""


@dataclass
class Sheet:
    """A decoded file: its header's column names and each record's first line and cells."""

    columns: tuple[str, ...]
    records: list[tuple[int, list[str]]]
    # The kind of every record in a call logs' or records' file; None: a `kind` column says.
    kind: str | None = None


@dataclass
class Row:
    """One record, typed: only the columns the file has are in `values`."""

    line: int
    kind: str
    key: str
    values: dict = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def ref(self):
        """The account a touchpoint row is for, as (kind, external id)."""
        return self.values.get("account_kind", ""), self.values.get("account_external_id", "")


def escape_cell(text):
    """Text as an exported cell: a would-be formula gets a leading quote, undone on import."""
    if text.startswith(FORMULA) or (text[:1] == "'" and text[1:2].startswith((*FORMULA, "'"))):
        return "'" + text
    return text


def unescape_cell(text):
    if text[:1] == "'" and text[1:2] and text[1:2].startswith((*FORMULA, "'")):
        return text[1:]
    return text


def read(data: bytes) -> Sheet:
    """The file's header and records, or a FileError saying precisely why it cannot be read."""
    text = _decode(data)
    lines = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(lines, [])
        kind, columns = _columns(header)
        records, last = [], lines.line_num
        for cells in lines:
            # A record's line is where it starts: a quoted cell may run over several lines.
            start, last = last + 1, lines.line_num
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
    except csv.Error as error:
        raise FileError(f"line {lines.line_num}: this is not valid CSV ({error})") from None
    _check_kinds(columns, records, header, kind)
    return Sheet(columns, records, kind)


def _decode(data):
    if not data.strip():
        raise FileError("the file is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError("this is UTF-16 text, not a CSV file in UTF-8: save it as CSV UTF-8")
    if data.startswith(b"PK\x03\x04"):
        raise FileError("this is a workbook or a zip file, not CSV: save it as CSV UTF-8")
    if b"\x00" in data:
        raise FileError("this is not a CSV file: it holds binary data")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileError(
            f"this is not a CSV file in UTF-8: line {line} has bytes that are not UTF-8 text; "
            "save it as CSV UTF-8"
        ) from None


def _columns(header):
    columns = tuple(name.strip().lower() for name in header)
    shown = _show(",".join(header), 200)
    if len(header) == 1 and ";" in header[0]:
        raise FileError(f"columns must be separated by commas, not semicolons (line 1: {shown})")
    kind = None
    if "kind" not in columns:
        # A call logs' or records' file, told by a column of its own.
        kind = next((FILE_KINDS[c] for c in columns if c in FILE_KINDS), None)
        if kind is None:
            raise FileError(
                f"missing required column: kind (the header line is: {shown}); a call log "
                "export has called_on, a touchpoint record export date_completed"
            )
    known_columns = FILE_COLUMNS.get(kind, COLUMNS)
    for name in columns:
        # A column with no name is padding some spreadsheets add; its cells are ignored.
        if name and name not in known_columns:
            known = ", ".join(known_columns)
            raise FileError(f"unknown column: {_show(name)} (the columns are: {known})")
        if name and columns.count(name) > 1:
            raise FileError(f"the column {name} is in the header twice")
    if ("latitude" in columns) != ("longitude" in columns):
        raise FileError("latitude and longitude go together: give both columns or neither")
    return kind, columns


def _check_kinds(columns, records, header, file_kind):
    if file_kind:
        present = kinds = (file_kind,)
    else:
        at = columns.index("kind")
        present = {cells[at].strip().lower() for _, cells in records if len(cells) > at}
        kinds = KINDS
    for kind in kinds:
        missing = [c for c in REQUIRED[kind] if c not in columns]
        if kind in present and missing:
            raise FileError(
                f"missing required column: {missing[0]} ({kind} rows need it; "
                f"the header line is: {_show(','.join(header), 200)})"
            )


def parse(line, cells, columns, kind=None) -> Row:
    """One record's typed values, with every reason it cannot be imported; `kind` for a file of
    one kind (a Sheet's), else the row's `kind` cell says."""
    if len(cells) != len(columns):
        return Row(line, "", "", reasons=[f"{len(cells)} cells, the header has {len(columns)}"])
    raw = dict(zip(columns, cells, strict=True))
    if kind is None:
        kind = raw["kind"].strip().lower()
        if kind not in KINDS:
            reason = f"kind '{_show(raw['kind'])}' is not one of {', '.join(KINDS)}"
            return Row(line, kind, "", reasons=[reason])
    row = Row(line, kind, "")
    for column in FIELDS[kind]:
        if column in raw:
            try:
                row.values[column] = CONVERT.get(column, _text)(column, raw[column])
            except Invalid as error:
                row.reasons.append(str(error))
    row.reasons += [
        f"{column} is required"
        for column in REQUIRED[kind]
        if column in row.values and row.values[column] in ("", None)
    ]
    row.key = row.values.get("external_id", "")
    CHECKS.get(kind, _location)(row)
    return row


def _location(row):
    """Both coordinates or neither: half a location would put a pin nowhere."""
    both = "latitude" in row.values and "longitude" in row.values
    if both and (row.values["latitude"] is None) != (row.values["longitude"] is None):
        row.reasons.append("give both latitude and longitude, or neither")


def _schedule(row):
    """Next Call defaults to Last Call + Frequency, and is never before Last Call."""
    last, days, nxt = (row.values.get(c) for c in ("last_call", "frequency_days", "next_call"))
    if last is None or days is None:
        return
    if nxt is None:
        if problem := rules.next_call_problem(last, days):
            row.reasons.append(f"next_call is empty, and {problem}")
        else:
            row.values["next_call"] = next_call(last, days)
    elif nxt < last:
        row.reasons.append(f"next_call {nxt} is before last_call {last}")


def _happened(row, *columns):
    """As the forms: a call or a response is not dated in the future."""
    latest = rules.latest_today()
    for column in columns:
        if (day := row.values.get(column)) and day > latest:
            row.reasons.append(f"{column} {day} is in the future")


def _response(row):
    """As the database: a record that needs a response has a date due."""
    if row.values.get("response_required") and row.values.get("date_due") is None:
        row.reasons.append("date_due is required when response_required is yes")
    # As the form that records a response: an answer says what it was.
    if row.values.get("responded_on") and not row.values.get("response_note"):
        row.reasons.append("response_note is required when responded_on is given")
    _happened(row, "responded_on")


def _show(text, limit=40):
    """A cell's text as quoted in a reason: cut short, since a reason is one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(column, raw):
    value = unescape_cell(raw.strip())
    if len(value) > LENGTHS[column]:
        raise Invalid(f"{column} is {len(value)} characters long, more than {LENGTHS[column]}")
    return value


def _email(column, raw):
    value = _text(column, raw)
    if value and not rules.EMAIL.fullmatch(value):
        raise Invalid(f"email '{_show(value)}' is not an email address")
    return value


def _phone(column, raw):
    value = _text(column, raw)
    if not rules.PHONE.fullmatch(value):
        raise Invalid(f"phone '{_show(value)}' may hold only digits, spaces and + ( ) - . x /")
    return value


def _coordinate(column, raw):
    raw = raw.strip()
    if not raw:
        return None
    if not DECIMAL.fullmatch(raw) or not math.isfinite(float(raw)):
        raise Invalid(f"{column} '{_show(raw)}' is not a number")
    low, high = BOUNDS[column]
    if not low <= float(raw) <= high:
        raise Invalid(f"{column} {raw} is outside {low}..{high}")
    return float(raw)


def _date(column, raw):
    raw = raw.strip()
    if not raw:
        return None
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{column} '{_show(raw)}' is not a date (YYYY-MM-DD)") from None
    if not EARLIEST <= day <= LATEST:
        raise Invalid(f"{column} {raw} is outside {EARLIEST:%Y}..{LATEST:%Y}")
    return day


def _whole(column, raw):
    raw = raw.strip()
    unit, (low, high), empty = WHOLE[column]
    if not raw:
        return empty
    if not raw.isascii() or not raw.isdigit():
        raise Invalid(f"{column} '{_show(raw)}' is not a whole number of {unit}")
    digits = raw.lstrip("0") or "0"
    # The length first: out of range, and past 4,300 digits int() fails.
    if len(digits) > len(str(high)) or not low <= int(digits) <= high:
        raise Invalid(f"{column} {_show(digits)} is outside {low}..{high}")
    return int(digits)


def _flag(column, raw):
    word = raw.strip().lower()
    if not word:
        return FLAGS[column]
    if word in YES or word in NO:
        return word in YES
    raise Invalid(f"{column} '{_show(raw)}' is not yes or no")


def _account_kind(column, raw):
    word = raw.strip().lower()
    if word and word not in ACCOUNT_KINDS:
        raise Invalid(f"{column} '{_show(raw)}' is not customer or jobsite")
    return word


# Checks across a row's cells, by kind: the accounts' is its location.
CHECKS = {
    "touchpoint": _schedule,
    "call log": lambda row: _happened(row, "called_on"),
    "touchpoint record": _response,
}
CONVERT = {
    **dict.fromkeys(("called_on", "date_due", "date_completed", "responded_on"), _date),
    **dict.fromkeys(WHOLE, _whole),
    "response_required": _flag,
    "email": _email,
    "phone": _phone,
    "latitude": _coordinate,
    "longitude": _coordinate,
    "last_call": _date,
    "next_call": _date,
    "active": _flag,
    "inactive": _flag,
    "account_kind": _account_kind,
}
