"""The benchmarks' own rules (docs/benchmarks.md): each baseline gets what the measured side gets,
a row whose check fails fails, and a partial run rewrites only its own rows."""

from bench import report, team
from bench.report import Row
from bench.timing import paired


def test_both_sides_are_warmed_up_and_timed_alike_in_turns():
    calls = []
    timed = paired(lambda: calls.append("app"), lambda: calls.append("base"), repeat=4)

    assert calls.count("app") == calls.count("base") == 5  # one warm-up and four timed runs each
    assert calls[2:] == ["base", "app", "app", "base", "base", "app", "app", "base"]
    assert timed.runs == 4


def test_a_failed_check_fails_its_row_whatever_the_ratio():
    passed = team._timed_row("/reps overview", 10.0, 9.0, "one SELECT", checked=True)
    failed = team._timed_row("/reps overview", 10.0, 9.0, "one SELECT", checked=False)

    assert passed.verdict == "yes"
    assert failed.verdict == "NO"
    assert "check failed" in failed.figure


def test_a_partial_run_rewrites_only_its_own_rows(tmp_path):
    docs = tmp_path / "benchmarks.md"
    before = [Row("B1", "list", "1", "2", "0.5", ">= 0.2", True, "b1 note"),
              Row("B3", "sweep", "old", "2", "0.8", ">= 0.5", True, "b3 old note")]  # fmt: skip
    facts = {"date": "2026-11-30 12:05 UTC", "cores (nproc)": "2"}
    report.write_docs(before, facts, "the data", path=docs)
    docs.write_text("Prose before.\n" + docs.read_text() + "Prose after.\n")

    again = [Row("B3", "sweep", "new", "2", "0.3", ">= 0.5", False, "b3 new note")]
    report.write_docs(again, {**facts, "date": "2026-12-04 11:00 UTC"}, None, path=docs,
                      only={"B3"})  # fmt: skip
    text = docs.read_text()

    assert text.startswith("Prose before.") and text.endswith("Prose after.\n")
    assert "| B1 | list | 1 |" in text and "- B1 list: b1 note" in text
    assert "| B3 | sweep | new |" in text and "| NO |" in text
    assert "old" not in text
    assert "B1 on 2026-11-30 12:05 UTC; B3 on 2026-12-04 11:00 UTC" in text
    assert "- data: the data" in text
