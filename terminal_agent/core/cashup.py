"""Cash-up: what each cashier's drawer should hold, and the close of a shift.

A shift runs from the last close (Z report) to now. Rules:
1. Cash is counted when it moves, by the step that moved it: a voucher sale's, an order's or a
   payout's tender (``TENDERED``), a top-up's tender taken first (``TENDER_TAKEN``), a top-up
   refund (``REFUNDED``). It is put to the cashier who recorded that step (the refund: to the
   cashier who served the customer), at the time of the step: a sale approved before a close
   and paid after it counts in the shift it was paid in.
2. A money-transfer fee is cash in, and is also shown on its own (it is the provider's and the
   shop's income, not the recipient's money). A digital voucher taken as payment is not cash.
3. An X report shows the open shift at any time and changes nothing. A Z report closes it: its
   figures are stored (table ``shift_reports``, numbered, never changed) with the supervisor who
   closed it (audited), and the next shift starts at that instant. Any stored Z can be read
   and printed again.
4. The report is the till's, over every cashier: it names who printed or closed it, never
   signs it as one cashier's.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from terminal_agent.core import audit
from terminal_agent.core.audit import AuditEntry
from terminal_agent.core.journal import KIND_LABELS, Kind
from terminal_agent.core.states import State
from terminal_agent.core.store import Db, Store
from terminal_agent.receipts import CashierLine, ReportLine, ShiftReport

S = State
PAID = frozenset({S.TENDERED, S.CONFIRMING, S.CONFIRMED, S.CONFIRM_FAILED, S.RESOLVED,
                  S.COMPLETED})
OUTCOME = {
    **{s: "approved" for s in PAID},
    S.APPROVED: "awaiting decision", S.DECLINED: "declined", S.REFUND_DUE: "refund due",
    S.REFUNDED: "refunded", S.REVERSING: "reversed", S.REVERSED: "reversed",
    S.STATUS_PENDING: "pending", S.TENDER_TAKEN: "pending", S.PREPARED: "pending",
    S.ABANDONED: "abandoned",
}
# (kind, step entered) -> how money moved in that step (rule 1, 2)
MOVES: dict[tuple[Kind, State], str] = {
    (Kind.VOUCHER_SALE, S.TENDERED): "in", (Kind.MT_SEND, S.TENDERED): "in",
    (Kind.TOPUP, S.TENDER_TAKEN): "in", (Kind.MT_PAYOUT, S.TENDERED): "out",
    (Kind.TOPUP, S.REFUNDED): "out", (Kind.SUV_REDEEM, S.TENDERED): "voucher",
    (Kind.SUV_REDEEM, S.COMPLETED): "voucher",
}
STEPS = sorted({step.value for _, step in MOVES})
_MARKS = ",".join("?" * len(STEPS))
_MOVES_SQL = ("SELECT e.state AS step, e.actor, t.kind, t.amount, t.fee, t.cashier"  # noqa: S608
              " FROM events e JOIN transactions t ON t.id = e.txn_id"
              f" WHERE e.state IN ({_MARKS}) AND e.at >= ? AND e.at < ?")


@dataclass(frozen=True)
class ServiceLine:
    service: str      # "Airtime voucher"
    outcome: str      # "approved", "declined", ...
    count: int
    amount: int       # minor units (money transfers: the amount sent, fees apart)


@dataclass
class CashierTotals:
    cashier: str
    sales: int = 0         # cash movements recorded (sales, payouts, top-ups, refunds)
    cash_in: int = 0
    cash_out: int = 0
    fees: int = 0          # money-transfer fees, included in cash_in
    vouchers: int = 0      # digital vouchers taken as payment (not cash)

    @property
    def net(self) -> int:
        return self.cash_in - self.cash_out


@dataclass(frozen=True)
class CashUp:
    """An X report (``number`` None) or a stored Z report."""

    opened_at: float | None            # the previous close (None: the till's first shift)
    closed_at: float                   # now, for an X report
    cashiers: tuple[CashierTotals, ...]
    lines: tuple[ServiceLine, ...]
    number: int | None = None          # Z number
    closed_by: str | None = None
    printed_by: str | None = None
    awaiting_decision: int = 0
    refunds_due: int = 0
    advices_pending: int = 0
    advices_parked: int = 0
    totals: CashierTotals = field(default_factory=lambda: CashierTotals("all"))

    @property
    def is_z(self) -> bool:
        return self.number is not None

    def slip(self) -> ShiftReport:
        """The printed form (``receipts.ShiftReport``), in the till's local time."""
        start = datetime.fromtimestamp(self.opened_at) if self.opened_at is not None \
            else datetime.fromtimestamp(0)
        title = (f"Z REPORT No. {self.number}: SHIFT CLOSED" if self.is_z else
                 "X REPORT: SHIFT STILL OPEN")
        t = self.totals
        return ShiftReport(
            start=start, end=datetime.fromtimestamp(self.closed_at),
            lines=tuple(ReportLine(f"{ln.service} {ln.outcome}", ln.count, ln.amount)
                        for ln in self.lines),
            cash_in_minor=t.cash_in, cash_out_minor=t.cash_out, fees_minor=t.fees,
            vouchers_minor=t.vouchers, title=title, closed_by=self.closed_by,
            cashiers=tuple(CashierLine(c.cashier, c.cash_in, c.cash_out, c.fees)
                           for c in self.cashiers),
            counters=(("Awaiting decision", self.awaiting_decision),
                      ("Refunds due", self.refunds_due),
                      ("Advices pending", self.advices_pending),
                      ("Advices parked", self.advices_parked)))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CashUp:
        raw = json.loads(text)
        raw["cashiers"] = tuple(CashierTotals(**c) for c in raw["cashiers"])
        raw["lines"] = tuple(ServiceLine(**line) for line in raw["lines"])
        raw["totals"] = CashierTotals(**raw["totals"])
        return cls(**raw)


