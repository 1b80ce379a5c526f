"""What one process asked of the switch, counted without prometheus_client (cheap to import).

Rules:
1. Every process with a runtime (the service and the cashier UI) counts its own switch requests
   (by operation and outcome, with a latency histogram) and the forwarder's answers, from the
   hooks of the switch client and the forwarder (``Runtime``, when ``[metrics]`` is set).
2. Each process leaves its counts in ``kv`` (``metrics.tally.<role>``) when they changed, at
   most every ``[metrics] interval``: the process that forwards writes the metrics
   (core/metrics.py) and reads the other process's counts from there, so a sale the cashier
   made while the service forwards is counted too, and nothing is lost when the forwarding
   moves from one process to the other.
3. The counts are cumulative since the process started (a restart is a counter reset, which
   Prometheus's ``rate`` expects). Labels come from small fixed sets: operation names,
   HTTP statuses or failure kinds, advice kinds.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

# seconds; the histogram's upper bounds (+Inf implied)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
KEY_PREFIX = "metrics.tally."


@dataclass
class Latency:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0   # seconds, the histogram's sum

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
                break
        else:
            self.buckets[-1] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        """(le, count) pairs as Prometheus wants them, +Inf last."""
        out, running = [], 0
        for bound, n in zip((*map(str, LATENCY_BUCKETS), "+Inf"), self.buckets, strict=True):
            running += n
            out.append((bound, float(running)))
        return out


class RequestTally:
    """The switch requests and forwarder answers of one process (rule 1)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], int] = {}        # (operation, outcome) -> n
        self.latency: dict[str, Latency] = {}                  # operation -> histogram
        self.answers: dict[tuple[str, str, str], int] = {}     # (kind, operation, outcome) -> n
        self.last_answer_at: float | None = None               # wall time the switch answered
        self.changed = False

    def observe_request(self, op: str, status: int | None, elapsed: float, error: str | None
                        ) -> None:
        outcome = str(status) if status is not None else (error or "error")
        key = (str(op), outcome)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.latency.setdefault(str(op), Latency()).observe(elapsed)
        if status is not None:
            self.last_answer_at = time.time()
        self.changed = True

    def observe_answer(self, kind: str, op: str, outcome: str) -> None:
        key = (str(kind), str(op), str(outcome))
        self.answers[key] = self.answers.get(key, 0) + 1
        self.changed = True

    def hook(self, agent: Any) -> RequestTally:
        """Count what ``agent``'s switch client and forwarder report from now on."""
        agent.switch.observer = self.observe_request
        agent.forwarder.on_answer = self.observe_answer
        return self

    def to_json(self) -> str:
        return json.dumps({
            "requests": [[op, outcome, n] for (op, outcome), n in sorted(self.requests.items())],
            "latency": {op: [h.buckets, h.total] for op, h in sorted(self.latency.items())},
            "answers": [[*key, n] for key, n in sorted(self.answers.items())],
            "last_answer_at": self.last_answer_at,
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> RequestTally:
        """A tally another process left in ``kv``; anything malformed counts as nothing."""
        tally = cls()
        try:
            data: dict[str, Any] = json.loads(text)
            tally.requests = {(str(op), str(out)): int(n) for op, out, n in data["requests"]}
            tally.latency = {str(op): Latency([int(b) for b in buckets], float(total))
                             for op, (buckets, total) in data["latency"].items()
                             if len(buckets) == len(LATENCY_BUCKETS) + 1}
            tally.answers = {(str(k), str(op), str(out)): int(n)
                             for k, op, out, n in data["answers"]}
            at = data.get("last_answer_at")
            tally.last_answer_at = float(at) if at is not None else None
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()
        return tally
