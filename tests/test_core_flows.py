"""Core decisions against an in-memory switch: write-ahead, advices, forwarder, recovery."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.core.forwarder import ForwarderLock
from terminal_agent.core.journal import short_reference
from terminal_agent.core.outbox import AdviceKind, RowState
from terminal_agent.core.states import State
from terminal_agent.errors import StoreFull, ValidationError
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.operations import Op

from .conftest import make_config
from .mockswitch import error

PRODUCT = Product(product_id="VODA10", name="Vodacom R10")
TOPUP = Product(product_id="MTNDT", name="MTN top-up", is_direct_topup=True)


async def drain(agent: Agent, rounds: int = 50) -> None:
    for _ in range(rounds):
        if not await agent.forwarder.run_once():
            counts = await agent.outbox.counts()
            if counts.pending == 0:
                return
            await asyncio.sleep(0.02)


async def test_voucher_sale_tender_confirms(agent, switch):
    result = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    assert result.verdict == "approved" and result.data["pin"] == "1234567890123456"
    txn = await agent.journal.get(result.txn_id)
    assert txn.state == State.APPROVED and txn.decision_deadline is not None
    # the reversal was written before the request went out, and is held
    rows = await agent.outbox.for_txn(result.txn_id)
    assert [(r.kind, r.state) for r in rows] == [("reversal", RowState.HELD)]
    await agent.vouchers.tender(result.txn_id, "c1")
    await drain(agent)
    assert (await agent.journal.get(result.txn_id)).state == State.CONFIRMED
    confirmation = switch.sent(Op.VOUCHER_CONFIRM)[0].json()
    assert confirmation["requestId"] == result.txn_id
    assert "pin" not in confirmation.get("voucher", {})
    assert confirmation["tenders"][0]["amount"]["amount"] == 1000
    assert not switch.sent(Op.VOUCHER_REVERSE)


async def test_cancelled_tender_reverses_with_cancelled(agent, switch):
    result = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    cancelled = await agent.vouchers.cancel(result.txn_id, "c1")
    assert "reverses the voucher" in cancelled.message
    await drain(agent)
    assert (await agent.journal.get(result.txn_id)).state == State.REVERSED
    reversal = switch.sent(Op.VOUCHER_REVERSE)[0].json()
    assert reversal["reversalReason"] == "CANCELLED" and reversal["requestId"] == result.txn_id
    assert not switch.sent(Op.VOUCHER_CONFIRM)


@pytest.mark.parametrize(("answer", "reason"), [
    ((500, b"boom"), "RESPONSE_NOT_FINAL"),
    ((504, error("UPSTREAM_UNAVAILABLE")), "RESPONSE_NOT_FINAL"),
    (httpx.ReadTimeout("slow"), "TIMEOUT"),
    ((201, b"{not json"), "RESPONSE_NOT_FINAL")])
async def test_no_definite_answer_reverses(agent, switch, answer, reason):
    switch.answer(Op.VOUCHER_PROVISION, answer)
    result = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    assert result.verdict == "unknown" and "Do not hand over" in result.message
    await drain(agent)
    assert (await agent.journal.get(result.txn_id)).state == State.REVERSED
    # TIMEOUT when no answer arrived, RESPONSE_NOT_FINAL after one that was not final
    assert switch.sent(Op.VOUCHER_REVERSE)[0].json()["reversalReason"] == reason


async def test_decline_needs_no_advice(agent, switch):
    switch.answer(Op.VOUCHER_PROVISION, (400, error("OUT_OF_STOCK")))
    result = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    assert result.verdict == "declined" and "out of stock" in result.message
    assert (await agent.outbox.counts()).pending == 0
    assert [r.state for r in await agent.outbox.for_txn(result.txn_id)] == [RowState.VOID]


async def test_bad_amount_is_refused_before_anything_is_stored(agent, switch):
    with pytest.raises(ValidationError):
        await agent.vouchers.sell(PRODUCT, 0, cashier="c1")
    assert switch.seen == [] and await agent.journal.history() == []


async def test_advice_retried_with_identical_id_and_body(agent, switch):
    switch.answer(Op.VOUCHER_REVERSE, (503, b"busy"), httpx.ConnectError("down"), (202, {}))
    switch.answer(Op.VOUCHER_PROVISION, (504, b""))
    result = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await drain(agent)
    sent = switch.sent(Op.VOUCHER_REVERSE)
    assert len(sent) == 3 and len({s.body for s in sent}) == 1 and len({s.path for s in sent}) == 1
    assert (await agent.journal.get(result.txn_id)).state == State.REVERSED


async def test_reversal_404_counts_as_done_and_duplicate_as_delivered(agent, switch):
    """A DUPLICATE_RECORD is delivered only on a repeat after an unknown outcome."""
    switch.answer(Op.VOUCHER_PROVISION, (504, b""), (504, b""))
    switch.answer(Op.VOUCHER_REVERSE, (404, error("UNABLE_TO_LOCATE_RECORD")),
                  httpx.ReadTimeout("slow"), (400, error("DUPLICATE_RECORD")))
    a = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await drain(agent)
    b = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await drain(agent)
    assert (await agent.journal.get(a.txn_id)).state == State.REVERSED
    assert (await agent.journal.get(b.txn_id)).state == State.REVERSED


async def test_duplicate_on_a_first_send_is_parked(agent, switch):
    switch.answer(Op.VOUCHER_PROVISION, (504, b""))
    switch.answer(Op.VOUCHER_REVERSE, (400, error("DUPLICATE_RECORD")))
    a = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await drain(agent)
    assert (await agent.journal.get(a.txn_id)).state == State.REVERSING
    assert (await agent.outbox.counts()).parked == 1


async def test_confirmation_404_is_a_failed_confirmation(agent, switch):
    switch.answer(Op.VOUCHER_CONFIRM, (404, error("UNABLE_TO_LOCATE_RECORD")))
    result = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await agent.vouchers.tender(result.txn_id, "c1")
    await drain(agent)
    assert (await agent.journal.get(result.txn_id)).state == State.CONFIRM_FAILED
    assert (await agent.outbox.counts()).parked == 1


async def test_format_error_parks_and_auth_failures_park_after_limit(agent, switch):
    switch.answer(Op.VOUCHER_PROVISION, (504, b""), (504, b""))
    switch.answer(Op.VOUCHER_REVERSE, (400, error("FORMAT_ERROR")), *[(401, b"")] * 5)
    first = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    second = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await drain(agent, rounds=200)
    counts = await agent.outbox.counts()
    assert counts.parked == 2 and counts.pending == 0
    assert len(switch.sent(Op.VOUCHER_REVERSE)) == 1 + 5
    for txn_id in (first.txn_id, second.txn_id):
        assert (await agent.journal.get(txn_id)).state == State.REVERSING
    # a supervisor's "retry now" puts a parked advice back in the queue
    parked = await agent.outbox.rows((RowState.PARKED,))
    assert await agent.outbox.retry_now(parked[0].id)
    await drain(agent)
    assert (await agent.outbox.counts()).parked == 1


async def test_topup_unknown_goes_to_status_lookups_never_reversal(agent, switch):
    switch.answer(Op.PURCHASE, httpx.ReadTimeout("slow"))
    switch.answer(Op.PURCHASE_STATUS, (400, error("OUTCOME_UNKNOWN")), (504, b""),
                  lambda sw: (200, sw.sent(Op.PURCHASE)[0].json()))
    result = await agent.topups.purchase(TOPUP, "082 123 4567", 2900, cashier="c1")
    assert result.verdict == "pending" and result.state == State.STATUS_PENDING
    await drain(agent, rounds=200)
    assert (await agent.journal.get(result.txn_id)).state == State.COMPLETED
    assert len(switch.sent(Op.PURCHASE_STATUS)) == 3
    assert switch.sent(Op.PURCHASE_STATUS)[0].query == {"originalMsgId": result.txn_id}
    assert not switch.sent(Op.PURCHASE_REVERSE)


async def test_topup_decline_means_refund_due(agent, switch):
    switch.answer(Op.PURCHASE, (400, error("INVALID_MSISDN")))
    result = await agent.topups.purchase(TOPUP, "0821234567", 2900, cashier="c1")
    assert result.state == State.REFUND_DUE and "Refund" in result.message
    done = await agent.topups.refunded(result.txn_id, "c1")
    assert done.state == State.REFUNDED


async def test_topup_tender_is_recorded_before_the_purchase(agent, switch):
    switch.answer(Op.PURCHASE, lambda sw: (201, sw.seen[-1].json()))
    seen_state = {}

    orig = switch._handle

    def spy(request):
        if request.url.path.endswith("/purchases"):
            import sqlite3

            con = sqlite3.connect(agent.store.path)
            seen_state["state"] = con.execute("SELECT state FROM transactions").fetchone()[0]
            con.close()
        return orig(request)

    switch._handle = spy  # type: ignore[method-assign]
    async with Agent.open(agent.config, password="pw",
                          transport=httpx.MockTransport(spy)) as other:
        await other.topups.purchase(TOPUP, "0821234567", 2900, cashier="c1")
    assert seen_state["state"] == State.TENDER_TAKEN


async def test_advices_of_one_transaction_go_in_order(agent, switch):
    # the first advice is refused twice; the second must wait for it
    result = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await agent.vouchers.tender(result.txn_id, "c1")
    txn = await agent.journal.get(result.txn_id)
    await agent.store.step(lambda db: agent.outbox.add(
        db, id="00000000-0000-4000-8000-000000000001", txn_id=txn.id, kind=AdviceKind.STATUS,
        op=Op.PURCHASE_STATUS.value, method="GET", path="/airtime/v5/purchases/status",
        query={"originalMsgId": txn.id}))
    switch.answer(Op.VOUCHER_CONFIRM, (503, b""), (503, b""), (202, {}))
    await drain(agent, rounds=200)
    ops = [s.op for s in switch.seen if s.op != Op.VOUCHER_PROVISION]
    assert ops == [Op.VOUCHER_CONFIRM] * 3 + [Op.PURCHASE_STATUS]


async def test_recovery_releases_reversals_and_lookups(tmp_path, switch):
    cfg = make_config(tmp_path)
    switch.answer(Op.VOUCHER_PROVISION, httpx.ReadTimeout("x"))
    async with Agent.open(cfg, password="", transport=switch.transport()) as agent:
        sale = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
        # simulate a crash right after the write-ahead commit: put it back to PREPARED
        def crashed(db):
            db.execute("UPDATE transactions SET state='PREPARED' WHERE id=?", (sale.txn_id,))
            db.execute("UPDATE outbox SET state='held' WHERE txn_id=?", (sale.txn_id,))

        await agent.store.step(crashed)
        approved = await agent.vouchers.sell(PRODUCT, 500, cashier="c1")
        await agent.store.step(lambda db: db.execute(
            "UPDATE transactions SET decision_deadline=0 WHERE id=?", (approved.txn_id,)))
    async with Agent.open(cfg, password="", transport=switch.transport()) as agent:
        report = await agent.recovery.run()
        assert report.reversed == [sale.txn_id] and report.expired == [approved.txn_id]
        await drain(agent)
        assert (await agent.journal.get(sale.txn_id)).state == State.REVERSED
        assert (await agent.journal.get(approved.txn_id)).state == State.REVERSED


async def test_one_forwarder_per_database(tmp_path):
    a, b = ForwarderLock(tmp_path / "x.db"), ForwarderLock(tmp_path / "x.db")
    assert a.acquire()
    assert not b.acquire() and b.held_elsewhere()
    a.release()
    assert b.acquire()
    b.release()


async def test_full_disk_refuses_new_sales_and_keeps_stored_ones(agent, switch):
    first = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await agent.store.set_page_limit(await agent.store.page_count())
    with pytest.raises(StoreFull):
        for _ in range(200):
            await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    sent_before = len(switch.sent(Op.VOUCHER_PROVISION))
    # nothing was sent for the refused sale; the stored one is intact and can still be tendered
    assert (await agent.journal.get(first.txn_id)).state == State.APPROVED
    await agent.store.set_page_limit(1_000_000)
    await agent.vouchers.tender(first.txn_id, "c1")
    await drain(agent)
    assert (await agent.journal.get(first.txn_id)).state == State.CONFIRMED
    assert len(switch.sent(Op.VOUCHER_PROVISION)) == sent_before


@pytest.mark.parametrize("call,field", [
    (lambda a: a.topups.purchase(TOPUP, "12345", 2900, cashier="c1"), "msisdn"),
    (lambda a: a.topups.purchase(TOPUP, "0821234567", -5, cashier="c1"), "amount"),
    (lambda a: a.vouchers.sell(Product(product_id="X" * 30), 1000, cashier="c1"),
     "product.productId"),
    (lambda a: a.suv.redeem("DV5000", 0, cashier="c1"), "amount"),
])
async def test_bad_input_names_the_field_and_sends_nothing(agent, switch, call, field):
    with pytest.raises(ValidationError) as err:
        await call(agent)
    assert err.value.field == field
    assert switch.seen == [] and await agent.journal.history() == []


async def test_supervisor_resolves_parked_advices_with_a_note(agent, switch):
    switch.answer(Op.VOUCHER_CONFIRM, (404, error("UNABLE_TO_LOCATE_RECORD")))
    switch.answer(Op.VOUCHER_PROVISION, lambda sw: (
        201, {**sw.seen[-1].json(), "voucher": {"serialNumber": "S1", "pin": "1"}}), (504, b""))
    switch.answer(Op.VOUCHER_REVERSE, (400, error("FORMAT_ERROR")))
    sold = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await agent.vouchers.tender(sold.txn_id, "c1")
    lost = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await drain(agent)
    parked = {r.txn_id: r for r in await agent.outbox.rows((RowState.PARKED,))}
    assert set(parked) == {sold.txn_id, lost.txn_id}
    with pytest.raises(ValidationError):
        await agent.outbox.resolve(parked[sold.txn_id].id, note=" ", actor="9001")
    for txn_id, row in parked.items():
        assert await agent.outbox.resolve(row.id, note="settled by phone, ref 42", actor="9001")
        assert (await agent.journal.get(txn_id)).state == State.RESOLVED
        notes = [e["note"] for e in await agent.journal.timeline(txn_id)]
        assert any("settled by phone" in (n or "") and "9001" in (n or "") for n in notes)
    assert not await agent.outbox.resolve(parked[sold.txn_id].id, note="again", actor="9001")
    counts = await agent.outbox.counts()
    assert counts.parked == 0 and counts.pending == 0
    # finding: "Resolving a parked advice writes no audit row"
    audit = await agent.store.fetchall("SELECT actor, action, subject FROM audit ORDER BY id")
    assert sorted(tuple(a) for a in audit) == sorted(
        ("9001", "advice-resolved", short_reference(t)) for t in parked)


async def test_max_rate_paces_the_drain(tmp_path, switch):
    """[forwarder] max_rate: a token bucket of at most a second's worth of rows."""
    cfg = make_config(tmp_path, extra="")
    import msgspec

    limited = msgspec.structs.replace(cfg, forwarder=msgspec.structs.replace(cfg.forwarder,
                                                                             max_rate=2.0))
    async with Agent.open(limited, password="pw", transport=switch.transport()) as agent:
        f = agent.forwarder
        assert f.allowance(now=100.0) == 2  # a full bucket: one second's worth
        f.spend(2)
        assert f.allowance(now=100.2) == 0
        assert f.allowance(now=100.6) == 1  # 2 per second come back
        assert f.allowance(now=200.0) == 2  # never more than a second's worth
        switch.answer(Op.VOUCHER_PROVISION, *[(504, b"")] * 3)
        for _ in range(3):
            await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
        f._tokens_at = None  # a fresh bucket on the real clock
        assert await f.run_once() == 2  # only two of the three due reversals now
        assert await f.run_once() == 0  # and none until the allowance refills
    async with Agent.open(cfg, password="pw", transport=switch.transport()) as agent:
        assert agent.forwarder.allowance() == cfg.forwarder.batch_size


