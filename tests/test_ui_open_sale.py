"""No way out mid-sale by accident: between approval and tender, quit, log out and the command
palette ask first and then cancel the sale exactly as Esc on the Collect dialog does; the dialog
closes when the sale is reversed behind it and says what to do with cash already taken. And the
serial barcode scanner the configuration offers types into the field with the cursor."""

from __future__ import annotations

import time

import pytest
from textual.command import CommandPalette

from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.server import SimServer
from tests.test_ui_support import (
    agent_of,
    login,
    on,
    rows,
    screen_text,
    sees,
    till,
    type_in,
    until,
)


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions()) as server:
        yield server


async def at_collect(pilot) -> str:
    """Sell a R29 voucher and stop at "Collect R 29.00"; returns the transaction id."""
    await pilot.press("f1")
    await until(pilot, lambda: on(pilot, "VoucherScreen"))
    await sees(pilot, "Vodacom R29 Airtime")
    await pilot.press("down", "enter")
    await sees(pilot, "Sell R 29.00")
    await pilot.press("enter")
    await until(pilot, lambda: on(pilot, "TenderModal"), what="the Collect dialog")
    assert "Collect R 29.00" in screen_text(pilot)
    found = await rows(agent_of(pilot), "SELECT id, state FROM transactions")
    assert [r["state"] for r in found] == ["APPROVED"]
    return str(found[0]["id"])


async def state(pilot, txn_id: str) -> str:
    return str((await rows(agent_of(pilot), "SELECT state FROM transactions WHERE id=?",
                           (txn_id,)))[0]["state"])


async def test_quit_mid_sale_asks_then_cancels_the_sale_before_quitting(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        txn_id = await at_collect(pilot)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: on(pilot, "ConfirmModal"), what="the question")
        await sees(pilot, "A sale is waiting for its payment: Collect R 29.00")
        await pilot.press("escape")                           # no: back to the sale
        await until(pilot, lambda: on(pilot, "TenderModal"))
        assert await state(pilot, txn_id) == "APPROVED" and pilot.app.is_running
        await pilot.press("ctrl+q")
        await until(pilot, lambda: on(pilot, "ConfirmModal"))
        try:
            await pilot.press("enter")                        # yes: cancel, then quit
        except Exception:  # noqa: BLE001 - the pilot loses its app when it quits mid-press
            pass
        await until(pilot, lambda: not pilot.app.is_running, what="the app to quit")
        assert await state(pilot, txn_id) in ("REVERSING", "REVERSED")


async def palette(pilot, command: str) -> None:
    await pilot.press("ctrl+p")
    await until(pilot, lambda: CommandPalette.is_open(pilot.app), what="the palette")
    await pilot.press(*command)
    await pilot.pause(0.3)
    await pilot.press("enter")


async def test_log_out_mid_sale_cancels_it_first(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        txn_id = await at_collect(pilot)
        await pilot.press("f10")                              # the dialog holds the keys
        await pilot.pause(0.3)
        assert on(pilot, "TenderModal") and await state(pilot, txn_id) == "APPROVED"
        await palette(pilot, "Log out")
        await until(pilot, lambda: on(pilot, "ConfirmModal"), what="the question")
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "LoginScreen"), what="logged out")
        assert await state(pilot, txn_id) in ("REVERSING", "REVERSED")
        assert pilot.app.cashier is None


async def test_palette_mid_sale_asks_and_no_keeps_the_sale(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        txn_id = await at_collect(pilot)
        await palette(pilot, "Send money")
        await until(pilot, lambda: on(pilot, "ConfirmModal"), what="the question")
        await pilot.press("n")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        assert await state(pilot, txn_id) == "APPROVED"
        await pilot.press("enter")                            # the cashier takes the cash
        await sees(pilot, "Receipt printed")
        assert await state(pilot, txn_id) in ("TENDERED", "CONFIRMED")


async def test_money_transfer_quit_needs_the_supervisor_like_cancelling(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: on(pilot, "SendMoneyScreen"))
        await until(pilot, lambda: pilot.app.focused is not None)
        await type_in(pilot, "Thandiwe", "Nkosi", "9001015009087", "0821234567", "Sipho",
                      "Dlamini", "0831234567", "500")
        await sees(pilot, "the customer pays R 515.00")
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await pilot.press("ctrl+q")
        await until(pilot, lambda: on(pilot, "ConfirmModal"))
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "SupervisorModal"), what="a supervisor")
        await pilot.press("escape")                           # no supervisor: no quitting
        await until(pilot, lambda: on(pilot, "TenderModal"))
        assert pilot.app.is_running
        found = await rows(agent_of(pilot), "SELECT state FROM transactions")
        assert [r["state"] for r in found] == ["APPROVED"]


