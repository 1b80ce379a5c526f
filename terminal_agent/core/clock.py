"""Wall-clock jumps: persisted due times that survive them.

Rules:
1. Durations inside one process use ``time.monotonic()`` (back-off pauses, leases of the watchdog,
   idle lock, waits): a wall-clock jump cannot stretch or shrink them.
2. What must outlive the process is wall-clock time in the database: an advice's next attempt
   and lease, an approved sale's decision deadline, a cashier's lock-out. ``ClockWatch.check``
   compares the wall clock with ``CLOCK_BOOTTIME`` (one clock for every process of a boot, never
   set, counts suspend) against an anchor kept in ``kv`` (``clock.anchor``). When the wall clock
   moved more than ``TOLERANCE`` seconds away from it, every such due time is moved by the same
   jump, in the same step that moves the anchor: a day back does not stall the outbox for a day,
   a day ahead does not reverse a sale the cashier is taking cash for, and two processes never
   apply one jump twice.
3. Across a reboot only a jump backwards can be told from time passing (the wall clock is before
   the last time seen): that is re-based too.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from terminal_agent.core.states import SCHEDULED_ROWS, sql_set
from terminal_agent.core.store import Db, Store

log = logging.getLogger("terminal_agent.clock")

ANCHOR_KEY = "clock.anchor"
TOLERANCE = 5.0        # seconds of disagreement taken for a jump (NTP slews far less)
REFRESH = 60.0         # seconds between anchor updates when nothing happened


def boot_clock() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def rebase(db: Db, jump: float) -> None:
    """Move every persisted due time by ``jump`` seconds (rule 2)."""
    db.execute("UPDATE outbox SET next_attempt_at = next_attempt_at + ?"  # noqa: S608
               f" WHERE state IN {sql_set(SCHEDULED_ROWS)}", (jump,))
    db.execute("UPDATE outbox SET lease_until = lease_until + ? WHERE lease_until IS NOT NULL",
               (jump,))
    db.execute("UPDATE transactions SET decision_deadline = decision_deadline + ?"
               " WHERE decision_deadline IS NOT NULL AND state = 'APPROVED'", (jump,))
    db.execute("UPDATE cashiers SET locked_until = locked_until + ? WHERE locked_until IS NOT NULL",
               (jump,))


class ClockWatch:
    def __init__(self, store: Store, *, wall: Callable[[], float] = time.time,
                 boot: Callable[[], float] = boot_clock,
                 boot_id: Callable[[], str] = boot_id) -> None:
        self.store = store
        self.wall = wall
        self.boot = boot
        self.boot_id = boot_id

    async def check(self) -> float:
        """Detect a jump since the anchor and re-base; returns the jump applied (0.0: none)."""
        wall, boot, bid = self.wall(), self.boot(), self.boot_id()

        def step(db: Db) -> float:
            row = db.execute("SELECT value FROM kv WHERE key=?", (ANCHOR_KEY,)).fetchone()
            jump, stale = 0.0, True
            if row:
                a_wall, a_boot, a_bid = json.loads(row[0])
                if a_bid == bid:
                    jump = wall - (a_wall + (boot - a_boot))
                    stale = boot - a_boot >= REFRESH
                elif wall < a_wall:
                    jump = wall - a_wall
            if abs(jump) <= TOLERANCE:
                jump = 0.0
            else:
                rebase(db, jump)
            if jump or stale:
                db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)",
                           (ANCHOR_KEY, json.dumps([wall, boot, bid])))
            return jump

        jump: float = await self.store.step(step)
        if jump:
            log.warning("the wall clock jumped %+.0f s: due times of advices, decisions and "
                        "lock-outs moved with it", jump)
        return jump
