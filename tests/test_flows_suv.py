"""Digital voucher redemption against the real simulator on 127.0.0.1 with real SQLite: single
and dual messaging per provider, declines, timeouts and 5xx answers reversed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.core.flows.base import FlowError
from terminal_agent.core.outbox import RowState
from terminal_agent.core.states import State
from terminal_agent.errors import ValidationError
from terminal_agent.sim import SimServer
from tests.conftest import make_config
from tests.simharness import SimHarness

PROVIDERS = """
[suv]
default_dual_messaging = true

[suv.providers.stellr]
dual_messaging = false
"""


class Harness(SimHarness):
    def __init__(self, agent: Agent, url: str) -> None:
        super().__init__(agent, url)
        self.suv = agent.suv


@pytest.fixture
async def h(sim: SimServer, tmp_path: Path) -> AsyncIterator[Harness]:
    sim.reset()
    cfg = make_config(tmp_path, sim.url, extra=PROVIDERS, read_timeout=0.5)
    async with Agent.open(cfg, password="") as agent:
        agent.suv.resend_pause = 0.0
        yield Harness(agent, sim.url)
    sim.clear_faults()


async def test_lookup_shows_value_and_masks_the_code(h: Harness) -> None:
    found = await h.suv.lookup("DV5000")
    assert found.ok and found.data["balance"] == 5000
    assert found.data["code_masked"] == "**5000" and found.data["issuer"]
    missing = await h.suv.lookup("1111222233334444")
    assert missing.verdict == "declined" and missing.data["code_masked"].endswith("4444")
    with pytest.raises(ValidationError):
        await h.suv.lookup("   ")


async def test_lookup_is_resent_until_answered_and_the_cashier_can_give_up(h: Harness) -> None:
    h.fault(op="SUV_LOOKUP", type="status", status=500, times=4)
    found = await h.suv.lookup("DV5000")
    assert found.ok and found.attempts == 5
    h.fault(op="SUV_LOOKUP", type="hang")
    with pytest.raises(TimeoutError):  # the UI's Esc cancels the call the same way
        await asyncio.wait_for(h.suv.lookup("DV5000"), 2.0)
    h.suv.resend_attempts = 2  # a caller may also bound it
    gave_up = await h.suv.lookup("DV5000")
    assert gave_up.verdict == "no_answer" and gave_up.attempts == 2


async def test_single_messaging_completes_at_approval(h: Harness) -> None:
    result = await h.suv.redeem("DV5000", 3000, "alice", provider="stellr")
    assert result.approved and result.state == State.COMPLETED
    assert result.data == {"code_masked": "**5000", "code_last4": "5000",
                           "dual_messaging": False, "provider": "stellr",
                           "amount_redeemed": 3000, "balance_after": 2000}
    rows = await h.agent.outbox.for_txn(result.txn_id)
    assert [r.state for r in rows] == [RowState.VOID]   # the held reversal, never sent
    await h.drain()
    entry = h.ledger(result.txn_id)
    assert entry["outcome"] == "approved" and entry["advices"] == []
    assert (await h.suv.lookup("DV5000")).data["balance"] == 2000
    with pytest.raises(FlowError):
        await h.suv.complete(result.txn_id, "alice")


async def test_dual_messaging_confirms_after_the_sale(h: Harness) -> None:
    result = await h.suv.redeem("DV5000", 5000, "alice")  # default: dual messaging
    assert result.approved and result.state == State.APPROVED
    assert result.data["dual_messaging"] and result.data["amount_redeemed"] == 5000
    assert "complete the sale" in result.message.lower()
    assert (await h.agent.journal.get(result.txn_id)).decision_deadline is not None
    done = await h.suv.complete(result.txn_id, "alice")
    assert done.state == State.TENDERED and done.approved
    await h.drain()
    assert await h.state(result.txn_id) == State.CONFIRMED
    entry = h.ledger(result.txn_id)
    assert entry["final"] == "confirmed" and entry["advices"][0]["kind"] == "confirmation"


async def test_cancelled_sale_reverses_and_gives_the_value_back(h: Harness) -> None:
    result = await h.suv.redeem("DV5000", 4000, "alice")
    cancelled = await h.suv.cancel(result.txn_id, "alice")
    assert cancelled.verdict == "cancelled" and cancelled.state == State.REVERSING
    await h.drain()
    assert await h.state(result.txn_id) == State.REVERSED
    assert h.ledger(result.txn_id)["final"] == "reversed"
    assert (await h.suv.lookup("DV5000")).data["balance"] == 5000


async def test_decline_needs_no_advice(h: Harness) -> None:
    result = await h.suv.redeem("DV5000", 6000, "alice")  # more than the balance
    assert result.verdict == "declined" and result.state == State.DECLINED
    assert result.error_type == "INSUFFICIENT_AMOUNT" and "balance is too low" in result.message
    assert [r.state for r in await h.agent.outbox.for_txn(result.txn_id)] == [RowState.VOID]
    assert h.ledger(result.txn_id)["final"] == "declined"


@pytest.mark.parametrize("fault", [
    {"type": "hang", "when": "after"},                 # timeout: the switch has it
    {"type": "status", "status": 503, "when": "after"},  # SUV: every 5xx is reversed
    {"type": "status", "status": 500},                 # never processed: reversal answered 404
])
async def test_no_definite_answer_is_reversed(h: Harness, fault: dict[str, Any]) -> None:
    h.fault(op="SUV_REDEEM", times=1, **fault)
    result = await h.suv.redeem("DV5000", 2500, "alice", provider="stellr")
    assert result.verdict == "unknown" and result.state == State.REVERSING
    assert "do not accept the voucher" in result.message.lower()
    await h.drain()
    assert await h.state(result.txn_id) == State.REVERSED
    rows = await h.agent.outbox.for_txn(result.txn_id)
    reversal = json.loads(rows[0].body or b"{}")
    assert reversal["requestId"] == result.txn_id and reversal["reversalReason"] == "TIMEOUT"
    assert (await h.suv.lookup("DV5000")).data["balance"] == 5000


async def test_the_voucher_code_stays_out_of_detail_and_logs(
        h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="terminal_agent")
    code = "2500999988887777"
    result = await h.suv.redeem(code, 1000, "alice")
    await h.suv.complete(result.txn_id, "alice")
    await h.drain()
    txn = await h.agent.journal.get(result.txn_id)
    timeline = [dict(r) for r in await h.agent.journal.timeline(result.txn_id)]
    assert code not in json.dumps(txn.detail) + json.dumps(timeline) + json.dumps(result.data)
    assert code not in caplog.text
