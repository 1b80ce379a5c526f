"""The sale prints itself: the step that records the tender, payout or completion commits the
receipt (rendered from the stored answer) and the cash-drawer kick with it, in every flow and
in whichever process makes the step; nothing prints from a screen. Against the real simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bench.workload import CASHIER, MUKURU, RECIPIENT, SENDER, TOPUP, VOUCHER
from devices.printers import DummyPrinter, drawer_args
from terminal_agent.core.agent import Agent
from terminal_agent.core.printing import DRAWER, PrintJob, PrintQueue, UnknownReceipt
from terminal_agent.core.states import State
from terminal_agent.sim import SimServer

from .conftest import make_config


@pytest.fixture
async def agent(tmp_path: Path, sim: SimServer) -> AsyncIterator[Agent]:
    sim.reset()
    cfg = make_config(tmp_path, sim.url, extra="columns = 42\ndrawer_pin = 5\n")
    async with Agent.open(cfg, password="") as a:
        a.money.resend_pause = a.money.payouts.resend_pause = a.suv.resend_pause = 0.0
        yield a


async def jobs(agent: Agent, txn_id: str) -> list[PrintJob]:
    """The transaction's jobs as the print queue reads them (a PIN receipt is stored sealed)."""
    rows = await agent.store.fetchall("SELECT * FROM print_jobs WHERE txn_id=? ORDER BY id",
                                      (txn_id,))
    return [PrintJob.from_row(r, agent.store.vault) for r in rows]


async def drain(agent: Agent) -> None:
    for _ in range(300):
        await agent.forwarder.run_once()
        if (await agent.outbox.counts()).pending == 0:
            return
        await agent.store.fetchone("SELECT 1")
    raise AssertionError("outbox did not drain")


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


async def test_voucher_tender_commits_the_pin_slip_and_the_drawer_kick(agent: Agent) -> None:
    sale = await agent.vouchers.sell(VOUCHER, 1000, CASHIER)
    assert await jobs(agent, sale.txn_id) == []           # approved: nothing prints yet
    done = await agent.vouchers.tender(sale.txn_id, CASHIER)
    assert done.state == State.TENDERED
    kick, slip = await jobs(agent, sale.txn_id)            # both in the tender's own step
    assert kick.kind == DRAWER and drawer_args(kick.content) == (5, 100)
    assert slip.kind == "voucher_sale" and slip.contains_pin == 1
    assert slip.state == "pending" and slip.columns == 42
    pin = digits(sale.data["pin"])
    assert pin and pin in digits(slip.text)
    assert slip.reference == sale.reference


async def test_a_failed_print_job_write_leaves_the_sale_untendered(agent: Agent,
                                                                  monkeypatch) -> None:
    """One commit: if the print job cannot be written, neither is the confirmation."""
    import terminal_agent.core.slips as slips

    sale = await agent.vouchers.sell(VOUCHER, 1000, CASHIER)

    def broken(db: Any, job: Any, now: float, vault: Any) -> int:
        raise OSError("disk gone")

    monkeypatch.setattr(slips, "enqueue", broken)
    with pytest.raises(OSError):
        await agent.vouchers.tender(sale.txn_id, CASHIER)
    assert (await agent.journal.get(sale.txn_id)).state == State.APPROVED
    assert [r.kind for r in await agent.outbox.for_txn(sale.txn_id)] == ["reversal"]  # held


async def test_a_receipt_that_cannot_be_rendered_never_stops_the_tender(agent: Agent,
                                                                        monkeypatch,
                                                                        caplog) -> None:
    import terminal_agent.core.slips as slips

    sale = await agent.vouchers.sell(VOUCHER, 1000, CASHIER)
    monkeypatch.setattr(slips, "render", lambda *a, **k: 1 / 0)
    done = await agent.vouchers.tender(sale.txn_id, CASHIER)
    assert done.state == State.TENDERED
    assert [j.kind for j in await jobs(agent, sale.txn_id)] == [DRAWER]
    assert "could not be rendered" in caplog.text and "ZeroDivision" in caplog.text
    monkeypatch.undo()  # a reprint renders it again from the stored answer
    queue = PrintQueue(agent.store, DummyPrinter(columns=42),
                       render_missing=lambda ref: agent.slips.render_missing(agent.journal, ref))
    copy = await queue.reprint(sale.reference, "9001")
    assert (await queue.job(copy)).state == "printed"  # type: ignore[union-attr]


