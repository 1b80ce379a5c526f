"""Typed msgspec calls made safe across threads.

msgspec builds a ``Struct`` type's type information on the type's first typed use (decode or
convert) and publishes it on the class *before* it is complete, so that recursive types can
refer to themselves. A second thread using the same type in that window reads a field type that
is still NULL and the process dies of SIGSEGV, with no Python traceback (msgspec 0.22 on
CPython 3.11; ``tests/test_typeinfo.py`` reproduces it). A till has two such threads: the store's
thread runs a sale's steps, which read the stored answer, while the event loop classifies the
next answer or renders a receipt; the crash matrix saw the till die that way right after a
restart, when every type is used for the first time.

``ready(t)`` makes the first typed use of ``t`` (and of every ``Struct`` reachable from it) under
one lock; after that, every thread reads finished type information and no lock is taken.
Every typed ``msgspec.json.decode`` and ``msgspec.convert`` of the agent goes through it
(``terminal_agent.protocol.codec``, ``terminal_agent.config``).
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec

_ready: set[Any] = set()
_building = threading.Lock()


def ready(model_type: Any) -> None:
    """Build ``model_type``'s msgspec type information once, under the lock."""
    try:
        if model_type in _ready:
            return
    except TypeError:  # an unhashable type expression: built (or found built) under the lock
        with _building:
            msgspec.json.Decoder(model_type)
        return
    with _building:
        if model_type not in _ready:
            msgspec.json.Decoder(model_type)  # walks every Struct the type reaches
            _ready.add(model_type)
