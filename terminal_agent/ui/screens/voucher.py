"""Airtime voucher sale: product (quick key, search or arrows) → (amount) → sell → tender →
receipt (PIN printed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import events
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from terminal_agent.core import (
    VOUCHERS,
    FlowResult,
    Offer,
    ProductOffer,
    fixed_amount,
    parse_amount,
)
from terminal_agent.ui import validators
from terminal_agent.ui.format import money
from terminal_agent.ui.messages import SaleOutcome
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.widgets import Field

QUICK = "123456789"
NOTHING_PICKED = Offer("", "", None, False)


def product_line(n: int, product: Offer, symbol: str) -> str:
    value = fixed_amount(product)
    price = money(value, symbol) if value else "any amount"
    key = str(n) if n <= len(QUICK) else " "
    return f"{key}  {product.name}  ({price})"


class ProductPicker(Vertical):
    """Find a product: digits 1-9 pick one of the list at once (quick keys), letters search by
    name or network, arrows and Enter as usual."""

    def __init__(self) -> None:
        super().__init__(id="picker")
        self.offer = ProductOffer()
        self.shown: tuple[Offer, ...] = ()
        self.symbol = "R"

    def compose(self) -> Iterable[Widget]:
        yield Field("Find: type, or 1-9", id="search", max_length=40,
                    placeholder="a name or network; 1-9 picks from the list")
        yield OptionList(id="products", compact=True)

    @property
    def options(self) -> OptionList:
        return self.query_one("#products", OptionList)

    @property
    def search(self) -> Input:
        return self.query_one("#search", Input)

    def show(self, offer: ProductOffer, symbol: str) -> None:
        if (offer, symbol) == (self.offer, self.symbol) and self.shown == offer.matching(
                self.search.value):
            return  # the same list: not built again (a kept screen's next visit)
        self.offer, self.symbol = offer, symbol
        self.refilter()

    def from_the_top(self) -> None:
        """No search, the whole list, the first product highlighted, the list focused."""
        if self.search.value:
            self.search.value = ""
        if self.shown != self.offer.matching(""):
            self.refilter()
        elif self.shown:
            self.options.highlighted = 0
        self.options.scroll_home(animate=False)
        self.options.focus()

    def refilter(self) -> None:
        self.shown = self.offer.matching(self.search.value)
        options = self.options
        options.clear_options()
        options.add_options([Option(product_line(n, p, self.symbol), id=str(n - 1))
                             for n, p in enumerate(self.shown, start=1)])
        if self.shown:
            options.highlighted = 0

    def highlighted(self) -> Offer | None:
        index = self.options.highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    def quick(self, key: str) -> Offer | None:
        n = QUICK.index(key)
        return self.shown[n] if n < len(self.shown) else None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.refilter()

    def on_key(self, event: events.Key) -> None:
        """In the search field, up and down move in the list; in the list, a letter starts a
        search."""
        if self.search.has_focus and event.key in ("down", "up"):
            getattr(self.options, f"action_cursor_{event.key}")()
            event.stop()
        elif (self.options.has_focus and event.character and event.is_printable
              and event.character not in QUICK):
            self.search.focus()
            self.search.insert_text_at_cursor(event.character)
            event.stop()


class SaleWizard(TillScreen):
    """Shared steps: pick a product, type an amount where the product has no fixed value, go.
    The product list comes from the core's catalogue (cached, retried in the background)."""

    step = "product"
    SERVICE = VOUCHERS
    _watching: Timer | None = None
    BINDINGS = [Binding("escape", "back", "Back"), Binding("f5", "reload", "Reload products")]

    def __init__(self) -> None:
        super().__init__()
        self.product = NOTHING_PICKED
        self.amount = 0
        self.network = ""

    @property
    def picker(self) -> ProductPicker:
        return self.query_one(ProductPicker)

    def load_products(self, *, refresh: bool = False) -> None:
        agent, service = self.till.agent, self.SERVICE
        self.run_core(lambda: agent.product_offer(service, network=self.network, refresh=refresh),
                      "Loading products…", self.show_products)

    def show_products(self, offer: ProductOffer) -> None:
        picker = self.picker
        had = bool(picker.offer.products)
        picker.show(offer, self.till.symbol)
        if offer.problem:
            self.say(offer.problem + " F5: reload now.", "warn" if offer.products else "bad")
        elif not had and self.said_tone:
            self.say("")
        if offer.products and not had and self.step == "product":
            picker.options.focus()

    def on_mount(self) -> None:
        if self._watching is None:  # (Textual calls it, and a subclass's on_mount calls super)
            self._watching = self.set_interval(1.0, self.watch_catalogue)

    def left(self) -> None:
        """(A kept screen off the stack shows no list to keep fresh: no wake-up meanwhile.)"""
        super().left()
        if self._watching is not None:
            self._watching.pause()

    def new_visit(self) -> None:
        super().new_visit()
        if self._watching is not None:
            self._watching.resume()

    def watch_catalogue(self) -> None:
        """While the list is empty or stale, take the background retry's list when it comes."""
        picker = self.picker
        if self.working or not picker.display or not picker.offer.problem:
            return
        offer = self.till.agent.product_offer_now(self.SERVICE, network=self.network)
        if offer.loaded_at != picker.offer.loaded_at or offer.problem != picker.offer.problem:
            self.show_products(offer)

    def action_reload(self) -> None:
        if self.step == "product" and self.picker.display:
            self.load_products(refresh=True)

    def on_key(self, event: events.Key) -> None:
        if (self.step == "product" and event.character in tuple(QUICK)
                and self.picker.options.has_focus):
            product = self.picker.quick(event.character)
            if product is not None:
                event.stop()
                self.picked(product)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self.working or event.option_list.id != "products":
            return
        self.picked(self.picker.shown[int(event.option.id or 0)])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.working:
            return
        if event.input.id == "search":
            product = self.picker.highlighted()
            if product is not None:
                self.picked(product)
        elif event.input.id == "amount":
            self.amount_entered()

    def picked(self, product: Offer) -> None:
        self.product = product
        value = fixed_amount(product)
        if value:
            self.amount = value
            self.confirm_step()
            return
        self.step = "amount"
        self.query_one("#amount-field").display = True
        self.query_one("#amount", Input).focus()
        self.summary(f"{product.name}: type the amount, then Enter.")

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

    def summary(self, text: str) -> None:
        self.query_one("#summary", Static).update(text)

    def action_back(self) -> None:
        if self.working:
            return
        if self.step == "product" and self.picker.search.value:
            self.picker.search.value = ""  # Esc clears the search first
            self.picker.options.focus()
            return
        if self.step in ("amount", "confirm"):
            self.step = "product"
            self.query_one("#go").display = False
            self.query_one("#amount-field").display = False
            self.summary("")
            self.picker.options.focus()
            return
        self.dismiss(None)

    def show_outcome(self, result: FlowResult, **extra: Any) -> None:
        from terminal_agent.ui.screens.outcome import OutcomeScreen

        self.app.switch_screen(OutcomeScreen(SaleOutcome(result, **extra)))