async def test_the_facades_tender_takes_the_kind_and_refuses_another(agent, switch):
    """The tender dialog passes the kind it has (one read of the row less); a kind that is not
    the transaction's is refused by the flow, and nothing moves."""
    from terminal_agent.core.flows.base import FlowError
    from terminal_agent.core.journal import Kind

    sale = await agent.sell_voucher("VODA10", 1000, "c1")
    for wrong in (Kind.MT_PAYOUT, Kind.SUV_REDEEM, Kind.MT_SEND):
        with pytest.raises(FlowError):
            await agent.tender(sale.txn_id, "c1", kind=wrong)
    with pytest.raises(FlowError):
        await agent.cancel(sale.txn_id, "c1", kind=Kind.SUV_REDEEM)
    assert (await agent.transaction(sale.txn_id)).state == State.APPROVED
    assert not [r for r in await agent.advices(sale.txn_id) if r.state == RowState.PENDING
                and r.kind == AdviceKind.CONFIRMATION]
    done = await agent.tender(sale.txn_id, "c1", kind=Kind.VOUCHER_SALE)
    assert done.state == State.TENDERED


class Broken(RuntimeError):
    """What a step that cannot record the switch's answer raises (seen: the vault's cipher
    library missing from a till's install, found only when the first PIN was sealed)."""


