"""The layers' import contracts (pyproject.toml's [tool.importlinter], docs/architecture.md):
kept by the code as it is, and broken by each kind of wrong import a change could add."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root):
    """lint-imports run on the tree at `root`: (exit status, its report)."""
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_the_code_keeps_every_contract():
    status, report = lint_imports(ROOT)
    assert status == 0, report
    assert "0 broken" in report
    for contract in (
        "Layers: entry points, then web and jobs (apart), then domain, then models KEPT",
        "The domain imports no Flask, no request, no forms or templates KEPT",
        "No area of the web imports another area KEPT",
        "No import circle, at any depth KEPT",
    ):
        assert contract in report


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("tpweb/domain/schedule.py", "import flask", "The domain imports no Flask"),
        ("tpweb/domain/scope.py", "from werkzeug.exceptions import NotFound", "no Flask"),
        ("tpweb/domain/scope.py", "from tpweb.web import pages", "Layers"),
        ("tpweb/jobs/mail.py", "from tpweb.web.pages import render", "Layers"),
        ("tpweb/models.py", "from tpweb.domain import schedule", "Layers"),
        (
            "tpweb/web/tasks.py",
            "from tpweb.web.touchpoints import views",
            "No area of the web imports another area",
        ),
        ("tpweb/web/dashboard.py", "from tpweb.web.reps import bp", "another area"),
        ("tpweb/domain/schedule.py", "from tpweb.domain import team", "No import circle"),
    ],
)
def test_a_wrong_import_breaks_its_contract(tmp_path, module, line, broken):
    """A copy of the package with one wrong import added is refused, naming the contract."""
    shutil.copytree(
        ROOT / "tpweb", tmp_path / "tpweb", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")

    status, report = lint_imports(tmp_path)

    assert status != 0, report
    broken_line = next(text for text in report.splitlines() if " BROKEN" in text)
    assert broken in broken_line, report


def test_the_app_starts_without_the_map_and_routing_libraries():
    """folium (with branca, numpy, pandas) and OR-Tools load where a map is drawn or a day
    planned, not when the app starts: the worker, which does neither, is 76 MB lighter for it."""
    code = (
        "import sys; from tpweb import create_app; "
        "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'TESTING': True}); "
        "print(sorted(m for m in ('folium', 'branca', 'pandas', 'ortools') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
