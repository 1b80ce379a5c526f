"""What the till's screen shows when the UI cannot start (broken config, missing, damaged or
another till's database, full disk): the cause, full screen, instead of a blank console; and
the systemd watchdog for the UI unit (``WatchdogSec=``), fed while the event loop turns."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from terminal_agent.sdnotify import Notifier


class FailureApp(App[int]):
    """Shows ``cause`` until ``retry_after`` seconds pass (then the caller tries again) or the
    technician presses R (try now). Feeds the watchdog: the screen is alive, only the till is
    not ready."""

    CSS = """
    Screen { align: center middle; background: $error-darken-3; }
    #box { width: 80%; height: auto; border: heavy $error; padding: 1 2; background: $surface; }
    #title { text-style: bold; color: $error; }
    #cause { margin: 1 0; }
    """
    BINDINGS = [("r", "retry", "Try again now")]

    def __init__(self, cause: str, *, retry_after: float = 30.0,
                 notifier: Notifier | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.cause = cause
        self.retry_after = retry_after
        self.notifier = notifier or Notifier.from_env()
        self._clock = clock
        self._until = clock() + retry_after

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static("The till cannot start", id="title")
            yield Static(self.cause, id="cause")
            yield Static("Do not sell on this till. Call support and read them the line above.\n"
                         f"It tries again by itself every {self.retry_after:.0f} s "
                         "(R: try now).", id="help")

    def on_mount(self) -> None:
        self.notifier.ready()
        self.notifier.status(f"cannot start: {self.cause}")
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self.notifier.watchdog()
        if self._clock() >= self._until:
            self.exit(0)

    def action_retry(self) -> None:
        self.exit(0)


class UiWatchdog:
    """Pings systemd's watchdog from the UI's event loop: a hung loop stops the pings and
    systemd restarts the UI (``WatchdogSec=`` in terminal-agent-ui.service)."""

    def __init__(self, notifier: Notifier | None = None) -> None:
        self.notifier = notifier or Notifier.from_env()

    @property
    def interval(self) -> float | None:
        return self.notifier.watchdog_interval()

    def start(self) -> None:
        self.notifier.ready()

    def ping(self) -> None:
        self.notifier.watchdog()
