"""The forwarder: a plain worker loop over the outbox (claim, send, acknowledge).

Rules:
1. Exactly one forwarder per database: ``ForwarderLock`` holds an exclusive ``flock`` on
   ``<db>.forward.lock`` for the life of the process.
2. A batch of due rows is claimed with a lease, sent concurrently (bounded by
   ``forwarder.concurrency``; at most one row per transaction, so per-transaction order holds),
   and every answer of the batch is committed in ONE step: a long backlog drains at the speed of
   the network, not of fsync.
3. An answer is acted on only after it is committed; a crash between send and commit re-sends
   the identical advice, which the switch answers as a duplicate/202 (delivered).
4. ``RETRY`` answers back off exponentially with jitter up to a cap; status lookups never give up;
   401/403 park after ``auth_failures_before_park`` attempts; ``DECLINED`` answers park (or, for
   status lookups, settle the top-up as failed → refund due).
5. The loop beats a heartbeat every iteration; the systemd watchdog is fed only while it beats.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import aiosqlite

from terminal_agent.config import ForwarderConfig
from terminal_agent.core.journal import Journal
from terminal_agent.core.outbox import AdviceKind, Outbox, OutboxRow, RowState
from terminal_agent.core.states import TRANSITIONS, State
from terminal_agent.errors import AgentError, SwitchError
from terminal_agent.protocol.operations import Op
from terminal_agent.protocol.outcome import Outcome, Verdict, classify
from terminal_agent.switch.client import SwitchClient

log = logging.getLogger("terminal_agent.forwarder")


class ForwarderBusy(AgentError):
    """Another forwarder already serves this database."""


class ForwarderLock:
    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(str(db_path) + ".forward.lock")
        self._fh: IO[str] | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        fh = os.fdopen(fd, "r+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return True

    def held_elsewhere(self) -> bool:
        """True if some other process holds the lock (a forwarder is running)."""
        if self._fh is not None:
            return False
        if not self.path.exists():
            return False
        with open(self.path) as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Forwarder:
    def __init__(self, outbox: Outbox, journal: Journal, switch: SwitchClient,
                 cfg: ForwarderConfig, *, on_beat: Callable[[], None] | None = None,
                 stall_file: str | None = None) -> None:
        self.outbox = outbox
        self.journal = journal
        self.switch = switch
        self.cfg = cfg
        self.on_beat = on_beat
        self.stall_file = stall_file
        self.last_beat = time.monotonic()
        self.delivered = 0
        self.sent = 0
        self._wake = asyncio.Event()
        self._sem = asyncio.Semaphore(cfg.concurrency)

    def wake(self) -> None:
        """Something was queued in this process: look now rather than at the next poll."""
        self._wake.set()

    def beat(self) -> None:
        self.last_beat = time.monotonic()
        if self.on_beat:
            self.on_beat()

    async def run(self, stop: asyncio.Event) -> None:
        """Forward until ``stop`` is set; the batch in flight is always finished and committed."""
        while not stop.is_set():
            await self._maybe_stall(stop)
            self.beat()
            handled = await self.run_once()
            if handled == 0:
                self._wake.clear()
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waiter, stopper}, timeout=self.cfg.poll_interval,
                                   return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()

    async def _maybe_stall(self, stop: asyncio.Event) -> None:
        # Test hook (documented in the README's operations section): while this file exists the
        # loop stops beating, exactly like a hung loop, so the watchdog stops being fed.
        while self.stall_file and os.path.exists(self.stall_file) and not stop.is_set():
            await asyncio.sleep(0.1)

    async def run_once(self) -> int:
        """Claim one batch, send it, commit the answers. Returns the number of rows handled."""
        rows = await self.outbox.claim_due(self.cfg.batch_size)
        if not rows:
            return 0
        answers = await asyncio.gather(*(self._send(row) for row in rows))
        async with self.outbox.store.transaction() as db:
            for row, (outcome, body) in zip(rows, answers, strict=True):
                await self._apply(db, row, outcome, body)
        return len(rows)

    async def _send(self, row: OutboxRow) -> tuple[Outcome, bytes | None]:
        op = Op(row.op)
        async with self._sem:
            self.sent += 1
            try:
                reply = await self.switch.send(op, path=row.path, body=row.body, query=row.query)
            except SwitchError as exc:
                log.info("advice %s (%s) not answered: %s", row.id, row.op, exc,
                         extra={"advice_id": row.id, "txn_id": row.txn_id, "operation": row.op,
                                "outcome": "no-answer"})
                return classify(op, None, None), None
            return classify(op, reply.status, reply.body), reply.body

    async def _apply(self, db: aiosqlite.Connection, row: OutboxRow, outcome: Outcome,
                     body: bytes | None) -> None:
        verdict = outcome.verdict
        extra = {"advice_id": row.id, "txn_id": row.txn_id, "operation": row.op,
                 "outcome": verdict.value}
        if verdict == Verdict.APPROVED:
            self.delivered += 1
            await self.outbox.mark(db, row, RowState.DELIVERED, status=outcome.status, error=None)
            await self._settle(db, row, outcome, body, delivered=True)
            log.info("%s %s delivered (%s)", row.kind, row.id, outcome.reason, extra=extra)
        elif verdict == Verdict.DECLINED:
            if row.kind == AdviceKind.STATUS:
                await self.outbox.mark(db, row, RowState.DELIVERED, status=outcome.status,
                                       error=outcome.error_type)
            else:
                await self.outbox.mark(db, row, RowState.PARKED, status=outcome.status,
                                       error=outcome.reason)
                log.warning("%s %s parked: %s", row.kind, row.id, outcome.reason, extra=extra)
            await self._settle(db, row, outcome, body, delivered=False)
        else:
            attempts = row.attempts + 1
            if outcome.status in (401, 403) and attempts >= self.cfg.auth_failures_before_park:
                await self.outbox.mark(db, row, RowState.PARKED, status=outcome.status,
                                       error=f"refused {attempts} times: {outcome.reason}")
                await self.journal.event(db, row.txn_id, "advice-parked",
                                         note=f"{row.kind} refused by the switch ({outcome.status})")
                log.error("%s %s parked after %d auth failures", row.kind, row.id, attempts,
                          extra=extra)
                return
            first = self.cfg.status_first_delay if row.kind == AdviceKind.STATUS else None
            delay = self.outbox.backoff(attempts, first=first)
            await self.outbox.mark(db, row, RowState.PENDING, status=outcome.status,
                                   error=outcome.reason, retry_in=delay)

    async def _settle(self, db: aiosqlite.Connection, row: OutboxRow, outcome: Outcome,
                      body: bytes | None, *, delivered: bool) -> None:
        """Carry a final advice answer over to its transaction."""
        target: State | None
        if row.kind == AdviceKind.CONFIRMATION:
            target = State.CONFIRMED if delivered else State.CONFIRM_FAILED
        elif row.kind == AdviceKind.REVERSAL:
            target = State.REVERSED if delivered else None
        else:
            target = State.COMPLETED if delivered else State.REFUND_DUE
        note = f"{row.kind} answered {outcome.status or 'no answer'}: {outcome.reason}"
        if target is None:
            await self.journal.event(db, row.txn_id, "advice-parked", note=note)
            return
        cur = await db.execute("SELECT state FROM transactions WHERE id=?", (row.txn_id,))
        current = await cur.fetchone()
        if current is None or target not in TRANSITIONS[State(current[0])]:
            await self.journal.event(db, row.txn_id, "advice-answer", note=note)
            return
        await self.journal.transition(
            db, row.txn_id, target, actor="forwarder", note=note,
            response=body if row.kind == AdviceKind.STATUS and delivered else None,
            http_status=outcome.status if row.kind == AdviceKind.STATUS else None,
            error_type=outcome.error_type,
        )
