"""Cash-up: the open shift per cashier (cash in, fees, cash out, what each drawer should hold)
and per service; an X report printed at any time; the close of the shift (Z report, a
supervisor's act) printed and kept; past Z reports printed again. The figures are the core's
(``core/cashup.py``)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from terminal_agent.core import CashUp, ClosedShift
from terminal_agent.ui.format import money, when_text
from terminal_agent.ui.printing import PrintReport
from terminal_agent.ui.screens.base import TillScreen


class ReportScreen(TillScreen):
    TITLE_TEXT = "Cash-up: the open shift"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("x", "print_x", "Print X report"),
                Binding("z", "close_shift", "Close shift (Z)"),
                Binding("l", "closed", "Past Z reports"), Binding("f5", "reload", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.report: CashUp | None = None

    def body(self) -> Iterable[Widget]:
        yield Static("", id="period")
        yield DataTable(id="cashiers", cursor_type="none")
        yield Static("", id="cash")
        yield DataTable(id="report", cursor_type="none")

    def on_mount(self) -> None:
        self.query_one("#cashiers", DataTable).add_columns(
            "Cashier", "Cash in", "of which fees", "Cash out", "Drawer should hold")
        self.query_one("#report", DataTable).add_columns("Service", "Outcome", "Count", "Amount")
        self.action_reload()

    def action_reload(self, quiet: bool = False) -> None:
        agent, me = self.till.agent, self.till.cashier_id
        self.run_core(lambda: agent.x_report(printed_by=me), "Adding up…", self.fill,
                      quiet=quiet)

    def fill(self, report: CashUp) -> None:
        self.report, sym, now = report, self.till.symbol, self.till.clock()
        since = (f"since the last close ({when_text(report.opened_at, now)})"
                 if report.opened_at is not None else "since the till's first sale")
        self.query_one("#period", Static).update(
            f"Shift open {since}. X prints it; Z closes it (supervisor).")
        cashiers = self.query_one("#cashiers", DataTable)
        cashiers.clear()
        for c in (*report.cashiers, report.totals):
            cashiers.add_row("All" if c is report.totals else c.cashier, money(c.cash_in, sym),
                             money(c.fees, sym), money(c.cash_out, sym), money(c.net, sym))
        t = report.totals
        vouchers = f"   Vouchers taken {money(t.vouchers, sym)}" if t.vouchers else ""
        waiting = (f"\n{report.awaiting_decision} sale(s) await a decision (not counted yet)."
                   if report.awaiting_decision else "")
        self.query_one("#cash", Static).update(
            f"Net cash {money(t.net, sym)}{vouchers}   Advices: {report.advices_pending} "
            f"pending, {report.advices_parked} parked{waiting}")
        lines = self.query_one("#report", DataTable)
        lines.clear()
        for line in report.lines:
            lines.add_row(line.service, line.outcome, str(line.count), money(line.amount, sym))

    def print_it(self, report: CashUp, what: str, *, reload: bool = False) -> None:
        def shown(printed: PrintReport) -> None:
            self.say(f"{what}: {printed.message}" + (f" ({printed.where})" if printed.where
                                                     else ""),
                     "ok" if printed.printed else "warn")
            if reload:
                self.action_reload(quiet=True)

        slip = report.slip()
        self.run_core(lambda: self.till.printer.print_report(slip, self.till.cashier_id),
                      "Printing…", shown)

    def action_print_x(self) -> None:
        agent, me = self.till.agent, self.till.cashier_id

        def got(report: CashUp) -> None:
            self.fill(report)
            self.print_it(report, "X report")

        self.run_core(lambda: agent.x_report(printed_by=me), "Adding up…", got)

    def action_close_shift(self) -> None:
        """Z: a supervisor closes the shift, after saying yes to what it does."""
        from terminal_agent.ui.screens.modals import ConfirmModal

        def closed(report: CashUp) -> None:
            self.print_it(report, f"Shift closed: Z report No. {report.number}", reload=True)

        def close_as(supervisor: str) -> None:
            self.run_core(lambda: self.till.agent.close_shift(supervisor),
                          "Closing the shift…", closed)

        def answered(yes: bool | None) -> None:
            if yes:
                self.till.need_supervisor("close the shift (Z report)", "shift",
                                          lambda sup: close_as(sup.id))

        waiting = self.report.awaiting_decision if self.report else 0
        note = (f"\n{waiting} approved sale(s) still await a decision: they count in the shift "
                "they are paid in." if waiting else "")
        self.app.push_screen(ConfirmModal(
            "Close the shift? The Z report is printed and kept, and a new shift starts now."
            + note, yes="close the shift", no="keep it open"), callback=answered)

    def action_closed(self) -> None:
        self.run_core(lambda: self.till.agent.closed_shifts(), "Loading…",
                      lambda rows: self.app.push_screen(ClosedShiftsScreen(rows)))


class ClosedShiftsScreen(TillScreen):
    """The Z reports kept; Enter or P prints one again."""

    TITLE_TEXT = "Past Z reports"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("p", "print", "Print again")]

    def __init__(self, closed: list[ClosedShift]) -> None:
        super().__init__()
        self.closed = closed

    def body(self) -> Iterable[Widget]:
        yield DataTable(id="closed", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Z", "Opened", "Closed", "Closed by", "Net cash")
        now = self.till.clock()
        for z in self.closed:
            table.add_row(str(z.number), when_text(z.opened_at, now) if z.opened_at else "-",
                          when_text(z.closed_at, now), z.closed_by, money(z.net, self.till.symbol))
        if not self.closed:
            self.say("No shift was closed yet on this till.", "info")
        table.focus()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_print()

    def action_print(self) -> None:
        table = self.query_one(DataTable)
        if not self.closed or table.cursor_row >= len(self.closed):
            return
        number = self.closed[table.cursor_row].number
        agent = self.till.agent

        async def again() -> PrintReport:
            report = await agent.z_report(number)
            assert report is not None
            return await self.till.printer.print_report(report.slip(), self.till.cashier_id)

        self.run_core(again, "Printing…", lambda r: self.say(
            f"Z report No. {number}: {r.message}", "ok" if r.printed else "warn"))
