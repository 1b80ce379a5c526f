"""The UI boundary (STYLE 10): the core and everything below it import without textual."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "terminal_agent.core.agent", "terminal_agent.core.cashiers", "terminal_agent.core.service",
    "terminal_agent.core.printing", "terminal_agent.core.flows.airtime",
    "terminal_agent.core.flows.money", "terminal_agent.core.flows.suv",
    "terminal_agent.core.recovery", "terminal_agent.protocol.codec",
    "terminal_agent.switch.client", "terminal_agent.receipts", "terminal_agent.cli",
    "terminal_agent.demo", "devices.printers",
]

PROGRAM = f"""
import importlib, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ImportError("textual is not allowed below the UI")
        return None

sys.meta_path.insert(0, Refuse())
for name in {CORE_MODULES!r}:
    importlib.import_module(name)
assert not any(m == "textual" or m.startswith("textual.") for m in sys.modules)
print("ok")
"""


def test_core_imports_without_textual():
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_ui_builds_no_sql_and_no_http():
    """The UI asks the core; it never writes SQL or speaks HTTP itself."""
    from pathlib import Path

    import terminal_agent.ui as ui

    for path in Path(ui.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("import httpx", "import sqlite3", "import aiosqlite", "SELECT ", "INSERT ",
                     "UPDATE "):
            assert word not in text, f"{path.name} contains {word!r}"


# Not needed to show the login screen, and slow to import (issue 17: cold start to the login
# screen): python-escpos parses its printer capabilities with pure-Python YAML on import (about
# 140 ms on an idle core; the first receipt imports it, warmed in a thread while the cashier
# logs in); prometheus_client only where [metrics] is set; the simulator never.
NOT_BEFORE_LOGIN = ("escpos", "qrcode", "prometheus_client", "terminal_agent.sim")

START = f"""
import sys
import terminal_agent.cli, terminal_agent.commands.ui, terminal_agent.ui.screens.login
heavy = {NOT_BEFORE_LOGIN!r}
print(" ".join(h for h in heavy if any(m == h or m.startswith(h + ".") for m in sys.modules)))
"""


def test_the_ui_command_imports_nothing_slow_that_login_does_not_need():
    done = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