def break_answer_step(agent: Agent, monkeypatch: pytest.MonkeyPatch, into: State) -> None:
    real = agent.journal.transition

    def transition(db, txn_id, state, **kw):  # type: ignore[no-untyped-def]
        if state == into:
            raise Broken("the answer cannot be recorded")
        return real(db, txn_id, state, **kw)

    monkeypatch.setattr(agent.journal, "transition", transition)


async def test_an_answer_that_cannot_be_recorded_reverses_the_sale_at_once(agent, switch,
                                                                          monkeypatch):
    """The switch approved, the step recording it failed: the sale must not wait in PREPARED,
    owned by a process that lives on (recovery only takes orphans), until the till restarts;
    its held reversal goes out now, as recovery would send it, and the caller hears the
    error."""
    break_answer_step(agent, monkeypatch, State.APPROVED)
    with pytest.raises(Broken):
        await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    monkeypatch.undo()
    (txn_id,) = [r[0] for r in await agent.store.fetchall("SELECT id FROM transactions")]
    assert (await agent.journal.get(txn_id)).state == State.REVERSING
    await drain(agent)
    assert (await agent.journal.get(txn_id)).state == State.REVERSED
    assert switch.sent(Op.VOUCHER_REVERSE)[0].json()["reversalReason"] == "TIMEOUT"
    assert not switch.sent(Op.VOUCHER_CONFIRM)


async def test_a_top_up_answer_that_cannot_be_recorded_is_looked_up_never_reversed(
        agent, switch, monkeypatch):
    break_answer_step(agent, monkeypatch, State.COMPLETED)
    with pytest.raises(Broken):
        await agent.topups.purchase(TOPUP, "0821234567", 2900, cashier="c1")
    monkeypatch.undo()
    (txn_id,) = [r[0] for r in await agent.store.fetchall("SELECT id FROM transactions")]
    assert (await agent.journal.get(txn_id)).state == State.STATUS_PENDING
    rows = await agent.outbox.for_txn(txn_id)
    assert [(r.kind, r.state) for r in rows] == [("status", RowState.PENDING)]
