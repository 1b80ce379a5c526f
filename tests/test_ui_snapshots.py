"""SVG snapshots of the main screens (pytest-textual-snapshot's SVG format, stored in
tests/snapshots/). Deterministic: fixed clock, UTC, no cursor blink, frozen status bar.

Update after an intended change with ``pytest tests/test_ui_snapshots.py --snapshot-update``
and look at the SVGs before committing them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytest_textual_snapshot import SVGImageExtension

from terminal_agent.core.flows.base import FlowResult
from terminal_agent.core.journal import Kind
from terminal_agent.core.states import State
from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.server import SimServer
from terminal_agent.ui.messages import SaleOutcome
from tests.test_ui_support import FIXED_NOW, login, on, sees, till, until

SIZE = (110, 34)


class TillSnapshot(SVGImageExtension):
    @classmethod
    def dirname(cls, *, test_location) -> str:  # type: ignore[no-untyped-def]
        return str(Path(test_location.filepath).parent / "snapshots" / test_location.basename)


@pytest.fixture
def svg(snapshot):
    return snapshot.use_extension(TillSnapshot)


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions()) as server:
        yield server


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def frozen(pilot) -> str:
    """The screen as SVG with the status bar made independent of timing."""
    app = pilot.app
    switch = app.agent.switch
    switch.last_latency, switch.last_status, switch.last_error = 0.042, 200, None
    app.reset_status_history()
    app._last_answer_at = switch.last_answer_at
    await app.refresh_status()
    await pilot.pause(0.05)
    return app.export_screenshot(title="terminal-agent")


def snapshot_till(tmp_path, sim):
    return till(tmp_path, sim.url, clock=lambda: FIXED_NOW, size=SIZE, status_interval=3600)


async def test_login_screen(tmp_path, sim, svg):
    async with snapshot_till(tmp_path, sim) as pilot:
        assert await frozen(pilot) == svg


async def test_home_screen(tmp_path, sim, svg):
    async with snapshot_till(tmp_path, sim) as pilot:
        await login(pilot)
        assert await frozen(pilot) == svg


async def test_voucher_products(tmp_path, sim, svg):
    async with snapshot_till(tmp_path, sim) as pilot:
        await login(pilot)
        await pilot.press("f1")
        await sees(pilot, "Vodacom R29 Airtime")
        await pilot.press("down", "enter")
        await sees(pilot, "Sell R 29.00")
        assert await frozen(pilot) == svg


async def test_tender_modal(tmp_path, sim, svg):
    from terminal_agent.ui.screens.modals import TenderModal

    async with snapshot_till(tmp_path, sim) as pilot:
        await login(pilot)
        pilot.app.push_screen(TenderModal("Collect", "R 29.00",
                                          what="Vodacom R29 Airtime  ref 3F9A2C71",
                                          cancel_text="cancel (reverses it)"))
        await until(pilot, lambda: on(pilot, "TenderModal"))
        assert await frozen(pilot) == svg


def _result(verdict: str, state: State, message: str, **data: object) -> FlowResult:
    return FlowResult(txn_id="3f9a2c71-0000-4000-8000-000000000000", reference="3F9A2C71",
                      kind=Kind.VOUCHER_SALE, state=state, verdict=verdict, message=message,
                      amount=2900, data=dict(data))


@pytest.mark.parametrize("result", [
    pytest.param(_result("approved", State.CONFIRMING, "Paid. Hand the voucher to the customer.",
                         pin="1234567812345678", serial="202379496612"), id="approved"),
    pytest.param(_result("declined", State.DECLINED, "The provider is out of stock for this "
                                                     "product. Choose another product."), id="declined"),
    pytest.param(_result("unknown", State.REVERSING, "No answer from the switch. The sale was "
                        "reversed automatically. Do not hand over airtime."), id="unknown"),
])
async def test_outcome_screens(tmp_path, sim, svg, result):
    from terminal_agent.ui.screens.outcome import OutcomeScreen

    async with snapshot_till(tmp_path, sim) as pilot:
        await login(pilot)
        printed = result.verdict == "approved"
        pilot.app.push_screen(OutcomeScreen(SaleOutcome(
            result, printed=printed, receipt="Receipt printed." if printed else "")))
        await until(pilot, lambda: on(pilot, "OutcomeScreen"))
        assert await frozen(pilot) == svg
