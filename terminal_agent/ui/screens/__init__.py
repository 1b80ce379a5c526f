"""The cashier's screens, one module per service."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from terminal_agent.core import Cashier


def screen_for(name: str, *, supervisor: Cashier | None = None) -> Screen[Any]:
    if name == "voucher":
        from terminal_agent.ui.screens.voucher import VoucherScreen

        return VoucherScreen()
    if name == "topup":
        from terminal_agent.ui.screens.topup import TopUpScreen

        return TopUpScreen()
    if name == "history":
        from terminal_agent.ui.screens.history import HistoryScreen

        return HistoryScreen()
    if name == "outbox":
        from terminal_agent.ui.screens.outbox import OutboxScreen

        assert supervisor is not None
        return OutboxScreen(supervisor)
    if name == "report":
        from terminal_agent.ui.screens.report import ReportScreen

        return ReportScreen()
    if name in ("send", "payout", "customers"):
        from terminal_agent.ui.screens.money import screen as money_screen

        return money_screen(name)
    if name == "redeem":
        from terminal_agent.ui.screens.suv import RedeemScreen

        return RedeemScreen()
    from terminal_agent.ui.screens.home import HomeScreen

    return HomeScreen()
