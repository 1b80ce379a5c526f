"""Decisions left open (approved, not tendered): put in front of the cashier at login."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from terminal_agent.core import KIND_LABELS, Kind, Txn
from terminal_agent.ui.format import money, when_text
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.screens.history import SHORT_KINDS


class PendingScreen(TillScreen):
    TITLE_TEXT = "Open decisions: approved, payment not recorded"
    BINDINGS = [
        Binding("t", "tender", "Paid / handed over"),
        Binding("c", "cancel", "Cancel (reverse)"),
        Binding("escape", "back", "Later"),
    ]

    def __init__(self, waiting: list[Txn]) -> None:
        super().__init__()
        self.waiting = list(waiting)
        self.decided = 0

    def body(self) -> Iterable[Widget]:
        yield Static("These were approved by the switch but the till never recorded the "
                     "customer's payment. For each: T if the customer paid (or the cash was "
                     "handed over), C to cancel and reverse it.", classes="hint")
        yield DataTable(id="pending", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("When", 8), ("Service", 9), ("Product", 16), ("Amount (+fee)", 13),
                             ("Reference", 9), ("Cashier", 7)):
            table.add_column(label, width=width)
        self.fill()
        table.focus()

    def fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for txn in self.waiting:
            table.add_row(when_text(txn.created_at, self.till.clock()), SHORT_KINDS[txn.kind],
                          txn.product or "", money(txn.total, self.till.symbol), txn.reference,
                          txn.cashier, key=txn.id)
        if not self.waiting and not self.decided:
            self.dismiss(None)
        elif not self.waiting:  # the last one decided: leave its outcome (printed?) readable
            self.query_one(".hint", Static).update("Every open decision is settled. Esc: back.")

    def selected(self) -> Txn | None:
        table = self.query_one(DataTable)
        if not self.waiting or table.cursor_row >= len(self.waiting):
            return None
        return self.waiting[table.cursor_row]

    def confirmed(self, txn: Txn, question: str, then: Callable[[], None]) -> None:
        """Every act here moves money or cancels a sale: Y confirms it (issue 16: c and t
        acted at once)."""
        from terminal_agent.ui.screens.modals import ConfirmModal

        what = (f"{KIND_LABELS[txn.kind]} {txn.product or ''}, "
                f"{money(txn.total, self.till.symbol)}, ref {txn.reference}")
        self.app.push_screen(ConfirmModal(f"{what}\n{question}", yes="yes", no="no, back",
                                          strict=True),
                             callback=lambda yes: then() if yes else None)

    def action_tender(self) -> None:
        txn = self.selected()
        if txn is not None:
            question = ("Did the recipient get the cash? It is recorded as paid out."
                        if txn.kind == Kind.MT_PAYOUT else
                        "Did the customer pay? It is recorded as paid and the slip prints.")
            self.confirmed(txn, question, lambda: self.paid(txn))

    def paid(self, txn: Txn) -> None:
        cashier = self.till.cashier_id

        async def paid() -> str:  # the façade's tender: cash in, or cash out for a payout
            result = await self.till.agent.tender(txn.id, cashier)  # the receipt is committed
            printed = await self.till.printer.print_result(result, cashier)
            return f"{txn.reference}: {result.message} {printed.message}"

        self.run_core(paid, "Recording the payment…", lambda said: self.settled(txn, said))

    def action_cancel(self) -> None:
        txn = self.selected()
        if txn is not None:
            self.confirmed(txn, "Cancel it? It is reversed: hand nothing over, give back any "
                                "cash taken for it.", lambda: self.cancel(txn))

    def cancel(self, txn: Txn) -> None:
        def go(actor: str) -> None:
            self.run_core(lambda: self.till.agent.cancel(txn.id, actor), "Reversing…",
                          lambda r: self.settled(txn, f"{txn.reference}: {r.message}"))

        if txn.kind in (Kind.MT_SEND, Kind.MT_PAYOUT):
            self.till.need_supervisor("cancel a money transfer", txn.reference,
                                      lambda sup: go(sup.id))
        else:
            go(self.till.cashier_id)

    def settled(self, txn: Txn, message: str) -> None:
        self.waiting = [t for t in self.waiting if t.id != txn.id]
        self.decided += 1
        self.say(message, "info")
        self.fill()