@dataclass(frozen=True)
class ClosedShift:
    """A row of ``shift_reports`` as the list of past Z reports shows it."""

    number: int
    opened_at: float | None
    closed_at: float
    closed_by: str
    net: int


class CashUps:
    """X and Z reports over the journal (rules 1-4)."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def x_report(self, printed_by: str | None = None) -> CashUp:
        """The open shift, as it stands now. Changes nothing."""
        return await self.store.read(lambda db: figures(db, self.clock(), printed_by=printed_by))

    async def close_shift(self, supervisor: str) -> CashUp:
        """The Z report: the open shift's figures stored under the next number, audited; the
        next shift starts now."""
        def close(db: Db) -> tuple[CashUp, AuditEntry]:
            now = self.clock()
            report = figures(db, now, closed_by=supervisor)
            cur = db.execute(
                "INSERT INTO shift_reports (opened_at, closed_at, closed_by, figures)"
                " VALUES (?,?,?,?)", (report.opened_at, now, supervisor, ""))
            number = int(cur.lastrowid or 0)
            stored = _numbered(report, number)
            db.execute("UPDATE shift_reports SET figures=? WHERE id=?",
                       (stored.to_json(), number))
            entry = audit.append(db, now, supervisor, "shift-closed", f"Z{number}",
                                 f"net {stored.totals.net}")
            return stored, entry

        stored, entry = await self.store.step(close)
        entry.publish()
        return stored

    async def closed(self, limit: int = 50) -> list[ClosedShift]:
        rows = await self.store.fetchall(
            "SELECT id, opened_at, closed_at, closed_by, figures FROM shift_reports"
            " ORDER BY id DESC LIMIT ?", (limit,))
        return [ClosedShift(int(r["id"]), r["opened_at"], r["closed_at"], r["closed_by"],
                            CashUp.from_json(r["figures"]).totals.net) for r in rows]

    async def z_report(self, number: int) -> CashUp | None:
        row = await self.store.fetchone("SELECT figures FROM shift_reports WHERE id=?",
                                        (number,))
        return CashUp.from_json(row["figures"]) if row else None


def _numbered(report: CashUp, number: int) -> CashUp:
    return CashUp(**{**report.__dict__, "number": number})


def figures(db: Db, now: float, *, closed_by: str | None = None,
            printed_by: str | None = None) -> CashUp:
    """The open shift's figures, read inside one database step (a consistent picture)."""
    row = db.execute("SELECT MAX(closed_at) FROM shift_reports").fetchone()
    opened = float(row[0]) if row and row[0] is not None else None
    since = opened if opened is not None else float("-inf")
    moves = db.execute(_MOVES_SQL, (*STEPS, since, now))
    per, totals = _cash(moves)
    txns = db.execute("SELECT kind, state, amount FROM transactions"
                      " WHERE created_at >= ? AND created_at < ?", (since, now))
    waiting = dict(db.execute(
        "SELECT state, COUNT(*) FROM transactions WHERE state IN (?,?) GROUP BY state",
        (S.APPROVED.value, S.REFUND_DUE.value)).fetchall())
    advices = dict(db.execute(
        "SELECT state, COUNT(*) FROM outbox WHERE state IN ('pending','parked')"
        " GROUP BY state").fetchall())
    return CashUp(opened, now, tuple(sorted(per.values(), key=lambda c: c.cashier)),
                  _lines(txns), closed_by=closed_by, printed_by=printed_by,
                  awaiting_decision=int(waiting.get(S.APPROVED.value, 0)),
                  refunds_due=int(waiting.get(S.REFUND_DUE.value, 0)),
                  advices_pending=int(advices.get("pending", 0)),
                  advices_parked=int(advices.get("parked", 0)), totals=totals)


def _cash(moves: Iterable[Any]) -> tuple[dict[str, CashierTotals], CashierTotals]:
    per: dict[str, CashierTotals] = {}
    totals = CashierTotals("all")
    for m in moves:
        step = State(m["step"])
        move = MOVES.get((Kind(m["kind"]), step))
        if move is None:
            continue
        who = m["cashier"] if step == S.REFUNDED else (m["actor"] or m["cashier"])
        mine = per.setdefault(who, CashierTotals(who))
        for t in (mine, totals):
            _add(t, move, int(m["amount"]), int(m["fee"]))
    return per, totals


def _add(t: CashierTotals, move: str, amount: int, fee: int) -> None:
    """One movement of money (rule 1, 2) into ``t``."""
    t.sales += 1
    if move == "out":
        t.cash_out += amount
    elif move == "voucher":
        t.vouchers += amount
    else:
        t.cash_in += amount + fee
        t.fees += fee


def _lines(txns: Iterable[Any]) -> tuple[ServiceLine, ...]:
    counts: dict[tuple[Kind, str], list[int]] = defaultdict(lambda: [0, 0])
    for t in txns:
        state = State(t["state"])
        line = counts[(Kind(t["kind"]), OUTCOME.get(state, state.value.lower()))]
        line[0] += 1
        line[1] += int(t["amount"])
    order = list(Kind)
    return tuple(ServiceLine(KIND_LABELS[k], outcome, n, amount)
                 for (k, outcome), (n, amount) in sorted(
                     counts.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])))


__all__ = ["CashUp", "CashUps", "CashierTotals", "ClosedShift", "ServiceLine", "figures"]
