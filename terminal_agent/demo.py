"""The demo till: its accounts (cashier and supervisor) and its configuration on a throw-away
state directory, printing to ``preview://`` files. The `terminal-agent demo` command that runs
it is ``commands/demo.py``; the tests' tills are made from the same configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from terminal_agent import config as config_mod
from terminal_agent.config import AgentConfig

DEMO_CASHIER = ("1001", "5284", "cashier", "Thandi")
DEMO_SUPERVISOR = ("9001", "7391", "supervisor", "Sipho")


def demo_config_text(state_dir: Path, switch_url: str) -> str:
    return f"""\
# Demo configuration written by `terminal-agent demo` (throw-away).
[terminal]
terminal_id = "DEMO0001"
merchant_id = "000000000DEMO01"
merchant_name = "Demo Spaza"
city = "Soweto"

[switch]
base_url = "{switch_url}"
username = "1234"
read_timeout = 5.0
connect_timeout = 2.0

[store]
path = "{state_dir / 'agent.db'}"

[forwarder]
backoff_initial = 0.5
backoff_max = 10.0
status_first_delay = 2.0
poll_interval = 0.5

[printer]
url = "preview://{state_dir / 'receipts'}"
columns = 42

[receipts]
header = ["Demo Spaza", "12 Vilakazi St, Soweto"]
footer = ["Thank you for shopping with us"]
"""


def write_demo_config(state_dir: Path, switch_url: str) -> AgentConfig:
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)
    path = state_dir / "config.toml"
    path.write_text(demo_config_text(state_dir, switch_url), encoding="utf-8")
    path.chmod(0o600)
    cfg = config_mod.load(path)
    if not Path(cfg.store.path).exists():  # the demo's own throw-away till, made on purpose
        from terminal_agent.core import create_database

        create_database(cfg.store.path, cfg.terminal.terminal_id)
    return cfg
