"""Airtime voucher sale: product → (amount) → sell → tender → receipt (PIN printed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from terminal_agent.core.flows.base import FlowResult
from terminal_agent.ui import validators
from terminal_agent.ui.format import money, parse_amount
from terminal_agent.ui.messages import SaleOutcome
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.widgets import Field


def face_value(product: Any) -> int | None:
    values = getattr(product, "product_values", None) or []
    return int(values[0].amount) if len(values) == 1 and values[0].amount else None


def product_line(product: Any, symbol: str) -> str:
    value = face_value(product)
    price = money(value, symbol) if value else "any amount"
    return f"{product.name or product.product_id}  ({price})"


class ProductPicker(OptionList):
    """Products from the catalogue; Enter picks one."""

    def show(self, products: list[Any], symbol: str) -> None:
        self.clear_options()
        self.add_options([Option(product_line(p, symbol), id=str(n))
                          for n, p in enumerate(products)])
        if products:
            self.highlighted = 0


class SaleWizard(TillScreen):
    """Shared steps: pick a product, type an amount where the product has no fixed value, go."""

    step = "product"
    products: list[Any]

    def __init__(self) -> None:
        super().__init__()
        self.products = []
        self.product: Any = None
        self.amount = 0

    def want(self, product: Any) -> bool:
        raise NotImplementedError

    def load_products(self) -> None:
        def shown(products: list[Any]) -> None:
            self.products = [p for p in products if self.want(p)]
            self.query_one(ProductPicker).show(self.products, self.till.symbol)
            self.query_one(ProductPicker).focus()
            if not self.products:
                self.say("The switch offers no products for this service right now.")
        self.run_core(lambda: self.till.agent.catalogue.products(), "Loading products…", shown)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self.working or event.option_list.id != "products":
            return
        self.product = self.products[int(event.option.id or 0)]
        value = face_value(self.product)
        if value:
            self.amount = value
            self.confirm_step()
        else:
            self.step = "amount"
            self.query_one("#amount-field").display = True
            self.query_one("#amount", Input).focus()

    def amount_entered(self) -> None:
        field = self.query_one("#amount-field", Field)
        if not field.check():
            return
        self.amount = parse_amount(field.value)
        self.confirm_step()

    def confirm_step(self) -> None:
        self.step = "confirm"
        go = self.query_one("#go", Button)
        go.label = self.go_label()
        go.display = True
        go.focus()

    def go_label(self) -> str:
        return f"Sell {money(self.amount, self.till.symbol)} (Enter)"

    def action_back(self) -> None:
        if self.working:
            return
        if self.step in ("amount", "confirm"):
            self.step = "product"
            self.query_one("#go").display = False
            self.query_one("#amount-field").display = False
            self.query_one(ProductPicker).focus()
            return
        self.dismiss(None)

    def show_outcome(self, result: FlowResult, **extra: Any) -> None:
        from terminal_agent.ui.screens.outcome import OutcomeScreen

        self.app.switch_screen(OutcomeScreen(SaleOutcome(result, **extra)))


class VoucherScreen(SaleWizard):
    TITLE_TEXT = "Airtime voucher"
    BINDINGS = [Binding("escape", "back", "Back")]

    def want(self, product: Any) -> bool:
        return not product.is_direct_topup

    def body(self) -> Iterable[Widget]:
        yield Label("Product (arrows, Enter)", classes="field-label")
        yield ProductPicker(id="products")
        yield Field("Amount", id="amount", placeholder="e.g. 29.50", restrict=r"[\d.]*",
                    validators=[validators.amount(maximum=100_000)])
        yield Button("Sell", id="go", variant="primary")
        yield Static("", id="summary")

    def on_mount(self) -> None:
        self.query_one("#amount-field").display = False
        self.query_one("#go").display = False
        self.load_products()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "amount":
            self.amount_entered()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go" and self.step == "confirm":
            self.sell()

    def sell(self) -> None:
        product, amount = self.product, self.amount
        self.step = "selling"
        self.query_one("#go").display = False
        self.run_core(lambda: self.till.agent.vouchers.sell(product, amount, self.till.cashier_id),
                      "Asking the switch for a voucher…", self.answered, self.failed)

    def failed(self, exc: BaseException) -> None:
        from terminal_agent.ui.screens.base import explain

        self.step = "confirm"
        self.query_one("#go").display = True
        self.say(explain(exc))

    def answered(self, result: FlowResult) -> None:
        if not result.approved:
            self.show_outcome(result)
            return
        from terminal_agent.ui.screens.tender import ask_tender

        ask_tender(self, result, self.product.name or self.product.product_id)
