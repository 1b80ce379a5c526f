"""Store and forward: the outbox of advices (confirmations, reversals) and status lookups.

Rules (docs/DESIGN.md §3, §5):
1. A row is written in the same step as the state change that makes it due, before anything is
   sent. A *held* row (the ready-built reversal, the status lookup) is written with the original
   request and released only if the outcome is not known.
2. A row keeps its message id and body bytes for ever: every retry sends the identical message.
3. A row becomes ``delivered`` only when the switch's final answer is committed; answers that will
   never get better make it ``parked`` for a supervisor. Nothing is deleted before delivery;
   delivered rows are purged only after the retention period (core/retention.py).
4. Rows of one transaction go strictly in ``seq`` order: a row is due only when no earlier row
   of its transaction is pending or parked.
5. A claim takes a lease; a crashed claimer's lease simply runs out.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from terminal_agent.config import ForwarderConfig
from terminal_agent.core.states import (
    BLOCKING_ROWS,
    OWED_ROWS,
    RowMove,
    RowState,
    row_move,
    sql_set,
)
from terminal_agent.core.store import Db, Store
from terminal_agent.errors import ValidationError


class AdviceKind(StrEnum):
    CONFIRMATION = "confirmation"
    REVERSAL = "reversal"
    STATUS = "status"


@dataclass(frozen=True)
class OutboxRow:
    id: str
    txn_id: str
    seq: int
    kind: AdviceKind
    op: str
    method: str
    path: str
    query: dict[str, str] | None
    body: bytes | None
    state: RowState
    attempts: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    created_at: float
    delivered_at: float | None
    resolved_note: str | None
    unanswered: int = 0  # earlier sends whose outcome is not known (incl. a crash mid-send)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxRow:
        return cls(
            id=row["id"], txn_id=row["txn_id"], seq=row["seq"], kind=AdviceKind(row["kind"]),
            op=row["op"], method=row["method"], path=row["path"],
            query=json.loads(row["query"]) if row["query"] else None, body=row["body"],
            state=RowState(row["state"]), attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"], last_status=row["last_status"],
            last_error=row["last_error"], created_at=row["created_at"],
            delivered_at=row["delivered_at"], resolved_note=row["resolved_note"],
            unanswered=row["unanswered"],
        )


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    held: int
    parked: int
    delivered: int
    oldest_pending_at: float | None
    last_delivery_at: float | None


_CLAIM_SQL = f"""
SELECT o.* FROM outbox o
WHERE o.state = 'pending' AND o.next_attempt_at <= ?
  AND (o.lease_until IS NULL OR o.lease_until < ?)
  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.txn_id = o.txn_id AND p.seq < o.seq
                  AND p.state IN {sql_set(BLOCKING_ROWS)})
