"""Wall-clock jumps (issue 12, finding 7): a clock a day behind does not stall the outbox for a
day, a clock jumping ahead does not reverse a sale the cashier is taking cash for, and the
oldest pending age is never clamped to zero."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.core.clock import ClockWatch
from terminal_agent.core.outbox import AdviceKind
from terminal_agent.core.service import describe
from terminal_agent.core.states import State

from .conftest import make_config

DAY = 86_400.0


class Clocks:
    """A wall clock that can be set, and a boot clock that only moves forward."""

    def __init__(self) -> None:
        self.now = time.time()
        self.boot_at = 1000.0

    def wall(self) -> float:
        return self.now

    def boot(self) -> float:
        return self.boot_at

    def run(self, seconds: float) -> None:
        self.now += seconds
        self.boot_at += seconds


async def insert_txn(agent: Agent, state: State, *, deadline: float | None = None) -> str:
    import uuid

    from terminal_agent.protocol import builders, codec

    request = builders.voucher_request(agent.identity, "VOD10", 1000, "710")
    txn_id = str(request.id)
    body = codec.encode(request)
    now = agent.clock()

    def write(db):
        db.execute("INSERT INTO transactions (id, kind, op, state, path, request, amount, currency,"
                   " cashier, reference, decision_deadline, created_at, updated_at) VALUES"
                   " (?, 'voucher_sale', 'VOUCHER_PROVISION', ?, '/v', ?, 1000, '710', 'c1',"
                   " ?, ?, ?, ?)", (txn_id, state.value, body, txn_id[:8], deadline, now, now))
        agent.outbox.add(db, id=str(uuid.uuid4()), txn_id=txn_id, kind=AdviceKind.REVERSAL,
                         op="VOUCHER_REVERSE", method="POST", path="/r", body=b"{}",
                         held=state == State.APPROVED, delay=1.0)
    await agent.store.step(write)
    return txn_id


@pytest.fixture
async def till(tmp_path: Path):
    clocks = Clocks()
    cfg = make_config(tmp_path)
    async with Agent.open(cfg, password="", clock=clocks.wall) as agent:
        watch = ClockWatch(agent.store, wall=clocks.wall, boot=clocks.boot, boot_id=lambda: "b1")
        await watch.check()  # the anchor
        yield agent, watch, clocks


async def test_a_clock_a_day_behind_does_not_stall_the_outbox(till):
    agent, watch, clocks = till
    await insert_txn(agent, State.REVERSING)
    clocks.run(2.0)
    clocks.now -= DAY                                    # NTP puts the clock a day back
    assert await agent.outbox.claim_due(10) == []        # the finding: due only in a day
    snap = await agent.status()
    assert snap.oldest_pending_age is not None and snap.oldest_pending_age < -DAY + 10
    assert snap.clock_went_back and "the clock went back" in describe(snap)  # not "0 s"
    assert await watch.check() == pytest.approx(-DAY, abs=1)
    assert len(await agent.outbox.claim_due(10)) == 1    # due again now


async def test_a_clock_jumping_ahead_does_not_reverse_a_sale_being_paid(till):
    agent, watch, clocks = till
    txn_id = await insert_txn(agent, State.APPROVED, deadline=clocks.now + 300)
    clocks.run(10.0)
    clocks.now += DAY                                    # the clock leaps a day ahead
    assert await watch.check() == pytest.approx(DAY, abs=1)
    assert await agent.recovery.expire_decisions() == []
    assert (await agent.journal.get(txn_id)).state == State.APPROVED
    clocks.run(301.0)                                    # the real deadline, measured
    assert await watch.check() == 0.0
    assert await agent.recovery.expire_decisions() == [txn_id]


async def test_without_the_watch_the_jump_would_reverse_it(till):
    agent, _, clocks = till
    txn_id = await insert_txn(agent, State.APPROVED, deadline=clocks.now + 300)
    clocks.now += DAY
    assert await agent.recovery.expire_decisions() == [txn_id]  # what check() prevents


async def test_two_processes_apply_one_jump_once(till):
    agent, watch, clocks = till
    other = ClockWatch(agent.store, wall=clocks.wall, boot=clocks.boot, boot_id=lambda: "b1")
    await insert_txn(agent, State.REVERSING)
    before = (await agent.store.fetchone("SELECT next_attempt_at FROM outbox"))[0]
    clocks.now -= 3600
    assert await watch.check() == pytest.approx(-3600)
    assert await other.check() == 0.0
    after = (await agent.store.fetchone("SELECT next_attempt_at FROM outbox"))[0]
    assert after == pytest.approx(before - 3600)


async def test_a_clock_behind_after_a_reboot_is_rebased(till):
    agent, watch, clocks = till
    await insert_txn(agent, State.REVERSING)
    rebooted = ClockWatch(agent.store, wall=clocks.wall, boot=lambda: 5.0, boot_id=lambda: "b2")
    clocks.now -= DAY                                    # the RTC battery is flat
    assert await rebooted.check() == pytest.approx(-DAY, abs=1)
    clocks.run(2.0)
    assert len(await agent.outbox.claim_due(10)) == 1
