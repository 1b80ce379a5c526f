"""Digital voucher redemption (the voucher as tender): code → lookup → amount → redeem →
complete the sale (dual messaging) or done (single)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from terminal_agent.core.flows.base import FlowResult
from terminal_agent.protocol.common import Institution
from terminal_agent.ui import validators
from terminal_agent.ui.format import money, parse_amount
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.screens.tender import ask_tender, show_outcome
from terminal_agent.ui.widgets import Field


class RedeemScreen(TillScreen):
    TITLE_TEXT = "Redeem a digital voucher"
    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.lookup: Any = None
        self.amount = 0

    def body(self) -> Iterable[Widget]:
        yield Field("Voucher code (type or scan)", id="code", restrict=r"[\dA-Za-z ]*",
                    max_length=40, validators=[validators.required("voucher code", minimum=6,
                                                                   maximum=40)])
        yield Static("", id="summary")
        yield Field("Amount to redeem", id="amount", restrict=r"[\d.]*",
                    validators=[validators.amount()])
        yield Button("Redeem", id="go", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#amount-field").display = False
        self.query_one("#go").display = False
        self.query_one("#code", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.working:
            return
        if event.input.id == "code" and self.query_one("#code-field", Field).check():
            code = event.value
            self.run_core(lambda: self.till.agent.suv.lookup(code),
                          "Checking the voucher… (Esc: give up)", self.found, cancellable=True)
        elif event.input.id == "amount" and self.query_one("#amount-field", Field).check():
            self.amount = parse_amount(event.value)
            button = self.query_one("#go", Button)
            button.label = f"Redeem {money(self.amount, self.till.symbol)} (Enter)"
            button.display = True
            button.focus()

    def found(self, answer: Any) -> None:
        self.lookup = answer
        d = answer.data
        if not answer.ok:
            self.say(answer.message)
            return
        balance = d.get("balance")
        worth = money(balance, self.till.symbol) if balance is not None else "not told"
        self.query_one("#summary", Static).update(
            f"{d.get('issuer') or 'Voucher'} {d.get('code_masked', '')}: value {worth}")
        field = self.query_one("#amount-field")
        field.display = True
        amount = self.query_one("#amount", Input)
        if balance:
            amount.value = f"{balance / 100:.2f}"
        amount.focus()
        amount.call_after_refresh(amount.select_all)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "go":
            return
        event.button.display = False
        d = self.lookup.data if self.lookup else {}
        receiver = Institution(id=d["issuer_id"], name=d.get("issuer") or "") \
            if d.get("issuer_id") else None
        code, amount = self.query_one("#code", Input).value, self.amount
        suv, cashier = self.till.agent.suv, self.till.cashier_id
        self.run_core(lambda: suv.redeem(code, amount, cashier, receiver=receiver),
                      "Redeeming the voucher…", self.answered)

    def answered(self, result: FlowResult) -> None:
        if result.approved and result.state.value == "APPROVED":
            ask_tender(self, result, str(result.data.get("code_masked", "")))
        else:
            show_outcome(self, result)
