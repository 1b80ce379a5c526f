"""Building and queueing the final advice of a transaction (confirmation or reversal).

Both run inside a caller's step (synchronously, in ``Store.step``), so the advice row and the
state change commit together (invariants 1 and 4): once a confirmation is queued the state table
forbids a reversal.
"""

from __future__ import annotations

from typing import Any

from terminal_agent.core.answers import answer_of
from terminal_agent.core.journal import Journal, Txn
from terminal_agent.core.outbox import AdviceKind, Outbox
from terminal_agent.core.states import State
from terminal_agent.core.store import Db
from terminal_agent.protocol import builders, codec
from terminal_agent.protocol.operations import SPECS, Op


def _original(txn: Txn) -> tuple[Op, Any, Any]:
    op = Op(txn.op)
    spec = SPECS[op]
    request = codec.decode(spec.request, txn.request) if spec.request else None
    return op, request, answer_of(op, txn.response)


def build_reversal(txn: Txn, reason: str) -> builders.Advice:
    op, request, response = _original(txn)
    return builders.reversal_for(op, request, response, reason=reason)


def add_advice(db: Db, outbox: Outbox, txn_id: str, advice: builders.Advice, kind: AdviceKind,
               *, held: bool = False) -> str:
    body = codec.encode(advice.message)
    advice_id = str(advice.message.id)
    outbox.add(db, id=advice_id, txn_id=txn_id, kind=kind, op=advice.op.value,
                     method=SPECS[advice.op].method, path=advice.path, body=body, held=held)
    return advice_id


def queue_reversal(db: Db, journal: Journal, outbox: Outbox, txn: Txn, *, reason: str,
                   actor: str, note: str) -> str:
    """Void the held reversal and queue one with ``reason`` (``CANCELLED``, ``TIMEOUT``)."""
    advice = build_reversal(txn, reason)
    outbox.void_held(db, txn.id)
    advice_id = add_advice(db, outbox, txn.id, advice, AdviceKind.REVERSAL)
    journal.transition(db, txn.id, State.REVERSING, actor=actor, note=note)
    return advice_id


def queue_confirmation(db: Db, journal: Journal, outbox: Outbox, txn: Txn, *, actor: str,
                       new_state: State = State.TENDERED, tenders: list[Any] | None = None,
                       note: str = "") -> str:
    op, request, response = _original(txn)
    advice = builders.confirmation_for(op, request, response, tenders=tenders)
    outbox.void_held(db, txn.id)
    advice_id = add_advice(db, outbox, txn.id, advice, AdviceKind.CONFIRMATION)
    journal.transition(db, txn.id, new_state, actor=actor,
                       note=note or "tender recorded: confirmation queued")
    return advice_id


def unanswered(db: Db, journal: Journal, outbox: Outbox, txn_id: str, *, actor: str, note: str,
               first_lookup: float = 0.0) -> State | None:
    """Inside a step: a request whose answer was never recorded goes on as recovery takes it
    (docs/DESIGN.md §4): ``PREPARED`` releases its held reversal (``TIMEOUT``) -> ``REVERSING``;
    ``TENDER_TAKEN`` (a direct top-up) its held status lookup, due in ``first_lookup`` seconds,
    -> ``STATUS_PENDING``, never a reversal. Any other state: answered since, nothing to do."""
    state = journal.load(db, txn_id).state
    if state == State.PREPARED:
        outbox.release(db, txn_id, AdviceKind.REVERSAL)
        journal.transition(db, txn_id, State.REVERSING, actor=actor, note=f"{note}: reversal queued")
        return State.REVERSING
    if state == State.TENDER_TAKEN:
        outbox.release(db, txn_id, AdviceKind.STATUS, delay=max(0.0, first_lookup))
        journal.transition(db, txn_id, State.STATUS_PENDING, actor=actor,
                           note=f"{note}: status lookups")
        return State.STATUS_PENDING
    return None
