"""The import contracts of pyproject.toml ([tool.importlinter], docs/DESIGN.md §2) hold: run by
`make contracts` in CI and here too, so `make test` catches a new breach before a merge."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    tool = Path(sys.executable).parent / "lint-imports"
    if not tool.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.skip("import-linter is not installed (pip install -e '.[test]')")
        tool = Path(found)
    done = subprocess.run([str(tool), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_core_prints_nothing():
    """Printing to a terminal is a command's business (terminal_agent/commands): the core says
    what happened in return values, errors and log lines."""
    import ast

    for path in sorted((ROOT / "terminal_agent" / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} prints")
