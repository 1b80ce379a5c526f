"""Recovery: nothing stays "sending" once the process that sent it is gone (docs/DESIGN.md §3.2, §4, §5a).

Rules:
1. Recovery acts only on *orphaned* transactions: those whose owner's lock is free
   (``core/owners.py``). A live till's request in flight is never touched, whoever runs recovery
   and whenever: at start-up, or in the sweep the forwarding process runs all the time
   (``sweep``, every ``forwarder.sweep_seconds``), so a till killed mid-request is recovered
   within seconds while the service keeps running.
2. Every recovery write is a compare-and-set: inside its own write step it re-reads the row
   and acts only if the state (and the owner) are still what the list said. A list read earlier
   can never reverse an answer committed since.
3. ``PREPARED`` (request committed, answer never committed): the held reversal is released with
   reason ``TIMEOUT`` → ``REVERSING``. The request may or may not have reached the switch; a
   reversal of a never-seen original is answered 404, which counts as done.
4. ``TENDER_TAKEN`` (direct top-up: tender recorded, purchase outcome not committed): the held
   status lookup is released → ``STATUS_PENDING``. Never a reversal. The first lookup waits
   ``forwarder.status_first_delay`` counted from when the original was sent (its write-ahead
   commit), not from the recovery.
5. ``APPROVED`` (value approved, tender not recorded) is held for the cashier's decision; once its
   ``decision_deadline`` has passed it is reversed (``CANCELLED``) automatically, whoever owns
   it (the Collect dialog closes when that happens). Payouts get no deadline unless configured:
   a supervisor decides (cash may have left the drawer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

from terminal_agent.core.journal import Journal
from terminal_agent.core.outbox import Outbox
from terminal_agent.core.owners import Owners
from terminal_agent.core.reversals import queue_reversal, unanswered
from terminal_agent.core.schema import OWNER_SINCE
from terminal_agent.core.states import UNKNOWN_OUTCOME, State
from terminal_agent.core.store import Db

log = logging.getLogger("terminal_agent.recovery")


@dataclass(frozen=True)
class Orphan:
    """A transaction in an unknown-outcome state whose owner is gone (as listed, before the
    write step re-checks it)."""

    id: str
    state: State
    owner: str | None
    created_at: float


@dataclass
class RecoveryReport:
    reversed: list[str] = field(default_factory=list)
    status_lookups: list[str] = field(default_factory=list)
    awaiting_decision: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def _unknown_sql(schema_version: int) -> str:
    """Unknown-outcome transactions with their owner (a database not yet migrated to owners,
    read by ``status``, has none: every such row counts as orphaned)."""
    owner = "owner" if schema_version >= OWNER_SINCE else "NULL"
    states = ",".join(repr(s.value) for s in sorted(UNKNOWN_OUTCOME))  # the table's constants
    return (f"SELECT id, state, {owner}, created_at FROM transactions"  # noqa: S608
            f" WHERE state IN ({states})")


class Recovery:
    def __init__(self, journal: Journal, outbox: Outbox, owners: Owners | None = None) -> None:
        self.journal = journal
        self.outbox = outbox
        self.owners = owners or Owners(journal.store.path)

    async def run(self) -> RecoveryReport:
        """Start-up (or take-over) recovery: the sweep, expired decisions, and what waits for
        the cashier."""
        report = await self.sweep()
        report.expired = await self.expire_decisions()
        rows = await self.journal.store.fetchall(
            "SELECT id FROM transactions WHERE state=? ORDER BY created_at",
            (State.APPROVED.value,))
        report.awaiting_decision = [r[0] for r in rows]
        return report

    # -- orphaned requests (rules 1-4) ----------------------------------------------------------

    async def in_flight(self) -> tuple[list[Orphan], list[Orphan]]:
        """Unknown-outcome transactions split into (owner alive: in flight, owner gone: orphaned)."""
        store = self.journal.store
        rows = await store.fetchall(_unknown_sql(store.version))
        alive: dict[str | None, bool] = {}
        live: list[Orphan] = []
        orphaned: list[Orphan] = []
        for row in rows:
            listed = Orphan(row[0], State(row[1]), row[2], row[3])
            if listed.owner not in alive:
                alive[listed.owner] = self.owners.alive(listed.owner)
            (live if alive[listed.owner] else orphaned).append(listed)
        return live, orphaned

    async def sweep(self) -> RecoveryReport:
        """Recover every orphaned transaction, each by compare-and-set (rule 2)."""
        _, orphans = await self.in_flight()
        report = RecoveryReport()
        if not orphans:
            return report

        def recover(db: Db) -> None:
            for orphan in orphans:
                done = self.recover_one(db, orphan)
                if done == State.REVERSING:
                    report.reversed.append(orphan.id)
                elif done == State.STATUS_PENDING:
                    report.status_lookups.append(orphan.id)

        await self.journal.store.step(recover)
        for txn_id in report.reversed:
            log.warning("recovery: owner gone, reversal queued for %s", txn_id,
                        extra={"txn_id": txn_id, "outcome": "reversing"})
        for txn_id in report.status_lookups:
            log.warning("recovery: owner gone, status lookups for %s", txn_id,
                        extra={"txn_id": txn_id, "outcome": "status-pending"})
        for owner in {o.owner for o in orphans}:
            self.owners.forget(owner)
        return report

    def recover_one(self, db: Db, orphan: Orphan) -> State | None:
        """Inside a write step: act only if the row is still as listed (state and owner)."""
        row = db.execute("SELECT state, owner FROM transactions WHERE id=?",
                         (orphan.id,)).fetchone()
        if row is None or (row[0], row[1]) != (orphan.state.value, orphan.owner):
            return None  # answered (or recovered) since the list was read: nothing to do
        first = orphan.created_at + self.outbox.cfg.status_first_delay - self.journal.clock()
        return unanswered(db, self.journal, self.outbox, orphan.id, actor="recovery",
                          note="sender gone before the answer", first_lookup=first)

    # -- decisions past their deadline (rule 5) -------------------------------------------------

    async def expire_decisions(self) -> list[str]:
        """Reverse approved-but-not-tendered transactions whose deadline has passed."""
        now = self.journal.clock()
        rows = await self.journal.store.fetchall(
            "SELECT id FROM transactions WHERE state=? AND decision_deadline <= ?",
            (State.APPROVED.value, now))
        done: list[str] = []
        for (txn_id,) in rows:
            if await self.journal.store.step(partial(self.expire_one, txn_id=txn_id, now=now)):
                done.append(txn_id)
                log.warning("approved %s not tendered in time: reversed", txn_id,
                            extra={"txn_id": txn_id, "outcome": "reversing"})
        return done

    def expire_one(self, db: Db, *, txn_id: str, now: float) -> bool:
        """Inside a write step: reverse only if still approved and past its deadline."""
        txn = self.journal.load(db, txn_id)
        if txn.state != State.APPROVED or txn.decision_deadline is None \
                or txn.decision_deadline > now:
            return False  # tendered (or cancelled) meanwhile
        queue_reversal(db, self.journal, self.outbox, txn, reason="CANCELLED", actor="recovery",
                       note="no tender recorded before the deadline: reversed")
        return True
