"""Log in (cashier number and PIN) and the idle lock (same screen, the session waits beneath)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, Static

from terminal_agent.core import Cashier, LoginResult
from terminal_agent.ui import validators
from terminal_agent.ui.messages import LoggedIn
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.widgets import Field


class LoginScreen(TillScreen):
    BINDINGS = [Binding("escape", "clear", "Clear"),
                Binding("ctrl+q", "app.quit", "Quit")]

    def __init__(self, lock_for: Cashier | None = None) -> None:
        super().__init__()
        self.lock_for = lock_for
        self.AUTO_FOCUS = "#pin" if lock_for else "#cashier-id"  # type: ignore[misc]
        self.TITLE_TEXT = (f"Locked: {lock_for.label}" if lock_for else
                           f"{self.till.cfg.terminal.merchant_name}: log in")

    def body(self) -> Iterable[Widget]:
        hint = ("The till was locked. Enter your PIN to go on, or another cashier number "
                "to start a new session." if self.lock_for else
                "Type your cashier number and PIN, then press Enter.")
        yield Static(hint, classes="hint")
        if self.till.login_hint and not self.lock_for:
            yield Static(self.till.login_hint, classes="hint", id="login-hint")
        yield Field("Cashier number", id="cashier-id", max_length=16,
                    value=self.lock_for.id if self.lock_for else "",
                    validators=[validators.required("cashier number", maximum=16)])
        yield Field("PIN", id="pin", password=True, restrict=r"\d*", max_length=12,
                    validators=[validators.required("PIN", minimum=4, maximum=12,
                                                    digits=True)])

    def on_mount(self) -> None:
        self.query_one("#pin" if self.lock_for else "#cashier-id", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "cashier-id":
            if self.query_one("#cashier-id-field", Field).check():
                self.query_one("#pin", Input).focus()
            return
        if not (self.query_one("#cashier-id-field", Field).check()
                and self.query_one("#pin-field", Field).check()):
            return
        cashier_id = self.query_one("#cashier-id", Input).value.strip()
        pin = self.query_one("#pin", Input).value
        self.run_core(lambda: self._login(cashier_id, pin), "Checking the PIN…", self._answered)

    async def _login(self, cashier_id: str, pin: str) -> LoginResult:
        await self.till.ready()  # the till's recovery comes before any session
        return await self.till.cashiers.login(cashier_id, pin)

    def _answered(self, result: LoginResult) -> None:
        pin = self.query_one("#pin", Input)
        pin.value = ""
        if result.cashier is None:
            self.say(result.message)
            pin.focus()
            return
        same = self.lock_for is not None and result.cashier.id == self.lock_for.id
        self.dismiss(LoggedIn(result.cashier, unlocked=same))

    def action_clear(self) -> None:
        self.query_one("#pin", Input).value = ""
        if not self.lock_for:
            self.query_one("#cashier-id", Input).value = ""
            self.query_one("#cashier-id", Input).focus()

    def action_back(self) -> None:
        self.action_clear()
