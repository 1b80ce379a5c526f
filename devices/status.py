"""Printer status: the ESC/POS real-time status bytes (``DLE EOT n``) decoded into what the
cashier needs to know. Pure: no I/O here.

Each answer is one byte whose fixed bits are ``0xx1xx10`` (bit 1 and bit 4 set, bits 0 and 7
clear); anything else is not a status byte (an echo, noise, a printer without status support).

- ``DLE EOT 1`` printer status: bit 3 = offline.
- ``DLE EOT 2`` offline cause: bit 2 = cover open, bit 5 = stopped by paper end, bit 6 = error.
- ``DLE EOT 4`` roll paper sensor: bits 2-3 = near end, bits 5-6 = paper end.
"""

from __future__ import annotations

from enum import StrEnum

from terminal_agent.errors import DeviceError

QUERY_PRINTER = b"\x10\x04\x01"
QUERY_OFFLINE_CAUSE = b"\x10\x04\x02"
QUERY_ERROR_CAUSE = b"\x10\x04\x03"
QUERY_PAPER = b"\x10\x04\x04"


class PrinterStatus(StrEnum):
    ONLINE = "online"
    PAPER_NEAR_END = "paper_near_end"
    COVER_OPEN = "cover_open"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # the printer cannot say (a file, a one-way cable): try and see

    @property
    def can_print(self) -> bool:
        return self in (PrinterStatus.ONLINE, PrinterStatus.PAPER_NEAR_END, PrinterStatus.UNKNOWN)

    @property
    def message(self) -> str:
        """A sentence for the cashier."""
        return _MESSAGES[self]


_MESSAGES = {
    PrinterStatus.ONLINE: "Printer ready.",
    PrinterStatus.PAPER_NEAR_END: "Printer paper is running low: have a new roll ready.",
    PrinterStatus.COVER_OPEN: "Printer cover is open: close it and the receipt will print.",
    PrinterStatus.PAPER_OUT: "Printer is out of paper: load a new roll and the receipt will print.",
    PrinterStatus.OFFLINE: "Printer is not responding: check its power and cable; the receipt "
                           "is kept and will print when it is back.",
    PrinterStatus.UNKNOWN: "Printer status unknown: check that the receipt printed.",
}


class PrinterError(DeviceError):
    """A write or query failed; ``status`` says what the cashier should look at. The job that
    was being printed is kept."""

    def __init__(self, message: str, status: PrinterStatus = PrinterStatus.OFFLINE) -> None:
        super().__init__(message)
        self.status = status


def is_status_byte(value: int) -> bool:
    return value & 0x93 == 0x12


def decode(printer: int, offline_cause: int | None = None, paper: int | None = None
           ) -> PrinterStatus:
    """Combine the answers to ``DLE EOT 1``, ``2`` and ``4`` (``None``: not asked / no answer)."""
    if not is_status_byte(printer):
        return PrinterStatus.UNKNOWN
    paper_bits = paper if paper is not None and is_status_byte(paper) else 0
    if paper_bits & 0x60:
        return PrinterStatus.PAPER_OUT
    if printer & 0x08:
        return _offline(offline_cause)
    if paper_bits & 0x0C:
        return PrinterStatus.PAPER_NEAR_END
    return PrinterStatus.ONLINE


def _offline(cause: int | None) -> PrinterStatus:
    """Why an offline printer is offline (``DLE EOT 2``), when it said."""
    if cause is None or not is_status_byte(cause):
        return PrinterStatus.OFFLINE
    if cause & 0x04:
        return PrinterStatus.COVER_OPEN
    if cause & 0x20:
        return PrinterStatus.PAPER_OUT
    return PrinterStatus.OFFLINE


# Status bytes a printer sends for each state (for fakes and tests).
ANSWERS: dict[PrinterStatus, tuple[int, int, int]] = {
    PrinterStatus.ONLINE: (0x12, 0x12, 0x12),
    PrinterStatus.PAPER_NEAR_END: (0x12, 0x12, 0x1E),
    PrinterStatus.COVER_OPEN: (0x1A, 0x16, 0x12),
    PrinterStatus.PAPER_OUT: (0x1A, 0x32, 0x72),
    PrinterStatus.OFFLINE: (0x1A, 0x52, 0x12),
}