async def test_collect_dialog_closes_when_the_deadline_reverses_the_sale(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        txn_id = await at_collect(pilot)
        agent = agent_of(pilot)
        # the deadline passes while the cashier waits: the forwarding process reverses it
        await agent.store.step(lambda db: db.execute(
            "UPDATE transactions SET decision_deadline=0 WHERE id=?", (txn_id,)))
        assert await agent.recovery.expire_decisions() == [txn_id]
        await until(pilot, lambda: on(pilot, "OutcomeScreen"), what="the dialog to close")
        await sees(pilot, "REVERSED BEFORE PAYMENT")
        text = screen_text(pilot)
        assert "Do not hand over the voucher" in text and "give back any cash" in text
        assert "Voucher PIN" not in text
        assert await rows(agent, "SELECT * FROM print_jobs") == []


async def test_serial_scanner_types_into_the_field_with_the_cursor(tmp_path, sim):
    async with till(tmp_path, sim.url, extra='[scanner]\nurl = "loop://"\n') as pilot:
        await login(pilot)
        scanner = pilot.app.runtime.scanner
        assert scanner is not None
        await pilot.press("f5")
        await until(pilot, lambda: on(pilot, "RedeemScreen"))
        await until(pilot, lambda: scanner.connected, what="the scanner open")
        scanner._dev.write(b"DV5000\r\n")  # loop:// hands written bytes back as if scanned
        await sees(pilot, "value R 50.00", timeout=15)  # looked up as if typed and Enter


async def lock_while_the_switch_answers(pilot, sim, *, decline: bool = False) -> None:
    """Sell a R29 voucher whose answer (an approval, or a decline) comes 0.6 s late (the
    read timeout is 1 s); lock the till (Ctrl+L) while it is on its way; wait until the answer
    is in the journal."""
    sim.add_faults({"op": "VOUCHER_PROVISION", "type": "latency", "latency_ms": 600, "times": 1})
    if decline:
        sim.add_faults({"op": "VOUCHER_PROVISION", "type": "decline", "error_type": "OUT_OF_STOCK",
                        "times": 1})
    await pilot.press("f1")
    await until(pilot, lambda: on(pilot, "VoucherScreen"))
    await sees(pilot, "Vodacom R29 Airtime")
    await pilot.press("down", "enter")
    await sees(pilot, "Sell R 29.00")
    await pilot.press("enter", "ctrl+l")
    await until(pilot, lambda: pilot.app.locked, what="the lock")
    end = time.monotonic() + 10
    while time.monotonic() < end:  # the answer is in the journal
        found = await rows(agent_of(pilot), "SELECT state FROM transactions")
        if found and found[0]["state"] != "PREPARED":
            break
        await pilot.pause(0.05)
    await pilot.pause(0.5)  # the screen's callback runs on the answer


async def test_an_approval_arriving_while_locked_waits_behind_the_lock(tmp_path, sim):
    """Seen in issue 17e's work: the Collect dialog came up on top of the lock screen, and its
    Enter took the cash without a PIN. The lock stays in front; the dialog waits for a PIN."""
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await lock_while_the_switch_answers(pilot, sim)
        found = await rows(agent_of(pilot), "SELECT id, state FROM transactions")
        assert [r["state"] for r in found] == ["APPROVED"]
        assert on(pilot, "LoginScreen"), type(pilot.app.screen).__name__
        assert "Collect" not in screen_text(pilot)
        await pilot.press("enter")              # an Enter at the lock takes no cash
        await pilot.pause(0.3)
        assert await state(pilot, str(found[0]["id"])) == "APPROVED"
        await until(pilot, lambda: pilot.app.focused is not None and pilot.app.focused.id == "pin")
        await pilot.press(*"5284", "enter")     # the PIN: the sale's dialog is in front again
        await until(pilot, lambda: on(pilot, "TenderModal"), what="the Collect dialog")
        assert "Collect R 29.00" in screen_text(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "OutcomeScreen"), what="the outcome")
        assert await state(pilot, str(found[0]["id"])) in ("TENDERED", "CONFIRMED")


async def test_a_decline_arriving_while_locked_does_not_open_the_lock(tmp_path, sim):
    """The outcome replaced the top screen, which was the lock screen: the till stood unlocked."""
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await lock_while_the_switch_answers(pilot, sim, decline=True)
        assert on(pilot, "LoginScreen"), type(pilot.app.screen).__name__
        await until(pilot, lambda: pilot.app.focused is not None and pilot.app.focused.id == "pin")
        await pilot.press(*"5284", "enter")
        await until(pilot, lambda: on(pilot, "OutcomeScreen"), what="the outcome after the PIN")
