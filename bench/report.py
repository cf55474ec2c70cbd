"""The results table: printed, and written into docs/benchmarks.md between its markers."""

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- bench:results -->", "<!-- /bench:results -->"


@dataclass
class Row:
    id: str
    what: str
    figure: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: a reference figure, with no target
    note: str = ""

    @property
    def verdict(self):
        return {True: "yes", False: "NO", None: "—"}[self.met]


COLUMNS = ("#", "what", "figure", "baseline (same run)", "ratio", "target", "met")


def order(name):
    """A benchmark's place in the table: B2 before B10."""
    number = re.match(r"B(\d+)", name)
    return (int(number.group(1)) if number else 0, name)


def _line_id(line):
    """The benchmark a line of the results is about: a table row's first cell, a note's first
    word ("- B10 what: note")."""
    if line.startswith("| "):
        return line.split("|")[1].strip()
    found = re.match(r"- (B\d+) ", line)
    return found.group(1) if found else ""


def cells(row):
    return (row.id, row.what, row.figure, row.baseline, row.ratio, row.target, row.verdict)


def text_table(rows):
    widths = [max(len(c), *(len(cells(r)[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))  # noqa: E731
    out = [line(COLUMNS), line(["-" * w for w in widths])]
    out += [line(cells(row)) for row in rows]
    return "\n".join(out)


def markdown_table(rows):
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |" for row in rows]
    notes = [f"- {row.id} {row.what}: {row.note}" for row in rows if row.note]
    return "\n".join(out + ([""] + notes if notes else []))


def machine(database, loader):
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = re.search(r"model name\s*:\s*(.+)", info).group(1).strip()
    except (OSError, AttributeError):
        pass
    if loader == "wrk":
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        loader = (version.split("[")[0].strip() or "wrk").split(" Copyright")[0]
    facts = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # Other work on the machine slows the figures and their baselines alike, not equally.
        "load average at the end (1, 5, 15 min)": ", ".join(f"{n:.1f}" for n in os.getloadavg()),
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "Python": platform.python_version(),
        "database": database,
        "load generator": loader,  # B1's; None when B1 did not run
        "system": f"{platform.system()} {platform.release()}",
    }
    return {name: value for name, value in facts.items() if value is not None}


def results_section(rows, facts, data, kept=None):
    """The section between the markers; `kept`: the previous section's lines for benchmarks not
    run this time ({"rows": [...], "notes": [...], "measured": ..., "data": ...})."""
    lines = [START, "", f"Measured {facts['date']}.", ""]
    lines += [f"- {name}: {value}" for name, value in facts.items() if name != "date"]
    lines += ["- data: " + (data or (kept or {}).get("data") or "B3's own (below)")]
    table = markdown_table(rows).split("\n")
    if kept and (kept["rows"] or kept["notes"]):
        when = {row.id: facts["date"] for row in rows}
        for line in kept["rows"]:
            name = _line_id(line)
            when[name] = kept["measured"].get(name, kept["measured"].get("*", "before"))
        by_date = {}
        for name in sorted(when, key=order):
            by_date.setdefault(when[name], []).append(name)
        lines += ["- measured (a partial run keeps the other benchmarks' rows): " + "; ".join(
            f"{', '.join(names)} on {date}" for date, names in by_date.items())]  # fmt: skip
        head = table[:2]
        mine = [line for line in table[2:] if line.startswith("| ")]
        notes = [line for line in table[2:] if line.startswith("- ")]
        by_id = lambda line: order(_line_id(line))  # noqa: E731
        table = head + sorted(kept["rows"] + mine, key=by_id)
        all_notes = sorted(kept["notes"] + notes, key=by_id)
        table += ([""] + all_notes) if all_notes else []
    lines += ["", *table, "", END]
    return "\n".join(lines)


def previous(section, only):
    """What a partial run keeps of the section it replaces: the other benchmarks' rows and notes,
    the date they were measured and the data they were measured on."""
    first = re.search(r"^Measured (.+)\.$", section, re.M)
    measured = {"*": first.group(1) if first else "before"}
    each = re.search(r"^- measured \(.*?\): (.+)$", section, re.M)
    for part in each.group(1).split("; ") if each else []:
        if " on " not in part:
            continue
        names, date = part.split(" on ", 1)
        measured.update((name, date) for name in names.split(", "))
    data = re.search(r"^- data: (.+)$", section, re.M)
    rows, notes = [], []
    for line in section.splitlines():
        if line.startswith("| B") and _line_id(line) not in only:
            rows.append(line)
        elif re.match(r"- B\d+ ", line) and _line_id(line) not in only:
            notes.append(line)
    return {
        "rows": rows,
        "notes": notes,
        "measured": measured,
        "data": data.group(1) if data else None,
    }


SKELETON = f"""# Benchmarks

`make bench` rebuilds this section.

{START}
{END}
"""


def write_docs(rows, facts, data, path=DOCS, only=None):
    """Replace the results between the markers of docs/benchmarks.md, keeping the prose around;
    a run of `only` some benchmarks keeps the other benchmarks' rows of the previous results."""
    text = path.read_text() if path.exists() else SKELETON
    if START not in text or END not in text:
        text += "\n" + SKELETON.split("\n", 3)[3]
    head, rest = text.split(START, 1)
    section, tail = rest.split(END, 1)
    kept = previous(section, only) if only else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + results_section(rows, facts, data, kept) + tail)