async def test_every_paid_kind_has_its_receipt(agent: Agent) -> None:
    order = await agent.money.create_order(10000, 1000, SENDER, RECIPIENT, CASHIER,
                                           receiver=MUKURU)
    await agent.money.tender(order.txn_id, CASHIER)
    assert [j.kind for j in await jobs(agent, order.txn_id)] == [DRAWER, "mt_send"]
    await drain(agent)
    ref = agent.money.describe_order(await agent.journal.get(order.txn_id)).data
    payout = await agent.money.redeem(str(ref["order_redeem_ref"]), 10000, CASHIER,
                                      receiver=MUKURU)
    await agent.money.paid_out(payout.txn_id, CASHIER)
    assert [j.kind for j in await jobs(agent, payout.txn_id)] == [DRAWER, "mt_payout"]
    redemption = await agent.suv.redeem("DV5000", 2000, CASHIER)
    await agent.suv.complete(redemption.txn_id, CASHIER)
    assert [j.kind for j in await jobs(agent, redemption.txn_id)] == ["suv_redeem"]  # no cash
    topup = await agent.topups.purchase(TOPUP, "0821234567", 2000, CASHIER)
    assert topup.state == State.COMPLETED
    assert [j.kind for j in await jobs(agent, topup.txn_id)] == [DRAWER, "topup"]


async def test_topup_settled_by_a_status_lookup_prints_from_the_forwarders_step(
        agent: Agent) -> None:
    pending = await agent.topups.purchase(TOPUP, "0821230404", 2000, CASHIER)  # sim: unknown
    assert pending.state == State.STATUS_PENDING
    assert [j.kind for j in await jobs(agent, pending.txn_id)] == [DRAWER]  # tender taken
    await drain(agent)  # the forwarder's status lookups settle it: COMPLETED in its batch step
    assert (await agent.journal.get(pending.txn_id)).state == State.COMPLETED
    assert [j.kind for j in await jobs(agent, pending.txn_id)] == [DRAWER, "topup"]


async def test_failed_topup_prints_the_refund_slip_and_the_refund_opens_the_drawer(
        agent: Agent) -> None:
    failed = await agent.topups.purchase(TOPUP, "27000000000", 2000, CASHIER)
    assert failed.state == State.REFUND_DUE
    kinds = [j.kind for j in await jobs(agent, failed.txn_id)]
    assert kinds == [DRAWER, "topup"]
    assert "REFUND" in (await jobs(agent, failed.txn_id))[1].text.upper()
    await agent.topups.refunded(failed.txn_id, "9001")
    assert [j.kind for j in await jobs(agent, failed.txn_id)] == [DRAWER, "topup", DRAWER]


async def test_no_drawer_kick_when_the_till_has_none(tmp_path: Path, sim: SimServer) -> None:
    cfg = make_config(tmp_path, sim.url, extra="open_drawer = false\n")
    async with Agent.open(cfg, password="") as agent:
        sale = await agent.vouchers.sell(VOUCHER, 1000, CASHIER)
        await agent.vouchers.tender(sale.txn_id, CASHIER)
        assert [j.kind for j in await jobs(agent, sale.txn_id)] == ["voucher_sale"]


async def test_the_pump_kicks_the_drawer_then_prints_and_reprints_never_kick(
        agent: Agent) -> None:
    printer = DummyPrinter(columns=42)
    queue = PrintQueue(agent.store, printer)
    sale = await agent.vouchers.sell(VOUCHER, 1000, CASHIER)
    await agent.vouchers.tender(sale.txn_id, CASHIER)
    result = await queue.pump()
    assert result.all_printed and [label for label, _ in printer.jobs] == ["drawer",
                                                                          sale.reference]
    await queue.reprint(sale.reference, "9001")
    assert [label for label, _ in printer.jobs][-1] == f"{sale.reference}-copy1"
    with pytest.raises(UnknownReceipt):
        await queue.reprint("NOSUCHREF", "9001")
