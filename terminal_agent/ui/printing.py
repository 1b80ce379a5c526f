"""What the UI needs from the receipt printer, as one small interface.

The durable print queue and the receipt layouts live in ``terminal_agent.core.printing`` and
``terminal_agent.receipts``; the app receives a ``ReceiptDesk`` in its constructor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the flows load after the login screen (issue 17, cold start)
    from terminal_agent.core import FlowResult
    from terminal_agent.receipts import ShiftReport


@dataclass(frozen=True)
class PrintReport:
    printed: bool
    message: str          # one sentence for the cashier ("Receipt printed.", "Out of paper ...")
    where: str = ""       # preview file, when the printer is preview://


class ReceiptDesk(Protocol):
    async def print_result(self, result: FlowResult, cashier: str) -> PrintReport: ...

    async def reprint(self, reference: str, cashier: str,
                      authorised_by: str | None = None) -> PrintReport: ...

    async def print_report(self, report: ShiftReport, cashier: str) -> PrintReport: ...

    async def last_receipt(self) -> tuple[str, bool] | None: ...

    async def status(self) -> tuple[bool, str]: ...


class NoPrinter:
    """No printer configured: the cashier is told, nothing is printed."""

    async def print_result(self, result: FlowResult, cashier: str) -> PrintReport:
        return PrintReport(False, "No printer is configured: write the details down.")

    async def reprint(self, reference: str, cashier: str,
                      authorised_by: str | None = None) -> PrintReport:
        return PrintReport(False, "No printer is configured.")

    async def print_report(self, report: ShiftReport, cashier: str) -> PrintReport:
        return PrintReport(False, "No printer is configured.")

    async def last_receipt(self) -> tuple[str, bool] | None:
        return None

    async def status(self) -> tuple[bool, str]:
        return False, "no printer"
