"""The steps every financial flow shares, each one committed before the next phase.

A flow is: validate and encode the request (a bad value is refused before anything is stored)
→ commit the request with its held reversal or status lookup (write-ahead) → send → commit the
classified answer → later, the cashier's tender (confirmation) or cancellation (reversal).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from terminal_agent.config import AgentConfig
from terminal_agent.core.answers import answer_of, remember
from terminal_agent.core.journal import Journal, Kind, NewTxn, Txn
from terminal_agent.core.messages import (
    REVERSED_BEFORE_TENDER,
    UNKNOWN_SENTENCE,
    decline_sentence,
)
from terminal_agent.core.outbox import AdviceKind, Outbox
from terminal_agent.core.reversals import (
    add_advice,
    queue_confirmation,
    queue_reversal,
    unanswered,
)
from terminal_agent.core.states import FAILED, REVERSED_STATES, SUCCEEDED, State
from terminal_agent.core.store import Db
from terminal_agent.errors import AgentError
from terminal_agent.protocol import builders, codec
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import Asked, Outcome, Verdict
from terminal_agent.receipts.formatting import format_amount
from terminal_agent.switch.client import SwitchClient

T = TypeVar("T")

log = logging.getLogger("terminal_agent.flows")


class FlowError(AgentError):
    """A cashier action that does not fit the transaction's state (e.g. tender twice)."""


class SaleVerdict(StrEnum):
    """What a sale came to, for the cashier (``FlowResult.verdict``)."""

    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"      # no definite answer: the sale is being reversed, hand nothing over
    PENDING = "pending"      # a top-up whose outcome the status lookups will settle
    REVERSED = "reversed"    # approved, then reversed before any tender
    CANCELLED = "cancelled"  # the cashier or a supervisor cancelled after approval


@dataclass(frozen=True)
class FlowResult:
    txn_id: str
    reference: str
    kind: Kind
    state: State
    verdict: SaleVerdict
    message: str               # one sentence for the cashier
    amount: int = 0
    fee: int = 0
    error_type: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a verdict given by its value ("approved") is the enum's member: never another word
        object.__setattr__(self, "verdict", SaleVerdict(self.verdict))

    @property
    def approved(self) -> bool:
        return self.verdict == SaleVerdict.APPROVED


@dataclass
class FlowContext:
    config: AgentConfig
    journal: Journal
    outbox: Outbox
    switch: SwitchClient
    identity: builders.Identity
    wake: Any = None  # callable nudging the in-process forwarder
    owner: str | None = None  # this process's owner id, written on what it sends (core/owners)

    def nudge(self) -> None:
        if self.wake is not None:
            self.wake()


