"""The benchmarks' own rules (docs/benchmarks.md): each baseline gets what the measured side gets,
a row whose check fails fails, a partial run rewrites only its own rows, and ten times the data
leaves the measured reps as they were."""

from bench import data, growth, instances, report, team
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


def test_ten_times_the_data_keeps_the_measured_reps_sizes():
    usual, ten = data.rep_sizes(), data.rep_sizes(data.REPS * 10, data.TOUCHPOINTS * 10)

    assert (len(usual), sum(usual)) == (200, 50_000)
    assert (len(ten), sum(ten)) == (2_000, 500_000)
    assert ten[:3] == usual[:3] == [2_000, 1_000, 238]  # rep1 (B2), rep2 (B5), rep3 (B1)
    # manager1's team (B5's /reps as it opens for them): rep1 to rep20 at both sizes.
    teams = [
        [u["username"] for u in data._users(reps, None, data.MANAGERS * scale)[0]
         if u["manager_id"] == 2]
        for reps, scale in ((data.REPS, 1), (data.REPS * 10, 10))
    ]  # fmt: skip
    assert teams[0] == teams[1] == [f"rep{i}" for i in range(1, 21)]


def test_growth_is_judged_by_cpu_per_request_at_ten_times_against_once():
    # (the app's CPU ms, the database server's CPU ms, a rate) at 1x and at 10x
    held = growth.growth_row("list", (4.0, 1.0, 300), (4.4, 1.4, 280))
    grew = growth.growth_row("overview", (30.0, 10.0, 25), (200.0, 100.0, 4))

    assert (held.ratio, held.verdict) == ("1.16", "yes")
    assert (grew.ratio, grew.verdict) == ("7.50", "NO")
    assert "database server 1.00 → 1.40 ms" in held.note


def test_a_partial_run_keeps_two_digit_benchmarks_in_order(tmp_path):
    docs = tmp_path / "benchmarks.md"
    rows = [Row(name, "x", "1", "2", "0.5", ">= 0.2", True, f"{name} note")
            for name in ("B1", "B2", "B9", "B10")]  # fmt: skip
    facts = {"date": "2026-12-04 19:00 UTC"}
    report.write_docs(rows, facts, "the data", path=docs)

    report.write_docs([Row("B1", "x", "new", "2", "0.5", ">= 0.2", True, "B1 again")],
                      {"date": "2026-12-04 20:00 UTC"}, None, path=docs, only={"B1"})  # fmt: skip
    lines = docs.read_text().splitlines()

    assert [line.split("|")[1].strip() for line in lines if line.startswith("| B")] == [
        "B1", "B2", "B9", "B10"]  # fmt: skip
    assert [line for line in lines if line.startswith("- B")] == [
        "- B1 x: B1 again", "- B2 x: B2 note", "- B9 x: B9 note", "- B10 x: B10 note"]  # fmt: skip


def test_two_instances_fail_their_write_row_on_a_5xx_and_their_cpu_row_outside_the_noise():
    # (requests, seconds, workers' CPU s, PostgreSQL's CPU s, non-2xx) per load run
    cpu = {
        ("list", 1): [(1000, 8, 6.0, 2.0, 0)],
        ("list", 2): [(1000, 8, 6.2, 2.1, 0)],
        ("tasks", 1): [(1000, 8, 8.0, 3.0, 0)],
        ("tasks", 2): [(1000, 8, 10.0, 3.0, 0)],
    }
    # (each move's (seconds, status), seconds waited on locks, accounts on one rep, CPU s)
    locks = {
        "alone": [([(0.05, 303)] * 4, 0.0, True, 0.08)],
        "together": [([(0.06, 303), (0.2, 409), (0.3, 500), (0.07, 303)], 0.02, True, 0.2)],
    }
    rows = instances._rows(cpu, locks, workers=2, half=1)  # fmt: skip

    same, more, moves, waits = rows
    assert (same.ratio, same.verdict) == ("1.04", "yes")
    assert (more.ratio, more.verdict) == ("1.18", "NO")
    assert moves.verdict == "NO" and "1 x 500" in moves.note
    assert waits.figure == "5.0 ms per move (20 ms in all)"
