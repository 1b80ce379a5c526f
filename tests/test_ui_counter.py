"""Issue 16 at the counter, through the real app and its pilot against the simulator on
127.0.0.1: one sale per service with the keyboard only, its keystrokes counted and its amount
the same on the result screen, the slip and the journal; then each reproduced defect."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from terminal_agent.core.printing import PrintJob
from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.server import SimServer
from terminal_agent.ui.screens.outcome import lookups_text
from tests.conftest import free_port
from tests.test_ui_support import (
    agent_of,
    login,
    on,
    rows,
    screen_text,
    sees,
    till,
    until,
)

SUPERVISOR = ("9001", "7391")


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions()) as server:
        yield server


class Keys:
    """The cashier's keyboard: every key pressed is counted, apart from the data they type
    (a phone number, a name), which ``typed`` enters key by key too."""

    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.count = 0

    async def press(self, *keys: str) -> None:
        self.count += len(keys)
        await self.pilot.press(*keys)

    async def typed(self, text: str, *, then_enter: bool = True) -> None:
        """Data typed at the keyboard (not counted), then Enter (counted)."""
        await self.pilot.press(*[{" ": "space", "-": "minus"}.get(c, c) for c in text])
        if then_enter:
            await self.press("enter")


async def agree(pilot: Any, kind: str, amount_text: str, minor: int) -> None:
    """Result screen, slip and journal say the same amount."""
    await sees(pilot, "Receipt printed", timeout=15)
    assert amount_text in screen_text(pilot)
    agent = agent_of(pilot)
    txn = (await rows(agent, "SELECT id, amount, fee FROM transactions WHERE kind=?"
                             " ORDER BY created_at DESC LIMIT 1", (kind,)))[0]
    assert txn["amount"] + txn["fee"] == minor
    slip = [PrintJob.from_row(r, agent.store.vault).text for r in await rows(
        agent, "SELECT * FROM print_jobs WHERE txn_id=? AND kind != 'drawer'", (txn["id"],))]
    assert slip and amount_text in slip[0], slip  # (a PIN receipt is sealed: opened here)


async def focused(pilot: Any) -> None:
    await until(pilot, lambda: pilot.app.focused is not None)


async def opened(pilot: Any, key: str, *typed: str) -> None:
    """Open a service from Home and type into its first fields, Enter after each."""
    await pilot.press(key)
    await focused(pilot)
    for text in typed:
        await Keys(pilot).typed(text)


async def voucher_paid(pilot: Any) -> None:
    """A Vodacom R29 voucher sold from Home, paid and printed, back on Home."""
    await pilot.press("f1")
    await sees(pilot, "Vodacom R29 Airtime")
    await pilot.press("2", "enter")
    await until(pilot, lambda: on(pilot, "TenderModal"))
    await pilot.press("enter")
    await sees(pilot, "Receipt printed")
    await pilot.press("enter")
    await until(pilot, lambda: on(pilot, "HomeScreen"))


# -- one sale per service, keyboard only ---------------------------------------------------------


async def test_voucher_sale_in_five_keys(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        keys = Keys(pilot)
        await keys.press("f1")
        await sees(pilot, "2  Vodacom R29 Airtime")
        await keys.press("2")                                   # quick key
        await sees(pilot, "Sell R 29.00")
        await keys.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await keys.press("enter")                                # cash received
        await agree(pilot, "voucher_sale", "R 29.00", 2900)
        await keys.press("enter")                                # done: back home
        await until(pilot, lambda: on(pilot, "HomeScreen"))
        assert keys.count <= 5, keys.count


async def test_topup_in_eight_keys_besides_the_number(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        keys = Keys(pilot)
        await keys.press("f2")
        await focused(pilot)
        await keys.typed("0821234567")
        await keys.typed("0821234567")
        await sees(pilot, "1  Vodacom Airtime Direct Top-up")
        await keys.press("enter")                                # the highlighted product
        await keys.press("5", "0", "enter")                      # the amount, then Collect
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await keys.press("enter")
        await sees(pilot, "APPROVED", timeout=15)
        assert keys.count <= 8, keys.count
        await agree(pilot, "topup", "R 50.00", 5000)


async def test_send_money_by_keyboard(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        keys = Keys(pilot)
        await keys.press("f3")
        await focused(pilot)
        for text in ("Thandiwe", "Nkosi", "9001015009087", "0821234567", "Sipho", "Dlamini",
                     "0831234567", "500"):
            await keys.typed(text)
        await sees(pilot, "the customer pays R 515.00")
        await keys.press("enter")                                # Send
        await until(pilot, lambda: on(pilot, "TenderModal"))
        assert "Collect R 515.00" in screen_text(pilot)
        await keys.press("enter")
        await agree(pilot, "mt_send", "R 515.00", 51500)
        assert keys.count == 11, keys.count                      # F3, 8 Enters, Send, cash


async def test_pay_out_by_keyboard_with_id_and_pin(tmp_path, sim):
    """Issue 16, defects 3 and 4: the reference as the slip groups it; the recipient's name and
    ID recorded, a PIN field; the slip carries them."""
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        keys = Keys(pilot)
        await keys.press("f4")
        await focused(pilot)
        await keys.typed("4820 3917-5620 3817 4502")             # as printed, any grouping
        await sees(pilot, "Order of R 1,200.00")
        assert screen_text(pilot).count("no names") == 1           # said once
        for text in ("Tendai", "Moyo", "8505055800083"):
            await keys.typed(text)
        assert pilot.app.focused.id == "p-pin" and pilot.app.focused.password
        await keys.press("enter")                                # no PIN on this order
        await sees(pilot, "Pay out R 1,200.00 to Tendai Moyo")
        await keys.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await keys.press("enter")                                # cash handed over
        await agree(pilot, "mt_payout", "R 1,200.00", 120000)
        assert keys.count == 8, keys.count
        slip = (await rows(agent_of(pilot), "SELECT text FROM print_jobs WHERE kind='mt_payout'"))
        assert "Tendai Moyo" in slip[0]["text"] and "*********0083" in slip[0]["text"]
        assert "8505055800083" not in slip[0]["text"]


async def test_redeem_by_keyboard(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        keys = Keys(pilot)
        await keys.press("f5")
        await focused(pilot)
        await keys.typed("5000-1111-2222-3333")                  # grouped as printed
        await sees(pilot, "value R 50.00")
        await keys.press("enter")                                # the whole balance
        await sees(pilot, "Redeem R 50.00")
        await keys.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await keys.press("enter")
        await agree(pilot, "suv_redeem", "R 50.00", 5000)
        assert keys.count == 5, keys.count


# -- the defects ---------------------------------------------------------------------------------


async def test_products_come_back_when_the_switch_does(tmp_path):
    """Defect 1 (and 12: the link is said DOWN, in words, no HTTP code)."""
    port = free_port()
    extra = "\n[airtime]\nproducts_retry_seconds = 1\n"
    async with till(tmp_path, f"http://127.0.0.1:{port}", extra=extra) as pilot:
        await login(pilot)
        await pilot.press("f1")
        await sees(pilot, "The switch cannot be reached")
        assert "offers no products" not in screen_text(pilot)
        await sees(pilot, "link DOWN")
        with SimServer(SimOptions(), port=port):
            await sees(pilot, "Vodacom R29 Airtime", timeout=20)  # no restart, no key
            assert "cannot be reached" not in screen_text(pilot)
            await pilot.press("f5")                                # the reload key
            await sees(pilot, "link up")
        text = screen_text(pilot)
        assert "HTTP" not in text and " ms" not in text


async def test_amounts_read_both_marks_and_refuse_minus(tmp_path, sim):
    """Defect 2 through the screen: "5,50" is R 5.50; a minus is refused with a sentence."""
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pilot.press("f2")
        await focused(pilot)
        keys = Keys(pilot)
        await keys.typed("0821234567")
        await keys.typed("0821234567")
        await sees(pilot, "Vodacom Airtime Direct Top-up")
        await pilot.press("enter", "minus", "5", "enter")
        await sees(pilot, "An amount has no sign")
        assert on(pilot, "TopUpScreen")
        amount = pilot.app.focused
        amount.value = ""
        await pilot.press("5", "comma", "5", "0", "enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        assert "Collect R 5.50" in screen_text(pilot)
        await pilot.press("escape")
        await sees(pilot, "Nothing was charged")
        assert await rows(agent_of(pilot), "SELECT id FROM transactions") == []


async def test_customers_register_carry_into_send_and_declines_keep_the_form(tmp_path, sim):
    """Defect 5: registration in F6, the customer carried into Send money, a decline that
    wants registration leads there, and the send form keeps its fields after a decline."""
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pilot.press("f3")
        await focused(pilot)
        keys = Keys(pilot)
        for text in ("Lindiwe", "Zulu", "0000000000000", "0821234567", "Sipho", "Dlamini",
                     "0831234567", "200"):
            await keys.typed(text)
        await sees(pilot, "the customer pays R 215.00")
        await pilot.press("enter")
        await sees(pilot, "DECLINED")
        assert "register" in screen_text(pilot).lower()
        await pilot.press("escape")                               # back to the form...
        await until(pilot, lambda: on(pilot, "SendMoneyScreen"))
        text = screen_text(pilot)
        for kept in ("Lindiwe", "Zulu", "0000000000000", "Sipho", "Dlamini", "200"):
            assert kept in text, kept                              # ... every field kept
        await pilot.press("enter")                                 # the fee again
        await sees(pilot, "the customer pays R 215.00")
        await pilot.press("enter")
        await sees(pilot, "DECLINED")
        await pilot.press("g")                                     # register the customer
        await until(pilot, lambda: on(pilot, "CustomerScreen"))
        await until(pilot, lambda: pilot.app.focused is not None
                    and pilot.app.focused.id == "c-first")
        assert "Lindiwe" in screen_text(pilot)
        # the simulator refuses this ID number (KYC): a new one, as a supervisor would decide
        pilot.app.screen.query_one("#c-id").value = "7707075800087"
        await pilot.press("enter", "enter", "enter")
        await sees(pilot, "Registered: Lindiwe Zulu")
        await pilot.press("f3")                                    # back to Send money
        await until(pilot, lambda: on(pilot, "SendMoneyScreen"))
        await sees(pilot, "Registered customer, profile")
        assert "7707075800087" in screen_text(pilot)


async def test_customer_found_in_f6_is_carried_into_send_money(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await opened(pilot, "f6", "9001015009087")
        await sees(pilot, "F3: send money for this customer")
        await pilot.press("f3")
        await until(pilot, lambda: on(pilot, "SendMoneyScreen"))
        await sees(pilot, "Registered customer, profile 1000000001")
        assert pilot.app.focused.id == "r-first"                   # straight to the recipient


async def test_no_stale_or_doubled_messages(tmp_path, sim):
    """Defect 7: an old error under new input (redeem), a payout lookup error shown twice."""
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await opened(pilot, "f5", "1111222233334444")
        await sees(pilot, "could not find")
        await pilot.press("1")                                     # typing again...
        await until(pilot, lambda: "could not find" not in screen_text(pilot))  # ... clears it
        await pilot.press("escape")
        await opened(pilot, "f4", "48203917562038174503")         # already paid out
        await sees(pilot, "do not pay out")
        assert screen_text(pilot).count("do not pay out") == 1
        await pilot.press("escape")
        await pilot.press("f4")
        await focused(pilot)
        await pilot.press(*"4820/391", "enter")                    # no '/': refused as typed
        await sees(pilot, "letters and digits only")
        assert agent_of(pilot).switch.last_status is None or "could not find" not in \
            screen_text(pilot)


def test_pending_lookups_never_say_a_time_gone():
    """Defect 7: "next at" a time already past."""
    assert lookups_text({"lookups": 2, "next_lookup_at": 1000.0}, now=2000.0) == \
        "2 so far, next one due now"
    assert lookups_text({"lookups": 2, "next_lookup_at": 3000.0}, now=2000.0).startswith(
        "2 so far, next at ")


async def test_retry_now_says_what_it_did_and_the_supervisor_sees_the_http_answers(tmp_path, sim):
    """Defect 7 ("Retry now" gave no feedback: the 2 s refresh wiped it) and 12 (HTTP codes
    and latencies are in the supervisor's view, not the cashier's bar)."""
    from tests.test_ui_support import sim_faults

    await sim_faults(sim.url, {"op": "VOUCHER_CONFIRM", "type": "status", "status": 503})
    try:
        async with till(tmp_path, sim.url) as pilot:
            await login(pilot)
            await voucher_paid(pilot)
            await sees(pilot, "outbox: 1 waiting")
            await pilot.press("f8")
            await until(pilot, lambda: on(pilot, "SupervisorModal"))
            await pilot.press(*SUPERVISOR[0], "enter", *SUPERVISOR[1], "enter")
            await until(pilot, lambda: on(pilot, "OutboxScreen"))
            await sees(pilot, "switch: HTTP")
            await sees(pilot, "confirmation")
            await pilot.press("r")
            await sees(pilot, "Retrying the confirmation")
            await asyncio.sleep(2.5)                                # past a refresh
            assert "Retrying the confirmation" in screen_text(pilot)
    finally:
        await sim_faults(sim.url, None)


async def test_reprint_last_home_reminder_and_cash_up_z(tmp_path, sim):
    """Item 10 (reprint last, the reminder of decisions left, the amount with its fee) and 11
    (cash-up per cashier; Z closes the shift: a supervisor, printed and kept)."""
    async def left_for_later(agent: Any) -> None:
        products = (await agent.catalogue.offer("voucher")).matching("vodacom 10")
        await agent.sell_voucher(products[0], 1000, "1001")

    async with till(tmp_path, sim.url, prepare=left_for_later) as pilot:
        await login(pilot)
        await until(pilot, lambda: on(pilot, "PendingScreen"))
        await pilot.press("escape")                                # later
        await sees(pilot, "1 approved sale left for later")
        await voucher_paid(pilot)
        await pilot.press("r")                                     # reprint last: a PIN slip
        await until(pilot, lambda: on(pilot, "SupervisorModal"))
        await pilot.press(*SUPERVISOR[0], "enter", *SUPERVISOR[1], "enter")
        await sees(pilot, "Copy printed")
        await pilot.press("o")
        await until(pilot, lambda: on(pilot, "PendingScreen"))
        await pilot.press("escape")
        await pilot.press("f9")
        await until(pilot, lambda: on(pilot, "ReportScreen"))
        await sees(pilot, "1001 | R 29.00 | R 0.00 | R 0.00 | R 29.00")
        await sees(pilot, "1 sale(s) await a decision")
        await pilot.press("z")
        await until(pilot, lambda: on(pilot, "ConfirmModal"))
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "SupervisorModal"))
        await pilot.press(*SUPERVISOR[0], "enter", *SUPERVISOR[1], "enter")
        await sees(pilot, "Shift closed: Z report No. 1")
        await sees(pilot, "since the last close")
        kept = await rows(agent_of(pilot), "SELECT id, closed_by FROM shift_reports")
        assert [(r["id"], r["closed_by"]) for r in kept] == [(1, "9001")]
        report = await rows(agent_of(pilot), "SELECT text FROM print_jobs"
                                             " WHERE kind='shift_report'")
        assert "Z REPORT No. 1" in report[-1]["text"] and "Printed by" in report[-1]["text"]


async def test_change_due_and_cancel_asked_first(tmp_path, sim):
    """Item 10 (change due after the cash given) and defect 8 (one Esc cancelled the sale)."""
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pilot.press("f1")
        await sees(pilot, "Vodacom R29 Airtime")
        await pilot.press("2", "enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await pilot.press("escape")
        await until(pilot, lambda: on(pilot, "ConfirmModal"))
        await pilot.press("escape")                                # no: back to the sale
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await pilot.press("2", "0")
        await sees(pilot, "R 20.00 is less than the R 29.00 due")
        await pilot.press("enter")                                 # refused: still asking
        await pilot.pause(0.3)
        assert on(pilot, "TenderModal")
        await pilot.press("backspace", "backspace", "5", "0")
        await sees(pilot, "Change: R 21.00")
        await pilot.press("enter")
        await sees(pilot, "Receipt printed")
        text = screen_text(pilot)
        assert "Cash given    R 50.00" in text and "Change        R 21.00" in text
