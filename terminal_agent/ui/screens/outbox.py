"""Outbox (supervisor): advices and lookups waiting or parked; retry now; resolve a parked one
with a note."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from terminal_agent.core import Cashier, OutboxRow, RowState, short_reference
from terminal_agent.ui.format import when_text
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.screens.modals import NoteModal
from terminal_agent.ui.widgets import SwitchPanel


class OutboxScreen(TillScreen):
    TITLE_TEXT = "Outbox: advices waiting for the switch"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "retry", "Retry now"),
        Binding("s", "resolve", "Resolve parked (note)"),
        Binding("f5", "reload", "Refresh"),
    ]

    def __init__(self, supervisor: Cashier) -> None:
        super().__init__()
        self.supervisor = supervisor
        self.rows: list[OutboxRow] = []

    def body(self) -> Iterable[Widget]:
        yield SwitchPanel()
        yield Static("", id="outbox-summary")
        yield DataTable(id="outbox", cursor_type="row")

    def on_mount(self) -> None:
        self.set_title(f"Outbox (supervisor {self.supervisor.label})")
        table = self.query_one(DataTable)
        table.add_columns("Queued", "Kind", "Reference", "State", "Tries", "Next try",
                          "Last answer")
        self.action_reload()
        self.set_interval(2.0, lambda: self.action_reload(quiet=True))
        table.focus()

    def action_reload(self, quiet: bool = False) -> None:
        """``quiet``: the refresh every 2 s, which keeps what the supervisor was told."""
        self.run_core(self.till.agent.advices_waiting, "Loading…", self.fill, quiet=quiet)

    def fill(self, rows: list[OutboxRow]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        now = self.till.clock()
        for r in rows:
            answer = f"HTTP {r.last_status}" if r.last_status else ""
            if r.last_error:
                answer = f"{answer} {r.last_error}".strip()
            table.add_row(when_text(r.created_at, now), r.kind.value, short_reference(r.txn_id),
                          r.state.value, str(r.attempts),
                          when_text(r.next_attempt_at, now) if r.state == RowState.PENDING
                          else "-", answer, key=r.id)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        parked = sum(r.state == RowState.PARKED for r in rows)
        self.query_one("#outbox-summary", Static).update(
            f"{len(rows) - parked} pending, {parked} parked." +
            (" Parked advices will not be sent again until you retry or resolve them."
             if parked else ""))

    def selected(self) -> OutboxRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_retry(self) -> None:
        row = self.selected()
        if row is None:
            return
        agent, cashiers = self.till.agent, self.till.cashiers

        async def retry() -> bool:
            done = await agent.retry_advice(row.id)
            await cashiers.audit(self.supervisor.id, "outbox-retry", short_reference(row.txn_id),
                                 f"{row.kind.value} {row.id}")
            return done

        what = f"{row.kind.value} of {short_reference(row.txn_id)}"
        self.run_core(retry, "Queueing the retry…", lambda ok: self.after(
            f"Retrying the {what} now: it leaves this list once the switch takes it."
            if ok else f"The {what} is no longer waiting: nothing to retry."))

    def action_resolve(self) -> None:
        row = self.selected()
        if row is None or row.state != RowState.PARKED:
            self.say("Pick a parked advice to resolve.", "warn")
            return
        agent = self.till.agent

        def noted(note: str | None) -> None:
            if note:
                self.run_core(lambda: agent.resolve_advice(row.id, note=note,
                                                           supervisor=self.supervisor.id),
                              "Resolving…", lambda _: self.after("Resolved with your note."))

        self.app.push_screen(NoteModal("How was this advice settled?"), callback=noted)

    def after(self, message: str) -> None:
        self.say(message, "info")
        self.action_reload(quiet=True)
