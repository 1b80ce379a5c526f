"""The till holds off as a whole when the switch cannot take more (forwarder rule 7), against a
real HTTP server on 127.0.0.1 (tests/hostile.py, written from the interface references), and the
chain model of bench/herd.py that runs the same code on a simulated clock."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from terminal_agent.config import AgentConfig
from terminal_agent.core import outbox as outbox_mod
from terminal_agent.core.agent import Agent
from terminal_agent.core.outbox import AdviceKind, OutboxRow, RowState
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.operations import Op
from tests.conftest import make_config
from tests.hostile import Act, HostileSwitch, error

PIN_PRODUCT = Product(product_id="VODA29", name="Vodacom R29")
E500 = Act(status=500, body=b"java.lang.NullPointerException")
# a switch's front end out of room: 503 without the references' UPSTREAM_UNAVAILABLE (the
# provider behind the switch away, "usually 503": that row's trouble, not the till's)
BUSY = Act(status=503, process=False,
           body=b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")


class _Top:
    """The outbox's ``random`` with every jitter at the top of its range: pauses known exactly."""

    @staticmethod
    def uniform(low: float, high: float) -> float:
        return high


def _config(tmp_path: Path, url: str, **forwarder: Any) -> AgentConfig:
    cfg = make_config(tmp_path, url)
    return msgspec.structs.replace(cfg, forwarder=msgspec.structs.replace(cfg.forwarder,
                                                                          **forwarder))


async def _reversals_due(agent: Agent, sw: HostileSwitch, n: int) -> list[str]:
    """``n`` sales answered 500: each leaves a reversal due."""
    sw.script(Op.VOUCHER_PROVISION, *[E500] * n)
    return [(await agent.vouchers.sell(PIN_PRODUCT, 2900, cashier="c1")).txn_id
            for _ in range(n)]


async def _reversal_rows(agent: Agent, txn_ids: list[str]) -> list[OutboxRow]:
    return [r for t in txn_ids for r in await agent.outbox.for_txn(t)
            if r.kind == AdviceKind.REVERSAL and r.state != RowState.VOID]


async def test_an_overloaded_switch_holds_the_whole_till_then_one_probe_and_a_ramp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """12 reversals due, the switch answers the first four 503: only that first wave (4 in
    flight) reaches it; the other 8 go back unsent (no attempt counted, no send unanswered) and
    the till sends nothing while held, though they are due. Then one row probes, and each answer
    lets one more out: 1, 2, 4, ... (the old forwarder sent all 12 into the 503s)."""
    monkeypatch.setattr(outbox_mod, "random", _Top)
    async with HostileSwitch() as sw:
        cfg = _config(tmp_path, sw.url, backoff_initial=60.0, backoff_max=60.0)
        async with Agent.open(cfg, password="pw") as agent:
            txn_ids = await _reversals_due(agent, sw, 12)
            sw.script(Op.VOUCHER_REVERSE, *[BUSY] * 4)
            assert await agent.forwarder.run_once() == 12  # claimed ...
            assert sw.count(Op.VOUCHER_REVERSE) == 4  # ... but only the first wave was sent
            rows = await _reversal_rows(agent, txn_ids)
            assert sorted(r.attempts for r in rows) == [0] * 8 + [1] * 4
            assert all(r.state == RowState.PENDING and r.unanswered == 0 for r in rows)
            assert [r.last_status for r in rows if r.attempts] == [503] * 4
            pace = agent.forwarder.pace
            assert pace.failures == 1 and pace.hold_until - time.monotonic() > 50
            assert await agent.forwarder.run_once() == 0  # held: 8 rows due, none sent
            assert sw.count(Op.VOUCHER_REVERSE) == 4
            pace.hold_until = 0.0  # the pause is over
            assert [await agent.forwarder.run_once() for _ in range(5)] == [1, 2, 4, 1, 0]
            assert sw.count(Op.VOUCHER_REVERSE) == 12
            rows = await _reversal_rows(agent, txn_ids)
            assert sum(r.state == RowState.DELIVERED for r in rows) == 8
            assert pace.failures == 0 and pace.window == 9  # one more for each answer


