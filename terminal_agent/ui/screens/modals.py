"""Modal questions: the tender, a supervisor's PIN, a note, a yes/no."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from terminal_agent.core import Cashier, LoginResult, change_due
from terminal_agent.errors import ValidationError
from terminal_agent.ui import validators
from terminal_agent.ui.format import money
from terminal_agent.ui.screens.base import Working
from terminal_agent.ui.widgets import Field, Progress


class TenderModal(ModalScreen[bool | None]):
    """"Collect R 29.00 — Enter: cash received, Esc: cancel" (or "Pay out R 500.00"). Where
    cash comes in (``due`` given), the cash the customer hands over may be typed: the change
    shows at once. Esc asks before the sale is cancelled (``cancel_question``)."""

    BINDINGS = [Binding("enter", "received", "Cash received", priority=True),
                Binding("escape", "cancel", "Cancel", priority=True)]

    def __init__(self, verb: str, amount_text: str, *, what: str = "",
                 enter_text: str = "cash received", cancel_text: str = "cancel",
                 closed_behind: Callable[[], Awaitable[bool]] | None = None,
                 check_every: float = 1.0, due: int | None = None, symbol: str = "R",
                 cancel_question: str = "") -> None:
        super().__init__(classes="tender")
        self.verb = verb
        self.amount_text = amount_text
        self.what = what
        self.enter_text = enter_text
        self.cancel_text = cancel_text
        self.closed_behind = closed_behind  # True once the sale no longer waits (reversed)
        self.check_every = check_every
        self.due, self.symbol = due, symbol
        self.cancel_question = cancel_question
        self.change: dict[str, str] = {}     # "Cash given", "Change" for the outcome

    def on_mount(self) -> None:
        if self.closed_behind is not None:
            self.set_interval(self.check_every, self._check)

    async def _check(self) -> None:
        """Dismissed with ``None`` when the sale was decided behind the dialog."""
        if self.closed_behind is not None and self.is_current and await self.closed_behind():
            self.dismiss(None)

    def compose(self) -> ComposeResult:
        with Vertical(id="tender-box", classes="modal-box"):
            yield Static(f"{self.verb} {self.amount_text}", id="tender-amount")
            if self.what:
                yield Static(self.what, id="tender-what")
            if self.due is not None:
                yield Field("Cash given", id="given", restrict=validators.AMOUNT_KEYS,
                            max_length=12, placeholder="optional: for the change")
                yield Static("", id="change")
            yield Static(f"Enter: {self.enter_text}    Esc: {self.cancel_text}",
                         id="tender-keys")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "given":
            self.query_one("#change", Static).update(self._change_text(event.value))

    def _change_text(self, given: str) -> str:
        if not given.strip() or self.due is None:
            self.change = {}
            return ""
        try:
            change = change_due(given, self.due)
        except ValidationError as exc:
            self.change = {}
            return exc.reason[0].upper() + exc.reason[1:] + "."
        self.change = {"Cash given": money(change + self.due, self.symbol),
                       "Change": money(change, self.symbol)}
        return f"Change: {self.change['Change']}"

    def action_received(self) -> None:
        given = self.query("#given")
        if given and given.first(Input).value.strip() and not self.change:
            return  # less than due, or not an amount: the line under the field says so
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Cancelling reverses the sale: asked first (issue 16: one Esc was enough)."""
        if not self.cancel_question:
            self.dismiss(False)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(False)

        self.app.push_screen(ConfirmModal(self.cancel_question, yes="yes, cancel it",
                                          no="back to the sale", strict=True),
                             callback=answered)


class SupervisorModal(Working, ModalScreen[Cashier | None]):
    """A supervisor's number and PIN for one supervisor-only action (audited)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, action: str, *, subject: str = "") -> None:
        super().__init__(classes="supervisor")
        self.action_text = action
        self.subject = subject

    def compose(self) -> ComposeResult:
        with Vertical(id="supervisor-box", classes="modal-box"):
            yield Label(f"Supervisor needed to {self.action_text}", id="supervisor-title")
            yield Field("Supervisor number", id="sup-id", max_length=16,
                        validators=[validators.required("supervisor number", maximum=16)])
            yield Field("Supervisor PIN", id="sup-pin", password=True, restrict=r"\d*",
                        max_length=12, validators=[validators.required(
                            "PIN", minimum=4, maximum=12, digits=True)])
            yield Static("", id="message")
            yield Progress()
            yield Static("Enter: authorise    Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#sup-id", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "sup-id":
            self.query_one("#sup-pin", Input).focus()
            return
        supervisor_id = self.query_one("#sup-id", Input).value.strip()
        pin = self.query_one("#sup-pin", Input).value
        if not supervisor_id or not pin:
            self.say("Enter the supervisor's number and PIN.")
            return
        self.run_core(lambda: self.till.cashiers.authorise(
            supervisor_id, pin, action=self.action_text, subject=self.subject,
            on_behalf_of=self.till.cashier_id), "Checking the PIN…", self._answered)

    def _answered(self, result: LoginResult) -> None:
        self.query_one("#sup-pin", Input).value = ""
        if result.cashier is None:
            self.say(result.message)
            self.query_one("#sup-id", Input).value = ""
            self.query_one("#sup-id", Input).focus()
            return
        self.dismiss(result.cashier)

    def action_cancel(self) -> None:
        if not self.working:
            self.dismiss(None)


class NoteModal(ModalScreen[str | None]):
    """A short note (why a parked advice was resolved, why a top-up was abandoned)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(self.question)
            yield Field("Note", id="note", max_length=200,
                        validators=[validators.required("note", minimum=3, maximum=200)])
            yield Static("Enter: save    Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.query_one("#note-field", Field).check():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question. ``strict`` (an act that moves money or cancels a sale): only Y says
    yes; Enter, like Esc and N, says no, so a key pressed out of habit changes nothing."""

    BINDINGS = [Binding("enter", "enter", "Yes", priority=True),
                Binding("y", "yes", "Yes", priority=True),
                Binding("escape,n", "no", "No", priority=True)]

    def __init__(self, question: str, *, yes: str = "yes", no: str = "no",
                 strict: bool = False) -> None:
        super().__init__()
        self.question = question
        self.yes, self.no = yes, no
        self.strict = strict

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.question)
            keys = (f"Y: {self.yes}    N or Esc: {self.no}" if self.strict else
                    f"Enter: {self.yes}    Esc: {self.no}")
            yield Static(keys, classes="hint", id="confirm-keys")

    def action_enter(self) -> None:
        self.dismiss(not self.strict)

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
