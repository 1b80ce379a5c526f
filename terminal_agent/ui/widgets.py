"""Widgets shared by the screens: the cashier's status bar, the supervisor's switch panel,
one-line labelled fields that validate as you type, the progress line with its countdown, and
the outcome banner. Every field is one line high, so each screen fits 80 columns by 25 rows."""

from __future__ import annotations

import time
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.validation import Validator
from textual.widgets import Footer, Input, Label, LoadingIndicator, Sparkline, Static

from terminal_agent.ui.messages import StatusView


class KeysFooter(Footer):
    """Textual's footer, composed again only when the keys it shows change. Textual's own
    composes all its keys again at every change of the active bindings (each focus move, each
    return to a screen), which was the largest part of a screen change (issue 17: key to
    repaint): going back to a screen whose keys are the same now costs nothing here."""

    _composed_for: tuple[object, ...] | None = None

    def shown_keys(self) -> tuple[object, ...]:
        """Everything ``Footer.compose`` reads to draw the keys."""
        keys = tuple((b.key, self.app.get_key_display(b), b.description, b.action, b.group,
                      enabled, tooltip)
                     for _, b, enabled, tooltip in self.screen.active_bindings.values() if b.show)
        return keys, self.show_command_palette, self.compact, self.combine_groups

    def compose(self) -> ComposeResult:
        self._composed_for = self.shown_keys() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if self.is_attached and self.shown_keys() != self._composed_for:
            await self.recompose()


def _put(label: Label, text: str, bad: bool | None = None) -> None:
    """Repaint a status label only when it says something new (an idle till redraws its clock
    and nothing else: a label update relayouts the bar; at one tick a second that was most of
    the idle CPU), and relayout only when its width changed."""
    before = getattr(label, "_shown", None)
    if before == (text, bad):
        return
    same_width = isinstance(before, tuple) and len(before[0]) == len(text)
    label._shown = (text, bad)  # type: ignore[attr-defined]
    label.update(text, layout=not same_width)
    label.set_class(bad is True, "bad")
    label.set_class(bad is False, "good")


class StatusBar(Horizontal):
    """What a cashier needs at a glance, on one line: is the link to the switch up, is anything
    waiting to be sent, can the printer print, who is logged in, the time. HTTP codes and
    latencies are the supervisor's (``SwitchPanel``, on the outbox screen)."""

    def compose(self) -> ComposeResult:
        for wid in ("sb-link", "sb-outbox", "sb-printer", "sb-cashier", "sb-clock"):
            yield Label("", id=wid)

    def on_mount(self) -> None:
        self.watch(self.app, "status_view", self.show, init=True)

    def show(self, view: StatusView) -> None:
        _put(self.query_one("#sb-link", Label), view.link_text,
             None if view.link_ok is None else not view.link_ok)
        _put(self.query_one("#sb-outbox", Label), view.outbox_text, view.outbox_alarm)
        _put(self.query_one("#sb-printer", Label), view.printer_text, not view.printer_ok)
        _put(self.query_one("#sb-cashier", Label), view.cashier_text)
        _put(self.query_one("#sb-clock", Label), view.clock_text)


