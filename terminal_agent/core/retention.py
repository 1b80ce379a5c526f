"""What the till keeps, and for how long (``[retention]``), enforced by housekeeping every hour.

Rules:
1. Only finished business goes: never a transaction a later step still needs (unknown outcome,
   approved and waiting for the cashier, a top-up waiting for its final answer), never an
   advice not yet delivered (pending, held, parked), never a receipt not yet printed.
2. Sealed secrets first: after ``reprint_hours`` a transaction's sealed voucher PIN and ID
   numbers are dropped (``sealed`` set to NULL) and so is the content of its printed PIN
   receipts (``purged_at``): no reprint, no retry with those details from then on.
3. Then whole rows: events after ``events_days``; print jobs after ``print_jobs_days``;
   delivered and void advices after ``store.retention_days``; final transactions with their
   remaining events and delivered advices after ``journal_days``; audit rows after
   ``audit_days``, as a prefix of the chain whose cut becomes its anchor (``audit``).
4. The database runs with ``secure_delete`` (``Store.open``): deleted bytes are overwritten, not
   left in free pages; after a purge the WAL is checkpointed and truncated so that old page
   images leave it too.
5. **A purge never holds the write lock for long.** Each rule works in batches: the next few
   hundred rows are found by a read (no write lock, an index leads to them), then changed by
   key in one short step that checks the rule again, so a row that stopped qualifying in
   between is left alone. Between two steps the purge pauses longer than SQLite's longest
   busy-handler sleep (100 ms), so a sale waiting in the other process always gets in (a
   till upgraded with a year of history held the lock for over 13 minutes in one step).
6. Every step adds what it changed to a tally in ``kv`` in the same transaction; the last step
   writes the tally to the audit trail and clears it. A pass cut short (stop, crash) leaves
   its tally for the next pass's audit row: nothing is deleted unaudited for longer than
   that.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import partial
from typing import Any, TypeVar

from terminal_agent.config import RetentionConfig
from terminal_agent.core import audit
from terminal_agent.core.states import FINAL, State
from terminal_agent.core.store import Db, Store

log = logging.getLogger(__name__)
T = TypeVar("T")

HOUR, DAY = 3600.0, 86400.0
# States whose sealed details a later step may still need (rule 1).
STILL_NEEDED = frozenset({State.PREPARED, State.APPROVED, State.TENDER_TAKEN,
                          State.STATUS_PENDING})
UNDELIVERED = ("pending", "held", "parked")
TALLY_KEY = "retention.tally"  # kv: what this pass (or one cut short) changed, not yet audited
PAUSE = 0.15  # seconds between two write steps (rule 5); SQLite's busy handler sleeps <= 100 ms
CHECKPOINT_WAIT_MS = 200  # how long the final checkpoint waits for readers (it blocks writers)


@dataclass
class Purged:
    secrets: int = 0
    receipts: int = 0
    events: int = 0
    print_jobs: int = 0
    advices: int = 0
    transactions: int = 0
    audit: int = 0

    @property
    def anything(self) -> bool:
        return any(asdict(self).values())

    def add(self, other: dict[str, int]) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + int(other.get(f.name, 0)))

    def describe(self) -> str:
        return (f"{self.secrets} sealed details and {self.receipts} PIN receipts dropped; "
                f"{self.events} events, {self.print_jobs} print jobs, {self.advices} delivered "
                f"advices, {self.transactions} transactions, {self.audit} audit rows deleted")


@dataclass
class Pass:
    """One run of ``enforce``: what it changed and how its write steps went."""

    purged: Purged
    steps: int = 0
    longest_step: float = 0.0   # seconds, the longest write step (its wait included)
    seconds: float = 0.0


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


@dataclass(frozen=True)
class Rule:
    """One retention rule as a predicate on ``table``'s rows. The same predicate finds the
    candidates (a read) and guards the change by key (the step), rule 5."""

    name: str                   # Purged's counter
    table: str
    where: str                  # SQL predicate, ? placeholders
    params: Callable[[RetentionConfig, float], tuple[Any, ...]]
    change: str                 # "DELETE FROM t" or "UPDATE t SET ..." (its own ? first)
    change_params: Callable[[float], tuple[Any, ...]] = lambda now: ()
    batch: int = 500            # rows one step changes at most

    def find(self, db: Db, args: tuple[Any, ...]) -> list[int]:
        sql = f"SELECT rowid FROM {self.table} WHERE {self.where} LIMIT ?"  # noqa: S608
        return [int(r[0]) for r in db.execute(sql, (*args, self.batch))]

    def apply(self, db: Db, *, now: float, args: tuple[Any, ...], keys: list[int]
              ) -> dict[str, int]:
        # +(...): the keys lead, the rule only checks them (an index on it could scan far more)
        sql = f"{self.change} WHERE rowid IN ({_marks(keys)}) AND +({self.where})"  # noqa: S608
        return {self.name: db.execute(sql, (*self.change_params(now), *keys, *args)).rowcount}


def _final() -> list[str]:
    return sorted(s.value for s in FINAL)


def _needed() -> list[str]:
    return sorted(s.value for s in STILL_NEEDED)


FINISHED_TXN = ("EXISTS (SELECT 1 FROM transactions t WHERE t.id = events.txn_id"  # noqa: S608
                f" AND t.state IN ({_marks(_final())}))")

RULES: tuple[Rule, ...] = (
    Rule("secrets", "transactions",
         f"sealed IS NOT NULL AND created_at < ? AND state NOT IN ({_marks(_needed())})",
         lambda c, now: (now - c.reprint_hours * HOUR, *_needed()),
         "UPDATE transactions SET sealed=NULL"),
    Rule("receipts", "print_jobs",
         "contains_pin=1 AND purged_at IS NULL AND +state='printed' AND created_at < ?",
         lambda c, now: (now - c.reprint_hours * HOUR,),
         "UPDATE print_jobs SET content=x'', text='', purged_at=?", lambda now: (now,),
         batch=200),
    Rule("events", "events", f"at < ? AND {FINISHED_TXN}",
         lambda c, now: (now - c.events_days * DAY, *_final()), "DELETE FROM events",
         batch=1000),
    # copies first: an original is kept while a copy points at it
    Rule("print_jobs", "print_jobs", "copy_of IS NOT NULL AND +state='printed' AND created_at < ?",
         lambda c, now: (now - c.print_jobs_days * DAY,), "DELETE FROM print_jobs", batch=200),
    Rule("print_jobs", "print_jobs",
         "state='printed' AND created_at < ? AND copy_of IS NULL"
         " AND NOT EXISTS (SELECT 1 FROM print_jobs c WHERE c.copy_of = print_jobs.id)",
         lambda c, now: (now - c.print_jobs_days * DAY,), "DELETE FROM print_jobs", batch=200),
)


def advice_rules(days: float) -> tuple[Rule, ...]:
    """Delivered advices (and voided held reversals) after ``store.retention_days``."""
    return (
        Rule("advices", "outbox", "state='delivered' AND delivered_at < ?",
             lambda c, now: (now - days * DAY,), "DELETE FROM outbox"),
        Rule("advices", "outbox", "state='void' AND created_at < ?",
             lambda c, now: (now - days * DAY,), "DELETE FROM outbox"),
    )


class JournalRule(Rule):
    def apply(self, db: Db, *, now: float, args: tuple[Any, ...], keys: list[int]
              ) -> dict[str, int]:
        """Final transactions with everything hanging on them (events, delivered advices)."""
        ids = [str(r[0]) for r in db.execute(
            f"SELECT id FROM transactions WHERE rowid IN ({_marks(keys)}) AND +({self.where})",  # noqa: S608
            (*keys, *args))]
        if not ids:
            return {}
        marks = _marks(ids)
        events = db.execute(f"DELETE FROM events WHERE txn_id IN ({marks})", ids).rowcount  # noqa: S608
        db.execute(f"DELETE FROM outbox WHERE txn_id IN ({marks})", ids)  # noqa: S608
        gone = db.execute(f"DELETE FROM transactions WHERE id IN ({marks})", ids).rowcount  # noqa: S608
        return {"events": events, "transactions": gone}


JOURNAL = JournalRule(
    "transactions", "transactions",
    f"state IN ({_marks(_final())}) AND updated_at < ? AND NOT EXISTS (SELECT 1 FROM outbox o"  # noqa: S608
    f" WHERE o.txn_id = transactions.id AND o.state IN ({_marks(UNDELIVERED)}))",
    lambda c, now: (*_final(), now - c.journal_days * DAY, *UNDELIVERED),
    "DELETE FROM transactions", batch=200)


AUDIT_BATCH = 500


def _audit_cut(db: Db, cutoff: float) -> int | None:
    """The last row of the prefix older than ``cutoff``, if it is chained (rule 3)."""
    row = db.execute("SELECT id, hash FROM audit WHERE id = (SELECT MAX(id) FROM audit"
                     " WHERE at < ?)", (cutoff,)).fetchone()
    if row is None or row[1] is None:
        return None  # nothing old, or rows not chained yet: the next entry chains them first
    return int(row[0])


def purge_audit(db: Db, cut: int) -> dict[str, int]:
    """The next ``AUDIT_BATCH`` rows of the prefix up to ``cut``; the last hash cut off becomes
    the anchor in the same step, so the chain verifies after every step."""
    rows = db.execute("SELECT id, hash FROM audit WHERE id <= ? ORDER BY id LIMIT ?",
                      (cut, AUDIT_BATCH)).fetchall()
    if not rows or rows[-1][1] is None:
        return {}
    last_id, last_hash = rows[-1][0], rows[-1][1]
    gone = db.execute("DELETE FROM audit WHERE id <= ?", (last_id,)).rowcount
    _put(db, audit.ANCHOR_KEY, f"{last_id}:{last_hash}")
    return {"audit": gone}


def _put(db: Db, key: str, value: str) -> None:
    db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET"
               " value=excluded.value", (key, value))


def _tally(db: Db, counts: dict[str, int]) -> None:
    """Rule 6: what this step changed, added to the tally in the step's own transaction."""
    if not any(counts.values()):
        return
    row = db.execute("SELECT value FROM kv WHERE key=?", (TALLY_KEY,)).fetchone()
    tally = json.loads(row[0]) if row else {}
    for name, n in counts.items():
        tally[name] = int(tally.get(name, 0)) + int(n)
    _put(db, TALLY_KEY, json.dumps(tally, sort_keys=True))


