"""Airtime voucher sale through the cashier UI, against the simulator and real SQLite."""

from __future__ import annotations

import pytest

from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.server import SimServer
from tests.test_ui_support import agent_of, login, on, rows, screen_text, sees, till, until


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions()) as server:
        yield server


async def test_login_then_sell_voucher_tender_and_print(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        assert on(pilot, "HomeScreen")
        await sees(pilot, "Thandi (1001)")
        await pilot.press("f1")
        await until(pilot, lambda: on(pilot, "VoucherScreen"))
        await sees(pilot, "Vodacom R29 Airtime")
        await pilot.press("down", "enter")           # R29
        await sees(pilot, "Sell R 29.00")
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"), what="tender")
        assert "Collect R 29.00" in screen_text(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "OutcomeScreen"))
        await sees(pilot, "APPROVED")
        await sees(pilot, "Receipt printed")
        text = screen_text(pilot)
        assert "Voucher PIN" in text and "(on the printed slip)" in text  # masked once printed
        agent = agent_of(pilot)
        import json
        pin = json.loads((await rows(agent, "SELECT response FROM transactions"))[0]["response"]
                         )["voucher"]["pin"]
        assert pin not in text.replace(" ", "")        # nothing of it stays on the screen
        txns = await rows(agent, "SELECT state, amount, kind FROM transactions")
        assert [(t["state"], t["amount"], t["kind"]) for t in txns][0][1:] == (2900, "voucher_sale")
        await until(pilot, lambda: True)
        receipts = list((tmp_path / "receipts").glob("*.txt"))
        assert receipts, "a receipt preview was written"
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "HomeScreen"))