class Flow:
    kind: Kind

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self.journal = ctx.journal
        self.outbox = ctx.outbox
        self.store = ctx.journal.store

    # -- write-ahead request -------------------------------------------------------------

    async def _prepare(self, op: Op, request: Any, *, path: str, amount: int, cashier: str,
                       product: str | None = None, detail: dict[str, Any] | None = None,
                       state: State = State.PREPARED, retry_of: str | None = None,
                       fee: int = 0) -> tuple[str, bytes]:
        """Commit the request with its held reversal (or status lookup for top-ups)."""
        body = codec.encode(request)  # strict validation: refused before anything is stored
        txn_id = str(request.id)
        new = NewTxn(id=txn_id, kind=self.kind, op=op.value, path=path, request=body,
                     amount=amount, fee=fee, currency=self.ctx.config.terminal.currency,
                     cashier=cashier, state=state, product=product, detail=detail or {},
                     retry_of=retry_of, owner=self.ctx.owner)
        if state == State.TENDER_TAKEN:
            path_q, query = builders.status_lookup_for(txn_id)
        else:
            reversal = builders.reversal_for(op, request, None, reason="TIMEOUT")

        def write_ahead(db: Db) -> None:
            self.journal.insert(db, new)
            if state == State.TENDER_TAKEN:
                self.outbox.add(db, id=builders.new_id(), txn_id=txn_id, kind=AdviceKind.STATUS,
                                op=Op.PURCHASE_STATUS.value, method="GET", path=path_q,
                                query=query, held=True)
            else:
                add_advice(db, self.outbox, txn_id, reversal, AdviceKind.REVERSAL, held=True)

        await self.store.step(write_ahead)
        log.info("%s %s prepared", self.kind, txn_id,
                 extra={"txn_id": txn_id, "operation": op.value, "outcome": "prepared"})
        return txn_id, body

    async def _send(self, op: Op, body: bytes, path: str,
                    asked: Asked) -> tuple[Outcome, bytes | None]:
        """Send and classify against what was asked (``SwitchClient.exchange``)."""
        done = await self.ctx.switch.exchange(op, body=body, path=path, asked=asked,
                                              about={"txn_id": asked.request_id or ""})
        return done.outcome, done.body

    async def _dual_message(self, op: Op, request: Any, *, path: str, amount: int,
                            cashier: str, product: str | None = None,
                            detail: dict[str, Any] | None = None, retry_of: str | None = None,
                            fee: int = 0, deadline: float | None = None,
                            approved_amount: Any = None) -> tuple[Txn, Outcome]:
        """Request of a dual-message flow: APPROVED (held for tender), DECLINED, or reversed.
        ``approved_amount(message)`` gives the amount the switch approved where it may differ
        from what was asked (payouts, voucher redemptions): that amount rules the till."""
        txn_id, body = await self._prepare(op, request, path=path, amount=amount,
                                           cashier=cashier, product=product, detail=detail,
                                           retry_of=retry_of, fee=fee)
        asked = Asked(request_id=txn_id, amount=amount)
        outcome, raw = await self._send(op, body, path, asked)
        if outcome.verdict == Verdict.APPROVED and raw is not None:
            remember(op, raw, outcome.message)  # the classifier's parse serves the later steps
        extra = {"txn_id": txn_id, "operation": op.value, "outcome": outcome.verdict.value}
        until = self.journal.clock() + deadline if deadline is not None else None
        approved = approved_amount(outcome.message) if approved_amount and \
            outcome.verdict == Verdict.APPROVED else None
        changed = approved is not None and approved != amount

        def answer(db: Db) -> Txn:
            if outcome.verdict == Verdict.APPROVED:
                self.journal.transition(
                    db, txn_id, State.APPROVED, actor=cashier, response=raw,
                    http_status=outcome.status, decision_deadline=until,
                    amount=approved if changed else None,
                    detail={"requested_amount": amount} if changed else None,
                    note=f"approved for {approved}, {amount} asked" if changed else "approved")
            elif outcome.verdict == Verdict.DECLINED:
                self.outbox.void_held(db, txn_id)
                self.journal.transition(db, txn_id, State.DECLINED, actor=cashier, response=raw,
                                        http_status=outcome.status,
                                        error_type=outcome.error_type,
                                        note=f"declined: {outcome.reason}")
            else:
                self._reverse_unknown(db, txn_id, outcome, cashier)
            return self.journal.load(db, txn_id)

        txn = await self._record(txn_id, answer, cashier)
        log.info("%s %s: %s", self.kind, txn_id, outcome.reason, extra=extra)
        if outcome.verdict not in (Verdict.APPROVED, Verdict.DECLINED):
            self.ctx.nudge()
        return txn, outcome

    async def _record(self, txn_id: str, answer: Callable[[Db], T], cashier: str) -> T:
        """Commit the step recording the switch's answer. Should it fail (a defect, a library
        missing from the install, the disk), the transaction goes on at once as recovery would
        take it (``reversals.unanswered``: the held reversal, or a top-up's lookups), since
        recovery leaves alone what a live process owns; then the error goes to the caller."""
        try:
            return await self.store.step(answer)
        except Exception:
            log.exception("%s %s: the answer could not be recorded", self.kind, txn_id,
                          extra={"txn_id": txn_id, "outcome": "not-recorded"})
            lookup = self.ctx.config.forwarder.status_first_delay
            try:
                await self.store.step(lambda db: unanswered(
                    db, self.journal, self.outbox, txn_id, actor=cashier,
                    note="the answer could not be recorded", first_lookup=lookup))
            except Exception:  # the store itself fails: recovery takes it once this process ends
                log.exception("%s %s: not let go either", self.kind, txn_id,
                              extra={"txn_id": txn_id})
            self.ctx.nudge()
            raise

    def _reverse_unknown(self, db: Db, txn_id: str, outcome: Outcome, actor: str) -> None:
        """No definite answer: release the held reversal (``TIMEOUT``: nothing arrived), or
        replace it with one saying ``RESPONSE_NOT_FINAL`` when an answer came that was not final
        (500, 504, a 2xx that is not this request's). Reference: airtime §3.1 "Use TIMEOUT when
        no response arrived, RESPONSE_NOT_FINAL after a 500 or 504"."""
        note = f"no definite answer ({outcome.reason}): reversal queued"
        if outcome.reversal_reason == "TIMEOUT":
            self.outbox.release(db, txn_id, AdviceKind.REVERSAL)
            self.journal.transition(db, txn_id, State.REVERSING, actor=actor, note=note,
                                    http_status=outcome.status)
            return
        txn = self.journal.load(db, txn_id)
        queue_reversal(db, self.journal, self.outbox, txn, reason="RESPONSE_NOT_FINAL",
                       actor=actor, note=note)

    # -- the cashier's decision after approval --------------------------------------------

    async def _approved(self, txn_id: str) -> Txn:
        """The transaction awaiting the cashier's decision (or already reversed behind the
        cashier, which the decision then reports as a value); anything else is a misuse."""
        txn = await self.journal.get(txn_id)
        if txn.kind != self.kind:
            raise FlowError(f"transaction {txn.reference} is a {txn.kind}, not a {self.kind}")
        if txn.state != State.APPROVED and not reversed_after_approval(txn):
            raise FlowError(f"transaction {txn.reference} is {txn.state}, not awaiting tender")
        return txn

    async def confirm(self, txn_id: str, cashier: str, *, tenders: list[Any] | None = None,
                      note: str = "") -> Txn:
        """Record the tender: the confirmation (and the sale's receipt) in one step. A
        compare-and-set: a sale reversed since (deadline, supervisor) is returned as it is."""
        await self._approved(txn_id)

        def tendered(db: Db) -> Txn:
            txn = self.journal.load(db, txn_id)
            if txn.state != State.APPROVED:
                return txn
            queue_confirmation(db, self.journal, self.outbox, txn, actor=cashier,
                               tenders=tenders, note=note)
            return self.journal.load(db, txn_id)

        done = await self.store.step(tendered)
        self.ctx.nudge()
        return done

    async def reverse(self, txn_id: str, actor: str, *, reason: str = "CANCELLED",
                      note: str = "cancelled at the till: reversal queued") -> Txn:
        """Cancel an approved sale (compare-and-set, like ``confirm``)."""
        await self._approved(txn_id)

        def reversed_(db: Db) -> Txn:
            txn = self.journal.load(db, txn_id)
            if txn.state != State.APPROVED:
                return txn
            queue_reversal(db, self.journal, self.outbox, txn, reason=reason, actor=actor,
                           note=note)
            return self.journal.load(db, txn_id)

        done = await self.store.step(reversed_)
        self.ctx.nudge()
        return done

    # -- results ---------------------------------------------------------------------------

    def amount_note(self, txn: Txn, then: str) -> str:
        """The sentence telling the cashier that the switch approved another amount than the
        one entered (empty when they agree): said before any cash moves."""
        requested = txn.detail.get("requested_amount")
        if not isinstance(requested, int) or requested == txn.amount:
            return ""
        symbol = self.ctx.config.terminal.currency_symbol
        approved, entered = format_amount(txn.amount, symbol), format_amount(requested, symbol)
        return (f"The switch approved {approved}, not the {entered} entered. "
                + then.format(approved=approved, entered=entered,
                              rest=format_amount(requested - txn.amount, symbol)))

    def result(self, txn: Txn, outcome: Outcome | None, *, data: dict[str, Any] | None = None,
               approved_message: str = "Approved.") -> FlowResult:
        if txn.state in SUCCEEDED:
            verdict, message = SaleVerdict.APPROVED, approved_message
        elif txn.state in FAILED:
            interface = SPECS[Op(txn.op)].interface
            verdict, message = SaleVerdict.DECLINED, decline_sentence(txn.error_type, interface)
            if txn.state == State.REFUND_DUE:
                message += " Refund the customer's payment."
        elif txn.state == State.STATUS_PENDING:
            verdict, message = SaleVerdict.PENDING, UNKNOWN_SENTENCE[self.kind.value]
        elif reversed_after_approval(txn):
            verdict, message = SaleVerdict.REVERSED, REVERSED_BEFORE_TENDER[txn.kind.value]
        else:
            verdict, message = SaleVerdict.UNKNOWN, UNKNOWN_SENTENCE[self.kind.value]
        return FlowResult(txn_id=txn.id, reference=txn.reference, kind=txn.kind,
                          state=txn.state, verdict=verdict, message=message, amount=txn.amount,
                          fee=txn.fee, error_type=txn.error_type, data=data or {})


def reversed_after_approval(txn: Txn) -> bool:
    """Approved (the answer is stored), then reversed before any tender was recorded."""
    return txn.state in REVERSED_STATES and txn.response is not None


def response_of(txn: Txn) -> Any:
    """The stored success body as the operation's response model (parsed once: core/answers)."""
    return answer_of(Op(txn.op), txn.response)
