"""The operator commands as real processes: forward, status, certify, demo --scripted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.protocol.airtime import Product
from terminal_agent.sim import SimOptions, SimServer

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal_agent.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def write_config(tmp: Path, url: str, extra: str = "") -> Path:
    path = tmp / "config.toml"
    path.write_text(f"""
[switch]
base_url = "{url}"
read_timeout = 2.0
[store]
path = "{tmp / 'agent.db'}"
[forwarder]
backoff_initial = 0.05
backoff_max = 0.2
poll_interval = 0.05
[logging]
target = "stderr"
{extra}
""")
    path.chmod(0o600)
    if not (tmp / "agent.db").exists():
        init = cli("init", "--config", str(path))  # as the technician does, once
        assert init.returncode == 0, init.stderr
    return path


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(SimOptions()) as server:
        yield server


async def test_forward_delivers_queued_reversals_and_stops_on_sigterm(tmp_path, sim):
    cfg_path = write_config(tmp_path, sim.url)
    from terminal_agent import config

    sim.add_faults({"op": "VOUCHER_PROVISION", "type": "status", "status": 504, "when": "after"})
    async with Agent.open(config.load(cfg_path), password="") as agent:
        result = await agent.vouchers.sell(Product(product_id="VOD10"), 1000, "c1")
        assert result.verdict == "unknown"
    sim.clear_faults()
    status = json.loads(cli("status", "--config", str(cfg_path), "--json").stdout)
    assert status["outbox"]["pending"] == 1 and status["forwarder_running"] is False

    proc = subprocess.Popen([sys.executable, "-m", "terminal_agent.cli", "forward", "--config",
                             str(cfg_path)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            con = sqlite3.connect(tmp_path / "agent.db")
            state = con.execute("SELECT state FROM transactions").fetchone()[0]
            con.close()
            if state == "REVERSED":
                break
            time.sleep(0.05)
        assert state == "REVERSED"
        running = json.loads(cli("status", "--config", str(cfg_path), "--json").stdout)
        assert running["forwarder_running"] is True and running["outbox"]["pending"] == 0
        second = cli("forward", "--config", str(cfg_path), timeout=20)
        assert second.returncode == 2 and "another forwarder" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    ledger = sim.ledger()
    assert ledger["originals"][0]["final"] == "reversed"


def test_status_text_output(tmp_path, sim):
    out = cli("status", "--config", str(write_config(tmp_path, sim.url)))
    assert out.returncode == 0
    assert "forwarder:" in out.stdout and "NOT RUNNING" in out.stdout


def test_status_piped_into_a_reader_that_stops_early_says_nothing(tmp_path, sim):
    """`terminal-agent status | head -1`: the reader gone is no error to report."""
    cfg = write_config(tmp_path, sim.url)
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before status writes a line
    try:
        out = subprocess.run([sys.executable, "-m", "terminal_agent.cli", "status", "--config",
                              str(cfg)], cwd=ROOT, stdout=writer, stderr=subprocess.PIPE,
                             text=True, timeout=60)
    finally:
        os.close(writer)
    assert out.stderr == "", out.stderr
    assert out.returncode == 141  # 128 + SIGPIPE, as a shell tool would end


def test_forward_refuses_a_world_readable_config(tmp_path, sim):
    path = write_config(tmp_path, sim.url)
    path.chmod(0o644)
    out = cli("forward", "--config", str(path), timeout=20)
    assert out.returncode == 2 and "chmod 600" in out.stderr


def test_certify_against_the_simulator_passes(tmp_path, sim):
    out = cli("certify", "--config", str(write_config(tmp_path, sim.url)), timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "16 of 16 scenarios as expected" in out.stdout
    for scenario in ("timeout → reversal", "reversal answered 404", "confirmation answered 404",
                     "status lookups", "switch down then back"):
        assert scenario in out.stdout


def test_certify_fails_when_the_switch_refuses_us(tmp_path):
    with SimServer(SimOptions(credentials=("1234:right",))) as locked:
        path = write_config(tmp_path, locked.url)
        (tmp_path / "pw").write_text("wrong\n")
        (tmp_path / "pw").chmod(0o600)
        text = path.read_text().replace("[switch]\n", f'[switch]\npassword_file = "{tmp_path / "pw"}"\n')
        path.write_text(text)
        out = cli("certify", "--config", str(path), timeout=120)
    assert out.returncode == 1
    assert "FAIL" in out.stdout


def test_scripted_demo_sells_a_voucher(tmp_path):
    out = cli("demo", "--scripted", "--state-dir", str(tmp_path / "demo"), timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "final state: CONFIRMED" in out.stdout
    assert "PIN" not in out.stdout.replace("PIN printed on the slip only", "")
