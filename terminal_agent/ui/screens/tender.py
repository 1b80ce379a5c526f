"""After an approval: the explicit tender modal, then the confirmation (Enter) or the automatic
reversal (Esc), then the outcome. One place for every dual-message service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from terminal_agent.core import FlowResult, Kind, State
from terminal_agent.ui.format import money
from terminal_agent.ui.messages import SaleOutcome
from terminal_agent.ui.screens.base import Working
from terminal_agent.ui.screens.modals import TenderModal


@dataclass(frozen=True)
class Tender:
    """How the dialog words a kind's tender; the step itself is the façade's (``tender``,
    ``cancel``: the kind decides the flow in the core)."""

    verb: str                     # "Collect", "Pay out"
    enter_text: str
    supervisor_cancels: bool = False


TENDERS: dict[Kind, Tender] = {
    Kind.VOUCHER_SALE: Tender("Collect", "cash received"),
    Kind.MT_SEND: Tender("Collect", "cash received", supervisor_cancels=True),
    Kind.MT_PAYOUT: Tender("Pay out", "cash handed over", supervisor_cancels=True),
    Kind.SUV_REDEEM: Tender("Accept voucher for", "sale complete"),
}


@dataclass
class OpenSale:
    """An approved sale whose tender dialog is up (``TillApp.open_sale``). Quit, log out and
    the command palette go through ``TillApp.guard_open_sale`` while it is set: the sale is
    cancelled exactly as Esc on the dialog would (a supervisor for a money transfer), then
    ``then`` runs; or nothing happens."""

    result: FlowResult
    summary: str                                  # "Collect R 29.00, ref 1A2B3C4D"
    modal: TenderModal
    then: Callable[[], Any] | None = field(default=None)

    def cancel_then(self, then: Callable[[], Any]) -> None:
        self.then = then
        self.modal.dismiss(False)


# Esc on the dialog asks first (issue 16: one key cancelled and reversed the sale)
CANCEL_QUESTIONS: dict[Kind, str] = {
    Kind.VOUCHER_SALE: "Cancel this sale? The voucher is reversed: do not hand it over, give "
                       "back any cash you took.",
    Kind.MT_SEND: "Cancel this order? It is reversed (a supervisor authorises it): give back "
                  "any cash you took.",
    Kind.MT_PAYOUT: "Cancel this payout? It is reversed (a supervisor authorises it): do not "
                    "hand over the cash.",
    Kind.SUV_REDEEM: "Cancel this redemption? It is reversed and the voucher keeps its value.",
}


def show_outcome(screen: Working, result: FlowResult, *, after: Callable[[], Any] | None = None,
                 **extra: Any) -> None:
    """Replace ``screen`` by the outcome; ``after`` runs once the outcome is up."""
    from terminal_agent.ui.screens.outcome import OutcomeScreen

    screen.app.switch_screen(OutcomeScreen(SaleOutcome(result, **extra), after=after))  # type: ignore[attr-defined]


def ask_tender(screen: Working, approved: FlowResult, what: str = "") -> None:
    """Push "Collect R 29.00 — Enter: cash received, Esc: cancel" for an approved result. The
    dialog closes by itself when the sale is reversed behind it (deadline, supervisor) and the
    outcome says what to do with any cash already taken."""
    till = screen.till
    tender = TENDERS[approved.kind]
    due = approved.amount + (approved.fee if approved.kind == Kind.MT_SEND else 0)
    label = what or approved.data.get("receiver_name") or ""
    # the switch approved another amount than the one entered: say so before cash moves
    note = approved.data.get("amount_note")
    line = f"{label}  ref {approved.reference}".strip()
    agent = till.agent

    async def reversed_behind() -> bool:
        return bool((await agent.transaction(approved.txn_id)).state != State.APPROVED)

    cash_in = approved.kind in (Kind.VOUCHER_SALE, Kind.MT_SEND)
    modal = TenderModal(tender.verb, money(due, till.symbol),
                        what=f"{note}\n{line}" if note else line,
                        enter_text=tender.enter_text,
                        cancel_text="cancel (reverses it)", closed_behind=reversed_behind,
                        due=due if cash_in else None, symbol=till.symbol,
                        cancel_question=CANCEL_QUESTIONS[approved.kind])
    sale = OpenSale(approved, f"{tender.verb} {money(due, till.symbol)}, ref "
                              f"{approved.reference}", modal)
    till.open_sale = sale

    def finished(result: FlowResult) -> None:
        # then: what the cashier asked for instead (quit, log out, another service); the
        # change counted in the dialog stays in front of the cashier
        show_outcome(screen, result, after=sale.then, extra=dict(modal.change))

    def decided(paid: bool | None) -> None:
        till.open_sale = None
        cashier = till.cashier_id
        if paid is None:  # reversed behind the dialog: say so, and what to do with the cash
            screen.run_core(lambda: agent.as_it_stands(approved.txn_id),
                            "The sale was reversed…", finished)
            return
        if paid:
            screen.run_core(lambda: agent.tender(approved.txn_id, cashier, kind=approved.kind),
                            "Recording it…", finished)
            return
        if not tender.supervisor_cancels:
            screen.run_core(lambda: agent.cancel(approved.txn_id, cashier, kind=approved.kind),
                            "Cancelling: reversing it…", finished)
            return

        def cancel_as(supervisor_id: str) -> None:
            screen.run_core(lambda: agent.cancel(approved.txn_id, supervisor_id,
                                                 kind=approved.kind),
                            "Cancelling: reversing it…", finished)

        # without a supervisor the question stays open: ask again (and quit does not happen)
        till.need_supervisor("cancel an approved money transfer", approved.reference,
                             lambda sup: cancel_as(sup.id),
                             otherwise=lambda: ask_tender(screen, approved, what))

    screen.app.push_screen(modal, callback=decided)  # type: ignore[attr-defined]
