"""Every flow of the seeds through the cashier UI: the pilot presses keys against the real app,
real SQLite files and the in-process simulator. Assertions are on what the cashier sees and on
the database."""

from __future__ import annotations

import pytest

from terminal_agent.demo import DEMO_CASHIER, DEMO_SUPERVISOR
from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.server import SimServer
from tests.test_ui_support import (
    agent_of,
    login,
    on,
    rows,
    screen_text,
    sees,
    sim_faults,
    sim_ledger,
    till,
    until,
)

CASHIER_PIN, SUPERVISOR_PIN = DEMO_CASHIER[1], DEMO_SUPERVISOR[1]


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions()) as server:
        yield server


@pytest.fixture(autouse=True)
async def no_faults(sim):
    await sim_faults(sim.url, None)
    yield
    await sim_faults(sim.url, None)


async def pick_voucher(pilot, downs: int = 1) -> None:
    await pilot.press("f1")
    await sees(pilot, "Vodacom R29 Airtime")
    await pilot.press(*(["down"] * downs), "enter")
    await sees(pilot, "Sell R")
    await pilot.press("enter")


async def sell_and_print(pilot) -> None:
    """A R29 voucher sold, paid, printed, and back home."""
    await pick_voucher(pilot)
    await until(pilot, lambda: on(pilot, "TenderModal"))
    await pilot.press("enter")
    await sees(pilot, "Receipt printed")
    await pilot.press("enter")


async def states(pilot) -> list[str]:
    return [r["state"] for r in await rows(agent_of(pilot),
                                           "SELECT state FROM transactions ORDER BY created_at")]


async def test_voucher_declined_shows_one_sentence(tmp_path, sim):
    await sim_faults(sim.url, {"op": "VOUCHER_PROVISION", "type": "decline",
                               "error_type": "OUT_OF_STOCK", "times": 1})
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pick_voucher(pilot)
        await sees(pilot, "DECLINED")
        assert "out of stock for this product. Choose another product." in screen_text(pilot)
        assert await states(pilot) == ["DECLINED"]


async def test_voucher_timeout_reverses_automatically(tmp_path, sim):
    """Issue 16, defect 7: "reversed automatically" was said while the reversal was still
    waiting to be sent. The screen says it is queued, then that the switch took it."""
    await sim_faults(sim.url, [
        {"op": "VOUCHER_PROVISION", "type": "hang", "hang_ms": 3000, "times": 1},
        {"op": "VOUCHER_REVERSE", "type": "status", "status": 503, "times": 3}])
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pick_voucher(pilot)
        await sees(pilot, "s left)")                   # the countdown while the switch is asked
        await sees(pilot, "NO ANSWER: REVERSAL QUEUED")
        text = screen_text(pilot)
        assert "The till reverses the sale by itself" in text and "Do not hand over airtime" in text
        assert "reversed automatically" not in text and "taken the reversal" not in text
        await sees(pilot, "NO ANSWER: REVERSED", timeout=20)
        assert "The switch has taken the reversal: nothing was charged." in screen_text(pilot)
        agent = agent_of(pilot)

        async def reversed_() -> bool:
            return (await states(pilot)) == ["REVERSED"]
        for _ in range(100):
            if await reversed_():
                break
            await pilot.pause(0.1)
        assert await states(pilot) == ["REVERSED"]
        advices = await rows(agent, "SELECT kind, state FROM outbox WHERE state != 'void'")
        assert [(a["kind"], a["state"]) for a in advices] == [("reversal", "delivered")]