class SwitchPanel(Vertical):
    """The supervisor's view of the link: last HTTP answer and its latency, the latency and
    outbox-depth sparklines, and who forwards the advices."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="sp-row"):
            yield Label("", id="sp-switch")
            yield Sparkline([], id="sp-latency")
        with Horizontal(classes="sp-row"):
            yield Label("", id="sp-forwarder")
            yield Sparkline([], id="sp-depth")

    def on_mount(self) -> None:
        self.watch(self.app, "status_view", self.show, init=True)

    def show(self, view: StatusView) -> None:
        _put(self.query_one("#sp-switch", Label), view.switch_text,
             None if view.switch_ok is None else not view.switch_ok)
        _put(self.query_one("#sp-forwarder", Label), view.forwarder_text, not view.forwarder_ok)
        for wid, data in (("sp-latency", view.latencies_ms), ("sp-depth", view.outbox_depths)):
            spark = self.query_one(f"#{wid}", Sparkline)
            if spark.data != list(data):
                spark.data = list(data)
            spark.visible = len(data) > 1


class Field(Vertical):
    """A label and a one-line input on one row, and under them, only while there is one, a
    plain message saying what is wrong (as you type)."""

    def __init__(self, label: str, *, id: str, placeholder: str = "",
                 validators: Iterable[Validator] = (), password: bool = False,
                 value: str = "", restrict: str | None = None, max_length: int = 0) -> None:
        super().__init__(id=f"{id}-field", classes="field")
        self._label = label
        self._input = Input(value=value, placeholder=placeholder, id=id,
                            validators=list(validators), password=password,
                            restrict=restrict, max_length=max_length,
                            validate_on=["changed", "submitted"], compact=True)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(self._label, classes="field-label")
            yield self._input
        yield Label("", classes="field-message")

    def on_mount(self) -> None:
        self._input.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
        self.say("")

    def on_descendant_focus(self) -> None:
        # the label shows where the typing goes; a class of its own, because Textual restyled
        # a ``:focus-within`` label unreliably (a kept screen's label stayed grey while typed in)
        self.add_class("-focused")

    def on_descendant_blur(self) -> None:
        self.remove_class("-focused")

    @property
    def input(self) -> Input:
        return self._input

    @property
    def value(self) -> str:
        return self._input.value

    def on_input_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        if event.value == "" or result is None or result.is_valid:
            self.say("")
        else:
            self.say(result.failure_descriptions[0])

    def say(self, message: str) -> None:
        label = self.query_one(".field-message", Label)
        label.update(message)
        label.display = bool(message)

    def clear(self) -> None:
        """Empty, as composed: no value, no message, not marked good or bad."""
        self._input.value = ""
        self._input.set_class(False, "-invalid", "-valid")
        self.say("")

    def check(self) -> bool:
        """Validate now (on Enter); show the message; True when the value is good."""
        result = self._input.validate(self._input.value)
        if result is not None and not result.is_valid:
            self.say(result.failure_descriptions[0])
            return False
        self.say("")
        return True


class Progress(Horizontal):
    """"Asking the switch…" with a spinner while a worker runs; for a request with money, the
    seconds left before the till gives up waiting (the switch's deadline)."""

    message: reactive[str] = reactive("")
    _ticking: Timer | None = None

    def __init__(self) -> None:
        super().__init__()
        self._deadline: float | None = None
        self._started = 0.0
        self._cancellable = False

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Label("", id="progress-text")

    def start(self, message: str, budget: float | None = None, *,
              cancellable: bool = False) -> None:
        self._started = time.monotonic()
        self._deadline = self._started + budget if budget else None
        self._cancellable = cancellable
        self.message = message

    def watch_message(self, message: str) -> None:
        self.display = bool(message)
        self._spin()
        self._show()

    def on_mount(self) -> None:
        self.display = bool(self.message)
        self._ticking = self.set_interval(1.0, self._show)
        self._spin()

    def _spin(self) -> None:
        """The spinner (16 frames a second) and the seconds shown turn only while there is a
        message: hidden, they woke an idle till 17 times a second for each screen alive."""
        waiting = bool(self.message)
        for spinner in self.query(LoadingIndicator):
            spinner.auto_refresh = 1 / 16 if waiting else None
        if self._ticking is None:
            return
        if waiting:
            self._ticking.resume()
        else:
            self._ticking.pause()

    def _show(self) -> None:
        if not self.is_mounted or not self.message:
            return
        now = time.monotonic()
        if self._deadline is not None:
            left = max(0, round(self._deadline - now))
            tail = f"  ({left} s left)"
        else:
            waited = round(now - self._started)
            give_up = "; Esc gives up" if self._cancellable else ""
            tail = f"  ({waited} s{give_up})" if waited >= 3 else ""
        self.query_one("#progress-text", Label).update(self.message + tail)


class Banner(Static):
    """The big coloured line of an outcome: APPROVED, DECLINED, NO ANSWER, PENDING..."""

    def show(self, text: str, tone: str) -> None:
        self.update(text)
        for name in ("ok", "bad", "warn", "info"):
            self.set_class(name == tone, name)
