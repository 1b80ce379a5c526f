"""Hardware: receipt printers chosen by URL, the cash drawer (kicked through the printer) and
serial barcode scanners. Never imports the UI."""

from devices.printers import (
    DevicePrinter,
    DummyPrinter,
    PreviewPrinter,
    Printer,
    drawer_kick,
    open_printer,
)
from devices.scanner import Scan, SerialScanner
from devices.status import PrinterError, PrinterStatus

__all__ = [
    "DevicePrinter", "DummyPrinter", "Printer", "PrinterError", "PrinterStatus",
    "PreviewPrinter", "Scan", "SerialScanner", "drawer_kick", "open_printer",
]
