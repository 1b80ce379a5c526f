"""Money transfer against the real simulator on 127.0.0.1 with real SQLite: send money, pay out,
admin requests; timeouts come from the simulator's fault injection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from terminal_agent.config import AgentConfig
from terminal_agent.core.agent import Agent
from terminal_agent.core.flows.base import FlowError
from terminal_agent.core.outbox import RowState
from terminal_agent.core.states import State
from terminal_agent.errors import ValidationError
from terminal_agent.protocol.common import EncryptedPin, Institution
from terminal_agent.protocol.moneytransfer import PersonalDetails
from terminal_agent.protocol.operations import Op
from terminal_agent.sim import SimServer
from tests.conftest import make_config
from tests.simharness import SimHarness

MUKURU = Institution(id="30000001", name="Mukuru Money Transfer")
SETTLEMENT = Institution(id="60000001", name="Electrum Sim Settlement")
PIN = EncryptedPin(pin_block="0123456789ABCDEF")
SENDER_ID = "9001015009087"  # a demo customer of the simulator
SENDER = PersonalDetails(first_name="Thandiwe", last_name="Nkosi", id_number=SENDER_ID,
                         id_type="NATIONAL_ID", id_country_code="ZA",
                         contact_number="27821234567")
RECIPIENT = PersonalDetails(first_name="Tendai", last_name="Moyo", contact_number="27841234567")
DEMO_ORDER = "48203917562038174501"      # UNREDEEMED, R500.00, no PIN
DEMO_REDEEMED = "48203917562038174503"


# -- harness -----------------------------------------------------------------------------------


class Harness(SimHarness):
    def __init__(self, agent: Agent, url: str) -> None:
        super().__init__(agent, url)
        self.money = agent.money


async def open_harness(sim: SimServer, cfg: AgentConfig) -> AsyncIterator[Harness]:
    sim.reset()
    async with Agent.open(cfg, password="") as agent:
        agent.money.resend_pause = agent.money.payouts.resend_pause = 0.0
        yield Harness(agent, sim.url)
    sim.clear_faults()


@pytest.fixture
async def h(sim: SimServer, tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in open_harness(sim, make_config(tmp_path, sim.url, read_timeout=0.5)):
        yield harness


async def send(h: Harness, amount: int = 20000, fee: int = 1500, **kw: Any):
    return await h.money.create_order(amount, fee, SENDER, RECIPIENT, "alice", receiver=MUKURU,
                                      settlement_entity=SETTLEMENT, pin=PIN, **kw)


# -- send money --------------------------------------------------------------------------------


async def test_order_approved_then_cash_then_confirmed(h: Harness) -> None:
    result = await send(h)
    assert result.approved and result.state == State.APPROVED
    assert result.data["order_redeem_ref"] and result.data["total"] == 21500
    assert result.data["recipient_name"] == "Tendai Moyo"
    txn = await h.agent.journal.get(result.txn_id)
    assert txn.decision_deadline is not None          # not tendered in time → reversed
    tendered = await h.money.tender(result.txn_id, "alice")
    assert tendered.state == State.TENDERED and tendered.data["order_redeem_ref"]
    await h.drain()
    assert await h.state(result.txn_id) == State.CONFIRMED
    entry = h.ledger(result.txn_id)
    assert entry["final"] == "confirmed"
    assert [a["kind"] for a in entry["advices"]] == ["confirmation"]
    with pytest.raises(FlowError):
        await h.money.cancel(result.txn_id, "sup")     # one final advice per original


async def test_order_declined_needs_no_advice(h: Harness) -> None:
    result = await send(h, amount=20013)               # the simulator declines *13 cents
    assert result.verdict == "declined" and result.state == State.DECLINED
    assert result.error_type == "TRANSACTION_DECLINED"
    assert "declined" in result.message.lower()
    rows = await h.agent.outbox.for_txn(result.txn_id)
    assert [r.state for r in rows] == [RowState.VOID]
    assert h.ledger(result.txn_id)["final"] == "declined"
    with pytest.raises(FlowError):
        await h.money.tender(result.txn_id, "alice")


async def test_supervisor_cancel_reverses_the_order(h: Harness) -> None:
    result = await send(h)
    with pytest.raises(ValidationError):
        await h.money.cancel(result.txn_id, " ")
    cancelled = await h.money.cancel(result.txn_id, "supervisor-bob")
    assert cancelled.verdict == "cancelled" and cancelled.state == State.REVERSING
    await h.drain()
    assert await h.state(result.txn_id) == State.REVERSED
    entry = h.ledger(result.txn_id)
    assert entry["final"] == "reversed" and entry["advices"][0]["kind"] == "reversal"
    rows = await h.agent.outbox.for_txn(result.txn_id)
    reversal = json.loads([r for r in rows if r.state == RowState.DELIVERED][0].body or b"{}")
    assert reversal["reversalReason"] == "CANCELLED" and reversal["requestId"] == result.txn_id
    timeline = await h.agent.journal.timeline(result.txn_id)
    assert any(row["actor"] == "supervisor-bob" for row in timeline)


async def test_timeout_reverses_then_retry_is_a_new_order(h: Harness) -> None:
    h.fault(op="MT_ORDER_CREATE", type="hang", when="after", times=1)
    result = await send(h)
    assert result.verdict == "unknown" and result.state == State.REVERSING
    assert "do not take the cash" in result.message.lower()
    retry = result.data["retry"]
    assert retry["original_txn_id"] == result.txn_id and retry["amount"] == 20000
    await h.drain()
    assert await h.state(result.txn_id) == State.REVERSED
    assert h.ledger(result.txn_id)["final"] == "reversed"   # the switch had it: now undone

    with pytest.raises(ValidationError, match="enter it again"):  # the PIN block was not kept
        await h.money.retry_order(result.txn_id, "alice")
    again = await h.money.retry_order(result.txn_id, "alice", pin=PIN)
    assert again.approved and again.txn_id != result.txn_id
    new, old = (await h.agent.journal.get(again.txn_id), await h.agent.journal.get(result.txn_id))
    assert new.retry_of == result.txn_id and again.data["retry_of"] == result.txn_id
    sent_new, sent_old = json.loads(new.request), json.loads(old.request)
    assert sent_new["id"] != sent_old["id"]
    assert {k: v for k, v in sent_new.items() if k not in ("id", "time")} == \
        {k: v for k, v in sent_old.items() if k not in ("id", "time")}
    with pytest.raises(FlowError):
        await h.money.retry_order(result.txn_id, "alice", pin=PIN)  # only once
    with pytest.raises(FlowError):
        await h.money.retry_order(again.txn_id, "alice", pin=PIN)   # approved: nothing to retry
    await h.money.tender(again.txn_id, "alice")
    await h.drain()
    assert h.ledger(again.txn_id)["final"] == "confirmed"


async def test_no_answer_before_the_switch_saw_it_is_reversed_too(h: Harness) -> None:
    h.fault(op="MT_ORDER_CREATE", type="status", status=504, times=1)
    result = await send(h)
    assert result.state == State.REVERSING and "retry" in result.data
    await h.drain()                                    # reversal of an unknown original = done
    assert await h.state(result.txn_id) == State.REVERSED
    assert not h.known_to_sim(result.txn_id)


# -- pay out -----------------------------------------------------------------------------------


async def test_lookup_order(h: Harness) -> None:
    found = await h.money.lookup_order(DEMO_ORDER, MUKURU)
    assert found.ok and found.data["payable"] and found.data["amount"] == 50000
    redeemed = await h.money.lookup_order(DEMO_REDEEMED, MUKURU)
    assert redeemed.ok and not redeemed.data["payable"] and "do not pay out" in redeemed.message
    missing = await h.money.lookup_order("99999999999999999999", MUKURU)
    assert missing.verdict == "declined"


async def test_lookup_is_resent_until_answered_and_the_cashier_can_give_up(h: Harness) -> None:
    h.fault(op="MT_ORDER_LOOKUP", type="hang", times=1)
    found = await h.money.lookup_order(DEMO_ORDER, MUKURU)
    assert found.ok and found.attempts == 2
    h.fault(op="MT_ORDER_LOOKUP", type="status", status=503)
    with pytest.raises(TimeoutError):  # the UI's Esc cancels the call the same way
        await asyncio.wait_for(h.money.lookup_order(DEMO_ORDER, MUKURU), 1.0)
    h.money.payouts.resend_attempts = 3  # a caller may also bound it
    gave_up = await h.money.lookup_order(DEMO_ORDER, MUKURU)
    assert gave_up.verdict == "no_answer" and gave_up.attempts == 3
    assert "did not answer" in gave_up.message


async def test_order_paid_out_and_confirmed(h: Harness) -> None:
    order = await send(h)
    await h.money.tender(order.txn_id, "alice")
    await h.drain()
    ref = order.data["order_redeem_ref"]
    found = await h.money.lookup_order(ref, MUKURU)
    assert found.data["payable"] and found.data["amount"] == 20000

    payout = await h.money.redeem(ref, found.data["amount"], "carol", receiver=MUKURU, pin=PIN)
    assert payout.approved and payout.state == State.APPROVED
    assert payout.data["payout_amount"] == 20000 and payout.data["order_ref_last4"] == ref[-4:]
    txn = await h.agent.journal.get(payout.txn_id)
    assert txn.kind.value == "mt_payout" and txn.decision_deadline is None  # no auto reversal
    assert ref not in json.dumps(txn.detail)
    paid = await h.money.paid_out(payout.txn_id, "carol")
    assert paid.state == State.TENDERED
    await h.drain()
    assert await h.state(payout.txn_id) == State.CONFIRMED
    assert h.ledger(payout.txn_id)["final"] == "confirmed"
    assert not (await h.money.lookup_order(ref, MUKURU)).data["payable"]


async def test_wrong_pin_is_a_decline(h: Harness) -> None:
    order = await send(h)
    await h.money.tender(order.txn_id, "alice")
    await h.drain()
    wrong = await h.money.redeem(order.data["order_redeem_ref"], 20000, "carol", receiver=MUKURU,
                                 pin=EncryptedPin(pin_block="FEDCBA9876543210"))
    assert wrong.verdict == "declined" and wrong.error_type == "INCORRECT_PIN"
    assert "PIN" in wrong.message


async def test_payout_cancel_and_timeout_reverse_then_retry(h: Harness) -> None:
    approved = await h.money.redeem(DEMO_ORDER, 50000, "carol", receiver=MUKURU)
    cancelled = await h.money.cancel(approved.txn_id, "supervisor-bob")
    assert cancelled.state == State.REVERSING and "do not hand over cash" in cancelled.message.lower()
    await h.drain()
    assert h.ledger(approved.txn_id)["final"] == "reversed"

    h.fault(op="MT_REDEEM", type="hang", when="after", times=1)
    lost = await h.money.redeem(DEMO_ORDER, 50000, "carol", receiver=MUKURU)
    assert lost.verdict == "unknown" and lost.state == State.REVERSING
    assert lost.data["retry"]["original_txn_id"] == lost.txn_id
    await h.drain()
    assert await h.state(lost.txn_id) == State.REVERSED
    assert h.ledger(lost.txn_id)["final"] == "reversed"
    again = await h.money.retry_redeem(lost.txn_id, "carol")
    assert again.approved and again.txn_id != lost.txn_id
    assert (await h.agent.journal.get(again.txn_id)).retry_of == lost.txn_id


async def test_payout_deadline_only_when_configured(sim: SimServer, tmp_path: Path) -> None:
    cfg = make_config(tmp_path, sim.url)
    cfg = msgspec.structs.replace(
        cfg, forwarder=msgspec.structs.replace(cfg.forwarder, auto_reverse_payouts=True))
    async for h in open_harness(sim, cfg):
        payout = await h.money.redeem(DEMO_ORDER, 50000, "carol", receiver=MUKURU)
        assert (await h.agent.journal.get(payout.txn_id)).decision_deadline is not None


# -- admin -------------------------------------------------------------------------------------


async def test_fee_quote_and_exchange_rate(h: Harness) -> None:
    quote = await h.money.fee_quote(MUKURU, 20000)
    assert quote.ok and quote.data["fee"] == 1500 and quote.data["total"] == 21500
    assert quote.data["quote_id"]
    rate = await h.money.exchange_rate("840")
    assert rate.ok and 0 < rate.data["rate"] < 1


async def test_fee_quote_501_is_remembered_per_receiver(h: Harness) -> None:
    h.fault(op="MT_FEE_QUOTE", type="status", status=501, times=1)
    first = await h.money.fee_quote(MUKURU, 20000)
    assert first.verdict == "not_offered" and first.attempts == 1
    assert not await h.money.offers(MUKURU.id, Op.MT_FEE_QUOTE)
    assert await h.money.offers("30000002", Op.MT_FEE_QUOTE)
    second = await h.money.fee_quote(MUKURU, 20000)    # not asked again (the fault is spent)
    assert second.verdict == "not_offered" and second.attempts == 0
    other = await h.money.fee_quote(Institution(id="30000002", name="Hello Paisa"), 20000)
    assert other.ok
    await h.money.forget_not_offered(MUKURU.id)
    assert (await h.money.fee_quote(MUKURU, 20000)).ok


async def test_customer_info_and_upsert(h: Harness) -> None:
    info = await h.money.customer_info(MUKURU, SENDER_ID)
    assert info.ok and info.value.customer_profile_id == "1000000001"
    assert (await h.money.customer_info(MUKURU, "7001015009081")).verdict == "declined"
    new = PersonalDetails(first_name="Lerato", last_name="Mokoena", id_number="9202025009081",
                          id_type="NATIONAL_ID", id_country_code="ZA")
    created = await h.money.upsert_customer(MUKURU, new)
    assert created.ok and created.value.customer_profile_id
    again = await h.money.upsert_customer(MUKURU, new)  # no profile id: an update
    assert again.ok
    assert again.value.customer_profile_id == created.value.customer_profile_id
    updated = await h.money.upsert_customer(
        MUKURU, new, customer_profile_id=created.value.customer_profile_id)
    assert updated.ok


async def test_lost_upsert_answer_looks_the_customer_up_before_resending(h: Harness) -> None:
    h.fault(op="MT_CUSTOMER_UPSERT", type="hang", when="after", times=1)
    new = PersonalDetails(first_name="Ayanda", last_name="Zulu", id_number="9303035009082",
                          id_type="NATIONAL_ID", id_country_code="ZA")
    answer = await h.money.upsert_customer(MUKURU, new)
    assert answer.ok and answer.attempts == 2 and answer.value.customer_profile_id


# -- secrets -------------------------------------------------------------------------------------


async def test_pin_blocks_and_id_numbers_stay_out_of_detail_and_logs(
        h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="terminal_agent")
    order = await send(h)
    await h.money.tender(order.txn_id, "alice")
    h.fault(op="MT_ORDER_CREATE", type="status", status=500, times=1)
    lost = await send(h)
    await h.drain()
    for txn_id in (order.txn_id, lost.txn_id):
        txn = await h.agent.journal.get(txn_id)
        stored = json.dumps(txn.detail) + json.dumps(
            [dict(r) for r in await h.agent.journal.timeline(txn_id)])
        assert PIN.pin_block not in stored and SENDER_ID not in stored
    assert PIN.pin_block not in caplog.text and SENDER_ID not in caplog.text
