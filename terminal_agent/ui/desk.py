"""The UI's receipt desk over the durable print queue (``core.printing.PrintQueue``): turns a
finished transaction into receipt data, queues it, and reports in one sentence."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from devices.printers import Printer, open_printer
from devices.status import PrinterStatus
from terminal_agent.config import AgentConfig
from terminal_agent.core.flows.base import FlowResult, response_of
from terminal_agent.core.journal import KIND_LABELS, Kind, Txn
from terminal_agent.core.printing import PrintQueue, record_printer_status
from terminal_agent.core.states import State
from terminal_agent.errors import AgentError
from terminal_agent.receipts import (
    Header,
    PayoutSlip,
    RedemptionSlip,
    RefundDueSlip,
    ReportLine,
    ShiftReport,
    SlipData,
    TopupSlip,
    TransferSendSlip,
    VoucherSaleSlip,
    layout,
    shift_report,
)
from terminal_agent.receipts.model import Receipt
from terminal_agent.ui.printing import PrintReport

log = logging.getLogger(__name__)

SHORT = {
    PrinterStatus.ONLINE: "ready", PrinterStatus.PAPER_NEAR_END: "paper low",
    PrinterStatus.COVER_OPEN: "cover open", PrinterStatus.PAPER_OUT: "out of paper",
    PrinterStatus.OFFLINE: "offline", PrinterStatus.UNKNOWN: "ready (no status)",
}


def _date(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def slip_for(txn: Txn, result: FlowResult) -> Any | None:
    """The receipt data of a finished transaction, or None when nothing is printed."""
    response = response_of(txn)
    slip = SlipData.from_message(getattr(response, "slip_data", None))
    d = result.data
    product = txn.product or KIND_LABELS[txn.kind]
    if txn.state == State.REFUND_DUE:
        return RefundDueSlip(what=KIND_LABELS[txn.kind], amount_minor=txn.amount,
                             reason=result.message, slip=slip)
    if txn.kind == Kind.VOUCHER_SALE and d.get("pin"):
        return VoucherSaleSlip(product=product, amount_minor=txn.amount, pin=str(d["pin"]),
                               serial=str(d.get("serial") or ""), expiry=_date(d.get("expiry")),
                               instructions=tuple(d.get("instructions") or ()), slip=slip)
    if txn.kind == Kind.TOPUP:
        return TopupSlip(product=product, msisdn="*******" + str(d.get("msisdn_last4", "")),
                         amount_minor=txn.amount,
                         provider_reference=d.get("provider_reference") or None, slip=slip)
    if txn.kind == Kind.MT_SEND and d.get("order_redeem_ref"):
        return TransferSendSlip(order_ref=str(d["order_redeem_ref"]), amount_minor=txn.amount,
                                fee_minor=txn.fee, total_minor=txn.amount + txn.fee,
                                recipient_name=str(d.get("recipient_name") or ""),
                                order_ref_alt=d.get("order_redeem_ref_alt"),
                                sender_name=d.get("sender_name"),
                                provider=d.get("receiver_name"), slip=slip)
    if txn.kind == Kind.MT_PAYOUT:
        return PayoutSlip(order_ref="****" + str(d.get("order_ref_last4", "")),
                          amount_minor=int(d.get("payout_amount") or txn.amount),
                          provider=d.get("receiver_name"), slip=slip)
    if txn.kind == Kind.SUV_REDEEM:
        return RedemptionSlip(voucher_code="****" + str(d.get("code_last4", "")),
                              amount_minor=txn.amount, provider=d.get("provider"),
                              balance_minor=d.get("balance"), slip=slip)
    return None


class CoreDesk:
    """``ReceiptDesk`` over ``PrintQueue`` and a ``devices.printers.Printer``."""

    def __init__(self, cfg: AgentConfig, agent: Any, printer: Printer,
                 clock: Any = time.time) -> None:
        self.cfg = cfg
        self.agent = agent
        self.printer = printer
        self.clock = clock
        self.queue = PrintQueue(agent.store, printer, clock=clock)
        self._status: tuple[bool, str] = (True, "printer: -")
        self._asked = 0.0
        self._reported: PrinterStatus | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def open(cls, cfg: AgentConfig, agent: Any) -> CoreDesk:
        p = cfg.printer
        return cls(cfg, agent, open_printer(p.url, p.columns, profile=p.profile or None,
                                            timeout=p.timeout))

    def header(self, cashier: str, reference: str) -> Header:
        return Header.from_config(self.cfg, cashier=cashier,
                                  when=datetime.fromtimestamp(self.clock()), reference=reference)

    async def print_result(self, result: FlowResult, cashier: str) -> PrintReport:
        txn = await self.agent.journal.get(result.txn_id)
        slip = slip_for(txn, result)
        if slip is None:
            return PrintReport(False, "Nothing to print for this outcome.")
        return await self._submit(layout(self.header(cashier, txn.reference), slip), txn.id)

    async def reprint(self, reference: str, cashier: str,
                      authorised_by: str | None = None) -> PrintReport:
        job = await self.queue.reprint(reference, authorised_by)
        return await self._report(job, copy=True)

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
                    await record_printer_status(self.agent.store, state, self.clock)
                    self._reported = state
                except AgentError as exc:  # busy database: say it next time
                    log.warning("printer status not recorded: %s", exc)
            waiting = len(await self.queue.pending())
            text = f"printer: {SHORT[state]}" + (f", {waiting} waiting" if waiting else "")
            self._status = (state.can_print and not waiting, text)
        return self._status

    async def aclose(self) -> None:
        self.printer.close()


__all__ = ["CoreDesk", "ReportLine", "ShiftReport", "slip_for"]
