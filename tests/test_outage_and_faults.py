"""Against the real simulator on 127.0.0.1: a switch outage with 1,000 advices piling up, and
every financial operation against every fault the simulator can inject."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.core.states import FINAL, State
from terminal_agent.protocol import builders
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.sim import SimOptions, SimServer

from .conftest import make_config

VOUCHER = Product(product_id="VOD10")
TOPUP = Product(product_id="VODDT", is_direct_topup=True)
CASHIER = "c1"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    state = tmp_path_factory.mktemp("sim") / "sim.db"  # survives the outage's restart
    with SimServer(SimOptions(state_path=str(state))) as server:
        yield server


@pytest.fixture
async def agent(sim: SimServer, tmp_path: Path) -> AsyncIterator[Agent]:
    sim.reset()
    cfg = make_config(tmp_path, sim.url, read_timeout=0.5)
    async with Agent.open(cfg, password="") as a:
        a.money.resend_pause = a.money.payouts.resend_pause = a.suv.resend_pause = 0.0
        yield a
    sim.clear_faults()


async def drain(agent: Agent, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if not await agent.forwarder.run_once():
            if (await agent.outbox.counts()).pending == 0:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("outbox did not drain")


async def test_outage_then_back_delivers_all_1000_advices_once(agent: Agent, sim: SimServer):
    # the outage is the subject here, not the fixture's 0.5 s deadline: on a loaded machine a
    # sale or an advice past it would rightly be reversed or re-sent
    agent.switch.cfg = msgspec.structs.replace(agent.switch.cfg, read_timeout=10.0)
    # 200 real sales tendered (confirmations) ...
    sales = []
    for _ in range(200):
        r = await agent.vouchers.sell(VOUCHER, 1000, CASHIER)
        await agent.vouchers.tender(r.txn_id, CASHIER)
        sales.append(r.txn_id)
    # ... and 800 requests committed but never sent (a crash before the send): recovery
    # releases their reversals
    for _ in range(800):
        request = builders.voucher_request(agent.identity, VOUCHER, 1000, "710")
        await agent.vouchers._prepare(Op.VOUCHER_PROVISION, request, amount=1000,
                                      cashier=CASHIER,
                                      path=SPECS[Op.VOUCHER_PROVISION].render_path(
                                          requestId=request.id))
    sim.stop()  # the switch goes away
    await agent.store.step(lambda db: db.execute(  # as left by a till that crashed
        "UPDATE transactions SET owner='ui-crashed' WHERE state='PREPARED'"))
    report = await agent.recovery.run()
    assert len(report.reversed) == 800
    for _ in range(3):
        await agent.forwarder.run_once()  # every attempt fails: connection refused
    counts = await agent.outbox.counts()
    assert counts.pending == 1000 and counts.delivered == 0 and counts.parked == 0
    sim.restart()  # back, same port, same state
    await agent.store.step(lambda db: db.execute(  # don't wait out the back-off in a test
        "UPDATE outbox SET next_attempt_at=0 WHERE state='pending'"))
    await drain(agent)
    counts = await agent.outbox.counts()
    assert counts.delivered == 1000 and counts.pending == 0 and counts.parked == 0
    ledger = sim.ledger()
    confirmed = {o["id"]: o for o in ledger["originals"] if o["final"] == "confirmed"}
    assert set(sales) <= set(confirmed)
    for txn_id in sales:  # delivered once: nothing re-sent after its final answer
        assert [a["count"] for a in confirmed[txn_id]["advices"]] == [1]
    orphans = ledger["orphan_advices"]
    assert len(orphans) == 800 and all(o["count"] == 1 and o["status"] == 404 for o in orphans)
    states = Counter(t.state for t in await agent.journal.history(limit=2000))
    assert states == {State.CONFIRMED: 200, State.REVERSED: 800}


# -- every financial operation against every fault -----------------------------------------

UNKNOWN_FAULTS: list[dict[str, Any]] = [
    {"type": "hang", "hang_ms": 3000},
    {"type": "reset"},
    {"type": "status", "status": 500},
    {"type": "status", "status": 504},
    {"type": "malformed"},
    {"type": "truncated"},
    {"type": "content_type"},
]
DECLINE_FAULTS: list[dict[str, Any]] = [
    {"type": "decline", "error_type": "SOMETHING_NEW_FROM_THE_FUTURE"},
    {"type": "status", "status": 503},
]


async def sale(agent: Agent, kind: str) -> str:
    """One transaction of ``kind`` up to the point where the cashier would tender."""
    from bench.workload import MUKURU, RECIPIENT, SENDER

    if kind == "voucher":
        return (await agent.vouchers.sell(VOUCHER, 1000, CASHIER)).txn_id
    if kind == "topup":
        return (await agent.topups.purchase(TOPUP, "0821234567", 2000, CASHIER)).txn_id
    if kind == "order":
        return (await agent.money.create_order(10000, 1000, SENDER, RECIPIENT, CASHIER,
                                               receiver=MUKURU)).txn_id
    if kind == "payout":
        return (await agent.money.redeem("48203917562038174501", 50000, CASHIER,
                                         receiver=MUKURU)).txn_id
    return (await agent.suv.redeem("DV5000", 1000, CASHIER)).txn_id


OPS = {"voucher": "VOUCHER_PROVISION", "topup": "PURCHASE", "order": "MT_ORDER_CREATE",
       "payout": "MT_REDEEM", "suv": "SUV_REDEEM"}


def expected(kind: str, fault: dict[str, Any]) -> set[State]:
    unknown = fault in UNKNOWN_FAULTS or (kind == "suv" and fault.get("status") == 503)
    if kind == "topup":  # never reversed: unknown → lookups settle it; failed → refund due
        return {State.COMPLETED} if unknown else {State.REFUND_DUE}
    return {State.REVERSED} if unknown else {State.DECLINED}


@pytest.mark.parametrize("kind", list(OPS))
@pytest.mark.parametrize("fault", UNKNOWN_FAULTS + DECLINE_FAULTS,
                         ids=lambda f: f["type"] + str(f.get("status", "")))
async def test_every_operation_against_every_fault(agent: Agent, sim: SimServer, kind: str,
                                                   fault: dict[str, Any]):
    when = "after" if fault in UNKNOWN_FAULTS else "before"
    sim.add_faults({"op": OPS[kind], "when": when, "times": 1, **fault})
    txn_id = await sale(agent, kind)
    await drain(agent)
    txn = await agent.journal.get(txn_id)
    assert txn.state in FINAL | {State.REFUND_DUE}  # nothing left in limbo
    assert txn.state in expected(kind, fault), (kind, fault, txn.state)
    rows = [r for r in await agent.outbox.for_txn(txn_id) if r.state.value != "void"]
    if txn.state == State.REVERSED:
        assert [r.kind.value for r in rows] == ["reversal"]
        if when == "after":  # the switch had it: now reversed there too
            final = next(o for o in sim.ledger()["originals"] if o["id"] == txn_id)
            assert final["final"] == "reversed"
    if kind == "topup":
        assert all(r.kind.value == "status" for r in rows)  # never a reversal


@pytest.mark.parametrize("fault", UNKNOWN_FAULTS + [{"type": "status", "status": 503},
                                                    {"type": "status", "status": 429}],
                         ids=lambda f: f["type"] + str(f.get("status", "")))
async def test_confirmation_survives_every_fault(agent: Agent, sim: SimServer,
                                                 fault: dict[str, Any]):
    sim.add_faults({"op": "VOUCHER_CONFIRM", "when": "after", "times": 2, **fault})
    r = await agent.vouchers.sell(VOUCHER, 1000, CASHIER)
    await agent.vouchers.tender(r.txn_id, CASHIER)
    await drain(agent)
    assert (await agent.journal.get(r.txn_id)).state == State.CONFIRMED
    original = next(o for o in sim.ledger()["originals"] if o["id"] == r.txn_id)
    assert original["final"] == "confirmed"
    assert {a["kind"] for a in original["advices"]} == {"confirmation"}
