"""Shared fixtures: configs on real SQLite files, and the real simulator on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from terminal_agent import config as config_mod
from terminal_agent import security
from terminal_agent.config import AgentConfig
from terminal_agent.core.agent import Agent
from terminal_agent.core.store import create_database
from terminal_agent.sim import SimServer

from .mockswitch import MockSwitch

SHARED = Path(__file__).resolve().parents[2] / "shared"
# PIN hashes in tests: scrypt at 1/32 of the production cost, so the hundreds of logins of the UI
# tests stay quick. Tests marked ``real_scrypt`` run at the production (OWASP) cost.
TEST_SCRYPT = security.ScryptCost(n=2**12, r=8, p=1)


@pytest.fixture(autouse=True)
def quick_pin_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_scrypt") is None:
        monkeypatch.setattr(security, "SCRYPT", TEST_SCRYPT)


def make_config(tmp_path: Path, url: str = "http://127.0.0.1:9", extra: str = "",
                read_timeout: float = 5.0, init: bool = True) -> AgentConfig:
    """A config for tests: database in ``tmp_path`` (created for the config's till unless it is
    there already or ``init`` is false), switch at ``url``, fast back-off."""
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
processing_window_seconds = 0.0
poll_interval = 0.05
lease_seconds = 30.0

[printer]
url = "dummy://"
{extra}
"""
    cfg = config_mod.loads(text, str(tmp_path / "config.toml"))
    if init and not Path(cfg.store.path).exists():
        create_database(cfg.store.path, cfg.terminal.terminal_id)
    return cfg


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (a switch not up yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def switch() -> MockSwitch:
    """The in-memory switch (``tests/mockswitch.py``), scripted per test."""
    return MockSwitch()


@pytest.fixture
async def agent(tmp_path: Path, switch: MockSwitch) -> AsyncIterator[Agent]:
    """An agent on a real SQLite file in ``tmp_path`` talking to the in-memory switch."""
    cfg = make_config(tmp_path, extra="")
    async with Agent.open(cfg, password="pw", transport=switch.transport()) as a:
        yield a


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "electrum").is_dir():
        pytest.skip("../shared/electrum is not beside the project")
    return SHARED


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    """The real simulator on 127.0.0.1, one per test module (modules may override it)."""
    with SimServer() as server:
        yield server


@pytest.fixture
def client(sim: SimServer) -> Iterator[httpx.Client]:
    """A plain HTTP client to a freshly reset simulator."""
    sim.reset()
    with httpx.Client(base_url=sim.url, auth=("22222222", "secret"), timeout=5) as c:
        yield c
