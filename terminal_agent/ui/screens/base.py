"""What every cashier screen shares: title, body, progress line, status bar, footer, and running
core calls in workers with a progress message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from terminal_agent.errors import AgentError, SwitchError
from terminal_agent.ui.widgets import KeysFooter, Progress, StatusBar

if TYPE_CHECKING:
    from terminal_agent.ui.app import TillApp

log = logging.getLogger("terminal_agent.ui")
T = TypeVar("T")


def explain(exc: BaseException) -> str:
    if isinstance(exc, SwitchError):
        return f"Cannot reach the switch ({exc}). Try again in a moment."
    if isinstance(exc, AgentError):
        return str(exc)
    return f"Something went wrong: {type(exc).__name__}. Call support if it happens again."


class Working:
    """Mixin: run one core call at a time in a worker, with a progress message."""

    working = False
    cancellable = False
    said_tone = ""
    visit = 0  # a kept screen's visit (TillScreen.KEPT): a call started in one ends in it

    @property
    def till(self) -> TillApp:
        return self.app  # type: ignore[attr-defined, no-any-return]

    def progress(self, message: str, budget: float | None = None) -> None:
        for widget in self.query(Progress):  # type: ignore[attr-defined]
            if message:
                widget.start(message, budget, cancellable=self.cancellable)
            else:
                widget.message = ""

    def say(self, message: str, tone: str = "bad") -> None:
        self.said_tone = tone if message else ""
        for widget in self.query("#message"):  # type: ignore[attr-defined]
            assert isinstance(widget, Static)
            widget.update(message)
            for name in ("ok", "bad", "warn", "info"):
                widget.set_class(name == tone, name)

    def switch_budget(self) -> float:
        """How long a request with money may take before the till stops waiting (connect +
        the whole exchange): the countdown the cashier sees."""
        sw = self.till.cfg.switch
        return float(sw.connect_timeout + sw.read_timeout)

    def run_core(self, work: Callable[[], Awaitable[T]], message: str,
                 done: Callable[[T], Awaitable[None] | None],
                 failed: Callable[[BaseException], Awaitable[None] | None] | None = None,
                 *, cancellable: bool = False, countdown: bool = False,
                 quiet: bool = False) -> bool:
        """Start ``work()`` unless something is already running. ``done`` gets its result.
        ``cancellable``: a request without money (lookup, admin), re-sent until the switch
        answers; Esc gives up on it. Anything else runs to its end even if the screen closes.
        ``countdown``: a request to the switch with money: the seconds left are shown.
        ``quiet``: a refresh in the background: no progress line, the message stays."""
        if self.working:
            return False
        self.working = True
        self.cancellable = cancellable
        visit = self.visit
        if not quiet:
            self.progress(message, self.switch_budget() if countdown else None)
            self.say("")

        async def job() -> None:
            try:
                result = await (work() if cancellable else self.till.core(work()))
            except Exception as exc:
                log.warning("%s failed: %s", message, exc, exc_info=not isinstance(exc, AgentError))
                if visit != self.visit:  # the screen was left and shown again meanwhile
                    return
                self.working = False
                self.progress("")
                if failed is not None:
                    again = failed(exc)
                    if again is not None:
                        await again
                else:
                    self.say(explain(exc))
                return
            if visit != self.visit:
                return
            self.working = False
            if not quiet:
                self.progress("")
            after = done(result)
            if after is not None:
                await after

        self.run_worker(job(), group="core")  # type: ignore[attr-defined]
        return True


class TillScreen(Working, Screen[Any]):
    """A full screen: title, body, message line, progress, status bar, footer keys.

    ``KEPT``: the screen is composed once and shown again at each visit (``TillApp``
    ``open_service``): composing a screen was most of a key's way to the repaint (issue 17).
    Leaving it ends its calls as removing it would (a call with money still ends in the core:
    ``TillApp.core`` shields it), and ``new_visit`` must clear everything the last visit left
    (customer, product, amount, message): nothing of one sale may show in the next."""

    TITLE_TEXT = ""
    KEPT = False
    BINDINGS = [Binding("escape", "back", "Back")]

    _looked: tuple[object, ...] = ()

    def _look(self) -> tuple[object, ...]:
        """What a screen's styles depend on besides its own nodes (which restyle as they
        change, shown or not): the theme and the app's classes (focus, dark, ...)."""
        app = self.app
        return app.theme, app.pseudo_classes, app.classes, self.classes, app.size

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Textual styles every node of a screen again each time it is pushed; for a kept screen
        that was most of the time to show it again (issue 17), and it changes nothing when the
        theme and the app's classes are still those of the last visit."""
        look = self._look()
        if self.KEPT and event.refresh_styles and look == self._looked:
            event.prevent_default()  # (instead of Screen's handler: the same, without restyle)
            Screen._on_screen_resume(self, events.ScreenResume(refresh_styles=False))
        self._looked = look

    def on_screen_suspend(self) -> None:
        if self.KEPT and self not in self.app.screen_stack:  # left (popped or replaced)
            self.left()

    def left(self) -> None:
        """The visit is over: its workers end (as a removed screen's do), its answers are not
        shown in the next visit (``visit``)."""
        self.workers.cancel_node(self)
        self.visit += 1
        self.working = False

    def new_visit(self) -> None:
        """A kept screen shown again: back to how it was composed (override, call super)."""
        self.working = False
        self.cancellable = False
        self.say("")
        self.progress("")

    def ready_steps(self) -> tuple[Callable[[], object], ...]:
        """What a kept screen's first visit does besides composing it (``TillApp.ready_kept``
        does these off the stack, each once the last one's messages were handled): a visit's
        state, the layout at the app's size (its Resize gives the breakpoint classes), every
        node styled as a push would (``_on_screen_resume`` then has nothing to do), the layout
        again with those styles, every widget drawn once (their line caches; off screen), and
        the screen's update timer started (its first tick waits a whole frame). Then left, as
        after any visit. Textual's internals (textual 8): tests/test_ui_voucher compares the
        first visit with a list composed at its visit."""
        return (self._ready_visit, self._ready_layout, self._ready_styles, self._ready_layout,
                self._ready_drawn, self.left)

    def _ready_visit(self) -> None:
        self.left()  # (the calls its mount started end here)
        self.new_visit()

    def _ready_layout(self) -> None:
        self._refresh_layout(self.app.size)

    def _ready_styles(self) -> None:
        look = self._look()
        self.update_node_styles(animate=False)
        self._looked = look

    def _ready_drawn(self) -> None:
        self._compositor.render_update(full=True)
        self._update_timer.resume()

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE_TEXT, classes="screen-title", id="title")
        with Vertical(classes="body", id="body"):
            yield from self.body()
        yield Static("", id="message")
        yield Progress()
        yield StatusBar()
        yield KeysFooter()

    def body(self) -> Iterable[Widget]:
        return ()

    def action_back(self) -> None:
        if self.working and self.cancellable:  # the cashier gives up asking the switch
            self.workers.cancel_group(self, "core")
            self.working = False
            self.progress("")
            self.say("Stopped asking the switch. Nothing was charged.")
            return
        if not self.working:
            self.dismiss(None)

    def set_title(self, text: str) -> None:
        self.query_one("#title", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A sentence about what went wrong belongs to the input it was about: once the cashier
        types again it is gone (no old error under new input)."""
        if self.said_tone in ("bad", "warn") and event.input.has_focus and event.value:
            self.say("")

    async def done_then_home(self) -> None:
        await self.till.go_home()


def first_line(text: Any) -> str:
    return str(text).splitlines()[0] if text else ""
