"""Widgets shared by the screens: the status bar, labelled fields that validate as you type,
the progress line, and the outcome banner."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.validation import Validator
from textual.widgets import Input, Label, LoadingIndicator, Sparkline, Static

from terminal_agent.ui.messages import StatusView


class StatusBar(Vertical):
    """Switch link, outbox, printer, forwarder, cashier and clock: always visible. The
    sparklines show recent switch latency and the outbox depth over the shift."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="sb-row"):
            yield Label("", id="sb-switch")
            yield Sparkline([], id="sb-latency")
            yield Label("", id="sb-outbox")
            yield Sparkline([], id="sb-depth")
            yield Label("", id="sb-printer")
        with Horizontal(classes="sb-row"):
            yield Label("", id="sb-forwarder")
            yield Label("", id="sb-cashier")
            yield Label("", id="sb-clock")

    def on_mount(self) -> None:
        self._shown: dict[str, object] = {}  # what each part shows now
        self.watch(self.app, "status_view", self.show, init=True)

    def show(self, view: StatusView) -> None:
        """Repaint only what changed: an idle till redraws its clock and nothing else (a label
        update relayouts the bar; at one tick a second that was most of the idle CPU)."""
        shown = self._shown

        def put(wid: str, text: str, bad: bool | None = None) -> None:
            if shown.get(wid) == (text, bad):
                return
            before = shown.get(wid)
            same_width = isinstance(before, tuple) and len(before[0]) == len(text)
            shown[wid] = (text, bad)
            label = self.query_one(f"#{wid}", Label)
            label.update(text, layout=not same_width)
            label.set_class(bad is True, "bad")
            label.set_class(bad is False, "good")

        put("sb-switch", view.switch_text, None if view.switch_ok is None else not view.switch_ok)
        put("sb-outbox", view.outbox_text, view.outbox_alarm)
        put("sb-printer", view.printer_text, not view.printer_ok)
        put("sb-forwarder", view.forwarder_text, not view.forwarder_ok)
        put("sb-cashier", view.cashier_text)
        put("sb-clock", view.clock_text)
        for wid, data in (("sb-latency", view.latencies_ms), ("sb-depth", view.outbox_depths)):
            if shown.get(wid) == data:
                continue
            shown[wid] = data
            spark = self.query_one(f"#{wid}", Sparkline)
            spark.data = list(data)
            spark.visible = len(data) > 1


class Field(Vertical):
    """A label, an input and a plain message under it saying what is wrong (as you type)."""

    def __init__(self, label: str, *, id: str, placeholder: str = "",
                 validators: Iterable[Validator] = (), password: bool = False,
                 value: str = "", restrict: str | None = None, max_length: int = 0) -> None:
        super().__init__(id=f"{id}-field", classes="field")
        self._label = label
        self._input = Input(value=value, placeholder=placeholder, id=id,
                            validators=list(validators), password=password,
                            restrict=restrict, max_length=max_length,
                            validate_on=["changed", "submitted"])

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="field-label")
        yield self._input
        yield Label("", classes="field-message")

    def on_mount(self) -> None:
        self._input.cursor_blink = bool(getattr(self.app, "cursor_blink", True))

    @property
    def input(self) -> Input:
        return self._input

    @property
    def value(self) -> str:
        return self._input.value

    def on_input_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        if event.value == "":
            self.say("")
        elif result is not None and not result.is_valid:
            self.say(result.failure_descriptions[0])
        else:
            self.say("")

    def say(self, message: str) -> None:
        self.query_one(".field-message", Label).update(message)

    def check(self) -> bool:
        """Validate now (on Enter); show the message; True when the value is good."""
        result = self._input.validate(self._input.value)
        if result is not None and not result.is_valid:
            self.say(result.failure_descriptions[0])
            return False
        self.say("")
        return True


class Progress(Horizontal):
    """"Asking the switch…" with a spinner, shown while a worker runs."""

    message: reactive[str] = reactive("")

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Label("", id="progress-text")

    def watch_message(self, message: str) -> None:
        self.display = bool(message)
        if self.is_mounted:
            self.query_one("#progress-text", Label).update(message)

    def on_mount(self) -> None:
        self.display = bool(self.message)


class Banner(Static):
    """The big coloured line of an outcome: APPROVED, DECLINED, NO ANSWER, PENDING..."""

    def show(self, text: str, tone: str) -> None:
        self.update(text)
        for name in ("ok", "bad", "warn", "info"):
            self.set_class(name == tone, name)
