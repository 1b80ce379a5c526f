"""Small messages passed between the app and its screens (one module, dataclasses only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from terminal_agent.core import Cashier

if TYPE_CHECKING:  # the flows load after the login screen (issue 17, cold start)
    from terminal_agent.core import FlowResult


@dataclass(frozen=True)
class StatusView:
    """What the status bar (cashier) and the switch panel (supervisor) show, refreshed by the
    app about once a second."""

    # the cashier's status bar
    link_text: str = "link: not tried yet"
    link_ok: bool | None = None
    outbox_text: str = "outbox: -"
    outbox_alarm: bool = False
    printer_text: str = "printer: -"
    printer_ok: bool = True
    cashier_text: str = "not logged in"
    clock_text: str = ""
    # the supervisor's switch panel
    switch_text: str = "switch: not asked yet"
    switch_ok: bool | None = None
    latencies_ms: tuple[float, ...] = ()
    outbox_depths: tuple[float, ...] = ()
    forwarder_text: str = "forwarder: -"
    forwarder_ok: bool = True


@dataclass(frozen=True)
class LoggedIn:
    cashier: Cashier
    unlocked: bool = False  # True when the idle lock was lifted (same session goes on)


@dataclass(frozen=True)
class SaleOutcome:
    """A finished (or pending) transaction to put in front of the cashier."""

    result: FlowResult
    title: str = ""
    printed: bool = False
    receipt: str = ""          # where the receipt went (preview file) or why it did not print
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Authorised:
    """A supervisor's PIN was accepted for one action."""

    supervisor: Cashier
    action: str
    subject: str = ""
