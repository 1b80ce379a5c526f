"""Money transfer: send money (create order → cash in → confirmation), pay out (look up →
redeem → cash out → confirmation), and customers with the fee quote."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from terminal_agent.core.flows.airtime import normalise_msisdn
from terminal_agent.core.flows.base import FlowResult
from terminal_agent.errors import ValidationError
from terminal_agent.protocol import moneytransfer as mt
from terminal_agent.protocol.common import Institution
from terminal_agent.ui import validators
from terminal_agent.ui.format import money, parse_amount
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.screens.tender import ask_tender, show_outcome
from terminal_agent.ui.widgets import Field

_ID_RE = re.compile(r"[A-Za-z0-9]{6,20}")


def id_number(text: str) -> str:
    value = text.strip().upper()
    if not _ID_RE.fullmatch(value):
        raise ValidationError("idNumber", "6 to 20 letters or digits, as on the document")
    return value


def name(text: str) -> str:
    value = text.strip()
    if not 1 <= len(value) <= 40:
        raise ValidationError("name", "1 to 40 characters")
    return value


class MoneyForm(TillScreen):
    """A form of fields (Enter goes to the next one), the provider on top."""

    BINDINGS = [Binding("escape", "back", "Back")]
    FIELDS: tuple[str, ...] = ()

    @property
    def receivers(self) -> list[tuple[str, str]]:
        """The providers this till offers (``[moneytransfer] receivers``), first = default."""
        return [(r.id, r.name) for r in self.till.agent.config.moneytransfer.receivers]

    def receiver_select(self) -> Widget:
        return Select([(n, i) for i, n in self.receivers], value=self.receivers[0][0],
                      allow_blank=False, id="receiver")

    @property
    def receiver(self) -> Institution:
        chosen = str(self.query_one("#receiver", Select).value)
        return Institution(id=chosen, name=dict(self.receivers).get(chosen, chosen))

    def fields_ok(self, ids: Iterable[str]) -> bool:
        ok = True
        for wid in ids:
            ok = self.query_one(f"#{wid}-field", Field).check() and ok
        return ok

    def val(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.working:
            return
        wid = event.input.id or ""
        if not self.fields_ok([wid]):
            return
        if wid in self.FIELDS and wid != self.FIELDS[-1]:
            self.query_one(f"#{self.FIELDS[self.FIELDS.index(wid) + 1]}", Input).focus()
            return
        self.submitted(wid)

    def submitted(self, wid: str) -> None:
        raise NotImplementedError

    def go(self, label: str) -> None:
        button = self.query_one("#go", Button)
        button.label = label
        button.display = True
        button.focus()


class SendMoneyScreen(MoneyForm):
    TITLE_TEXT = "Send money"
    FIELDS = ("s-first", "s-last", "s-id", "s-phone", "r-first", "r-last", "r-phone", "amount")

    def __init__(self) -> None:
        super().__init__()
        self.amount = 0
        self.fee = 0
        self.quote_id: str | None = None

    def body(self) -> Iterable[Widget]:
        with VerticalScroll():
            yield self.receiver_select()
            yield Static("Sender", classes="hint")
            with Horizontal(classes="row"):
                yield Field("First name", id="s-first", validators=[validators.Checked(name)])
                yield Field("Last name", id="s-last", validators=[validators.Checked(name)])
            with Horizontal(classes="row"):
                yield Field("ID number", id="s-id", validators=[validators.Checked(id_number)])
                yield Field("Phone", id="s-phone", restrict=r"[\d +]*",
                            validators=[validators.msisdn()])
            yield Static("Recipient", classes="hint")
            with Horizontal(classes="row"):
                yield Field("First name", id="r-first", validators=[validators.Checked(name)])
                yield Field("Last name", id="r-last", validators=[validators.Checked(name)])
            yield Field("Recipient phone", id="r-phone", restrict=r"[\d +]*",
                        validators=[validators.msisdn()])
            yield Field("Amount to send", id="amount", restrict=r"[\d.]*",
                        validators=[validators.amount(maximum=500_000)])
            yield Button("Send", id="go", variant="primary")
            yield Static("", id="summary")

    def on_mount(self) -> None:
        self.query_one("#go").display = False
        self.query_one("#s-first", Input).focus()

    def submitted(self, wid: str) -> None:
        if not self.fields_ok(self.FIELDS):
            return
        self.amount = parse_amount(self.val("amount"))
        receiver, amount = self.receiver, self.amount
        flow = self.till.agent.money
        self.run_core(lambda: flow.fee_quote(receiver, amount,
                                             sender_cell=normalise_msisdn(self.val("s-phone")),
                                             recipient_cell=normalise_msisdn(self.val("r-phone"))),
                      "Asking for the fee… (Esc: give up)", self.quoted, cancellable=True)

    def quoted(self, answer: Any) -> None:
        sym = self.till.symbol
        if not answer.ok and answer.verdict != "not_offered":
            self.say(answer.message)
            return
        self.fee = int(answer.data.get("fee", 0)) if answer.ok else 0
        self.quote_id = answer.data.get("quote_id") if answer.ok else None
        total = self.amount + self.fee
        self.query_one("#summary", Static).update(
            f"Fee {money(self.fee, sym)}: the customer pays {money(total, sym)}."
            + ("" if answer.ok else f" {answer.message}"))
        self.go(f"Send {money(self.amount, sym)} + fee = {money(total, sym)} (Enter)")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "go":
            return
        event.button.display = False
        sender = mt.PersonalDetails(first_name=self.val("s-first"), last_name=self.val("s-last"),
                                    id_number=id_number(self.val("s-id")),
                                    contact_number=normalise_msisdn(self.val("s-phone")))
        recipient = mt.PersonalDetails(first_name=self.val("r-first"),
                                       last_name=self.val("r-last"),
                                       contact_number=normalise_msisdn(self.val("r-phone")))
        receiver, amount, fee, quote = self.receiver, self.amount, self.fee, self.quote_id
        flow, cashier = self.till.agent.money, self.till.cashier_id
        self.run_core(lambda: flow.create_order(amount, fee, sender, recipient, cashier,
                                                receiver=receiver, quote_id=quote),
                      "Creating the order…", self.answered)

    def answered(self, result: FlowResult) -> None:
        if result.approved:
            ask_tender(self, result, f"to {self.val('r-first')} {self.val('r-last')}")
        else:
            show_outcome(self, result)


class PayoutScreen(MoneyForm):
    TITLE_TEXT = "Pay out"
    FIELDS = ("order-ref",)

    def __init__(self) -> None:
        super().__init__()
        self.amount = 0

    def body(self) -> Iterable[Widget]:
        yield self.receiver_select()
        yield Field("Order reference", id="order-ref", max_length=40,
                    validators=[validators.required("order reference", minimum=4, maximum=40)])
        yield Static("", id="summary")
        yield Button("Pay out", id="go", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#go").display = False
        self.query_one("#order-ref", Input).focus()

    def submitted(self, wid: str) -> None:
        if not self.fields_ok(self.FIELDS):
            return
        receiver, ref = self.receiver, self.val("order-ref")
        self.query_one("#go").display = False
        self.run_core(lambda: self.till.agent.money.lookup_order(ref, receiver),
                      "Looking up the order… (Esc: give up)", self.found, cancellable=True)

    def found(self, answer: Any) -> None:
        self.query_one("#summary", Static).update(answer.message)
        if not answer.ok or not answer.data.get("payable"):
            self.say(answer.message)
            return
        self.amount = int(answer.data["amount"])
        self.go(f"Pay out {money(self.amount, self.till.symbol)} (Enter)")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "go":
            return
        event.button.display = False
        receiver, ref, amount = self.receiver, self.val("order-ref"), self.amount
        flow, cashier = self.till.agent.money, self.till.cashier_id
        self.run_core(lambda: flow.redeem(ref, amount, cashier, receiver=receiver),
                      "Redeeming the order…", self.answered)

    def answered(self, result: FlowResult) -> None:
        if result.approved:
            ask_tender(self, result)
        else:
            show_outcome(self, result)


class CustomerScreen(MoneyForm):
    TITLE_TEXT = "Customers and fee quote"
    FIELDS = ("c-id",)

    def body(self) -> Iterable[Widget]:
        yield self.receiver_select()
        yield Field("Customer ID number (Enter: look up)", id="c-id",
                    validators=[validators.Checked(id_number)])
        yield Static("", id="customer")
        yield Field("Amount to send (Enter: fee quote)", id="q-amount", restrict=r"[\d.]*",
                    validators=[validators.amount(maximum=500_000)])
        yield Static("", id="quote")

    def on_mount(self) -> None:
        self.query_one("#c-id", Input).focus()

    def submitted(self, wid: str) -> None:
        flow, receiver = self.till.agent.money, self.receiver
        if wid == "c-id" and self.fields_ok(["c-id"]):
            number = id_number(self.val("c-id"))
            self.run_core(lambda: flow.customer_info(receiver, number),
                          "Looking up… (Esc: give up)", self.customer, cancellable=True)
        elif wid == "q-amount" and self.fields_ok(["q-amount"]):
            amount = parse_amount(self.val("q-amount"))
            self.run_core(lambda: flow.fee_quote(receiver, amount),
                          "Asking for the fee… (Esc: give up)", self.quote, cancellable=True)

    def customer(self, answer: Any) -> None:
        text = answer.message
        value = answer.value
        if answer.ok and value is not None:
            details = getattr(value, "customer_details", None)
            who = " ".join(filter(None, [getattr(details, "first_name", None),
                                         getattr(details, "last_name", None)]))
            text = f"Customer {who or '(no name)'}, profile {value.customer_profile_id or '-'}"
        self.query_one("#customer", Static).update(text)

    def quote(self, answer: Any) -> None:
        sym = self.till.symbol
        if answer.ok:
            d = answer.data
            text = (f"Send {money(d['transfer'], sym)}, fee {money(d['fee'], sym)}, "
                    f"customer pays {money(d['total'], sym)}")
        else:
            text = answer.message
        self.query_one("#quote", Static).update(text)


def screen(name: str) -> Screen[Any]:
    return {"send": SendMoneyScreen, "payout": PayoutScreen,
            "customers": CustomerScreen}[name]()
