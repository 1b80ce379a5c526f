"""Barcode scanners on a serial port, delivering each scanned code as an event.

Keyboard-wedge scanners type into the focused field and need nothing here. A serial scanner
(``/dev/ttyACM0``, ``serial:///dev/ttyUSB0?baudrate=9600``, or any pyserial URL) sends a code
followed by CR and/or LF:

    scanner = SerialScanner("/dev/ttyACM0")
    async for scan in scanner:          # Scan(code="27821234567", kind="msisdn")
        ...
    # or: await scanner.run(callback)

A scanner that goes away is reopened every ``reconnect_seconds``; ``connected`` and
``last_error`` say how it is doing. Reads run in a worker thread with a short timeout so that
cancelling the consuming task stops it promptly.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

import serial

_MSISDN = re.compile(r"\+?(27\d{9}|0\d{9}|[1-9]\d{9,14})")


@dataclass(frozen=True)
class Scan:
    code: str
    kind: str  # "msisdn" (looks like a phone number) or "code" (voucher, token, anything else)
    at: float  # time.time() of the scan


def classify(code: str) -> str:
    return "msisdn" if _MSISDN.fullmatch(code) else "code"


class SerialScanner:
    def __init__(self, url: str, *, baudrate: int = 9600, min_length: int = 4,
                 reconnect_seconds: float = 5.0, poll: float = 0.2) -> None:
        port, _, query = (url[len("serial://"):] if url.startswith("serial://") else url
                          ).partition("?")
        options = dict(parse_qsl(query))
        self.url = url
        self.port = port
        self.baudrate = int(options.pop("baudrate", baudrate))
        self.min_length = min_length
        self.reconnect_seconds = reconnect_seconds
        self.poll = poll
        self.connected = False
        self.last_error: str | None = None
        self._dev: serial.SerialBase | None = None
        self._buffer = bytearray()

    def _open(self) -> None:
        self._dev = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=self.poll)
        self.connected, self.last_error = True, None

    def _read_codes(self) -> list[str]:
        """One blocking read (at most ``poll`` seconds); the complete codes it finished."""
        if self._dev is None:
            self._open()
        assert self._dev is not None
        chunk = self._dev.read(max(1, self._dev.in_waiting))
        self._buffer += chunk
        codes: list[str] = []
        while (end := _line_end(self._buffer)) >= 0:
            raw, self._buffer = bytes(self._buffer[:end]), self._buffer[end + 1:]
            code = raw.decode("ascii", errors="ignore").strip()
            if len(code) >= self.min_length:
                codes.append(code)
        return codes

    def _fail(self, exc: BaseException) -> None:
        self.connected = False
        self.last_error = f"scanner {self.url}: {exc}"
        self.close()

    async def scans(self) -> AsyncIterator[Scan]:
        """Codes as they are scanned, forever (until cancelled or ``close``d)."""
        while True:
            try:
                codes = await asyncio.to_thread(self._read_codes)
            except (OSError, ValueError) as exc:  # serial errors are OSErrors
                self._fail(exc)
                await asyncio.sleep(self.reconnect_seconds)
                continue
            for code in codes:
                yield Scan(code, classify(code), time.time())

    def __aiter__(self) -> AsyncIterator[Scan]:
        return self.scans()

    async def run(self, callback: Callable[[Scan], Awaitable[None] | None]) -> None:
        """Call ``callback`` for every scan (a plain function or a coroutine function)."""
        async for scan in self.scans():
            result = callback(scan)
            if inspect.isawaitable(result):
                await result

    def close(self) -> None:
        if self._dev is not None:
            try:
                self._dev.close()
            except OSError:
                pass
            self._dev = None
        self._buffer.clear()


def _line_end(buffer: bytearray) -> int:
    positions = [p for p in (buffer.find(b"\r"), buffer.find(b"\n")) if p >= 0]
    return min(positions, default=-1)