class VoucherScreen(SaleWizard):
    TITLE_TEXT = "Airtime voucher"
    KEPT = True  # composed once (issue 17: key to repaint); ``new_visit`` clears the last sale

    def body(self) -> Iterable[Widget]:
        yield ProductPicker()
        yield Field("Amount", id="amount", placeholder="e.g. 29,50",
                    restrict=validators.AMOUNT_KEYS,
                    validators=[validators.amount(maximum=100_000)])
        yield Static("", id="summary")
        yield Button("Sell", id="go", variant="primary", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#amount-field").display = False
        self.query_one("#go").display = False
        self.load_products()

    def new_visit(self) -> None:
        """As on mount: no product picked, no amount, no search, the list from the top."""
        super().new_visit()
        self.step = "product"
        self.product, self.amount = NOTHING_PICKED, 0
        amount = self.query_one("#amount-field", Field)
        amount.clear()
        amount.display = False
        go = self.query_one("#go", Button)
        go.label = "Sell"
        go.display = False
        self.summary("")
        # the list as the till has it now (kept fresh in the background: ``keep_fresh``); asked
        # for (with the progress line) only when it is empty or has a problem
        offer = self.till.agent.product_offer_now(self.SERVICE, network=self.network)
        self.picker.show(offer, self.till.symbol)
        self.picker.from_the_top()
        if not offer.products or offer.problem:
            self.load_products()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go" and self.step == "confirm":
            self.sell()

    def confirm_step(self) -> None:
        self.summary(f"{self.product.name}: {money(self.amount, self.till.symbol)}. "
                     "Enter sells it; Esc picks another.")
        super().confirm_step()

    def sell(self) -> None:
        product, amount = self.product, self.amount
        self.step = "selling"
        self.query_one("#go").display = False
        self.run_core(lambda: self.till.agent.sell_voucher(product, amount, self.till.cashier_id),
                      "Asking the switch for a voucher…", self.answered, self.failed,
                      countdown=True)

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

        ask_tender(self, result, self.product.name)
