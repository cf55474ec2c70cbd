"""mutmut's results (mutants/) as docs/testing.md's table: per module, mutants, killed, survived,
timeout, kill rate, then each survivor with its change and its fate.

Run from the project root after `mutmut run` (`make mutants` does both). The survivors' fates are
the bullets written by hand under "Equivalent mutants" in docs/testing.md: a survivor named there
is explained; any other is listed as unexplained, to be killed by a test or explained.

After a run of some modules only (`mutmut run 'tpweb.domain.csvio*'`), a module mutmut has not run
keeps its row and its survivors from the table docs/testing.md has, their fates read again.
"""

import json
import re
import sys
import tomllib
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

DOC = Path("docs/testing.md")
BEGIN, END = "<!-- mutants:begin -->", "<!-- mutants:end -->"
# mutmut's exit codes (mutmut.stats.status_by_exit_code), as the table groups them.
KILLED = {1, 3}
SURVIVED = {0}
TIMEOUT = {24, -24, 36, 152, 255}
NO_TESTS = {5, 33}
NOT_RUN = {None}


def modules():
    """The mutated modules, as `only_mutate` in pyproject.toml names them, in that order."""
    config = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]
    files = sorted(Path("tpweb").rglob("*.py"))
    found = []
    for pattern in config["only_mutate"]:
        found += [str(f) for f in files if fnmatch(str(f), pattern) and str(f) not in found]
    return found


def results(module):
    """{mutant name: exit code} of `module`, or {} when mutmut has not run it."""
    meta = Path("mutants") / (module + ".meta")
    if not meta.exists():
        return {}
    return json.loads(meta.read_text())["exit_code_by_key"]


def status(code):
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in TIMEOUT:
        return "timeout"
    if code in NO_TESTS:
        return "no tests"
    if code in NOT_RUN:
        return "not run"
    return "other"


def change(name, module):
    """The mutant's changed lines, one `-`/`+` pair, from mutmut's own diff."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    try:
        diff = get_diff_for_mutant(name, path=module)
    except Exception as error:  # a stale name after the source changed: say so, don't stop
        return f"(no diff: {error})"
    lines = [
        line.strip()
        for line in diff.splitlines()
        if line[:1] in "-+" and not line.startswith(("---", "+++"))
    ]
    return " / ".join(f"`{line[0]} {line[1:].strip()}`" for line in lines)


def explained():
    """The mutant names the hand-written "Equivalent mutants" bullets explain."""
    if not DOC.exists():
        return set()
    text = DOC.read_text()
    section = text.split("## Equivalent mutants", 1)[-1] if "## Equivalent mutants" in text else ""
    return set(re.findall(r"`(tpweb\.[\w.ǁ]+__mutmut_\d+)`", section))


def earlier():
    """The table docs/testing.md has now: {module: (its row, its survivors' rows)}."""
    text = DOC.read_text() if DOC.exists() else ""
    lines = text.split(BEGIN, 1)[-1].split(END, 1)[0].splitlines() if BEGIN in text else []
    rows = {}
    for line in lines:
        if line.startswith("| tpweb/"):
            rows[line.split("|")[1].strip()] = (line, [])
        # A change may hold a "|" itself; a fate does not.
        elif survivor := re.fullmatch(r"\| `(tpweb\.[^`]+)` \| (.*) \| ([^|]*) \|", line):
            name, diff, its_fate = survivor.groups()
            for module, (_, survivors) in rows.items():
                if re.match(re.escape(dotted(module)) + r"\.x[_ǁ]", name):
                    survivors.append((name, diff, its_fate))
    return rows


def dotted(module):
    """A module's path as its mutants' names start: tpweb/domain/scope.py, tpweb.domain.scope."""
    return module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def fate(name, state, explanations):
    text = "explained below" if name in explanations else "**unexplained**"
    return text if state == "survived" else f"{state}; {text}"


def table():
    explanations = explained()
    kept = earlier()
    rows = [
        "| module | mutants | killed | survived | timeout | no tests | kill rate |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    survivors = []
    totals = Counter()
    for module in modules():
        found = results(module)
        counts = Counter(status(code) for code in found.values())
        if not found or counts["not run"] == len(found):
            if module not in kept or "not run yet" in kept[module][0]:
                rows.append(f"| {module} | not run yet | | | | | |")
                continue
            row, its_survivors = kept[module]
            rows.append(row)
            cells = [c.strip() for c in row.strip("|").split("|")]
            checked, killed, survived, timeout, no_tests = (int(c.split()[0]) for c in cells[1:6])
            totals.update(
                checked=checked, killed=killed, survived=survived, timeout=timeout,
                **{"no tests": no_tests},
            )  # fmt: skip
            for name, diff, old_fate in its_survivors:
                state = old_fate.split("; ")[0] if "; " in old_fate else "survived"
                survivors.append((name, diff, fate(name, state, explanations)))
            continue
        checked = len(found) - counts["not run"]
        # A timeout is a mutant the tests noticed (it ran on forever), so it counts as killed.
        rate = (counts["killed"] + counts["timeout"]) / checked
        partial = f" ({counts['not run']} not run)" if counts["not run"] else ""
        rows.append(
            f"| {module} | {checked}{partial} | {counts['killed']} | {counts['survived']} "
            f"| {counts['timeout']} | {counts['no tests']} | {rate:.1%} |"
        )
        totals.update(counts)
        totals["checked"] += checked
        for name, code in sorted(found.items()):
            if status(code) in ("survived", "no tests", "other"):
                state = status(code)
                survivors.append((name, change(name, module), fate(name, state, explanations)))
    if totals["checked"]:
        rate = (totals["killed"] + totals["timeout"]) / totals["checked"]
        rows.append(
            f"| **all** | {totals['checked']} | {totals['killed']} | {totals['survived']} "
            f"| {totals['timeout']} | {totals['no tests']} | {rate:.1%} |"
        )
    lines = [*rows, "", f"Survivors: {len(survivors)}.", ""]
    if survivors:
        lines += ["| mutant | change | fate |", "| --- | --- | --- |"]
        for name, diff, its_fate in survivors:
            lines.append(f"| `{name}` | {diff} | {its_fate} |")
    return "\n".join(lines)


def main():
    generated = f"{BEGIN}\n{table()}\n{END}"
    text = DOC.read_text() if DOC.exists() else f"# Testing\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    DOC.write_text(head + generated + rest.split(END, 1)[1])
    print(generated)


if __name__ == "__main__":
    sys.exit(main())
