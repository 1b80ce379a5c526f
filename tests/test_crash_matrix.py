"""The crash matrix: a real till process (sales of every kind + its forwarder) is killed with
SIGKILL at random instants (during start-up and recovery, with requests in flight, between
commit and send, mid-drain), restarted, and finally drained. Then the till's journal is checked
against the simulator's ledger: nothing lost, nothing both confirmed and reversed, nothing left in
limbo, nothing parked.

CI runs ``CRASH_KILLS`` (default 50) kills; ``make crash`` runs 500.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.workload import check

ROOT = Path(__file__).resolve().parents[1]
KILLS = int(os.environ.get("CRASH_KILLS", "50"))

FAULTS = [
    {"op": "*", "type": "latency", "latency_ms": 15, "probability": 0.5},
    {"op": "VOUCHER_PROVISION", "type": "hang", "when": "after", "hang_ms": 3000, "probability": 0.1},
    {"op": "PURCHASE", "type": "hang", "when": "after", "hang_ms": 3000, "probability": 0.2},
    {"op": "MT_ORDER_CREATE", "type": "status", "status": 504, "when": "after", "probability": 0.1},
    {"op": "SUV_REDEEM", "type": "reset", "when": "after", "probability": 0.1},
    {"op": "VOUCHER_CONFIRM", "type": "status", "status": 503, "probability": 0.2},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, url: str, db: Path, *, drain: bool) -> Path:
    path.write_text(f"""
[switch]
base_url = "{url}"
read_timeout = 0.4
connect_timeout = 0.5
[store]
path = "{db}"
[forwarder]
backoff_initial = 0.02
backoff_max = 0.2
status_first_delay = 0.05
poll_interval = 0.02
lease_seconds = 5.0
approved_deadline_seconds = {0.0 if drain else 600.0}
auto_reverse_payouts = {"true" if drain else "false"}
""")
    path.chmod(0o600)
    return path


def start_sim(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal_agent.cli", "sim", "--port", str(port),
         "--state", str(tmp / "sim.db")], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=open(tmp / "sim.log", "wb"))  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/_sim/health", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("simulator did not start: " + (tmp / "sim.log").read_text()[-2000:])


def wait_ready(out: Path, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if out.exists() and b"READY" in out.read_bytes():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


@pytest.mark.slow
@pytest.mark.timeout(max(900, KILLS * 5))
def test_crash_matrix(tmp_path: Path) -> None:
    rnd = random.Random(int(os.environ.get("CRASH_SEED", "20261121")))
    sim, url = start_sim(tmp_path)
    try:
        assert httpx.post(url + "/_sim/faults", json=FAULTS).status_code < 300
        db = tmp_path / "agent.db"
        run_cfg = write_config(tmp_path / "run.toml", url, db, drain=False)
        kills = 0
        while kills < KILLS:
            out = tmp_path / "driver.out"
            out.unlink(missing_ok=True)
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench.workload", "--config", str(run_cfg), "run",
                 "--seed", str(kills)], cwd=ROOT, stdout=open(out, "wb"),  # noqa: SIM115
                stderr=open(tmp_path / "driver.err", "ab"))  # noqa: SIM115
            if rnd.random() < 0.2:
                time.sleep(rnd.uniform(0.05, 0.6))  # during start-up and recovery
            else:
                assert wait_ready(out, proc), (tmp_path / "driver.err").read_text()[-3000:]
                time.sleep(rnd.uniform(0.0, 0.5))  # sales and advices in flight
            if proc.poll() is not None:
                raise AssertionError("driver exited by itself: "
                                     + (tmp_path / "driver.err").read_text()[-3000:])
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        assert httpx.delete(url + "/_sim/faults").status_code < 300
        drain_cfg = write_config(tmp_path / "drain.toml", url, db, drain=True)
        rc = subprocess.run([sys.executable, "-m", "bench.workload", "--config", str(drain_cfg),
                             "drain"], cwd=ROOT, timeout=200).returncode
        ledger = httpx.get(url + "/_sim/ledger", timeout=10).json()
        result = check(str(db), ledger)
        summary = {"kills": kills, **result.as_dict()}
        (tmp_path / "summary.json").write_text(json.dumps(summary, indent=2))
        print("crash matrix:", json.dumps(summary))
        assert rc == 0, summary
        assert result.ok, summary
        assert result.transactions >= kills, summary  # the kills did interrupt real work
        assert len(ledger["originals"]) > 0
    finally:
        sim.terminate()
        sim.wait(timeout=10)
