"""The UI boundary (STYLE 10): the core and everything below it import without textual."""

from __future__ import annotations

import os
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


# Cold start (issue 17): the agent builds its switch client, forwarder and flows on first use,
# so the real `terminal-agent ui` draws its login screen with neither httpx nor the flows, the
# forwarder, recovery, the protocol's models or cryptography imported; they load right after it,
# with the runtime.
NOT_BEFORE_THE_LOGIN_SCREEN = ("httpx", "terminal_agent.switch", "terminal_agent.core.flows",
                               "terminal_agent.core.catalogue", "terminal_agent.core.cashup",
                               "terminal_agent.core.forwarder", "terminal_agent.core.recovery",
                               "terminal_agent.protocol", "cryptography")

DRAWN = f"""
import sys
from terminal_agent.cli import main
from terminal_agent.ui.app import TillApp

def drawn(app):  # called once the login screen is drawn, where the runtime would start
    heavy = {NOT_BEFORE_THE_LOGIN_SCREEN!r}
    loaded = [h for h in heavy if any(m == h or m.startswith(h + ".") for m in sys.modules)]
    with open(sys.argv[2], "w") as out:
        out.write(type(app.screen).__name__ + " " + " ".join(loaded))
    app.exit(0)

TillApp._start = drawn
sys.exit(main(["ui", "--config", sys.argv[1]]))
"""


def test_the_login_screen_is_drawn_before_the_switch_client_and_the_flows_load(tmp_path):
    from tests.conftest import make_config

    make_config(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "agent.db"}"\n[switch]\n'
                      'base_url = "http://127.0.0.1:9"\n[printer]\nurl = "dummy://"\n'
                      '[logging]\ntarget = "stderr"\n')
    config.chmod(0o600)
    seen = tmp_path / "seen"
    done = subprocess.run([sys.executable, "-c", DRAWN, str(config), str(seen)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "80",
                               "LINES": "25"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert seen.read_text().split() == ["LoginScreen"]
