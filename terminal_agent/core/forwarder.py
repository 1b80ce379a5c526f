"""The forwarder: a plain worker loop over the outbox (claim, send, acknowledge).

Rules:
1. Exactly one forwarder per database: ``ForwarderLock`` holds an exclusive ``flock`` on
   ``<db>.forward.lock`` while this process forwards (which process that is, and when it hands
   over, is the runtime's business: ``core/runtime.py``).
2. Due rows are claimed with a lease and sent concurrently (bounded by ``forwarder.concurrency``;
   at most one row per transaction, so per-transaction order holds). Answers are committed **as
   they come**, those arriving together in one step: one slow advice never holds the others, and
   more due rows are claimed while it is in flight (issue 10 item 6).
3. An answer is acted on only after it is committed; a crash between send and commit re-sends
   the identical advice. Every send counts as *unanswered* until a definite answer is committed,
   so a later ``DUPLICATE_RECORD`` is known to be "the switch took an earlier send" (delivered)
   rather than a first-send duplicate or a conflict (parked).
4. ``RETRY`` answers back off exponentially with jitter up to a cap, or as long as the switch's
   ``Retry-After`` says (at most an hour); status lookups never give up, and a status 404 inside
   the processing window is looked up again; 401/403 park after ``auth_failures_before_park``
   attempts; ``DECLINED`` answers park (or, for status lookups, settle the top-up as failed →
   refund due).
5. The loop beats a heartbeat at least every ``poll_interval`` while it waits for answers; the
   systemd watchdog is fed only while it beats.
6. A database that cannot be written for a while (full disk, locked, I/O trouble) never stops the
   loop: it says why (``trouble``, the lock file's note for `status`), backs off up to
   ``TROUBLE_PAUSE_MAX`` and tries again, still beating; nothing is sent while claims fail, and
   answers that could not be committed are committed on the next try.
7. The switch is one for the whole till, and for the whole chain: when it cannot be reached or
   says it is overloaded (503, 429) the *till* holds off (``Pace``), not only the row: nothing is
   sent for a pause that doubles with each such failure in a row up to ``PROBE_PAUSE_MAX``, with
   full jitter (``Outbox.pause``; at least the switch's ``Retry-After``; an overloaded switch,
   which still answers, doubles ``OVERLOAD_DOUBLINGS`` times at most), rows claimed meanwhile go
   back unsent, and then one row probes; each answer that gets through lets one more row be in
   flight (slow start, up to ``batch_size``). A chain's tills coming back after an outage so
   arrive spread out and stop pushing as soon as the switch is full (bench/herd.py); a healthy
   switch sees full speed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from terminal_agent.config import ForwarderConfig
from terminal_agent.core.journal import Journal, Settlement
from terminal_agent.core.outbox import AdviceKind, Outbox, OutboxRow, RowState
from terminal_agent.core.owners import ForwarderBusy as ForwarderBusy  # (its home since issue 17)
from terminal_agent.core.owners import ForwarderLock as ForwarderLock
from terminal_agent.core.states import State
from terminal_agent.core.store import Db
from terminal_agent.errors import StoreUnavailable
from terminal_agent.protocol.common import ErrorType
from terminal_agent.protocol.operations import Op
from terminal_agent.protocol.outcome import Asked, Outcome, Verdict, classify

if TYPE_CHECKING:
    from terminal_agent.switch.client import SwitchClient

log = logging.getLogger("terminal_agent.forwarder")

TROUBLE_PAUSE_MAX = 30.0  # seconds between tries while the database cannot be written
RETRY_AFTER_CAP = 3600.0  # seconds: a Retry-After beyond this is read as this
GATHER_WINDOW = 0.02      # seconds: answers arriving this close together share one commit
# Answers after which the switch may have taken the advice without our knowing (rule 3).
_NOT_FINAL_STATUS = frozenset({500, 502, 504})
_PENDING_TYPES = frozenset({ErrorType.OUTCOME_UNKNOWN, ErrorType.UPSTREAM_UNAVAILABLE})
Sent = tuple[Outcome, bytes | None, float | None] | None  # None: held back, never sent
_OVERLOADED = frozenset({429, 503})
# An overloaded switch is up and answering: the till's pause doubles at most this many times
# (16 x backoff_initial), so that a chain drains as soon as it has room (bench/herd.py); an
# unreachable one up to PROBE_PAUSE_MAX. A row that failed only because the switch could not
# take it (unreachable or overloaded) backs off as little.
OVERLOAD_DOUBLINGS = 5
# The longest a till waits between two probes of a switch it cannot reach: a probe a minute from
# each till is nothing to a switch, and a chain then comes back within a minute of the switch
# rather than over backoff_max (bench/herd.py, 500 tills against a switch with room to spare:
# drain 159 s instead of 305 s, peak / average 1.6 instead of 2.5).
PROBE_PAUSE_MAX = 60.0


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
        # told (kind, operation, "delivered" | "parked" | "retry") of every committed answer
        self.on_answer: Callable[[str, str, str], None] | None = None
        self.last_beat = time.monotonic()
        self.delivered = 0
        self.sent = 0
        self.trouble: str | None = None  # why the database cannot be written just now
        self.on_trouble: Callable[[str], None] | None = None
        self._wake = asyncio.Event()
        self._sem = asyncio.Semaphore(cfg.concurrency)
        self._tokens = 0.0  # [forwarder] max_rate: rows that may be claimed (see allowance)
        self._tokens_at: float | None = None
        self.pace = Pace(cfg, outbox)

    def wake(self) -> None:
        """Something was queued in this process: look now rather than at the next poll."""
        self._wake.set()

    def beat(self) -> None:
        self.last_beat = time.monotonic()
        if self.on_beat:
            self.on_beat()

    async def run(self, stop: asyncio.Event) -> None:
        """Forward until ``stop`` is set; what is in flight is always finished and committed."""
        inflight: dict[asyncio.Task[Sent], OutboxRow] = {}
        pause = 0.0
        while not stop.is_set() or inflight:
            await self._maybe_stall(stop)
            self.beat()
            try:
                if not stop.is_set() and len(inflight) <= self.cfg.batch_size // 2:
                    room = min(self.cfg.batch_size - len(inflight), self.allowance(),
                               self.pace.room(time.monotonic(), len(inflight)))
                    rows = await self.outbox.claim_due(room) if room else []
                    self.spend(len(rows))
                    for row in rows:
                        inflight[asyncio.create_task(self._send(row))] = row
                if inflight:
                    await self._collect(inflight, stop)
            except StoreUnavailable as exc:  # rule 6
                pause = min(TROUBLE_PAUSE_MAX, max(1.0, pause * 2))
                self._report_trouble(str(exc), pause)
                await self._idle(stop, pause, wakeable=False)
                continue
            if self.trouble is not None:
                log.warning("database writable again: forwarding resumed")
                self.trouble, pause = None, 0.0
                if self.on_trouble:
                    self.on_trouble("")
            if not inflight:
                await self._idle(stop, self.cfg.poll_interval)

    def _report_trouble(self, text: str, pause: float) -> None:
        if self.trouble != text:
            log.error("cannot write the database: %s (trying again every %.0f s at most)",
                      text, TROUBLE_PAUSE_MAX)
        self.trouble = text
        if self.on_trouble:
            self.on_trouble(f"waiting for the database: {text}; next try in {pause:.0f} s")

    async def _idle(self, stop: asyncio.Event, seconds: float, *, wakeable: bool = True) -> None:
        """Sleep up to ``seconds``; ``stop`` (and, if ``wakeable``, new work) ends it early.
        Beats on the way, so a long pause is not mistaken for a hang."""
        if wakeable:
            self._wake.clear()
        end = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < end:
            waiter = asyncio.ensure_future(self._wake.wait() if wakeable else stop.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED,
                               timeout=min(1.0, max(0.0, end - time.monotonic())))
            waiter.cancel()
            stopper.cancel()
            if wakeable and self._wake.is_set():
                return
            self.beat()

    def allowance(self, now: float | None = None) -> int:
        """Rows that may be claimed now: ``batch_size``, or under ``[forwarder] max_rate`` the
        rows saved up at that rate (a second's worth at most), so that a chain's tills coming
        back together after an outage do not flatten the switch (bench/herd.py)."""
        rate = self.cfg.max_rate
        if rate <= 0:
            return self.cfg.batch_size
        now = time.monotonic() if now is None else now
        if self._tokens_at is None:
            self._tokens, self._tokens_at = max(1.0, rate), now
        self._tokens = min(max(1.0, rate), self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        return min(self.cfg.batch_size, int(self._tokens))

    def spend(self, rows: int) -> None:
        """``rows`` were claimed: take them from the allowance."""
        if self.cfg.max_rate > 0:
            self._tokens -= rows

    async def _maybe_stall(self, stop: asyncio.Event) -> None:
        # Test hook (documented in the README's operations section): while this file exists the
        # loop stops beating, exactly like a hung loop, so the watchdog stops being fed.
        while self.stall_file and os.path.exists(self.stall_file) and not stop.is_set():
            await asyncio.sleep(0.1)

    async def run_once(self) -> int:
        """Claim one batch, send it, commit the answers as they come. Returns the number of rows
        handled."""
        room = min(self.allowance(), self.pace.room(time.monotonic(), 0))
        rows = await self.outbox.claim_due(room) if room else []
        self.spend(len(rows))
        if not rows:
            return 0
        inflight = {asyncio.create_task(self._send(row)): row for row in rows}
        while inflight:
            self.beat()
            await self._collect(inflight)
        return len(rows)

    async def _collect(self, inflight: dict[asyncio.Task[Sent], OutboxRow],
                       stop: asyncio.Event | None = None) -> None:
        """Wait (at most ``poll_interval``, or until woken) for answers, then commit those that
        have come, together with any arriving within ``GATHER_WINDOW``."""
        extra: set[asyncio.Future[Any]] = set()
        if stop is not None:  # also wake for newly queued rows and for a stop (not yet seen)
            extra = {asyncio.ensure_future(event.wait()) for event in (self._wake, stop)
                     if not event.is_set()}
        done, _ = await asyncio.wait({*inflight, *extra}, timeout=self.cfg.poll_interval,
                                     return_when=asyncio.FIRST_COMPLETED)
        for waiter in extra:
            waiter.cancel()
        finished = {t for t in done if t in inflight}
        if finished and len(finished) < len(inflight):
            more, _ = await asyncio.wait(set(inflight) - finished, timeout=GATHER_WINDOW)
            finished |= more
        if finished:  # popped only once committed: a failed commit is tried again (rule 6)
            await self._commit([(inflight[t], t.result()) for t in finished])
            for task in finished:
                inflight.pop(task)

    async def _commit(self, answers: list[tuple[OutboxRow, Sent]]) -> None:
        unsent = [row.id for row, sent in answers if sent is None]
        decisions = [self._decide(row, *sent) for row, sent in answers if sent is not None]

        def commit(db: Db) -> None:  # every answer that has come: one step, one hand-off
            self.outbox.put_back(db, unsent)
            self.outbox.mark_many(db, [d.mark for d in decisions])
            self.outbox.answered_many(db, [d.mark[0].id for d in decisions if d.answered])
            self.journal.settle_many(db, [d.settle for d in decisions if d.settle])

        await self.outbox.store.step(commit)
        for d in decisions:  # only once committed
            if d.log_level:
                log.log(d.log_level, d.log_text, extra=d.log_extra)
            if self.on_answer is not None:
                self.on_answer(d.mark[0].kind, d.mark[0].op, _OUTCOME[d.mark[1]])
        self.delivered += sum(d.mark[1] == RowState.DELIVERED for d in decisions)

    def _asked(self, row: OutboxRow) -> Asked:
        """What the row's answer must match: a status answer is the original purchase's and a
        404 inside the processing window is not final; an advice is a repeat if an earlier send
        of it got no definite answer."""
        if row.kind == AdviceKind.STATUS:
            window = self.cfg.processing_window_seconds
            return Asked(request_id=row.txn_id,
                         early=self.outbox.clock() - row.created_at < window)
        return Asked(repeat=row.unanswered > 0)

    async def _send(self, row: OutboxRow) -> Sent:
        op = Op(row.op)
        asked = self._asked(row)
        async with self._sem:
            if self.pace.holding(time.monotonic()):  # rule 7: the switch went away meanwhile
                return None
            self.sent += 1
            try:
                done = await self.switch.exchange(
                    op, path=row.path, body=row.body, query=row.query, asked=asked,
                    about={"advice_id": row.id, "txn_id": row.txn_id}, quiet=True)
            except Exception as exc:  # a defect must not stop the forwarder: read as no answer
                log.error("advice %s (%s): %s", row.id, row.op, exc, exc_info=True,
                          extra={"advice_id": row.id, "txn_id": row.txn_id, "operation": row.op,
                                 "outcome": "no-answer"})
                return classify(op, None, None, asked), None, None
        self.pace.answer(time.monotonic(), done.outcome, done.retry_after)
        return done.outcome, done.body, done.retry_after

    def _decide(self, row: OutboxRow, outcome: Outcome, body: bytes | None,
                retry_after: float | None = None) -> Decision:
        """What an answer means for the row and its transaction (rule 4); written by the
        caller, in bulk."""
        answered = not outcome.sent or (
            outcome.status is not None and outcome.status not in _NOT_FINAL_STATUS
            and outcome.error_type not in _PENDING_TYPES)
        decision = self._verdict(row, outcome, body, retry_after)
        return dataclasses.replace(decision, answered=answered)

    def _verdict(self, row: OutboxRow, outcome: Outcome, body: bytes | None,
                 retry_after: float | None) -> Decision:
        verdict = outcome.verdict
        extra = {"advice_id": row.id, "txn_id": row.txn_id, "operation": row.op,
                 "outcome": verdict.value}
        note = f"{row.kind} answered {outcome.status or 'no answer'}: {outcome.reason}"
        if verdict == Verdict.APPROVED:
            return Decision((row, RowState.DELIVERED, outcome.status, None, 0.0),
                            self._settlement(row, outcome, body, note, delivered=True),
                            logging.INFO, f"{row.kind} {row.id} delivered ({outcome.reason})",
                            extra)
        if verdict == Verdict.DECLINED:
            settle = self._settlement(row, outcome, body, note, delivered=False)
            if row.kind == AdviceKind.STATUS:  # a definite "failed": the lookup is done
                return Decision((row, RowState.DELIVERED, outcome.status, outcome.error_type,
                                 0.0), settle, logging.INFO,
                                f"status {row.id}: purchase failed ({outcome.reason})", extra)
            return Decision((row, RowState.PARKED, outcome.status, outcome.reason, 0.0), settle,
                            logging.WARNING, f"{row.kind} {row.id} parked: {outcome.reason}",
                            extra)
        attempts = row.attempts + 1
        if outcome.status in (401, 403) and attempts >= self.cfg.auth_failures_before_park:
            return Decision(
                (row, RowState.PARKED, outcome.status,
                 f"refused {attempts} times: {outcome.reason}", 0.0),
                Settlement(row.txn_id, None, f"{row.kind} refused by the switch "
                                             f"({outcome.status})", what="advice-parked"),
                logging.ERROR, f"{row.kind} {row.id} parked after {attempts} auth failures",
                extra)
        first = self.cfg.status_first_delay if row.kind == AdviceKind.STATUS else None
        # the switch could not take it, not this row's fault: it goes again soon once the till
        # sends again (rule 7), rather than waiting out a back-off grown in the outage
        doublings = OVERLOAD_DOUBLINGS if switch_wide(outcome) else 40
        delay = self.outbox.backoff(attempts, first=first, doublings=doublings)
        if retry_after is not None:  # the switch said when to come back (rule 4)
            delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
        return Decision((row, RowState.PENDING, outcome.status, outcome.reason, delay))

    @staticmethod
    def _settlement(row: OutboxRow, outcome: Outcome, body: bytes | None, note: str, *,
                    delivered: bool) -> Settlement:
        """Carry a final advice answer over to its transaction."""
        target: State | None
        if row.kind == AdviceKind.CONFIRMATION:
            target = State.CONFIRMED if delivered else State.CONFIRM_FAILED
        elif row.kind == AdviceKind.REVERSAL:
            target = State.REVERSED if delivered else None  # parked: a supervisor decides
        else:
            target = State.COMPLETED if delivered else State.REFUND_DUE
        status_row = row.kind == AdviceKind.STATUS
        return Settlement(
            row.txn_id, target, note, what="advice-answer" if target else "advice-parked",
            response=body if status_row and delivered else None,
            http_status=outcome.status if status_row else None, error_type=outcome.error_type)


class Pace:
    """How hard this till pushes the switch (rule 7), on a clock given by the caller
    (``time.monotonic`` in the forwarder; bench/herd.py's simulated clock)."""

    def __init__(self, cfg: ForwarderConfig, outbox: Outbox) -> None:
        self.cfg = cfg
        self.outbox = outbox  # its ``pause``: the till's back-off and jitter
        self.failures = 0  # switch-wide failures in a row
        self.hold_until = 0.0  # nothing is sent before this
        self.window = cfg.batch_size  # rows in flight at most

    def holding(self, now: float) -> bool:
        return now < self.hold_until

    def room(self, now: float, inflight: int) -> int:
        """Rows that may be claimed now, ``inflight`` being out already."""
        return 0 if self.holding(now) else max(0, self.window - inflight)

    def answer(self, now: float, outcome: Outcome, retry_after: float | None = None) -> None:
        """Learn from one send: the switch unreachable or overloaded holds the till off;
        any other answer that came back lets one more row out. A timeout says neither."""
        if switch_wide(outcome):
            self.refused(now, retry_after, overloaded=outcome.sent)
        elif outcome.status is not None:
            self.answered()

    def refused(self, now: float, retry_after: float | None = None, *,
                overloaded: bool = False) -> None:
        """The switch could not be reached, or (``overloaded``) answered 503 / 429. The answers
        to sends already in flight when the till began to hold add no failure of their own."""
        self.window = 1
        pause = 0.0
        if not self.holding(now):
            self.failures += 1
            pause = self.outbox.pause(min(self.failures, OVERLOAD_DOUBLINGS) if overloaded
                                      else self.failures, cap=PROBE_PAUSE_MAX)
        if retry_after is not None:
            pause = max(pause, min(retry_after, RETRY_AFTER_CAP))
        self.hold_until = max(self.hold_until, now + pause)

    def answered(self) -> None:
        self.failures = 0
        self.window = min(self.cfg.batch_size, self.window + 1)

    def forget(self) -> None:
        """Full speed again at once (a new switch, or a caller that knows better)."""
        self.failures, self.hold_until, self.window = 0, 0.0, self.cfg.batch_size


def switch_wide(outcome: Outcome) -> bool:
    """The switch itself cannot take more just now (not this row's trouble): it could not be
    reached, or it said 503 / 429 without naming an upstream as the cause."""
    if not outcome.sent:
        return True
    return outcome.status in _OVERLOADED and outcome.error_type not in _PENDING_TYPES


_OUTCOME = {RowState.DELIVERED: "delivered", RowState.PARKED: "parked", RowState.PENDING: "retry"}


@dataclass(frozen=True)
class Decision:
    mark: tuple[OutboxRow, RowState, int | None, str | None, float]
    settle: Settlement | None = None
    log_level: int = 0
    log_text: str = ""
    log_extra: dict[str, str] | None = None
    answered: bool = False  # a definite answer: the switch took this send or certainly did not
