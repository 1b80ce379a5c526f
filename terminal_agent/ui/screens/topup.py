"""Direct top-up: phone number twice → network's products → amount → trial → tender FIRST →
purchase → approved / refund due / pending (lookups until final)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from terminal_agent.core.flows.airtime import normalise_msisdn
from terminal_agent.core.flows.base import FlowResult
from terminal_agent.ui import validators
from terminal_agent.ui.format import money
from terminal_agent.ui.screens.modals import TenderModal
from terminal_agent.ui.screens.voucher import ProductPicker, SaleWizard
from terminal_agent.ui.widgets import Field


class TopUpScreen(SaleWizard):
    TITLE_TEXT = "Direct top-up"
    BINDINGS = [Binding("escape", "back", "Back")]
    step = "phone"

    def __init__(self) -> None:
        super().__init__()
        self.msisdn = ""
        self.operator = ""

    def want(self, product: Any) -> bool:
        if not product.is_direct_topup:
            return False
        op = getattr(product.operator, "name", "") if product.operator else ""
        return not self.operator or op == self.operator

    def body(self) -> Iterable[Widget]:
        yield Field("Phone number", id="msisdn", placeholder="082 123 4567",
                    restrict=r"[\d +]*", max_length=16, validators=[validators.msisdn()])
        yield Field("Phone number again", id="msisdn2", restrict=r"[\d +]*", max_length=16,
                    validators=[validators.SameAs(lambda: self.query_one("#msisdn", Input).value,
                                                  normalise_msisdn)])
        yield Label("Product (arrows, Enter)", classes="field-label", id="products-label")
        yield ProductPicker(id="products")
        yield Field("Amount", id="amount", placeholder="e.g. 50", restrict=r"[\d.]*",
                    validators=[validators.amount(maximum=100_000)])
        yield Button("Top up", id="go", variant="primary")
        yield Static("", id="summary")

    def on_mount(self) -> None:
        for wid in ("#products-label", "#products", "#amount-field", "#go"):
            self.query_one(wid).display = False
        self.query_one("#msisdn", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.working:
            return
        if event.input.id == "msisdn" and self.query_one("#msisdn-field", Field).check():
            self.query_one("#msisdn2", Input).focus()
        elif event.input.id == "msisdn2" and self.query_one("#msisdn2-field", Field).check():
            self.msisdn = normalise_msisdn(event.value)
            self.find_network()
        elif event.input.id == "amount":
            self.amount_entered()

    def find_network(self) -> None:
        agent = self.till.agent

        async def look() -> list[Any]:
            info = await agent.catalogue.msisdn_info(self.msisdn)
            operator = getattr(getattr(info, "msisdn", None), "operator", None) if info else None
            self.operator = getattr(operator, "name", "") or ""
            return await agent.catalogue.products()

        def shown(products: list[Any]) -> None:
            self.step = "product"
            self.products = [p for p in products if self.want(p)]
            picker = self.query_one(ProductPicker)
            picker.show(self.products, self.till.symbol)
            for wid in ("#products-label", "#products"):
                self.query_one(wid).display = True
            network = f" on {self.operator}" if self.operator else ""
            self.query_one("#summary", Static).update(f"Phone *******{self.msisdn[-4:]}{network}")
            picker.focus()

        self.run_core(look, "Looking up the number…", shown)

    def go_label(self) -> str:
        return f"Top up {money(self.amount, self.till.symbol)} (Enter)"

    def action_back(self) -> None:
        if self.working:
            return
        if self.step == "product":
            self.step = "phone"
            for wid in ("#products-label", "#products"):
                self.query_one(wid).display = False
            self.query_one("#msisdn2", Input).focus()
            return
        super().action_back()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go" and self.step == "confirm":
            self.trial()

    def trial(self) -> None:
        product, amount, msisdn = self.product, self.amount, self.msisdn
        self.step = "trial"
        self.query_one("#go").display = False
        if not self.till.cfg.airtime.trial_before_topup:
            self.ask_tender(None)
            return
        self.run_core(lambda: self.till.agent.topups.trial(product, msisdn, amount),
                      "Checking with the network…", self.ask_tender, self.failed)

    def failed(self, exc: BaseException) -> None:
        from terminal_agent.ui.screens.base import explain

        self.step = "confirm"
        self.query_one("#go").display = True
        self.say(explain(exc))

    def ask_tender(self, trial: FlowResult | None) -> None:
        if trial is not None and trial.verdict == "declined":
            self.show_outcome(trial, title="Direct top-up: checked, not sent")
            return
        if trial is not None and trial.verdict == "unknown":
            self.say(trial.message, "warn")
        what = f"{self.product.name or self.product.product_id} to *******{self.msisdn[-4:]}"
        self.app.push_screen(TenderModal("Collect", money(self.amount, self.till.symbol),
                                         what=what),
                             callback=lambda paid: self.tendered(bool(paid)))

    def tendered(self, paid: bool) -> None:
        if not paid:
            self.step = "confirm"
            self.query_one("#go").display = True
            self.say("Top-up not sent. Nothing was charged.", "info")
            return
        product, amount, msisdn = self.product, self.amount, self.msisdn
        self.run_core(lambda: self.till.agent.topups.purchase(product, msisdn, amount,
                                                              self.till.cashier_id),
                      "Topping up the phone…", self.show_outcome)