async def test_an_unreachable_switch_gets_one_wave_then_the_till_probes_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connection refused: the same, and the till's pause grows with each failed probe up to
    PROBE_PAUSE_MAX, while the rows that failed only because the switch was away keep a short
    back-off of their own."""
    from terminal_agent.core.forwarder import OVERLOAD_DOUBLINGS, PROBE_PAUSE_MAX

    monkeypatch.setattr(outbox_mod, "random", _Top)
    sw = HostileSwitch()
    await sw.__aenter__()
    try:
        cfg = _config(tmp_path, sw.url, backoff_initial=1.0, backoff_max=3600.0)
        async with Agent.open(cfg, password="pw") as agent:
            txn_ids = await _reversals_due(agent, sw, 12)
            await sw.__aexit__(None, None, None)  # the switch goes away: connection refused
            pace = agent.forwarder.pace
            assert await agent.forwarder.run_once() == 12
            rows = await _reversal_rows(agent, txn_ids)
            assert sorted(r.attempts for r in rows) == [0] * 8 + [1] * 4
            assert pace.failures == 1 and 0.5 < pace.hold_until - time.monotonic() <= 1.0
            pauses = []
            for _ in range(7):  # seven more probes, one row each (8 rows due)
                pace.hold_until = 0.0
                assert await agent.forwarder.run_once() == 1
                pauses.append(round(pace.hold_until - time.monotonic()))
            assert pauses == [2, 4, 8, 16, 32, 60, 60]
            assert PROBE_PAUSE_MAX == 60.0
            rows = await _reversal_rows(agent, txn_ids)
            longest = max(r.next_attempt_at - time.time() for r in rows)
            assert longest <= 2 ** (OVERLOAD_DOUBLINGS - 1) + 1  # not the 3600 s of backoff_max
    finally:
        await sw.__aexit__(None, None, None)


async def test_retry_after_holds_the_whole_till(tmp_path: Path) -> None:
    """A 503 with Retry-After: 120 on one reversal holds the others too (one in flight here)."""
    async with HostileSwitch() as sw:
        async with Agent.open(_config(tmp_path, sw.url, concurrency=1), password="pw") as agent:
            await _reversals_due(agent, sw, 3)
            sw.script(Op.VOUCHER_REVERSE, Act(status=503, process=False, body=BUSY.body,
                                              headers={"Retry-After": "120"}))
            assert await agent.forwarder.run_once() == 3
            assert sw.count(Op.VOUCHER_REVERSE) == 1
            assert agent.forwarder.pace.hold_until - time.monotonic() > 110
            assert await agent.forwarder.run_once() == 0


async def test_a_503_naming_the_upstream_is_the_rows_trouble_not_the_tills(
        tmp_path: Path) -> None:
    """503 UPSTREAM_UNAVAILABLE says the provider behind the switch is away: that row backs off,
    the others still go out at once."""
    async with HostileSwitch() as sw:
        async with Agent.open(_config(tmp_path, sw.url, concurrency=1), password="pw") as agent:
            await _reversals_due(agent, sw, 3)
            sw.script(Op.VOUCHER_REVERSE, Act(status=503, process=False,
                                              body=error("UPSTREAM_UNAVAILABLE", "down")))
            assert await agent.forwarder.run_once() == 3
            assert sw.count(Op.VOUCHER_REVERSE) == 3
            assert agent.forwarder.pace.failures == 0


async def test_a_healthy_switch_gets_the_whole_batch_at_once(tmp_path: Path) -> None:
    async with HostileSwitch() as sw:
        async with Agent.open(_config(tmp_path, sw.url), password="pw") as agent:
            txn_ids = await _reversals_due(agent, sw, 20)
            assert await agent.forwarder.run_once() == 20
            rows = await _reversal_rows(agent, txn_ids)
            assert all(r.state == RowState.DELIVERED for r in rows)
            assert agent.forwarder.pace.window == agent.forwarder.cfg.batch_size


@pytest.mark.parametrize("outage_min", [5.0, 30.0])
def test_a_chain_coming_back_stays_within_twice_its_average(outage_min: float) -> None:
    """bench/herd.py's model, small and seeded (so a property of the code, not a timing):
    100 tills x 100 advices against a switch taking 20 a second. With each row backing off on
    its own the offered load peaked at 4.5x (5 min) and 2.9x (30 min) its average."""
    from bench import herd

    r = herd.simulate(herd.Scenario(tills=100, backlog=100, capacity=20.0,
                                    outage_min=outage_min))
    assert r["undelivered"] == 0
    assert r["peak_offered"] <= 2 * r["avg_offered"], r
    assert r["drain_s"] < 600, r  # 10,000 advices at 20/s is 500 s at best (it was 756-864 s)
