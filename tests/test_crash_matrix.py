"""The crash matrix, as the till is deployed: a till process (the core and runtime the UI runs,
selling every kind with the cashier's think-time) and ``terminal-agent forward`` on one
database, SIGKILLed independently, together, during start-up and while the other goes on
(racing restarts); then drained and checked against the simulator's ledger: nothing lost,
nothing both confirmed and reversed, nothing left in between, no exception raised to the live
till, every tendered voucher sale with its PIN slip printed (``bench/crash.py``).

CI runs ``CRASH_KILLS`` (default 100) kills; ``make crash`` runs 1,000.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.crash import crash_matrix

KILLS = int(os.environ.get("CRASH_KILLS", "100"))


@pytest.mark.slow
@pytest.mark.timeout(max(900, KILLS * 5))
def test_crash_matrix(tmp_path: Path) -> None:
    summary = crash_matrix(tmp_path, kills=KILLS,
                           seed=int(os.environ.get("CRASH_SEED", "20261121")))
    print("crash matrix:", json.dumps(summary))
    assert summary["ok"], summary
    assert summary["lost"] == summary["both"] == summary["limbo"] == summary["parked"] == 0
    assert summary["till_exceptions"] == summary["runtime_errors"] == 0
    assert summary["unprinted"] == summary["receipts_unpaid"] == 0
    assert summary["duplicate_receipts"] == 0
    assert summary["kills"] == KILLS
    assert summary["kills_till"] and summary["kills_forward"] and summary["double_kills"]
    # the kills interrupted real work of both processes
    assert summary["switch_originals"] > 0 and summary["tendered_vouchers"] > 0
    assert summary["take_overs"]["till"] and summary["take_overs"]["forward"]
