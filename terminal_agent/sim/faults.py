"""Fault injection: make the simulator slow, silent, rude or broken on purpose.

A fault spec is JSON: one fault object, a list of them, or ``{"faults": [...]}``. Fields:

``op``           an operation name from ``terminal_agent.protocol.operations.Op`` (member name such
                 as ``"VOUCHER_PROVISION"`` or its value), or ``"*"`` for every operation.
                 Control endpoints (``/_sim/...``) are never faulted.
``type``         ``latency``  sleep ``latency_ms`` then go on normally;
                 ``hang``     never answer: wait ``hang_ms`` (default 120000) or until the client
                              disconnects, then drop the connection;
                 ``status``   answer ``status`` (default 500; 503, 504, 502, 429... any 4xx/5xx)
                              with an ErrorDetail (``error_type`` optional);
                 ``reset``    send the headers and part of the body, then reset the connection
                              (TCP RST): the client sees ``RemoteProtocolError``/``ReadError``;
                 ``malformed`` answer a body that is not JSON (with a JSON content type);
                 ``truncated`` answer the first half of the JSON body (Content-Length matches);
                 ``content_type`` answer an HTML page with ``Content-Type: text/html``;
                 ``decline``  answer ``status`` (default 400) with an ErrorDetail of ``error_type``
                              (default: the interface's generic decline).
``when``         ``"before"`` (default): the request is never processed (nothing stored; for
                 ``decline`` the original *is* stored as declined, as a real decline would be);
                 ``"after"``: the request is processed and stored, then the answer is lost or
                 replaced (the important case for reversals: the switch has it, the till does not
                 know).
``times``        apply to the next N matching calls only (default: until removed).
``probability``  chance per matching call, 0..1 (default 1).
``latency_ms``, ``hang_ms``, ``status``, ``error_type`` as above.

Several latency faults add up; after them the first other matching fault applies.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("latency", "hang", "status", "reset", "malformed", "truncated", "content_type", "decline")
PHASES = ("before", "after")


class FaultSpecError(ValueError):
    """The fault spec is not understood; the message says which part."""


@dataclass
class Fault:
    id: int
    op: str
    type: str
    when: str = "before"
    times: int | None = None
    probability: float = 1.0
    latency_ms: int = 0
    hang_ms: int = 120_000
    status: int | None = None
    error_type: str | None = None
    fired: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def normalise_op(name: str) -> str:
    """Maps an Op member name or value to the Op's value (``"*"`` passes through)."""
    if name == "*":
        return name
    from terminal_agent.protocol.operations import Op

    for op in Op:
        if name.lower() in (op.name.lower(), str(op.value).lower()):
            return str(op.value)
    raise FaultSpecError(f"op: unknown operation {name!r}")


def _items(spec: Any) -> list[Any]:
    if spec is None:
        return []
    if isinstance(spec, dict) and "faults" in spec:
        spec = spec["faults"]
    if isinstance(spec, dict):
        return [spec]
    if isinstance(spec, list):
        return spec
    raise FaultSpecError("a fault spec is an object, a list, or {\"faults\": [...]}")


def _int(item: dict[str, Any], key: str, default: int | None, lo: int, hi: int) -> int | None:
    value = item.get(key, default)
    if value is None:
        return None
    if type(value) is not int or not lo <= value <= hi:
        raise FaultSpecError(f"{key}: must be an integer from {lo} to {hi}")
    return value


class FaultBook:
    """The active faults; thread-safe (the control endpoint and requests share it)."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._rng = rng or random.Random()

    def parse(self, spec: Any) -> list[Fault]:
        faults = []
        for n, item in enumerate(_items(spec)):
            try:
                faults.append(self._parse_one(item))
            except FaultSpecError as exc:
                raise FaultSpecError(f"faults[{n}].{exc}") from None
        return faults

    def _parse_one(self, item: Any) -> Fault:
        if not isinstance(item, dict):
            raise FaultSpecError("fault: must be an object")
        unknown = set(item) - {"op", "type", "when", "times", "probability", "latency_ms",
                               "hang_ms", "status", "error_type"}
        if unknown:
            raise FaultSpecError(f"{sorted(unknown)[0]}: unknown key")
        op = item.get("op", "*")
        if not isinstance(op, str):
            raise FaultSpecError("op: must be a string")
        kind = item.get("type")
        if kind not in KINDS:
            raise FaultSpecError(f"type: must be one of {', '.join(KINDS)}")
        when = item.get("when", "before")
        if when not in PHASES:
            raise FaultSpecError("when: must be 'before' or 'after'")
        probability = item.get("probability", 1.0)
        if type(probability) not in (int, float) or not 0 <= probability <= 1:
            raise FaultSpecError("probability: must be a number from 0 to 1")
        error_type = item.get("error_type")
        if error_type is not None and not isinstance(error_type, str):
            raise FaultSpecError("error_type: must be a string")
        default_status = {"status": 500, "decline": 400}.get(kind)
        status = _int(item, "status", default_status, 100, 599)
        if kind == "latency" and "latency_ms" not in item:
            raise FaultSpecError("latency_ms: is required for a latency fault")
        return Fault(
            id=0, op=normalise_op(op), type=kind, when=when,
            times=_int(item, "times", None, 1, 1_000_000), probability=float(probability),
            latency_ms=_int(item, "latency_ms", 0, 0, 600_000) or 0,
            hang_ms=_int(item, "hang_ms", 120_000, 0, 3_600_000) or 0,
            status=status, error_type=error_type)

    def add(self, spec: Any) -> list[Fault]:
        faults = self.parse(spec)
        with self._lock:
            for fault in faults:
                fault.id = next(self._ids)
                self._faults.append(fault)
        return faults

    def clear(self, op: str | None = None) -> int:
        with self._lock:
            before = len(self._faults)
            if op is None:
                self._faults.clear()
            else:
                wanted = normalise_op(op)
                self._faults = [f for f in self._faults if f.op != wanted]
            return before - len(self._faults)

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def draw(self, op: str, when: str) -> tuple[int, Fault | None]:
        """The faults that fire for one call in one phase: total added latency (ms) and the
        first non-latency fault. Counts them against ``times``."""
        latency = 0
        chosen: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if fault.when != when or fault.op not in ("*", op):
                    continue
                if fault.type != "latency" and chosen is not None:
                    continue
                if fault.probability < 1 and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                if fault.type == "latency":
                    latency += fault.latency_ms
                else:
                    chosen = fault
        return latency, chosen
