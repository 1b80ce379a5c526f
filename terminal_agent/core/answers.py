"""The switch's answers, decoded once (docs/DESIGN.md §5a: the sale's steps all read the stored
answer). The classifier parses an answer when it arrives; the steps after it (the confirmation,
the receipt, the screen's details) need the same model again. They ask ``answer_of``, which
keeps the last models by (operation, bytes): the same bytes are never parsed twice in a process.

The models are treated as read-only by every caller (advices are built with
``msgspec.structs.replace``), so sharing one is safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from terminal_agent.protocol import codec
from terminal_agent.protocol.operations import SPECS, Op

KEPT = 16  # answers remembered: a till has a handful of sales open at once, and an answer may
#            hold a voucher PIN, so few are kept in memory and none on disk

_models: OrderedDict[tuple[Op, bytes], Any] = OrderedDict()
_lock = threading.Lock()  # steps run on the store's thread, screens on the event loop


def remember(op: Op, body: bytes, model: Any) -> None:
    """The classifier's parse of ``body``: kept for the steps that follow."""
    if model is None:
        return
    with _lock:
        _models[(op, bytes(body))] = model
        _models.move_to_end((op, bytes(body)))
        while len(_models) > KEPT:
            _models.popitem(last=False)


def answer_of(op: Op, body: bytes | None) -> Any:
    """The answer ``body`` of ``op`` as its response model (None: no body, no model, or a body
    that is not one), parsed at most once."""
    spec = SPECS[op]
    if not body or spec.response is None:
        return None
    key = (op, bytes(body))
    with _lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key]
    try:
        model = codec.decode(spec.response, body)
    except codec.DecodeError:
        return None
    remember(op, body, model)
    return model
