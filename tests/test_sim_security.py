"""The simulator as a process (`terminal-agent sim`): findings "its /_sim/* endpoints answer
without credentials, its state and record files (voucher PINs, PIN blocks) are created
world-readable, and uvicorn logs query strings with ID numbers"."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from terminal_agent.sim import SimOptions, SimServer

ID_NUMBER = "9001015009087"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sim_process(tmp_path: Path):
    port = free_port()
    state, record = tmp_path / "sim.db", tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal_agent.cli", "sim", "--port", str(port), "--state",
         str(state), "--record", str(record), "--credentials", "22222222:secret"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: os.umask(0o022))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/_sim/health", timeout=1)
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.stdout.read() if proc.stdout else "no output") from None
            time.sleep(0.1)
    yield url, state, record, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_control_endpoints_files_and_access_log(sim_process):
    url, state, record, proc = sim_process
    for method, path in [("GET", "/_sim/ledger"), ("GET", "/_sim/health"),
                         ("POST", "/_sim/reset"), ("DELETE", "/_sim/faults")]:
        assert httpx.request(method, url + path).status_code == 401, path
        assert httpx.request(method, url + path, auth=("22222222", "wrong")).status_code == 401
    with httpx.Client(base_url=url, auth=("22222222", "secret")) as client:
        assert client.get("/_sim/ledger").status_code == 200
        client.get("/moneytransfer/v2/customers", params={"idNumber": ID_NUMBER})
    for path in (state, record):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert "GET /moneytransfer/v2/customers " in out  # the access log is still there ...
    assert ID_NUMBER not in out and "idNumber" not in out  # ... without the query


def test_in_process_simulator_without_credentials_stays_open(tmp_path):
    with SimServer(SimOptions(state_path=tmp_path / "s.db")) as sim:
        assert httpx.get(sim.url + "/_sim/ledger").status_code == 200
    assert stat.S_IMODE((tmp_path / "s.db").stat().st_mode) == 0o600
