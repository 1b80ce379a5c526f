"""Requests that carry no money (admin requests, lookups): re-sent until a definite answer (seeds
001/002: "Admin transactions should thus be re-sent by the downstream party until a response is
received"; "the downstream entity should repeat the action until such time that a successful
response (positive or negative) is received"). The cashier gives up by cancelling the call (the
UI's Esc); a caller may also bound the attempts. Nothing is journaled: nothing is owed."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from terminal_agent.core.messages import decline_sentence
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import Outcome, Verdict
from terminal_agent.switch.client import SwitchClient

RESEND_ATTEMPTS: int | None = None  # admin requests and lookups: None = until an answer
RESEND_PAUSE = 0.5      # seconds between tries (times the attempt number, at most RESEND_PAUSE_MAX)
RESEND_PAUSE_MAX = 5.0


@dataclass(frozen=True)
class Answer:
    """The answer to a request that carries no money (admin request or lookup)."""

    verdict: str               # approved, declined, not_offered, no_answer
    message: str               # one sentence for the cashier
    value: Any = None          # the parsed success model
    error_type: str | None = None
    status: int | None = None
    attempts: int = 1
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict == "approved"


def not_offered(what: str) -> Answer:
    return Answer("not_offered", f"The provider does not offer {what}. Carry on without it.",
                  status=501, attempts=0)


NO_ANSWER = "The switch did not answer. Try again in a moment, or carry on without it."


def answer_from(outcome: Outcome, attempts: int, *, what: str = "this service",
                interface: str | None = None) -> Answer:
    if outcome.verdict == Verdict.APPROVED:
        return Answer("approved", "Done.", outcome.message, status=outcome.status,
                      attempts=attempts)
    if outcome.verdict == Verdict.DECLINED and outcome.status == 501:
        return dataclasses.replace(not_offered(what), error_type=outcome.error_type,
                                   attempts=attempts)
    if outcome.verdict == Verdict.DECLINED:
        return Answer("declined", decline_sentence(outcome.error_type, interface),
                      error_type=outcome.error_type,
                      status=outcome.status, attempts=attempts)
    return Answer("no_answer", NO_ANSWER, error_type=outcome.error_type, status=outcome.status,
                  attempts=attempts)


async def ask(switch: SwitchClient, op: Op, message: Any = None, *,
              query: dict[str, str] | None = None, attempts: int | None = RESEND_ATTEMPTS,
              pause: float = RESEND_PAUSE, what: str = "this service") -> Answer:
    """Send a request that carries no money until a definite answer (``attempts``: at most
    that many times; None: until answered or the caller is cancelled). Invalid input is refused
    before anything is sent."""
    attempt = 0
    while True:
        attempt += 1
        outcome = (await switch.exchange(op, message, query=query)).outcome
        if outcome.verdict in (Verdict.APPROVED, Verdict.DECLINED):
            return answer_from(outcome, attempt, what=what, interface=SPECS[op].interface)
        if attempts is not None and attempt >= attempts:
            return answer_from(outcome, attempt, what=what, interface=SPECS[op].interface)
        await asyncio.sleep(min(RESEND_PAUSE_MAX, pause * attempt))
