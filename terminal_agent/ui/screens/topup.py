"""Direct top-up: phone number twice → the network's products → amount → trial → tender FIRST
→ purchase → approved / refund due / pending (lookups until final). The "Collect" dialog is the
confirmation: the amount's Enter goes straight to it."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget
from textual.widgets import Input, Static

from terminal_agent.core import (
    TOPUPS,
    FlowResult,
    Offer,
    ProductOffer,
    SaleVerdict,
    normalise_msisdn,
)
from terminal_agent.ui import validators
from terminal_agent.ui.format import money
from terminal_agent.ui.screens.modals import TenderModal
from terminal_agent.ui.screens.voucher import ProductPicker, SaleWizard
from terminal_agent.ui.widgets import Field


class TopUpScreen(SaleWizard):
    TITLE_TEXT = "Direct top-up"
    SERVICE = TOPUPS
    step = "phone"

    def __init__(self) -> None:
        super().__init__()
        self.msisdn = ""

    def body(self) -> Iterable[Widget]:
        yield Field("Phone number", id="msisdn", placeholder="082 123 4567",
                    restrict=r"[\d +]*", max_length=16, validators=[validators.msisdn()])
        yield Field("Phone number again", id="msisdn2", restrict=r"[\d +]*", max_length=16,
                    validators=[validators.SameAs(lambda: self.query_one("#msisdn", Input).value,
                                                  normalise_msisdn)])
        yield Static("", id="summary")
        yield ProductPicker()
        yield Field("Amount", id="amount", placeholder="e.g. 50", restrict=validators.AMOUNT_KEYS,
                    validators=[validators.amount(maximum=100_000)])

    def on_mount(self) -> None:
        super().on_mount()
        for wid in ("#picker", "#amount-field"):
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
        else:
            super().on_input_submitted(event)

    def find_network(self) -> None:
        agent = self.till.agent

        async def look() -> ProductOffer:
            self.network = await agent.network_of(self.msisdn)
            return await agent.product_offer(TOPUPS, network=self.network)

        def shown(offer: ProductOffer) -> None:
            self.step = "product"
            self.picker.display = True
            network = f" on {self.network}" if self.network else ""
            self.summary(f"Phone *******{self.msisdn[-4:]}{network}")
            self.show_products(offer)
            self.picker.options.focus()

        self.run_core(look, "Looking up the number…", shown)

    def picked(self, product: Offer) -> None:
        super().picked(product)
        if self.step == "amount":
            self.summary(f"Phone *******{self.msisdn[-4:]}: {product.name}. Type the amount, "
                         "then Enter.")

    def confirm_step(self) -> None:
        """No separate "Top up" button: the Collect dialog asks before anything is sent."""
        self.trial()

    def action_back(self) -> None:
        if self.working:
            return
        if self.step == "amount":
            self.step = "product"
            self.query_one("#amount-field").display = False
            self.picker.options.focus()
            return
        if self.step == "product":
            self.step = "phone"
            self.picker.display = False
            self.summary("")
            self.query_one("#msisdn2", Input).focus()
            return
        self.dismiss(None)

    def trial(self) -> None:
        product, amount, msisdn = self.product, self.amount, self.msisdn
        self.step = "trial"
        if not self.till.cfg.airtime.trial_before_topup:
            self.ask_tender(None)
            return
        self.run_core(lambda: self.till.agent.check_top_up(product, msisdn, amount),
                      "Checking with the network…", self.ask_tender, self.failed,
                      countdown=True)

    def failed(self, exc: BaseException) -> None:
        from terminal_agent.ui.screens.base import explain

        self.back_to_amount()
        self.say(explain(exc))

    def back_to_amount(self) -> None:
        fixed = not self.query_one("#amount-field").display
        self.step = "product" if fixed else "amount"
        (self.picker.options if fixed else self.query_one("#amount", Input)).focus()

    def ask_tender(self, trial: FlowResult | None) -> None:
        if trial is not None and trial.verdict == SaleVerdict.DECLINED:
            self.show_outcome(trial, title="Direct top-up: checked, not sent")
            return
        if trial is not None and trial.verdict == SaleVerdict.UNKNOWN:
            self.say(trial.message, "warn")
        what = f"{self.product.name} to *******{self.msisdn[-4:]}"
        # nothing is sent before the cash is in: Esc here needs no question (nothing moved)
        modal = TenderModal("Collect", money(self.amount, self.till.symbol), what=what,
                            due=self.amount, symbol=self.till.symbol)
        self.app.push_screen(modal, callback=lambda paid: self.tendered(bool(paid),
                                                                        modal.change))

    def tendered(self, paid: bool, change: dict[str, str]) -> None:
        if not paid:
            self.back_to_amount()
            self.say("Top-up not sent. Nothing was charged.", "info")
            return
        product, amount, msisdn = self.product, self.amount, self.msisdn
        self.run_core(lambda: self.till.agent.top_up(product, msisdn, amount,
                                                     self.till.cashier_id),
                      "Topping up the phone…",
                      lambda result: self.show_outcome(result, extra=dict(change)),
                      countdown=True)