def _close(db: Db, now: float) -> audit.AuditEntry | None:
    """The tally (this pass's, and any pass cut short before it) becomes one audit row."""
    row = db.execute("SELECT value FROM kv WHERE key=?", (TALLY_KEY,)).fetchone()
    if row is None:
        return None
    total = Purged()
    total.add(json.loads(row[0]))
    db.execute("DELETE FROM kv WHERE key=?", (TALLY_KEY,))
    if not total.anything:
        return None
    return audit.append(db, now, "housekeeping", "retention", None, total.describe())


def _checkpoint(db: Db) -> None:
    """Rule 4: old page images out of the WAL. A checkpoint that truncates blocks writers while
    it waits for readers, so it waits briefly and the next pass tries again."""
    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    timeout = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
    try:
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        db.execute(f"PRAGMA busy_timeout={int(timeout)}")
    if busy:
        log.info("retention: the WAL is still read by another process; truncated next pass")


class _Steps:
    """Write steps with a pause between them (rule 5)."""

    def __init__(self, store: Store, pause: float, done: Pass) -> None:
        self.store, self.pause, self.done = store, pause, done
        self._last_end: float | None = None

    async def run(self, fn: Callable[[Db], T]) -> T:
        if self._last_end is not None:
            await asyncio.sleep(max(0.0, self._last_end + self.pause - time.monotonic()))
        started = time.monotonic()
        try:
            return await self.store.step(fn)
        finally:
            self._last_end = time.monotonic()
            self.done.steps += 1
            self.done.longest_step = max(self.done.longest_step, self._last_end - started)

    async def change(self, fn: Callable[[Db], dict[str, int]]) -> dict[str, int]:
        """One step of a rule; what it changed goes to the tally in the same step (rule 6)."""
        def step(db: Db) -> dict[str, int]:
            counts = fn(db)
            _tally(db, counts)
            return counts

        counts = await self.run(step)
        self.done.purged.add(counts)
        return counts


