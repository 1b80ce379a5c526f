"""Digital voucher redemption (the voucher as tender): code → lookup → amount → redeem →
complete the sale (dual messaging) or done (single)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from terminal_agent.core import FlowResult, Provider, parse_amount, voucher_code
from terminal_agent.ui import validators
from terminal_agent.ui.format import money
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
        yield Field("Voucher code", id="code", restrict=r"[\dA-Za-z \-]*", max_length=60,
                    placeholder="type or scan", validators=[validators.voucher_code()])
        yield Static("", id="summary")
        yield Field("Amount to redeem", id="amount", restrict=validators.AMOUNT_KEYS,
                    validators=[validators.amount()])
        yield Button("Redeem", id="go", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#amount-field").display = False
        self.query_one("#go").display = False
        self.query_one("#code", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        super().on_input_changed(event)
        if event.input.id == "code" and event.input.has_focus and self.lookup is not None:
            self.lookup = None  # another voucher: what was found no longer applies
            self.query_one("#summary", Static).update("")
            self.query_one("#amount-field").display = False
            self.query_one("#go").display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.working:
            return
        if event.input.id == "code" and self.query_one("#code-field", Field).check():
            code = voucher_code(event.value)
            self.run_core(lambda: self.till.agent.check_voucher(code),
                          "Checking the voucher…", self.found, cancellable=True)
        elif event.input.id == "amount" and self.query_one("#amount-field", Field).check():
            self.amount = parse_amount(event.value)
            button = self.query_one("#go", Button)
            button.label = f"Redeem {money(self.amount, self.till.symbol)} (Enter)"
            button.display = True
            button.focus()

    def found(self, answer: Any) -> None:
        d = answer.data
        if not answer.ok:
            self.say(answer.message)
            return
        self.lookup = answer
        balance = d.get("balance")
        worth = money(balance, self.till.symbol) if balance is not None else "not told"
        issuer = d.get("issuer") or "Issuer not told"
        self.query_one("#summary", Static).update(
            f"{issuer}, code {d.get('code_masked', '')}: value {worth}")
        self.query_one("#amount-field").display = True
        amount = self.query_one("#amount", Input)
        if balance:
            amount.value = f"{balance / 100:.2f}".replace(".", ",")
        amount.focus()
        amount.call_after_refresh(amount.select_all)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "go":
            return
        event.button.display = False
        d = self.lookup.data if self.lookup else {}
        receiver = Provider(id=d["issuer_id"], name=d.get("issuer") or "") \
            if d.get("issuer_id") else None
        code, amount = voucher_code(self.query_one("#code", Input).value), self.amount
        agent, cashier = self.till.agent, self.till.cashier_id
        self.run_core(lambda: agent.redeem_voucher(code, amount, cashier, provider=receiver),
                      "Redeeming the voucher…", self.answered, countdown=True)

    def answered(self, result: FlowResult) -> None:
        if result.approved and result.state.value == "APPROVED":
            ask_tender(self, result, f"voucher {result.data.get('code_masked', '')}")
        else:
            show_outcome(self, result)
