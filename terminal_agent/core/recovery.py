"""Recovery at start-up: nothing stays "sending" after a crash (DESIGN §3.2, §4).

Rules, applied in one step before the forwarder or any cashier starts:
1. ``PREPARED`` (request committed, answer never committed): the held reversal is released with
   reason ``TIMEOUT`` → ``REVERSING``. The request may or may not have reached the switch; a
   reversal of a never-seen original is answered 404, which counts as done.
2. ``TENDER_TAKEN`` (direct top-up: tender recorded, purchase outcome not committed): the held
   status lookup is released → ``STATUS_PENDING``. Never a reversal.
3. ``APPROVED`` (value approved, tender not recorded) is held for the cashier's decision; once its
   ``decision_deadline`` has passed it is reversed (``CANCELLED``) automatically. Payouts get no
   deadline unless configured: a supervisor decides (cash may have left the drawer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from terminal_agent.core.journal import Journal, Txn
from terminal_agent.core.outbox import AdviceKind, Outbox
from terminal_agent.core.reversals import queue_reversal
from terminal_agent.core.states import State
from terminal_agent.core.store import Db
from terminal_agent.errors import IllegalTransition

log = logging.getLogger("terminal_agent.recovery")


@dataclass(frozen=True)
class RecoveryReport:
    reversed: list[str]
    status_lookups: list[str]
    awaiting_decision: list[str]
    expired: list[str]


class Recovery:
    def __init__(self, journal: Journal, outbox: Outbox) -> None:
        self.journal = journal
        self.outbox = outbox

    async def run(self) -> RecoveryReport:
        unknown = await self.journal.in_states({State.PREPARED, State.TENDER_TAKEN})
        reversed_: list[str] = []
        lookups: list[str] = []
        first_lookup = self.outbox.cfg.status_first_delay

        def release(db: Db) -> None:
            for txn in unknown:
                if txn.state == State.PREPARED:
                    self.outbox.release(db, txn.id, AdviceKind.REVERSAL)
                    self.journal.transition(db, txn.id, State.REVERSING, actor="recovery",
                                            note="outcome unknown after restart: reversal queued")
                    reversed_.append(txn.id)
                else:
                    self.outbox.release(db, txn.id, AdviceKind.STATUS, delay=first_lookup)
                    self.journal.transition(db, txn.id, State.STATUS_PENDING, actor="recovery",
                                            note="outcome unknown after restart: status lookups")
                    lookups.append(txn.id)

        await self.journal.store.step(release)
        for txn_id in reversed_:
            log.warning("recovery: reversal queued for %s", txn_id,
                        extra={"txn_id": txn_id, "outcome": "reversing"})
        for txn_id in lookups:
            log.warning("recovery: status lookups for %s", txn_id,
                        extra={"txn_id": txn_id, "outcome": "status-pending"})
        expired = await self.expire_decisions()
        waiting = await self.journal.in_states({State.APPROVED})
        return RecoveryReport(reversed_, lookups, [t.id for t in waiting], expired)

    async def expire_decisions(self) -> list[str]:
        """Reverse approved-but-not-tendered transactions whose deadline has passed."""
        now = self.journal.clock()
        due: list[Txn] = [t for t in await self.journal.in_states({State.APPROVED})
                          if t.decision_deadline is not None and t.decision_deadline <= now]
        done: list[str] = []
        for txn in due:
            try:
                await self.journal.store.step(lambda db, txn=txn: queue_reversal(  # type: ignore[misc]
                    db, self.journal, self.outbox, txn, reason="CANCELLED", actor="recovery",
                    note="no tender recorded before the deadline: reversed"))
            except IllegalTransition:  # the cashier decided meanwhile (another process)
                continue
            done.append(txn.id)
            log.warning("approved %s not tendered in time: reversed", txn.id,
                        extra={"txn_id": txn.id, "outcome": "reversing"})
        return done
