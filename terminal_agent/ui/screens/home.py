"""Home: one key per service (function keys and digits), what needs attention (with the key that
deals with it), reprint of the last receipt."""

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
        out.append(Binding(f"{key},{n}", f"open('{name}')", title, key_display=key.upper(),
                           show=False))
    out += [Binding("o", "decisions", "Open decisions"),
            Binding("r", "reprint_last", "Reprint last"),
            Binding("ctrl+l", "app.lock", "Lock"), Binding("f10", "app.logout", "Log out"),
            Binding("escape", "back", "", show=False)]
    return out


def attention_notes(snap: object, forwarder_mode: str) -> list[str]:
    """What the cashier must not forget, each with the key that deals with it."""
    notes = []
    if forwarder_mode == "off":
        notes.append("The forwarder is not running: confirmations and reversals wait. "
                     "Call a supervisor.")
    if getattr(snap, "awaiting_decision", 0):
        n = snap.awaiting_decision  # type: ignore[attr-defined]
        notes.append(f"{n} approved sale{'s' if n > 1 else ''} left for later: the customer "
                     "paid or not? Press O to decide.")
    if getattr(snap, "needs_attention", 0):
        notes.append(f"{snap.needs_attention} transaction(s) need attention (refund due or "  # type: ignore[attr-defined]
                     "confirmation failed): see history (F7).")
    if getattr(snap, "status_pending", 0):
        notes.append(f"{snap.status_pending} top-up(s) waiting for a final answer.")  # type: ignore[attr-defined]
    parked = getattr(getattr(snap, "outbox", None), "parked", 0)
    if parked:
        notes.append(f"{parked} advice(s) stuck: a supervisor must look at the outbox (F8).")
    return notes


class HomeScreen(TillScreen):
    TITLE_TEXT = "Home"
    BINDINGS = _bindings()

    def body(self) -> Iterable[Widget]:
        from terminal_agent.ui.app import SERVICES

        with Grid(id="services"):
            for n, (name, key, title, supervisor) in enumerate(SERVICES, start=1):
                label = f"{key.upper()} · {n}\n{title}" + (" (sup.)" if supervisor else "")
                yield Button(label, id=f"svc-{name}", classes="service", compact=True)
        yield Static("", id="attention")

    def on_mount(self) -> None:
        self._notes: str | None = None
        self.watch(self.app, "status_view", lambda _: self._attention(), init=True)

    def _attention(self) -> None:
        snap = self.till.snapshot
        if snap is None:
            return
        text = "\n".join(attention_notes(snap, self.till.forwarder_mode))
        if text != self._notes:  # once a second: repaint only when it says something new
            self._notes = text
            self.query_one("#attention", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("svc-"):
            self.till.open_service(event.button.id[4:])

    def action_open(self, name: str) -> None:
        self.till.open_service(name)

    async def action_decisions(self) -> None:
        if not await self.till.offer_pending_decisions():
            self.say("No approved sale is waiting for a decision.", "info")

    def action_reprint_last(self) -> None:
        from terminal_agent.ui.screens.history import reprint

        def found(last: tuple[str, bool] | None) -> None:
            if last is None:
                self.say("Nothing was printed yet on this till.", "info")
                return
            reprint(self, last[0], has_pin=last[1])

        self.run_core(lambda: self.till.printer.last_receipt(), "Finding the last receipt…",
                      found)

    def action_back(self) -> None:
        return None
