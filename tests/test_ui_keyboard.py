"""Esc without the wait, and no full garbage collection in a key press (issue 17: key to
repaint): the escape delay is short, the input thread wakes when it is over (not at its next
0.1 s poll), ESCDELAY still decides when set; the heap is frozen once collected."""

from __future__ import annotations

import selectors

import pytest

from terminal_agent.ui import keyboard


@pytest.fixture
def polls(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """The timeouts the input thread's selector polls with (the real poll not run)."""
    seen: list[float | None] = []

    def select(self: object, timeout: float | None = None) -> list[object]:
        seen.append(timeout)
        return []

    monkeypatch.setattr(selectors.SelectSelector, "select", select)
    return seen


def test_the_input_thread_waits_for_a_lone_esc_only_as_long_as_the_delay(monkeypatch, polls):
    import textual.constants
    from textual import events
    from textual.drivers import linux_driver

    monkeypatch.delenv("ESCDELAY", raising=False)
    monkeypatch.setattr(textual.constants, "ESCAPE_DELAY", 0.1)
    monkeypatch.setattr(linux_driver, "XTermParser", linux_driver.XTermParser)
    monkeypatch.setattr(linux_driver, "selectors", linux_driver.selectors)
    keyboard.quick_escape()
    assert textual.constants.ESCAPE_DELAY == keyboard.ESCAPE_DELAY_MS / 1000
    parser = linux_driver.XTermParser(False)                # as the input thread makes them
    selector = linux_driver.selectors.SelectSelector()
    selector.select(0.1)                                    # nothing waiting: polls as before
    assert list(parser.feed("\x1b")) == []                  # Esc, or a sequence beginning?
    selector.select(0.1)
    assert polls[0] == 0.1
    assert polls[1] is not None and polls[1] <= keyboard.ESCAPE_DELAY_MS / 1000
    parser._timeout_time = 0.0                              # the wait is over: Esc it was
    assert [e.key for e in parser.tick() if isinstance(e, events.Key)] == ["escape"]
    selector.select(0.1)
    assert polls[2] == 0.1
    assert [e.key for e in parser.feed("\x1b[A") if isinstance(e, events.Key)] == ["up"]


def test_escdelay_set_by_the_till_s_owner_wins(monkeypatch):
    import textual.constants

    monkeypatch.setenv("ESCDELAY", "80")
    monkeypatch.setattr(textual.constants, "ESCAPE_DELAY", 0.08)
    keyboard.quick_escape()
    assert textual.constants.ESCAPE_DELAY == 0.08


def test_the_heap_is_frozen_once_collected():
    """The slowest key presses were Python's full collections walking every long-lived object
    (65-75 ms): after the first login they are left out (``freeze_heap``)."""
    import gc

    from terminal_agent.ui.app import freeze_heap

    assert gc.get_freeze_count() == 0
    try:
        freeze_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_count()[2] == 0                       # collected first: no garbage frozen
    finally:
        gc.unfreeze()
