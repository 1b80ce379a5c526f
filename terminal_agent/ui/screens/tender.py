"""After an approval: the explicit tender modal, then the confirmation (Enter) or the automatic
reversal (Esc), then the outcome. One place for every dual-message service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from terminal_agent.core.flows.base import FlowResult
from terminal_agent.core.journal import Kind
from terminal_agent.ui.format import money
from terminal_agent.ui.messages import SaleOutcome
from terminal_agent.ui.screens.base import Working
from terminal_agent.ui.screens.modals import TenderModal


@dataclass(frozen=True)
class Tender:
    verb: str                     # "Collect", "Pay out"
    enter_text: str
    paid: Callable[[Any], Callable[[str, str], Awaitable[FlowResult]]]
    cancel: Callable[[Any], Callable[[str, str], Awaitable[FlowResult]]]
    supervisor_cancels: bool = False


TENDERS: dict[Kind, Tender] = {
    Kind.VOUCHER_SALE: Tender("Collect", "cash received", lambda a: a.vouchers.tender,
                              lambda a: a.vouchers.cancel),
    Kind.MT_SEND: Tender("Collect", "cash received", lambda a: a.money.tender,
                         lambda a: a.money.cancel, supervisor_cancels=True),
    Kind.MT_PAYOUT: Tender("Pay out", "cash handed over", lambda a: a.money.paid_out,
                           lambda a: a.money.cancel, supervisor_cancels=True),
    Kind.SUV_REDEEM: Tender("Accept voucher for", "sale complete", lambda a: a.suv.complete,
                            lambda a: a.suv.cancel),
}


def show_outcome(screen: Working, result: FlowResult, **extra: Any) -> None:
    from terminal_agent.ui.screens.outcome import OutcomeScreen

    screen.app.switch_screen(OutcomeScreen(SaleOutcome(result, **extra)))  # type: ignore[attr-defined]


def ask_tender(screen: Working, approved: FlowResult, what: str = "") -> None:
    """Push "Collect R 29.00 — Enter: cash received, Esc: cancel" for an approved result."""
    till = screen.till
    tender = TENDERS[approved.kind]
    due = approved.amount + (approved.fee if approved.kind == Kind.MT_SEND else 0)
    label = what or approved.data.get("receiver_name") or ""
    # the switch approved another amount than the one entered: say so before cash moves
    note = approved.data.get("amount_note")
    line = f"{label}  ref {approved.reference}".strip()
    modal = TenderModal(tender.verb, money(due, till.symbol),
                        what=f"{note}\n{line}" if note else line,
                        enter_text=tender.enter_text,
                        cancel_text="cancel (reverses it)")

    def decided(paid: bool | None) -> None:
        agent, cashier = till.agent, till.cashier_id
        if paid:
            screen.run_core(lambda: tender.paid(agent)(approved.txn_id, cashier),
                            "Recording it…", lambda r: show_outcome(screen, r))
            return
        if not tender.supervisor_cancels:
            screen.run_core(lambda: tender.cancel(agent)(approved.txn_id, cashier),
                            "Cancelling: reversing it…", lambda r: show_outcome(screen, r))
            return

        def cancel_as(supervisor_id: str) -> None:
            screen.run_core(lambda: tender.cancel(agent)(approved.txn_id, supervisor_id),
                            "Cancelling: reversing it…", lambda r: show_outcome(screen, r))

        # without a supervisor the question stays open: ask again
        till.need_supervisor("cancel an approved money transfer", approved.reference,
                             lambda sup: cancel_as(sup.id),
                             otherwise=lambda: ask_tender(screen, approved, what))

    screen.app.push_screen(modal, callback=decided)  # type: ignore[attr-defined]
