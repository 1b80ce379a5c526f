"""Shared fixtures: configs on real SQLite files, and the real simulator on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal_agent import config as config_mod
from terminal_agent.config import AgentConfig

SHARED = Path(__file__).resolve().parents[2] / "shared"


def make_config(tmp_path: Path, url: str = "http://127.0.0.1:9", extra: str = "",
                read_timeout: float = 5.0) -> AgentConfig:
    """A config for tests: database in ``tmp_path``, switch at ``url``, fast back-off."""
    text = f"""
[switch]
base_url = "{url}"
read_timeout = {read_timeout}
connect_timeout = 1.0

[store]
path = "{tmp_path / 'agent.db'}"

[forwarder]
backoff_initial = 0.01
backoff_max = 0.05
status_first_delay = 0.0
poll_interval = 0.05
lease_seconds = 30.0

[printer]
url = "dummy://"
{extra}
"""
    return config_mod.loads(text, str(tmp_path / "config.toml"))


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "electrum").is_dir():
        pytest.skip("../shared/electrum is not beside the project")
    return SHARED
