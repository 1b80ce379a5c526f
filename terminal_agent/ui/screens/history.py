"""History: filter by time, kind, state and reference; the detail shows the whole timeline of
requests and advices; reprints are marked COPY and a PIN reprint needs a supervisor."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static
from textual.widgets.select import NoSelection

from terminal_agent.core import KIND_LABELS, Kind, State, Txn, txn_reference
from terminal_agent.ui.format import clock_text, money, when_text
from terminal_agent.ui.printing import PrintReport
from terminal_agent.ui.screens.base import TillScreen, Working

PERIODS = [("Today", "today"), ("Last 7 days", "week"), ("Everything", "all")]
SHORT_KINDS = {Kind.VOUCHER_SALE: "Voucher", Kind.TOPUP: "Top-up", Kind.MT_SEND: "Send",
               Kind.MT_PAYOUT: "Pay out", Kind.SUV_REDEEM: "Redeem"}


def state_words(state: State) -> str:
    return state.value.lower().replace("_", " ")


def short_when(at: float, now: float) -> str:
    """14:05 today, 03-12 on another day (the column is 5 wide)."""
    return clock_text(at, "%H:%M" if when_text(at, now).count(":") == 2 else "%m-%d")


def since_for(period: str, now: float) -> float | None:
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        return midnight.timestamp()
    if period == "week":
        return (midnight - timedelta(days=6)).timestamp()
    return None


def reprint(screen: Working, reference: str, *, has_pin: bool) -> None:
    """Print a COPY; a receipt that shows a voucher PIN needs a supervisor first."""
    till = screen.till

    def go(authorised_by: str | None) -> None:
        screen.run_core(lambda: till.printer.reprint(reference, till.cashier_id, authorised_by),
                        "Printing a copy…", lambda r: shown(r))

    def shown(report: PrintReport) -> None:
        screen.say(report.message + (f" ({report.where})" if report.where else ""),
                   "ok" if report.printed else "warn")

    if has_pin:
        till.need_supervisor("reprint a voucher PIN", reference, lambda sup: go(sup.id))
    else:
        go(None)


class HistoryScreen(TillScreen):
    TITLE_TEXT = "History and reprint"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f5", "reload", "Refresh"),
        Binding("p", "reprint", "Reprint (COPY)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.txns: list[Txn] = []

    def body(self) -> Iterable[Widget]:
        with Horizontal(id="filters"):
            yield Select(PERIODS, value="today", allow_blank=False, id="period", compact=True)
            yield Select([(label, k.value) for k, label in KIND_LABELS.items()],
                         prompt="Any service", id="kind", compact=True)
            yield Select([(state_words(s), s.value) for s in State],
                         prompt="Any state", id="state", compact=True)
            yield Input(placeholder="Reference", id="reference", max_length=36, compact=True)
        yield DataTable(id="history", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#reference", Input).cursor_blink = self.till.cursor_blink
        table = self.query_one(DataTable)
        table.add_column("When", width=5)
        table.add_column("Service", width=9)
        table.add_column("Product", width=14)
        table.add_column("Paid (+fee)", width=11)
        table.add_column("State", width=10)
        table.add_column("Ref", width=8)
        table.add_column("Cashier", width=7)
        self.action_reload()
        table.focus()

    def value(self, wid: str) -> str | None:
        v = self.query_one(f"#{wid}", Select).value
        return None if isinstance(v, NoSelection) or v is None else str(v)

    def action_reload(self) -> None:
        agent = self.till.agent
        since = since_for(self.value("period") or "today", self.till.clock())
        kind, state = self.value("kind"), self.value("state")
        ref = txn_reference(self.query_one("#reference", Input).value) or None
        self.run_core(lambda: agent.history(since=since, kind=kind, state=state,
                                            reference=ref), "Loading…", self.fill)

    def fill(self, txns: list[Txn]) -> None:
        self.txns = txns
        table = self.query_one(DataTable)
        table.clear()
        now = self.till.clock()
        for t in txns:
            table.add_row(short_when(t.created_at, now), SHORT_KINDS[t.kind], t.product or "",
                          money(t.total, self.till.symbol), state_words(t.state),
                          t.reference, t.cashier, key=t.id)
        if not txns:
            self.say("Nothing matches these filters.", "info")
        elif self.said_tone == "info":
            self.say("")

    def on_select_changed(self, _: Select.Changed) -> None:
        if self.is_mounted:
            self.action_reload()

    def on_input_changed(self, event: Input.Changed) -> None:
        super().on_input_changed(event)
        if event.input.id == "reference":
            self.action_reload()

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def selected(self) -> Txn | None:
        table = self.query_one(DataTable)
        if not self.txns or table.cursor_row >= len(self.txns):
            return None
        return self.txns[table.cursor_row]

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_detail()

    def action_detail(self) -> None:
        txn = self.selected()
        if txn is not None:
            self.app.push_screen(DetailScreen(txn))

    def action_reprint(self) -> None:
        txn = self.selected()
        if txn is not None:
            reprint(self, txn.reference, has_pin=txn.kind == Kind.VOUCHER_SALE)


class DetailScreen(TillScreen):
    TITLE_TEXT = "Transaction"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("p", "reprint", "Reprint (COPY)")]

    def __init__(self, txn: Txn) -> None:
        super().__init__()
        self.txn = txn

    def body(self) -> Iterable[Widget]:
        yield Static("", id="detail-text")
        yield DataTable(id="timeline", cursor_type="row")

    def on_mount(self) -> None:
        t = self.txn
        self.set_title(f"{KIND_LABELS[t.kind]} {t.reference}")
        sym = self.till.symbol
        lines = [f"{'State':<14}{state_words(t.state)}", f"{'Amount':<14}{money(t.amount, sym)}"]
        if t.fee:
            lines += [f"{'Fee':<14}{money(t.fee, sym)}",
                      f"{'Customer paid':<14}{money(t.total, sym)}"]
        lines += [f"{'Product':<14}{t.product or '-'}", f"{'Cashier':<14}{t.cashier}",
                  f"{'Created':<14}{when_text(t.created_at, self.till.clock())}",
                  f"{'Id':<14}{t.id}"]
        if t.error_type:
            lines.append(f"{'Declined':<14}{t.error_type}")
        if t.retry_of:
            lines.append(f"{'Retry of':<14}{t.retry_of}")
        self.query_one("#detail-text", Static).update("\n".join(lines))
        table = self.query_one(DataTable)
        table.add_columns("When", "What", "State / answer", "By", "Note")
        agent = self.till.agent

        async def load() -> tuple[list[Any], list[Any]]:
            return (await agent.timeline(t.id), await agent.advices(t.id, void_too=True))

        self.run_core(load, "Loading the timeline…", self.fill)

    def fill(self, loaded: tuple[list[Any], list[Any]]) -> None:
        events, advices = loaded
        table = self.query_one(DataTable)
        now = self.till.clock()
        for e in events:
            table.add_row(when_text(e["at"], now), e["what"], e["state"] or "", e["actor"] or "",
                          e["note"] or "")
        supervisor = bool(self.till.cashier and self.till.cashier.is_supervisor)
        for a in advices:
            # HTTP codes are the supervisor's (issue 16, item 12)
            code = f" (HTTP {a.last_status})" if a.last_status and supervisor else ""
            answer = f"{a.state.value}{code}"
            note = a.last_error or a.resolved_note or ""
            table.add_row(when_text(a.created_at, now), f"{a.kind.value} #{a.seq}", answer,
                          f"{a.attempts} tries", note)

    def action_reprint(self) -> None:
        reprint(self, self.txn.reference, has_pin=self.txn.kind == Kind.VOUCHER_SALE)
