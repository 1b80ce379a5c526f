"""Cash-up (core/cashup.py): per-cashier cash in and out, fees apart, X at any time, Z closes
the shift and is kept (issue 16, item 11). Real flows against the simulator on 127.0.0.1."""

from __future__ import annotations

import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.core.cashup import CashUps
from terminal_agent.core.catalogue import TOPUPS, VOUCHERS
from terminal_agent.protocol.common import Institution
from terminal_agent.protocol.moneytransfer import PersonalDetails
from tests.conftest import make_config

MUKURU = Institution(id="30000001", name="Mukuru Money Transfer")
SENDER = PersonalDetails(first_name="Thandiwe", last_name="Nkosi", id_number="9001015009087",
                         contact_number="27821234567")
RECIPIENT = PersonalDetails(first_name="Tendai", last_name="Moyo", contact_number="27841234567")


async def product(agent: Agent, service: str, name: str):
    offer = await agent.catalogue.offer(service)
    return next(p for p in offer.products if p.name == name)


@pytest.fixture
async def agent(sim, tmp_path):
    sim.reset()
    async with Agent.open(make_config(tmp_path, sim.url), password="") as a:
        a.money.resend_pause = a.money.payouts.resend_pause = 0.0
        yield a


async def test_cash_per_cashier_fees_apart_x_then_z(agent):
    cashups = CashUps(agent.store, agent.journal.clock)
    voda29 = await product(agent, VOUCHERS, "Vodacom R29 Airtime")
    sale = await agent.sell_voucher(voda29, 2900, "1001")
    await agent.vouchers.tender(sale.txn_id, "1001")                    # A: +29.00
    order = await agent.money.create_order(50000, 1500, SENDER, RECIPIENT, "1002",
                                           receiver=MUKURU)
    await agent.money.tender(order.txn_id, "1002")                      # B: +500 +15 fee
    payout = await agent.money.redeem("48203917562038174502", 120000, "1001", receiver=MUKURU)
    await agent.money.paid_out(payout.txn_id, "1001")                   # A: -1200.00
    topup = await product(agent, TOPUPS, "Vodacom Airtime Direct Top-up")
    refused = await agent.top_up(topup, "27000000000", 5000, "1002")   # B: +50 ...
    assert refused.state.value == "REFUND_DUE"
    await agent.topups.refunded(refused.txn_id, "9001")                 # ... and -50 (to B)
    open_sale = await agent.sell_voucher(voda29, 2900, "1001")         # approved, not paid

    x = await cashups.x_report(printed_by="1001")
    who = {c.cashier: c for c in x.cashiers}
    assert set(who) == {"1001", "1002"}                                 # never the supervisor
    assert (who["1001"].cash_in, who["1001"].cash_out) == (2900, 120000)
    assert (who["1002"].cash_in, who["1002"].cash_out, who["1002"].fees) == (56500, 5000, 1500)
    assert x.totals.cash_in == 59400 and x.totals.cash_out == 125000 and x.totals.fees == 1500
    assert x.totals.net == 59400 - 125000 and x.awaiting_decision == 1 and not x.is_z
    assert (await cashups.x_report()).totals == x.totals                # X changes nothing

    z = await cashups.close_shift("9001")
    assert z.number == 1 and z.closed_by == "9001" and z.totals == x.totals
    assert (await cashups.z_report(1)) == z                             # kept as closed
    assert [c.number for c in await cashups.closed()] == [1]
    audit = await agent.store.fetchall("SELECT actor, action, subject FROM audit"
                                       " WHERE action='shift-closed'")
    assert [tuple(r) for r in audit] == [("9001", "shift-closed", "Z1")]

    # the next shift starts empty; a sale approved before the close and paid after it counts
    # in the shift it was paid in
    await agent.vouchers.tender(open_sale.txn_id, "1003")
    after = await cashups.x_report()
    assert [(c.cashier, c.cash_in) for c in after.cashiers] == [("1003", 2900)]
    assert after.opened_at == z.closed_at
    z2 = await cashups.close_shift("9001")
    assert z2.number == 2 and z2.totals.cash_in == 2900
