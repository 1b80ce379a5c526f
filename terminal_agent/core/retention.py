"""What the till keeps, and for how long (``[retention]``), enforced by housekeeping every hour.

Rules:
1. Only finished business goes: never a transaction a later step still needs (unknown outcome,
   approved and waiting for the cashier, a top-up waiting for its final answer), never an
   advice not yet delivered (pending, held, parked), never a receipt not yet printed.
2. Sealed secrets first: after ``reprint_hours`` a transaction's sealed voucher PIN and ID
   numbers are dropped (``sealed`` set to NULL) and so is the content of its printed PIN
   receipts (``purged_at``): no reprint, no retry with those details from then on.
3. Then whole rows: events after ``events_days``; print jobs after ``print_jobs_days``; final
   transactions with their remaining events and delivered advices after ``journal_days``; audit
   rows after ``audit_days``, as a prefix of the chain whose cut becomes its anchor (``audit``).
4. The database runs with ``secure_delete`` (``Store.open``): deleted bytes are overwritten, not
   left in free pages; after a purge the WAL is checkpointed and truncated so that old page
   images leave it too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from terminal_agent.config import RetentionConfig
from terminal_agent.core import audit
from terminal_agent.core.states import FINAL, State
from terminal_agent.core.store import Db, Store

log = logging.getLogger(__name__)

HOUR, DAY = 3600.0, 86400.0
# States whose sealed details a later step may still need (rule 1).
STILL_NEEDED = frozenset({State.PREPARED, State.APPROVED, State.TENDER_TAKEN,
                          State.STATUS_PENDING})
UNDELIVERED = ("pending", "held", "parked")


@dataclass
class Purged:
    secrets: int = 0
    receipts: int = 0
    events: int = 0
    print_jobs: int = 0
    transactions: int = 0
    audit: int = 0

    @property
    def anything(self) -> bool:
        return any((self.secrets, self.receipts, self.events, self.print_jobs,
                    self.transactions, self.audit))

    def describe(self) -> str:
        return (f"{self.secrets} sealed details and {self.receipts} PIN receipts dropped; "
                f"{self.events} events, {self.print_jobs} print jobs, {self.transactions} "
                f"transactions, {self.audit} audit rows deleted")


def _marks(values: Any) -> str:
    return ",".join("?" * len(values))


def purge_secrets(db: Db, now: float, cfg: RetentionConfig, purged: Purged) -> None:
    cutoff = now - cfg.reprint_hours * HOUR
    needed = [s.value for s in STILL_NEEDED]
    purged.secrets = db.execute(
        f"UPDATE transactions SET sealed=NULL WHERE sealed IS NOT NULL AND created_at < ?"  # noqa: S608
        f" AND state NOT IN ({_marks(needed)})", (cutoff, *needed)).rowcount
    purged.receipts = db.execute(
        "UPDATE print_jobs SET content=x'', text='', purged_at=? WHERE contains_pin=1"
        " AND purged_at IS NULL AND state='printed' AND created_at < ?", (now, cutoff)).rowcount


def purge_rows(db: Db, now: float, cfg: RetentionConfig, purged: Purged) -> None:
    final = sorted(s.value for s in FINAL)
    finished = f"SELECT id FROM transactions WHERE state IN ({_marks(final)})"  # noqa: S608
    purged.events = db.execute(
        f"DELETE FROM events WHERE at < ? AND txn_id IN ({finished})",  # noqa: S608
        (now - cfg.events_days * DAY, *final)).rowcount
    jobs_cutoff = now - cfg.print_jobs_days * DAY
    purged.print_jobs = db.execute(  # copies first: an original is kept while a copy points at it
        "DELETE FROM print_jobs WHERE state='printed' AND created_at < ? AND copy_of IS NOT NULL",
        (jobs_cutoff,)).rowcount
    purged.print_jobs += db.execute(
        "DELETE FROM print_jobs WHERE state='printed' AND created_at < ? AND copy_of IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM print_jobs c WHERE c.copy_of = print_jobs.id)",
        (jobs_cutoff,)).rowcount
    old = [r[0] for r in db.execute(
        f"SELECT id FROM transactions WHERE state IN ({_marks(final)}) AND updated_at < ?"  # noqa: S608
        f" AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.txn_id = transactions.id"
        f" AND o.state IN ({_marks(UNDELIVERED)}))",
        (*final, now - cfg.journal_days * DAY, *UNDELIVERED)).fetchall()]
    for chunk in (old[i:i + 500] for i in range(0, len(old), 500)):
        marks = _marks(chunk)
        purged.events += db.execute(
            f"DELETE FROM events WHERE txn_id IN ({marks})", chunk).rowcount  # noqa: S608
        db.execute(f"DELETE FROM outbox WHERE txn_id IN ({marks})", chunk)  # noqa: S608
        purged.transactions += db.execute(
            f"DELETE FROM transactions WHERE id IN ({marks})", chunk).rowcount  # noqa: S608


def purge_audit(db: Db, now: float, cfg: RetentionConfig, purged: Purged) -> None:
    """Rule 3: a prefix of the chain; the last hash cut off anchors what remains."""
    row = db.execute("SELECT MAX(id) FROM audit WHERE at < ?",
                     (now - cfg.audit_days * DAY,)).fetchone()
    if row is None or row[0] is None:
        return
    last = db.execute("SELECT id, hash FROM audit WHERE id=?", (row[0],)).fetchone()
    if last is None or last[1] is None:
        return  # rows not chained yet: the next entry chains them first
    purged.audit = db.execute("DELETE FROM audit WHERE id <= ?", (last[0],)).rowcount
    db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET"
               " value=excluded.value", (audit.ANCHOR_KEY, f"{last[0]}:{last[1]}"))


async def enforce(store: Store, cfg: RetentionConfig, now: float) -> Purged:
    """One pass of every rule, in one step (it commits whole or not at all), then the WAL is
    checkpointed so the overwritten pages leave it too. Audited when anything went."""
    purged = Purged()

    def step(db: Db) -> audit.AuditEntry | None:
        purge_secrets(db, now, cfg, purged)
        purge_rows(db, now, cfg, purged)
        purge_audit(db, now, cfg, purged)
        if not purged.anything:
            return None
        return audit.append(db, now, "housekeeping", "retention", None, purged.describe())

    entry = await store.step(step)
    if entry is not None:
        entry.publish()
        log.info("retention: %s", purged.describe())
        await store.read(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
    return purged
