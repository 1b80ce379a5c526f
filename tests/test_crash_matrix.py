"""The crash matrix: a real till process (sales of every kind + its forwarder) is killed with
SIGKILL at random instants (during start-up and recovery, with requests in flight, between
commit and send, mid-drain), restarted, and finally drained. Then the till's journal is checked
against the simulator's ledger: nothing lost, nothing both confirmed and reversed, nothing left in
limbo, nothing parked, no refunded top-up approved at the switch.

CI runs ``CRASH_KILLS`` (default 50) kills; ``make crash`` runs 500 (``make faults`` too).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.faults import fault_crash

KILLS = int(os.environ.get("CRASH_KILLS", "50"))


@pytest.mark.slow
@pytest.mark.timeout(max(900, KILLS * 5))
def test_crash_matrix(tmp_path: Path) -> None:
    summary = fault_crash(tmp_path, kills=KILLS, seed=int(os.environ.get("CRASH_SEED", "20261121")))
    print("crash matrix:", json.dumps(summary))
    assert summary["ok"], summary
    assert summary["lost"] == summary["both"] == summary["limbo"] == summary["parked"] == 0
    assert summary["kills"] == KILLS
    assert summary["transactions"] >= KILLS, summary  # the kills did interrupt real work
    assert summary["switch_originals"] > 0
