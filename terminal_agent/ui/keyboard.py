"""Esc without the wait (issue 17: key to repaint).

A lone Esc byte is also how every escape sequence (arrows, F-keys) begins, so a terminal program
waits a moment for the rest before taking it for Esc. Textual waits ``ESCDELAY`` ms (100 by
default), and its Linux input thread only notices that the wait is over at its next 0.1 s poll:
Esc -> the previous screen took 100-200 ms before anything was drawn.

``quick_escape()`` makes both short: the wait is ``ESCAPE_DELAY_MS`` (a local keyboard or terminal
writes a whole sequence at once; the usual ``ESCDELAY`` variable, in ms, still overrides it, e.g.
for a till used over a slow SSH link), and the input thread wakes exactly when it is over instead
of at its next poll. Nothing else changes: without an Esc waiting, the thread polls as before.
"""

from __future__ import annotations

import os
import selectors
import types
from typing import Any, ClassVar

ESCAPE_DELAY_MS = 20  # tmux waits 10 ms (escape-time), neovim 50 (ttimeoutlen)


def quick_escape() -> None:
    """Install the shorter wait (idempotent); a no-op where Textual's Linux driver is absent."""
    import textual.constants

    if not os.environ.get("ESCDELAY"):
        setattr(textual.constants, "ESCAPE_DELAY", ESCAPE_DELAY_MS / 1000)  # noqa: B010 (Final)
    try:
        from textual.drivers import linux_driver
    except ImportError:  # (not Linux)
        return
    if getattr(linux_driver, "XTermParser", None) is not _parser_class():
        linux_driver.XTermParser = _parser_class()  # type: ignore[misc]
        shim = types.ModuleType("selectors")
        shim.__dict__.update(vars(selectors))
        shim.SelectSelector = _selector_class()  # type: ignore[attr-defined]
        linux_driver.selectors = shim  # type: ignore[attr-defined]


_classes: dict[str, type[Any]] = {}


def _parser_class() -> type[Any]:
    """Textual's parser, remembering the newest one (the driver's input thread makes one)."""
    if "parser" not in _classes:
        from textual._xterm_parser import XTermParser

        class EscParser(XTermParser):  # type: ignore[misc]
            newest: ClassVar[Any] = None

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                type(self).newest = self

        _classes["parser"] = EscParser
    return _classes["parser"]


def _selector_class() -> type[Any]:
    """The input thread's selector: while the parser waits for the rest of an escape sequence,
    its poll ends when that wait does."""
    if "selector" not in _classes:
        from textual._time import get_time

        parser = _parser_class()

        class EscSelector(selectors.SelectSelector):
            def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
                due = getattr(parser.newest, "_timeout_time", None)
                if due is not None:
                    left = max(0.0, due - get_time())
                    timeout = left if timeout is None else min(timeout, left)
                return super().select(timeout)

        _classes["selector"] = EscSelector
    return _classes["selector"]