ORDER BY o.next_attempt_at, o.created_at
LIMIT ?
"""  # noqa: S608 - the states are constants


class Outbox:
    def __init__(self, store: Store, cfg: ForwarderConfig, clock: Any = time.time) -> None:
        self.store = store
        self.cfg = cfg
        self.clock = clock

    # -- writing (inside a flow's step) ---------------------------------------------------

    def add(self, db: Db, *, id: str, txn_id: str, kind: AdviceKind, op: str, method: str,
            path: str, body: bytes | None = None, query: Mapping[str, str] | None = None,
            held: bool = False, delay: float = 0.0) -> None:
        now = self.clock()
        db.execute(  # seq = next in this transaction, in the same statement
            "INSERT INTO outbox (id, txn_id, seq, kind, op, method, path, query, body, state,"
            " next_attempt_at, created_at) SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ?,?,?,?,?,?,?,?,?"
            " FROM outbox WHERE txn_id=?",
            (id, txn_id, kind.value, op, method, path,
             json.dumps(dict(query)) if query else None, body,
             (RowState.HELD if held else RowState.PENDING).value, now + delay, now, txn_id),
        )

    def release(self, db: Db, txn_id: str, kind: AdviceKind, delay: float = 0.0) -> int:
        """Make the held rows of ``kind`` due (the outcome turned out unknown)."""
        cur = db.execute(
            "UPDATE outbox SET state='pending', next_attempt_at=? WHERE txn_id=? AND kind=?"  # noqa: S608
            f" AND {row_move(RowMove.RELEASE, RowState.PENDING)}",
            (self.clock() + delay, txn_id, kind.value))
        return cur.rowcount

    def void_held(self, db: Db, txn_id: str) -> None:
        """Held rows never sent and no longer needed (definite answer, tender recorded)."""
        db.execute("UPDATE outbox SET state='void' WHERE txn_id=?"  # noqa: S608
                   f" AND {row_move(RowMove.VOID, RowState.VOID)}", (txn_id,))

    # -- the forwarder's side ------------------------------------------------------------

    async def drop_leases(self) -> int:
        """A new forwarder took over (it holds the forwarder lock, so no other claimer is
        alive): the leases of the one before are void (rule 5 without waiting them out)."""
        return await self.store.step(lambda db: db.execute(
            "UPDATE outbox SET lease_until=NULL WHERE state='pending'"
            " AND lease_until IS NOT NULL").rowcount)

    async def claim_due(self, limit: int) -> list[OutboxRow]:
        now = self.clock()

        def claim(db: Db) -> list[OutboxRow]:
            rows = [OutboxRow.from_row(r) for r in db.execute(_CLAIM_SQL, (now, now, limit))]
            if rows:  # counted as unanswered until a definite answer is committed (rule 3)
                db.executemany("UPDATE outbox SET lease_until=?, unanswered=unanswered+1"
                               " WHERE id=?",
                               [(now + self.cfg.lease_seconds, r.id) for r in rows])
            return rows

        return await self.store.step(claim)

    def backoff(self, attempts: int, *, first: float | None = None,
                doublings: int = 40) -> float:
        """Exponential back-off with jitter, capped: attempt 1 waits about ``backoff_initial``,
        each attempt after it twice as long, ``doublings`` times at most."""
        base = first if first is not None else self.cfg.backoff_initial
        delay = min(self.cfg.backoff_max, base * (2 ** min(max(0, attempts - 1), doublings)))
        return delay * random.uniform(0.5, 1.0)

    def pause(self, failures: int, *, cap: float) -> float:
        """How long the whole till holds off after ``failures`` switch-wide failures in a row
        (unreachable, 503, 429): exponential up to ``cap`` (and ``backoff_max``), with *full*
        jitter (anywhere from 0 to the delay), so that a chain's tills waiting out one outage
        come back spread over the whole of their last pause rather than in its upper half
        (bench/herd.py)."""
        delay = min(self.cfg.backoff_max, cap,
                    self.cfg.backoff_initial * (2 ** min(max(0, failures - 1), 40)))
        return random.uniform(0.0, delay)

    def put_back(self, db: Db, ids: list[str]) -> None:
        """Claimed rows that were never sent (the switch went away meanwhile): due again as they
        were, no attempt counted, no send left unanswered."""
        db.executemany("UPDATE outbox SET lease_until=NULL, unanswered=MAX(0, unanswered-1)"
                       " WHERE id=? AND state='pending'", [(i,) for i in ids])

    def mark_many(self, db: Db,
                  marks: list[tuple[OutboxRow, RowState, int | None, str | None, float]]) -> None:
        """The answers of a batch in one statement: (row, new state, HTTP status, error,
        seconds until the next attempt)."""
        now = self.clock()
        guard = row_move(RowMove.ANSWER, RowState.PENDING)
        for _, state, *_ in marks:
            row_move(RowMove.ANSWER, state)
        db.executemany(
            "UPDATE outbox SET state=?, attempts=attempts+1, last_status=?, last_error=?,"  # noqa: S608
            f" lease_until=NULL, next_attempt_at=?, delivered_at=? WHERE id=? AND {guard}",
            [(state.value, status, error, now + retry_in,
              now if state == RowState.DELIVERED else None, row.id)
             for row, state, status, error, retry_in in marks])

    def answered_many(self, db: Db, ids: list[str]) -> None:
        """These sends got a definite answer (the switch took it or certainly did not)."""
        db.executemany("UPDATE outbox SET unanswered=MAX(0, unanswered-1) WHERE id=?",
                       [(i,) for i in ids])

    # -- supervisor and status ----------------------------------------------------------

    async def counts(self) -> OutboxCounts:
        """Cheap at any history size: what is still owed is small; delivered rows are counted
        and their last time read from the ``(state, delivered_at)`` index alone."""
        def count(db: Db) -> OutboxCounts:
            by = {r[0]: (int(r[1]), r[2]) for r in db.execute(
                "SELECT state, COUNT(*), MIN(created_at) FROM outbox"  # noqa: S608
                f" WHERE state IN {sql_set(OWED_ROWS)} GROUP BY state")}
            delivered, last = db.execute(
                "SELECT COUNT(*), MAX(delivered_at) FROM outbox WHERE state='delivered'").fetchone()
            return OutboxCounts(
                pending=by.get("pending", (0, None))[0], held=by.get("held", (0, None))[0],
                parked=by.get("parked", (0, None))[0], delivered=int(delivered),
                oldest_pending_at=by.get("pending", (0, None))[1], last_delivery_at=last)

        return await self.store.read(count)

    async def rows(self, states: tuple[RowState, ...], limit: int = 500) -> list[OutboxRow]:
        marks = ",".join("?" * len(states))
        rows = await self.store.fetchall(
            f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY created_at LIMIT ?",  # noqa: S608
            [s.value for s in states] + [limit])
        return [OutboxRow.from_row(r) for r in rows]

    async def for_txn(self, txn_id: str) -> list[OutboxRow]:
        rows = await self.store.fetchall("SELECT * FROM outbox WHERE txn_id=? ORDER BY seq",
                                         (txn_id,))
        return [OutboxRow.from_row(r) for r in rows]

    async def retry_now(self, advice_id: str) -> bool:
        """Make a pending or parked row due immediately (a parked row goes back to pending)."""
        now = self.clock()
        return await self.store.step(lambda db: db.execute(
            "UPDATE outbox SET state='pending', next_attempt_at=?, lease_until=NULL"  # noqa: S608
            f" WHERE id=? AND {row_move(RowMove.RETRY, RowState.PENDING)}",
            (now, advice_id)).rowcount == 1)

    async def resolve(self, advice_id: str, *, note: str, actor: str) -> bool:
        """A supervisor settled a parked advice outside the till (phone call, portal): the row
        is kept with the note, never sent again, and its transaction becomes ``RESOLVED``."""
        from terminal_agent.core import audit
        from terminal_agent.core.audit import AuditEntry
        from terminal_agent.core.journal import Journal, Settlement, short_reference
        from terminal_agent.core.states import State

        if not note.strip():
            raise ValidationError("note", "say how the advice was settled")
        journal = Journal(self.store, self.clock)

        def resolve(db: Db) -> AuditEntry | None:
            row = db.execute(
                "UPDATE outbox SET state='resolved', resolved_note=?, lease_until=NULL"  # noqa: S608
                f" WHERE id=? AND {row_move(RowMove.RESOLVE, RowState.RESOLVED)}"
                " RETURNING txn_id, kind", (note, advice_id)).fetchone()
            if row is None:
                return None
            text = f"{row[1]} {advice_id} resolved by {actor}: {note}"
            journal.settle_many(db, [Settlement(row[0], State.RESOLVED, text, actor=actor,
                                                what="advice-resolved")])
            return audit.append(db, self.clock(), actor, "advice-resolved",
                                short_reference(row[0]), f"{row[1]} {advice_id}: {note}")

        entry = await self.store.step(resolve)
        if entry is not None:
            entry.publish()
        return entry is not None