async def _run_rule(steps: _Steps, rule: Rule, cfg: RetentionConfig, now: float) -> None:
    args = rule.params(cfg, now)
    while True:
        keys = await steps.store.read(lambda db: rule.find(db, args))
        if not keys:
            return
        counts = await steps.change(partial(rule.apply, now=now, args=args, keys=keys))
        if len(keys) < rule.batch or not any(counts.values()):
            return  # the last batch, or every candidate changed meanwhile: next pass


async def enforce(store: Store, cfg: RetentionConfig, now: float, *,
                  advices_days: float | None = None, pause: float = PAUSE) -> Purged:
    """One pass of every rule in short steps (rule 5), audited (rule 6), then the WAL is
    checkpointed so the overwritten pages leave it too. ``advices_days``: also delivered
    advices older than that (``store.retention_days``)."""
    return (await run_pass(store, cfg, now, advices_days=advices_days, pause=pause)).purged


async def run_pass(store: Store, cfg: RetentionConfig, now: float, *,
                   advices_days: float | None = None, pause: float = PAUSE) -> Pass:
    """``enforce`` with how its write steps went (for the log and the benchmark)."""
    started = time.monotonic()
    done = Pass(Purged())
    steps = _Steps(store, pause, done)
    rules = RULES + (advice_rules(advices_days) if advices_days is not None else ()) + (JOURNAL,)
    for rule in rules:
        await _run_rule(steps, rule, cfg, now)
    cut = await store.read(lambda db: _audit_cut(db, now - cfg.audit_days * DAY))
    while cut is not None and any((await steps.change(lambda db: purge_audit(db, cut))).values()):
        pass
    entry = None
    if await store.read(lambda db: db.execute("SELECT 1 FROM kv WHERE key=?",
                                              (TALLY_KEY,)).fetchone()) is not None:
        entry = await steps.run(lambda db: _close(db, now))
    done.seconds = time.monotonic() - started
    if entry is not None:
        entry.publish()
        log.info("retention: %s (%d steps, longest %.0f ms)", entry.note, done.steps,
                 done.longest_step * 1000)
        await store.read(_checkpoint)
    return done
