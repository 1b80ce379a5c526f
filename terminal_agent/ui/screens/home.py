"""Home: one key per service (function keys and digits), and what needs attention."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Button, Static

from terminal_agent.ui.screens.base import TillScreen


def _bindings() -> list[Binding | tuple[str, str] | tuple[str, str, str]]:
    from terminal_agent.ui.app import SERVICES

    out: list[Binding | tuple[str, str] | tuple[str, str, str]] = []
    for n, (name, key, title, _) in enumerate(SERVICES, start=1):
        out.append(Binding(f"{key},{n}", f"open('{name}')", title, key_display=key.upper()))
    out += [Binding("ctrl+l", "app.lock", "Lock"), Binding("f10", "app.logout", "Log out"),
            Binding("escape", "back", "", show=False)]
    return out


class HomeScreen(TillScreen):
    TITLE_TEXT = "Home"
    BINDINGS = _bindings()

    def body(self) -> Iterable[Widget]:
        from terminal_agent.ui.app import SERVICES

        with Grid(id="services"):
            for n, (name, key, title, supervisor) in enumerate(SERVICES, start=1):
                label = f"{key.upper()}  {n}\n{title}" + ("\n(supervisor)" if supervisor else "")
                yield Button(label, id=f"svc-{name}", classes="service")
        yield Static("", id="attention")

    def on_mount(self) -> None:
        self._notes: str | None = None
        self.watch(self.app, "status_view", lambda _: self._attention(), init=True)

    def _attention(self) -> None:
        snap = self.till.snapshot
        if snap is None:
            return
        notes = []
        if self.till.forwarder_mode == "off":
            notes.append("The forwarder is not running: confirmations and reversals wait. "
                         "Call a supervisor.")
        if snap.outbox.parked:
            notes.append(f"{snap.outbox.parked} advice(s) parked: a supervisor must look at "
                         "the outbox (F8).")
        if snap.needs_attention:
            notes.append(f"{snap.needs_attention} transaction(s) need attention (refund due or "
                         "confirmation failed): see history (F7).")
        if snap.status_pending:
            notes.append(f"{snap.status_pending} top-up(s) waiting for a final answer.")
        if snap.awaiting_decision:
            notes.append(f"{snap.awaiting_decision} approved sale(s) wait for your decision.")
        text = "\n".join(notes)
        if text != self._notes:  # once a second: repaint only when it says something new
            self._notes = text
            self.query_one("#attention", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("svc-"):
            self.till.open_service(event.button.id[4:])

    def action_open(self, name: str) -> None:
        self.till.open_service(name)

    def action_back(self) -> None:
        return None
