"""Shift / end-of-day report: totals per service and outcome, cash in and out, outstanding
advices; shown and printed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Select, Static

from terminal_agent.core.journal import KIND_LABELS, Kind, Txn
from terminal_agent.core.states import State
from terminal_agent.receipts import ReportLine, ShiftReport
from terminal_agent.ui.format import money
from terminal_agent.ui.printing import PrintReport
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.screens.history import PERIODS, since_for

S = State
PAID = frozenset({S.TENDERED, S.CONFIRMING, S.CONFIRMED, S.CONFIRM_FAILED, S.RESOLVED})
TENDER_TAKEN = frozenset({S.COMPLETED, S.STATUS_PENDING, S.REFUND_DUE, S.REFUNDED, S.ABANDONED,
                          S.TENDER_TAKEN})
OUTCOME = {
    **{s: "approved" for s in (*PAID, S.COMPLETED)},
    S.APPROVED: "awaiting decision", S.DECLINED: "declined", S.REFUND_DUE: "refund due",
    S.REFUNDED: "refunded", S.REVERSING: "reversed", S.REVERSED: "reversed",
    S.STATUS_PENDING: "pending", S.TENDER_TAKEN: "pending", S.PREPARED: "pending",
    S.ABANDONED: "abandoned",
}


@dataclass
class Totals:
    count: int = 0
    amount: int = 0


@dataclass
class Shift:
    """The figures of the report, from the journal's transactions of the period."""

    lines: dict[tuple[Kind, str], Totals] = field(default_factory=lambda: defaultdict(Totals))
    cash_in: int = 0
    cash_out: int = 0

    @classmethod
    def of(cls, txns: Iterable[Txn]) -> Shift:
        shift = cls()
        for t in txns:
            line = shift.lines[(t.kind, OUTCOME.get(t.state, t.state.value.lower()))]
            line.count += 1
            line.amount += t.amount
            if t.kind in (Kind.VOUCHER_SALE, Kind.MT_SEND) and t.state in PAID:
                shift.cash_in += t.amount + t.fee
            elif t.kind == Kind.MT_PAYOUT and t.state in PAID:
                shift.cash_out += t.amount
            elif t.kind == Kind.TOPUP and t.state in TENDER_TAKEN:
                shift.cash_in += t.amount
                if t.state == S.REFUNDED:
                    shift.cash_out += t.amount
        return shift

    def sorted_lines(self) -> list[tuple[Kind, str, Totals]]:
        order = list(Kind)
        return [(k, o, v) for (k, o), v in sorted(self.lines.items(),
                                                  key=lambda kv: (order.index(kv[0][0]),
                                                                  kv[0][1]))]


class ReportScreen(TillScreen):
    TITLE_TEXT = "Shift report"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("p", "print", "Print"),
                Binding("f5", "reload", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.shift = Shift()
        self.since: float | None = None
        self.outstanding: Any = None

    def body(self) -> Iterable[Widget]:
        yield Select(PERIODS, value="today", allow_blank=False, id="period")
        yield DataTable(id="report", cursor_type="none")
        yield Static("", id="cash")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Service", "Outcome", "Count", "Amount")
        self.action_reload()

    def on_select_changed(self, _: Select.Changed) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        agent = self.till.agent
        period = str(self.query_one("#period", Select).value)
        self.since = since_for(period, self.till.clock())

        async def load() -> tuple[list[Txn], Any]:
            return (await agent.journal.history(since=self.since, limit=100_000),
                    await agent.outbox.counts())

        self.run_core(load, "Adding up…", self.fill)

    def fill(self, loaded: tuple[list[Txn], Any]) -> None:
        txns, counts = loaded
        self.shift, self.outstanding = Shift.of(txns), counts
        sym = self.till.symbol
        table = self.query_one(DataTable)
        table.clear()
        for kind, outcome, totals in self.shift.sorted_lines():
            table.add_row(KIND_LABELS[kind], outcome, str(totals.count),
                          money(totals.amount, sym))
        s = self.shift
        self.query_one("#cash", Static).update(
            f"Cash in {money(s.cash_in, sym)}    Cash out {money(s.cash_out, sym)}    "
            f"Net {money(s.cash_in - s.cash_out, sym)}\n"
            f"Outstanding advices: {counts.pending} pending, {counts.parked} parked")

    def as_slip(self) -> ShiftReport:
        now = self.till.clock()
        lines = tuple(ReportLine(f"{KIND_LABELS[k]} {o}", v.count, v.amount)
                      for k, o, v in self.shift.sorted_lines())
        counts = self.outstanding
        counters = ((("Advices pending", counts.pending), ("Advices parked", counts.parked))
                    if counts is not None else ())
        return ShiftReport(start=datetime.fromtimestamp(self.since or 0),
                           end=datetime.fromtimestamp(now), lines=lines,
                           cash_in_minor=self.shift.cash_in, cash_out_minor=self.shift.cash_out,
                           counters=counters, title="SHIFT REPORT")

    def action_print(self) -> None:
        slip = self.as_slip()

        def shown(report: PrintReport) -> None:
            self.say(report.message + (f" ({report.where})" if report.where else ""),
                     "ok" if report.printed else "warn")

        self.run_core(lambda: self.till.printer.print_report(slip, self.till.cashier_id),
                      "Printing the report…", shown)
