"""The UI's receipt desk over the durable print queue (``core.printing.PrintQueue``): reports in
one sentence on the receipt a sale's own step committed (``core/slips.py``), reprints copies,
and prints the shift report."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from terminal_agent.config import AgentConfig
from terminal_agent.core import (
    Agent,
    Printer,
    PrinterStatus,
    open_configured_printer,
)
from terminal_agent.errors import AgentError
from terminal_agent.receipts import (
    Header,
    ReportLine,
    ShiftReport,
    shift_report,
)
from terminal_agent.receipts.model import Receipt
from terminal_agent.ui.printing import PrintReport

if TYPE_CHECKING:  # the flows load after the login screen (issue 17, cold start)
    from terminal_agent.core import FlowResult

log = logging.getLogger(__name__)

SHORT = {
    PrinterStatus.ONLINE: "ready", PrinterStatus.PAPER_NEAR_END: "paper low",
    PrinterStatus.COVER_OPEN: "cover open", PrinterStatus.PAPER_OUT: "out of paper",
    PrinterStatus.OFFLINE: "offline", PrinterStatus.UNKNOWN: "ready (no status)",
}


class CoreDesk:
    """``ReceiptDesk`` over ``PrintQueue`` and a ``devices.printers.Printer``."""

    def __init__(self, cfg: AgentConfig, agent: Agent, printer: Printer,
                 clock: Any = time.time) -> None:
        self.cfg = cfg
        self.agent = agent
        self.printer = printer
        self.clock = clock
        self.queue = agent.receipt_queue(printer, clock=clock)
        self._status: tuple[bool, str] = (True, "printer: -")
        self._asked = 0.0
        self._reported: PrinterStatus | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def open(cls, cfg: AgentConfig, agent: Agent) -> CoreDesk:
        return cls(cfg, agent, open_configured_printer(cfg.printer))

    def header(self, cashier: str, reference: str) -> Header:
        return Header.from_config(self.cfg, cashier=cashier,
                                  when=datetime.fromtimestamp(self.clock()), reference=reference)

    async def print_result(self, result: FlowResult, cashier: str) -> PrintReport:
        """The sale's receipt was committed by its own step (core/slips.py): print what waits
        and say how it went. Nothing is rendered here."""
        job = await self.queue.receipt_of(result.txn_id)
        if job is None:
            return PrintReport(False, "Nothing to print for this outcome.")
        if job.state != "printed":
            await self.queue.pump()
        return await self._report(job.id)

    async def reprint(self, reference: str, cashier: str,
                      authorised_by: str | None = None) -> PrintReport:
        job = await self.queue.reprint(reference, authorised_by)
        return await self._report(job, copy=True)

    async def last_receipt(self) -> tuple[str, bool] | None:
        """The reference of the latest receipt printed for a sale, and whether it holds a PIN."""
        return await self.queue.last_receipt()

    async def print_report(self, report: ShiftReport, cashier: str) -> PrintReport:
        receipt = shift_report(self.header(cashier, "REPORT"), report)
        return await self._submit(receipt, None)

    async def _submit(self, receipt: Receipt, txn_id: str | None) -> PrintReport:
        job = await self.queue.submit_receipt(receipt, txn_id=txn_id)
        return await self._report(job)

    async def _report(self, job_id: int, *, copy: bool = False) -> PrintReport:
        job = await self.queue.job(job_id)
        what = "Copy printed" if copy else "Receipt printed"
        if job is not None and job.state == "printed":
            where = ""
            folder = getattr(self.printer, "folder", None)
            if folder is not None:
                files = sorted(folder.glob(f"*-{job.reference}*.png"))
                where = str(files[-1]) if files else str(folder)
            return PrintReport(True, f"{what}.", where)
        reason = (job.last_error if job else None) or self.queue.reason or "printer trouble"
        return PrintReport(False, f"Not printed yet: {reason} It prints when the printer is "
                                  "back.")

    async def status(self) -> tuple[bool, str]:
        now = time.monotonic()
        if now - self._asked > 5.0 or not self._status[0]:
            self._asked = now
            state = await self.printer.status()
            if state != self._reported:  # for the fleet's metrics (written by the forwarder)
                try:
                    await self.agent.note_printer_status(state, clock=self.clock)
                    self._reported = state
                except AgentError as exc:  # busy database: say it next time
                    log.warning("printer status not recorded: %s", exc)
            waiting = len(await self.queue.pending())
            text = f"printer: {SHORT[state]}" + (f", {waiting} waiting" if waiting else "")
            self._status = (state.can_print and not waiting, text)
        return self._status

    async def aclose(self) -> None:
        self.printer.close()


__all__ = ["CoreDesk", "ReportLine", "ShiftReport"]
