"""Money transfer: send money (create order → cash in → confirmation), pay out (look up → check
the ID, the PIN → redeem → cash out → confirmation), and customers (look up, register, fee
quote; a customer found or registered is carried into Send money)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from terminal_agent.core import (
    FlowResult,
    Person,
    Provider,
    SaleVerdict,
    id_number,
    needs_registration,
    normalise_msisdn,
    order_reference,
    parse_amount,
)
from terminal_agent.receipts.formatting import mask_tail
from terminal_agent.ui import validators
from terminal_agent.ui.format import money
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.screens.tender import ask_tender, show_outcome
from terminal_agent.ui.widgets import Field

PHONE_KEYS = r"[\d +]*"


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
                      allow_blank=False, id="receiver", compact=True)

    @property
    def receiver(self) -> Provider:
        chosen = str(self.query_one("#receiver", Select).value)
        return Provider(id=chosen, name=dict(self.receivers).get(chosen, chosen))

    def fields_ok(self, ids: Iterable[str]) -> bool:
        ok = True
        for wid in ids:
            ok = self.query_one(f"#{wid}-field", Field).check() and ok
        return ok

    def val(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value.strip()

    def put(self, wid: str, value: str) -> None:
        self.query_one(f"#{wid}", Input).value = value

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

    def show(self, wid: str, text: str) -> None:
        self.query_one(f"#{wid}", Static).update(text)


class SendMoneyScreen(MoneyForm):
    TITLE_TEXT = "Send money"
    FIELDS = ("s-first", "s-last", "s-id", "s-phone", "r-first", "r-last", "r-phone", "amount")

    def __init__(self, sender: Person | None = None) -> None:
        super().__init__()
        self.amount = 0
        self.fee = 0
        self.quote_id: str | None = None
        self.sender = sender or Person()

    def body(self) -> Iterable[Widget]:
        with VerticalScroll():
            yield self.receiver_select()
            yield Static("Sender", classes="section")
            yield Field("First name", id="s-first", validators=[validators.name()])
            yield Field("Last name", id="s-last", validators=[validators.name()])
            yield Field("ID number", id="s-id", validators=[validators.id_number()])
            yield Field("Phone", id="s-phone", restrict=PHONE_KEYS,
                        validators=[validators.msisdn()])
            yield Static("", id="profile", classes="hint")
            yield Static("Recipient", classes="section")
            yield Field("First name", id="r-first", validators=[validators.name()])
            yield Field("Last name", id="r-last", validators=[validators.name()])
            yield Field("Phone", id="r-phone", restrict=PHONE_KEYS,
                        validators=[validators.msisdn()])
            yield Field("Amount to send", id="amount", restrict=validators.AMOUNT_KEYS,
                        validators=[validators.amount(maximum=500_000)])
            yield Static("", id="summary")
            yield Button("Send", id="go", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#go").display = False
        self.use_sender(self.sender)

    def use_sender(self, person: Person) -> None:
        """A customer found or registered in Customers (F6) fills the sender's fields."""
        self.sender = person
        for wid, value in (("s-first", person.first_name), ("s-last", person.last_name),
                           ("s-id", person.id_number), ("s-phone", person.phone)):
            if value:
                self.put(wid, value)
        self.show("profile", f"Registered customer, profile {person.profile_id}."
                  if person.profile_id else "")
        first_empty = next((w for w in self.FIELDS if not self.val(w)), "amount")
        self.query_one(f"#{first_empty}", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        super().on_input_changed(event)
        if self.query_one("#go").display and event.input.has_focus:
            self.query_one("#go").display = False  # the details changed: ask the fee again
            self.show("summary", "")

    def person(self, side: str) -> Person:
        who = Person(self.val(f"{side}-first"), self.val(f"{side}-last"),
                     id_number(self.val("s-id")) if side == "s" else "",
                     normalise_msisdn(self.val(f"{side}-phone")))
        if side == "s" and self.sender.profile_id and who.id_number == self.sender.id_number:
            return Person(who.first_name, who.last_name, who.id_number, who.phone,
                          self.sender.profile_id)
        return who

    def submitted(self, wid: str) -> None:
        if not self.fields_ok(self.FIELDS):
            return
        self.amount = parse_amount(self.val("amount"))
        receiver, amount = self.receiver, self.amount
        sender, recipient = self.person("s"), self.person("r")
        agent = self.till.agent
        self.run_core(lambda: agent.fee_quote(receiver, amount, sender_phone=sender.phone,
                                              recipient_phone=recipient.phone),
                      "Asking for the fee…", self.quoted, cancellable=True)

    def quoted(self, answer: Any) -> None:
        sym = self.till.symbol
        if not answer.ok and answer.verdict != "not_offered":
            self.say(answer.message)
            return
        self.fee = int(answer.data.get("fee", 0)) if answer.ok else 0
        self.quote_id = answer.data.get("quote_id") if answer.ok else None
        total = self.amount + self.fee
        self.show("summary", f"Fee {money(self.fee, sym)}: the customer pays "
                             f"{money(total, sym)}." + ("" if answer.ok else f" {answer.message}"))
        self.go(f"Send {money(self.amount, sym)} + fee = {money(total, sym)} (Enter)")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "go":
            return
        event.button.display = False
        sender, recipient = self.person("s"), self.person("r")
        receiver, amount, fee, quote = self.receiver, self.amount, self.fee, self.quote_id
        agent, cashier = self.till.agent, self.till.cashier_id
        self.run_core(lambda: agent.send_money(amount, fee, sender, recipient, cashier,
                                               provider=receiver, quote_id=quote),
                      "Creating the order…", self.answered, countdown=True)

    def answered(self, result: FlowResult) -> None:
        if result.approved:
            ask_tender(self, result, f"to {self.val('r-first')} {self.val('r-last')}")
        elif result.verdict == SaleVerdict.DECLINED:
            self.declined(result)
        else:
            show_outcome(self, result)

    def declined(self, result: FlowResult) -> None:
        """The decline over the form: Esc comes back to every field as typed; a decline that
        wants the customer registered leads to Customers with the sender's details."""
        from terminal_agent.ui.messages import SaleOutcome
        from terminal_agent.ui.screens.outcome import OutcomeScreen

        register = needs_registration(result.error_type)

        def back(choice: str | None) -> None:
            self.show("summary", "")
            self.query_one("#amount", Input).focus()  # Enter asks the fee again
            self.say(result.message)
            if choice == "register":
                self.app.push_screen(CustomerScreen(prefill=self.person_typed(),
                                                    for_send=True), callback=self.registered)

        self.app.push_screen(OutcomeScreen(SaleOutcome(result), over_form=True,
                                           can_register=register), callback=back)

    def person_typed(self) -> Person:
        return Person(self.val("s-first"), self.val("s-last"), self.val("s-id"),
                      self.val("s-phone"))

    def registered(self, person: Person | None) -> None:
        if person is not None:
            self.use_sender(person)
            self.say("Customer registered: press Enter on the amount to send again.", "info")


class PayoutScreen(MoneyForm):
    """Look the order up, check the recipient's ID against the names, take the PIN, pay out."""

    TITLE_TEXT = "Pay out"
    FIELDS = ("p-first", "p-last", "p-id", "p-pin")  # after the look-up, in order

    def __init__(self) -> None:
        super().__init__()
        self.amount = 0
        self.sender_name = ""

    def body(self) -> Iterable[Widget]:
        with VerticalScroll():
            yield self.receiver_select()
            yield Field("Collection reference", id="order-ref", max_length=60,
                        placeholder="as on the slip", validators=[validators.order_reference()])
            yield Static("", id="summary")
            yield Static("Recipient, as on the ID document", classes="section", id="p-title")
            yield Field("First name", id="p-first", validators=[validators.name()])
            yield Field("Last name", id="p-last", validators=[validators.name()])
            yield Field("ID number", id="p-id", validators=[validators.id_number()])
            yield Field("PIN (if one was set)", id="p-pin", password=True, restrict=r"\d*",
                        max_length=12, validators=[validators.Checked(_optional_pin)])
            yield Button("Pay out", id="go", variant="primary", compact=True)

    RECIPIENT = ("#p-title", "#p-first-field", "#p-last-field", "#p-id-field", "#p-pin-field")

    def on_mount(self) -> None:
        self.recipient_shown(False)
        self.query_one("#order-ref", Input).focus()

    def recipient_shown(self, shown: bool) -> None:
        for wid in (*self.RECIPIENT, "#go"):
            self.query_one(wid).display = shown and wid != "#go"

    def on_input_changed(self, event: Input.Changed) -> None:
        super().on_input_changed(event)
        if event.input.id == "order-ref" and event.input.has_focus:
            self.recipient_shown(False)  # another reference: look it up again
            self.show("summary", "")
        elif self.query_one("#go").display and event.input.has_focus:
            self.query_one("#go").display = False

    def submitted(self, wid: str) -> None:
        if wid == "order-ref":
            receiver, ref = self.receiver, order_reference(self.val("order-ref"))
            self.run_core(lambda: self.till.agent.find_order(ref, receiver),
                          "Looking up the order…", self.found, cancellable=True)
            return
        if self.fields_ok(self.FIELDS):
            self.go(f"Pay out {money(self.amount, self.till.symbol)} to "
                    f"{self.val('p-first')} {self.val('p-last')} (Enter)")

    def found(self, answer: Any) -> None:
        d = answer.data
        if not answer.ok or not d.get("payable"):
            self.say(answer.message)  # once, on the message line
            return
        self.amount = int(d["amount"])
        self.sender_name = d.get("sender_name") or ""
        names = []
        if self.sender_name:
            names.append(f"from {self.sender_name}")
        if d.get("recipient_name"):
            names.append(f"to {d['recipient_name']}")
        self.show("summary", f"Order of {money(self.amount, self.till.symbol)} "
                             f"{' '.join(names)}\n{answer.message}".replace("  ", " "))
        self.recipient_shown(True)
        first, _, last = (d.get("recipient_name") or "").partition(" ")
        self.put("p-first", first)
        self.put("p-last", last)
        self.query_one("#p-id" if first and last else "#p-first", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "go":
            return
        event.button.display = False
        recipient = Person(self.val("p-first"), self.val("p-last"), id_number(self.val("p-id")))
        receiver, ref, amount, pin = (self.receiver, self.val("order-ref"), self.amount,
                                      self.val("p-pin"))
        self.put("p-pin", "")  # never kept on screen
        agent, cashier, sender = self.till.agent, self.till.cashier_id, self.sender_name
        self.run_core(lambda: agent.pay_out(ref, amount, cashier, provider=receiver,
                                            recipient=recipient, pin=pin, sender_name=sender),
                      "Redeeming the order…", self.answered, countdown=True)

    def answered(self, result: FlowResult) -> None:
        if result.approved:
            ask_tender(self, result, f"to {result.data.get('recipient_name') or ''}")
        else:
            show_outcome(self, result)


def _optional_pin(text: str) -> str:
    from terminal_agent.errors import ValidationError

    if text and not (text.isdigit() and 4 <= len(text) <= 12):
        raise ValidationError("pin", "4 to 12 digits, or empty if the order has no PIN")
    return text


class CustomerScreen(MoneyForm):
    """Look a customer up by ID number; register one the provider does not know; carry either
    into Send money (F3); quote a fee."""

    TITLE_TEXT = "Customers and fee quote"
    FIELDS = ("c-first", "c-last", "c-phone")  # the registration, in order
    BINDINGS = [Binding("escape", "back", "Back"),
                Binding("f3", "send", "Send money for this customer")]

    def __init__(self, prefill: Person | None = None, *, for_send: bool = False) -> None:
        super().__init__()
        self.customer: Person | None = None
        self.prefill = prefill
        self.for_send = for_send  # opened from a declined send: F3 goes back to it

    def body(self) -> Iterable[Widget]:
        with VerticalScroll():
            yield self.receiver_select()
            yield Field("Customer ID number", id="c-id", validators=[validators.id_number()],
                        placeholder="Enter: look up")
            yield Static("", id="customer")
            yield Static("Register the customer", classes="section", id="c-title")
            yield Field("First name", id="c-first", validators=[validators.name()])
            yield Field("Last name", id="c-last", validators=[validators.name()])
            yield Field("Phone", id="c-phone", restrict=PHONE_KEYS,
                        validators=[validators.msisdn()], placeholder="Enter: register")
            yield Static("Fee quote", classes="section")
            yield Field("Amount to send", id="q-amount", restrict=validators.AMOUNT_KEYS,
                        validators=[validators.amount(maximum=500_000)],
                        placeholder="Enter: fee")
            yield Static("", id="quote")

    REGISTER = ("#c-title", "#c-first-field", "#c-last-field", "#c-phone-field")

    def on_mount(self) -> None:
        self.registration(False)
        self.query_one("#c-id", Input).focus()
        if self.prefill is not None:
            p = self.prefill
            for wid, value in (("c-id", p.id_number), ("c-first", p.first_name),
                               ("c-last", p.last_name), ("c-phone", p.phone)):
                self.put(wid, value)
            self.registration(True)
            self.show("customer", "Check the details with the customer's ID document, then "
                                  "Enter on the phone registers them.")
            self.query_one("#c-first", Input).focus()

    def registration(self, shown: bool) -> None:
        for wid in self.REGISTER:
            self.query_one(wid).display = shown

    def on_input_changed(self, event: Input.Changed) -> None:
        super().on_input_changed(event)
        if event.input.id == "c-id" and event.input.has_focus and self.customer is not None:
            self.customer = None  # another customer: nothing found yet
            self.show("customer", "")
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send":
            return self.customer is not None
        return True

    def submitted(self, wid: str) -> None:
        agent, receiver = self.till.agent, self.receiver
        if wid == "c-id":
            number = id_number(self.val("c-id"))
            self.run_core(lambda: agent.find_customer(receiver, number),
                          "Looking the customer up…", self.looked_up, cancellable=True)
        elif wid == "c-phone" and self.fields_ok(("c-id", *self.FIELDS)):
            person = Person(self.val("c-first"), self.val("c-last"),
                            id_number(self.val("c-id")), normalise_msisdn(self.val("c-phone")))
            self.run_core(lambda: agent.register_customer(receiver, person),
                          "Registering the customer…", self.looked_up, cancellable=True)
        elif wid == "q-amount":
            amount = parse_amount(self.val("q-amount"))
            self.run_core(lambda: agent.fee_quote(receiver, amount),
                          "Asking for the fee…", self.quoted, cancellable=True)

    def looked_up(self, answer: Any) -> None:
        person: Person | None = answer.data.get("customer")
        if person is None:
            self.say(answer.message, "warn" if answer.data.get("not_found") else "bad")
            if answer.data.get("not_found"):
                self.registration(True)
                self.query_one("#c-first", Input).focus()
            return
        self.customer = person
        self.registration(False)
        phone = f", phone {mask_tail(person.phone)}" if person.phone else ""
        done = "Registered" if answer.message == "Customer registered." else "Customer"
        then = "F3: back to Send money with them." if self.for_send else \
            "F3: send money for this customer."
        self.show("customer", f"{done}: {person.name or '(no name)'}{phone}, profile "
                              f"{person.profile_id or '-'}.\n{then}")
        self.refresh_bindings()

    def quoted(self, answer: Any) -> None:
        sym = self.till.symbol
        if answer.ok:
            d = answer.data
            text = (f"Send {money(d['transfer'], sym)} + fee {money(d['fee'], sym)}: the "
                    f"customer pays {money(d['total'], sym)}.")
        else:
            text = answer.message
        self.show("quote", text)

    def action_send(self) -> None:
        if self.customer is None:
            return
        if self.for_send:
            self.dismiss(self.customer)
            return
        self.app.switch_screen(SendMoneyScreen(sender=self.customer))


SCREENS: dict[str, Callable[[], Screen[Any]]] = {
    "send": SendMoneyScreen, "payout": PayoutScreen, "customers": CustomerScreen}


def screen(name: str) -> Screen[Any]:
    return SCREENS[name]()