async def test_tender_cancelled_after_approval_reverses_and_says_so(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pick_voucher(pilot)
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await pilot.press("escape")                     # asks first (issue 16, defect 8)
        await until(pilot, lambda: on(pilot, "ConfirmModal"))
        await pilot.press("enter")                      # a key out of habit: nothing happens
        await until(pilot, lambda: on(pilot, "TenderModal"))
        assert await states(pilot) == ["APPROVED"]
        await pilot.press("escape")
        await until(pilot, lambda: on(pilot, "ConfirmModal"))  # (a "y" before it is up is lost)
        await pilot.press("y")
        await sees(pilot, "CANCELLED: REVERS")
        assert "the till reverses the voucher by itself. Do not hand it over" \
            in screen_text(pilot)
        assert "Voucher PIN" not in screen_text(pilot)
        for _ in range(100):
            if await states(pilot) == ["REVERSED"]:
                break
            await pilot.pause(0.1)
        assert await states(pilot) == ["REVERSED"]
        ledger = await sim_ledger(sim.url)
        mine = [o for o in ledger["originals"] if o["final"] == "reversed"]
        assert mine, "the simulator saw the reversal"


async def test_topup_pending_then_approved(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: on(pilot, "TopUpScreen"))
        await pilot.press(*"0821230404", "enter")
        await pilot.press(*"0821230405")
        await sees(pilot, "The two numbers differ")
        await pilot.press("backspace", "4")
        await pilot.press("enter")
        await sees(pilot, "Vodacom Airtime Direct Top-up")
        assert "MTN" not in screen_text(pilot)
        await pilot.press("enter")                          # variable product: amount
        await pilot.press(*"29.505")
        await sees(pilot, "could mean thousands or cents")
        await pilot.press("backspace", "enter")              # the Collect dialog asks next
        await until(pilot, lambda: on(pilot, "TenderModal"))
        assert "Collect R 29.50" in screen_text(pilot)
        await pilot.press("enter")
        await sees(pilot, "PENDING")
        await sees(pilot, "Lookups")
        await sees(pilot, "APPROVED", timeout=15)
        await sees(pilot, "Receipt printed")
        assert await states(pilot) == ["COMPLETED"]


async def test_topup_trial_declined_takes_no_money(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: on(pilot, "TopUpScreen"))
        await pilot.press(*"0821234567", "enter", *"0821234567", "enter")
        await sees(pilot, "Vodacom Airtime Direct Top-up")
        await pilot.press("enter", *"10.13", "enter")
        await sees(pilot, "DECLINED")
        assert "Insufficient funds" in screen_text(pilot)
        assert await states(pilot) == []


async def test_pin_reprint_needs_supervisor_override(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await sell_and_print(pilot)
        await pilot.press("f7")
        await until(pilot, lambda: on(pilot, "HistoryScreen"))
        await sees(pilot, "Vodacom R29 Airtime")
        await pilot.press("p")
        await until(pilot, lambda: on(pilot, "SupervisorModal"))
        await pilot.press(*"1001", "enter", *CASHIER_PIN, "enter")     # a cashier is refused
        await sees(pilot, "not a supervisor")
        await pilot.press(*"9001", "enter")
        await pilot.press(*SUPERVISOR_PIN, "enter")
        await until(pilot, lambda: on(pilot, "HistoryScreen"))
        await sees(pilot, "Copy printed")
        audit = await rows(agent_of(pilot), "SELECT actor, action FROM audit WHERE action LIKE"
                                             " 'override%' ORDER BY id")
        assert [(a["actor"], a["action"]) for a in audit] == [("1001", "override-refused"),
                                                              ("9001", "override")]
        copies = await rows(agent_of(pilot), "SELECT authorised_by FROM print_jobs"
                                             " WHERE copy_of IS NOT NULL")
        assert [c["authorised_by"] for c in copies] == ["9001"]


async def test_idle_lock_and_wrong_pins_lockout(tmp_path, sim):
    extra = "\n[ui]\nidle_lock_seconds = 2.5\nmax_pin_failures = 2\n"  # a busy CI box still sees Home
    async with till(tmp_path, sim.url, extra=extra) as pilot:
        await login(pilot)
        await until(pilot, lambda: on(pilot, "LoginScreen"), what="idle lock")
        await sees(pilot, "Locked: Thandi (1001)")
        await until(pilot, lambda: pilot.app.focused is not None and pilot.app.focused.id == "pin")
        await pilot.press(*CASHIER_PIN, "enter")
        await until(pilot, lambda: on(pilot, "HomeScreen"))
        await until(pilot, lambda: on(pilot, "LoginScreen"), what="locks again")
        await until(pilot, lambda: pilot.app.focused is not None and pilot.app.focused.id == "pin")
        await pilot.press(*"0000", "enter")
        await sees(pilot, "Wrong cashier number or PIN.")
        await pilot.press(*"0000", "enter")
        await sees(pilot, "Too many wrong PINs: locked")
        await pilot.press(*CASHIER_PIN, "enter")
        await sees(pilot, "locked for")
        assert on(pilot, "LoginScreen")


async def test_pending_decision_found_at_start_is_put_in_front(tmp_path, sim):
    async def approved_not_tendered(agent):
        products = [p for p in await agent.catalogue.products() if not p.is_direct_topup]
        await agent.vouchers.sell(products[0], 1000, "1001")

    async with till(tmp_path, sim.url, prepare=approved_not_tendered) as pilot:
        await login(pilot)
        await until(pilot, lambda: on(pilot, "PendingScreen"))
        await sees(pilot, "Vodacom R10 Airtime")
        await pilot.press("c")                          # asks first (issue 16, defect 8)
        await until(pilot, lambda: on(pilot, "ConfirmModal"))
        await pilot.press("n")
        await until(pilot, lambda: on(pilot, "PendingScreen"))
        assert await states(pilot) == ["APPROVED"]
        await pilot.press("c", "y")
        await sees(pilot, "Every open decision is settled")  # the outcome stays readable
        assert (await states(pilot))[0] in ("REVERSING", "REVERSED")
        await pilot.press("escape")
        await until(pilot, lambda: not on(pilot, "PendingScreen"))


async def test_outbox_needs_supervisor_and_report_adds_up(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await sell_and_print(pilot)
        await pilot.press("f8")
        await until(pilot, lambda: on(pilot, "SupervisorModal"))
        await pilot.press(*"9001", "enter", *SUPERVISOR_PIN, "enter")
        await until(pilot, lambda: on(pilot, "OutboxScreen"))
        await sees(pilot, "0 parked")
        await pilot.press("escape")
        await pilot.press("f9")
        await until(pilot, lambda: on(pilot, "ReportScreen"))
        await sees(pilot, "1001 | R 29.00 | R 0.00 | R 0.00 | R 29.00")
        await sees(pilot, "Airtime voucher | approved | 1 | R 29.00")
        await pilot.press("x")
        await sees(pilot, "X report: Receipt printed")


async def test_upgrade_restart_waits_until_no_sale_is_open(tmp_path, sim):
    """`systemctl reload` (SIGUSR1) after an upgrade: the UI quits to be restarted with the new
    version only once the cashier is back home with nothing in flight (issue 12)."""
    async with till(tmp_path, sim.url) as pilot:
        app = pilot.app
        await login(pilot)
        await pilot.press("f1")
        await sees(pilot, "Vodacom R29 Airtime")
        await pilot.press("down", "enter")
        await sees(pilot, "Sell R")
        app.request_restart()
        await app.tick()
        await pilot.pause(0.3)
        assert app.is_running and not app.no_sale_open()  # mid-sale: keeps going
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await app.tick()
        assert app.is_running
        await pilot.press("enter")
        await sees(pilot, "Receipt printed")
        await pilot.press("enter")
        await until(pilot, lambda: app.no_sale_open())
        await app.tick()
        await pilot.pause(0.3)
        assert app.return_code == 0 or not app.is_running


async def test_an_outcome_followed_while_its_transaction_cannot_be_read_stays_up(tmp_path, sim):
    """The outcome screen follows a reversal to its delivery, asking the journal every second;
    a read that fails (seen: the screens' snapshot test's crafted outcome, whose transaction
    is not in the journal) is logged and asked again, never an exception at the cashier."""
    from terminal_agent.core import FlowResult, Kind, State
    from terminal_agent.ui.messages import SaleOutcome
    from terminal_agent.ui.screens.outcome import OutcomeScreen

    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        result = FlowResult(txn_id="3f9a2c71-0000-4000-8000-000000000000", reference="3F9A2C71",
                            kind=Kind.VOUCHER_SALE, state=State.REVERSING, verdict="unknown",
                            message="No answer from the switch.", amount=2900, fee=0, data={})
        pilot.app.push_screen(OutcomeScreen(SaleOutcome(result, printed=False, receipt="")))
        await until(pilot, lambda: on(pilot, "OutcomeScreen"))
        await pilot.pause(2.5)                           # two polls at least
        assert pilot.app.is_running and on(pilot, "OutcomeScreen")
        assert "No answer from the switch." in screen_text(pilot)


async def test_a_cancel_stays_a_cancel_while_its_reversal_waits_for_the_switch(tmp_path, sim):
    """Seen at an 80x25 till with the switch down after the approval: a second after the
    cashier's own cancel the outcome's follow-up re-read the sale and said "reversed before the
    payment was recorded (time ran out or a supervisor cancelled it)"."""
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pick_voucher(pilot)
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await sim_faults(sim.url, {"op": "VOUCHER_REVERSE", "type": "status", "status": 503,
                                   "times": 50})
        try:
            await pilot.press("escape")
            await until(pilot, lambda: on(pilot, "ConfirmModal"))
            await pilot.press("y")
            await sees(pilot, "CANCELLED: REVERSAL QUEUED")
            await pilot.pause(2.5)                      # two follow-ups of the outcome
            text = screen_text(pilot)
            assert "CANCELLED: REVERSAL QUEUED" in text and "time ran out" not in text
            assert await states(pilot) == ["REVERSING"]
        finally:
            await sim_faults(sim.url, None)
