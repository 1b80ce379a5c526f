"""Receipt printers chosen by one URL, all with the same small async interface.

    printer = open_printer("tcp://192.168.1.50:9100", columns=48)
    where = await printer.write(data)    # raises PrinterError; nothing is retried here
    status = await printer.status()      # PrinterStatus, never raises
    await printer.kick_drawer(2, 100)
    printer.close()

URLs: ``usb://VID:PID`` (python-escpos ``Usb``, needs pyusb), ``serial:///dev/ttyS0?baudrate=19200``
(or any pyserial URL: ``loop://``, ``socket://``, ``rfc2217://``; opened with
``serial.serial_for_url``), ``tcp://HOST:9100``, ``file:///dev/usb/lp0``, ``preview://DIR`` (a
``.txt`` and ``.png`` per job, drawn by the ``preview`` function the composition root passes:
devices take bytes and render nothing themselves) and ``dummy://`` (kept in memory).
``timeout=SECONDS`` may be added to any device URL's query.

Blocking I/O runs in a worker thread (``asyncio.to_thread``), one operation at a time per device.
A device that fails is closed and reopened on the next call, so unplugging and plugging back in
needs no restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import serial

from devices.status import (
    QUERY_OFFLINE_CAUSE,
    QUERY_PAPER,
    QUERY_PRINTER,
    PrinterError,
    PrinterStatus,
    decode,
    is_status_byte,
)
from terminal_agent.errors import ConfigError

log = logging.getLogger(__name__)

SERIAL_SCHEMES = ("loop://", "socket://", "rfc2217://", "spy://", "alt://", "hwgrep://")

# What a preview printer draws a job with: (bytes, columns, profile) -> (text, PNG or None). It
# never raises: a job it cannot draw comes back as a sentence and no PNG (then the raw bytes are
# kept beside it). The composition root passes ``terminal_agent.receipts.preview_files``.
Preview = Callable[[bytes, int, "str | None"], "tuple[str, bytes | None]"]


def drawer_kick(pin: int = 2, pulse_ms: int = 100) -> bytes:
    """``ESC p m t1 t2``: pulse drawer connector pin 2 (m=0) or pin 5 (m=1) for ``pulse_ms``."""
    if pin not in (2, 5):
        raise ConfigError(f"printer.drawer_pin must be 2 or 5, not {pin}")
    on = max(1, min(255, pulse_ms // 2))
    return bytes([0x1B, 0x70, 0 if pin == 2 else 1, on, min(255, on * 2)])


def drawer_args(data: bytes) -> tuple[int, int]:
    """``(pin, pulse_ms)`` back from the bytes of ``drawer_kick`` (a queued drawer job)."""
    if len(data) != 5 or data[:2] != b"\x1bp":
        raise ValueError("not a drawer kick")
    return (2 if data[2] == 0 else 5), data[3] * 2


class Printer(ABC):
    """One receipt printer. ``write`` raises ``PrinterError``; ``status`` never raises."""

    def __init__(self, url: str, columns: int = 48, profile: str | None = None) -> None:
        self.url = url
        self.columns = columns
        self.profile = profile or None
        self.last_error: str | None = None

    @abstractmethod
    async def write(self, data: bytes, *, label: str = "") -> str:
        """Send one job; returns where it went (the printer's URL, or the preview file).
        ``label`` names it where that means something (preview files)."""

    @abstractmethod
    async def status(self) -> PrinterStatus: ...

    async def kick_drawer(self, pin: int = 2, pulse_ms: int = 100) -> None:
        await self.write(drawer_kick(pin, pulse_ms), label="drawer")

    def close(self) -> None:  # noqa: B027 - most printers hold nothing open
        pass

    async def __aenter__(self) -> Printer:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


class DummyPrinter(Printer):
    """Keeps every job in memory. ``state`` can be set to act out paper out, offline..."""

    def __init__(self, url: str = "dummy://", columns: int = 48, profile: str | None = None
                 ) -> None:
        super().__init__(url, columns, profile)
        self.jobs: list[tuple[str, bytes]] = []
        self.state = PrinterStatus.ONLINE

    @property
    def output(self) -> bytes:
        return b"".join(data for _, data in self.jobs)

    async def write(self, data: bytes, *, label: str = "") -> str:
        if not self.state.can_print:
            raise PrinterError(self.state.message, self.state)
        self.jobs.append((label, bytes(data)))
        return self.url

    async def status(self) -> PrinterStatus:
        return self.state


def _write_private(path: Path, data: bytes) -> None:
    """A new file, 0600 from birth, never through a link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(fd, 0o600)
        f.write(data)


class PreviewPrinter(Printer):
    """Writes each job as ``<n>-<label>.txt`` and ``.png`` (what the paper would show) into a
    folder: the demo's printer and the tests'. The files are the paper, PIN included: 0600 in
    a 0700 folder. Not for a till in a shop."""

    def __init__(self, folder: str | Path, columns: int = 48, profile: str | None = None,
                 preview: Preview | None = None) -> None:
        super().__init__(f"preview://{folder}", columns, profile)
        self.folder = Path(folder)
        self.preview = preview
        self.drawer_kicks = 0

    def _next_number(self) -> int:
        numbers = [int(m.group(1)) for p in self.folder.glob("*.txt")
                   if (m := re.match(r"(\d+)-", p.name))]
        return max(numbers, default=0) + 1

    def _write_sync(self, data: bytes, label: str) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)  # the paper shows the PIN: the owner's eyes only
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:40] or "job"
        stem = self.folder / f"{self._next_number():04d}-{safe}"
        text, png = (self.preview(data, self.columns, self.profile) if self.preview is not None
                     else ("[no preview drawer given: the job's bytes are in the .bin file]\n",
                           None))
        if png is None:
            _write_private(stem.with_suffix(".bin"), data)
        else:
            _write_private(stem.with_suffix(".png"), png)
        _write_private(stem.with_suffix(".txt"), text.encode("utf-8"))
        return stem.with_suffix(".png" if png is not None else ".txt")

    async def write(self, data: bytes, *, label: str = "") -> str:
        try:
            return str(await asyncio.to_thread(self._write_sync, data, label))
        except OSError as exc:
            self.last_error = f"cannot write previews to {self.folder}: {exc.strerror}"
            raise PrinterError(self.last_error) from exc

    async def kick_drawer(self, pin: int = 2, pulse_ms: int = 100) -> None:
        drawer_kick(pin, pulse_ms)
        self.drawer_kicks += 1
        log.info("preview printer: cash drawer kick (pin %d, %d ms)", pin, pulse_ms)

    async def status(self) -> PrinterStatus:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return PrinterStatus.OFFLINE
        return PrinterStatus.ONLINE


class Channel(ABC):
    """Blocking byte pipe to a device; every method may raise ``OSError``."""

    readable = True

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    def read(self, n: int, timeout: float) -> bytes:
        raise NotImplementedError

    def discard_input(self) -> None:  # noqa: B027 - only readable channels buffer input
        pass

    @abstractmethod
    def close(self) -> None: ...


class SerialChannel(Channel):
    def __init__(self, port: str, timeout: float, **options: object) -> None:
        self.port, self.timeout, self.options = port, timeout, options
        self.dev: serial.SerialBase | None = None

    def open(self) -> None:
        self.dev = serial.serial_for_url(self.port, timeout=self.timeout,
                                         write_timeout=self.timeout, **self.options)

    def write(self, data: bytes) -> None:
        assert self.dev is not None
        self.dev.write(data)
        self.dev.flush()

    def read(self, n: int, timeout: float) -> bytes:
        assert self.dev is not None
        self.dev.timeout = timeout
        return bytes(self.dev.read(n))

    def discard_input(self) -> None:
        assert self.dev is not None
        self.dev.reset_input_buffer()

    def close(self) -> None:
        if self.dev is not None:
            self.dev.close()
            self.dev = None


class SocketChannel(Channel):
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None

    def open(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)

    def write(self, data: bytes) -> None:
        assert self.sock is not None
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def read(self, n: int, timeout: float) -> bytes:
        assert self.sock is not None
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(n)
        except TimeoutError:
            return b""
        if not data:
            raise ConnectionResetError("the printer closed the connection")
        return data

    def discard_input(self) -> None:
        assert self.sock is not None
        self.sock.setblocking(False)
        try:
            while self.sock.recv(256):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            self.sock.settimeout(self.timeout)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


class FileChannel(Channel):
    """A device file such as ``/dev/usb/lp0`` (opened per job; missing file = unplugged)."""

    readable = False

    def __init__(self, path: str) -> None:
        self.path = path
        self.fh: object | None = None

    def open(self) -> None:
        if not Path(self.path).exists():
            raise FileNotFoundError(2, "device not found (unplugged?)", self.path)

    def write(self, data: bytes) -> None:
        with open(self.path, "ab", buffering=0) as fh:
            fh.write(data)

    def close(self) -> None:
        pass


class UsbChannel(Channel):
    """python-escpos ``Usb`` (pyusb): reads status from the IN endpoint."""

    def __init__(self, vendor: int, product: int, timeout: float, **usb_args: int) -> None:
        self.vendor, self.product, self.timeout, self.usb_args = vendor, product, timeout, usb_args
        self.dev: Any = None

    def open(self) -> None:
        from escpos.exceptions import Error as EscposError
        from escpos.printer import Usb

        if not Usb.is_usable():
            raise OSError("USB printing needs pyusb: pip install 'python-escpos[usb]' "
                          "(or use file:///dev/usb/lp0)")
        dev = Usb(self.vendor, self.product, timeout=int(self.timeout * 1000), **self.usb_args)
        try:
            dev.open(raise_not_found=True)
        except EscposError as exc:
            raise OSError(f"USB printer {self.vendor:04x}:{self.product:04x} not found "
                          f"(unplugged?): {exc}") from exc
        self.dev = dev

    def write(self, data: bytes) -> None:
        self.dev._raw(data)

    def read(self, n: int, timeout: float) -> bytes:
        try:
            return bytes(self.dev._read())[:n]
        except OSError as exc:  # pyusb's USBTimeoutError is an OSError
            if "timeout" in str(exc).lower():
                return b""
            raise

    def close(self) -> None:
        if self.dev is not None:
            self.dev.close()
            self.dev = None


class DevicePrinter(Printer):
    """A real printer behind a ``Channel``. Status comes from ``DLE EOT`` queries when the
    channel can read answers; a printer that answered once and then goes quiet is offline."""

    def __init__(self, url: str, channel: Channel, columns: int = 48,
                 profile: str | None = None, timeout: float = 5.0) -> None:
        super().__init__(url, columns, profile)
        self.channel = channel
        self.timeout = timeout
        self._open = False
        self._answered = False
        self._lock = asyncio.Lock()

    def _ensure_open(self) -> None:
        if not self._open:
            self.channel.open()
            self._open = True

    def _drop(self, exc: BaseException) -> str:
        self.last_error = _describe(exc)
        try:
            self.channel.close()
        except OSError:
            pass
        self._open = False
        return self.last_error

    def _write_sync(self, data: bytes) -> None:
        try:
            self._ensure_open()
            self.channel.write(data)
        except OSError as exc:
            reason = self._drop(exc)
            raise PrinterError(f"printer {self.url}: {reason}") from exc
        self.last_error = None

    def _ask(self, query: bytes) -> int | None:
        self.channel.discard_input()
        self.channel.write(query)
        answer = self.channel.read(1, self.timeout)
        return answer[0] if answer else None

    def _status_sync(self) -> PrinterStatus:
        try:
            self._ensure_open()
            if not self.channel.readable:
                return PrinterStatus.UNKNOWN
            printer = self._ask(QUERY_PRINTER)
            if printer is None or not is_status_byte(printer):
                if printer is None and self._answered:
                    self.last_error = "no answer to a status query"
                    return PrinterStatus.OFFLINE
                return PrinterStatus.UNKNOWN
            self._answered = True
            cause = self._ask(QUERY_OFFLINE_CAUSE) if printer & 0x08 else None
            paper = self._ask(QUERY_PAPER)
        except OSError as exc:
            self._drop(exc)
            return PrinterStatus.OFFLINE
        return decode(printer, cause, paper)

    async def write(self, data: bytes, *, label: str = "") -> str:
        async with self._lock:
            await asyncio.to_thread(self._write_sync, data)
        return self.url

    async def status(self) -> PrinterStatus:
        async with self._lock:
            return await asyncio.to_thread(self._status_sync)

    def close(self) -> None:
        try:
            self.channel.close()
        except OSError:
            pass
        self._open = False


def _describe(exc: BaseException) -> str:
    if isinstance(exc, serial.SerialTimeoutException | TimeoutError):
        return "timed out (printer busy, offline or out of paper)"
    if isinstance(exc, FileNotFoundError):
        return f"device not found (unplugged?): {exc.filename or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (printer off or wrong address)"
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return text or type(exc).__name__


def _split_query(rest: str) -> tuple[str, dict[str, str]]:
    base, _, query = rest.partition("?")
    return base, dict(parse_qsl(query))


def _flag(value: str) -> bool:
    return value.lower() in ("1", "true", "yes", "on")


_SERIAL_OPTIONS: dict[str, Callable[[str], Any]] = {
    "baudrate": int, "rtscts": _flag, "dsrdtr": _flag, "xonxoff": _flag,
}


def open_printer(url: str, columns: int = 48, *, profile: str | None = None,
                 timeout: float = 5.0, preview: Preview | None = None) -> Printer:
    """The printer for ``url`` (see the module doc). Nothing is opened until first use, so a
    printer that is off at start-up is just offline, not an error. ``preview`` draws the jobs
    of a ``preview://`` printer."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"printer.url {url!r} is not a URL (e.g. tcp://192.168.1.50:9100)")
    base, query = _split_query(rest)
    timeout = float(query.pop("timeout", timeout))
    if scheme == "dummy":
        return DummyPrinter(url, columns, profile)
    if scheme == "preview":
        return PreviewPrinter(base or "receipts", columns, profile, preview)
    channel = _channel(url, scheme, base, query, timeout)
    return DevicePrinter(url, channel, columns, profile, timeout)


def _channel(url: str, scheme: str, base: str, query: dict[str, str], timeout: float) -> Channel:
    """The byte pipe of a device URL (tcp, file, usb, serial and pyserial's own URLs)."""
    if scheme == "tcp":
        host, _, port = base.rpartition(":") if ":" in base else (base, "", "9100")
        return SocketChannel(host.strip("[]"), int(port or 9100), timeout)
    if scheme == "file":
        return FileChannel(base)
    if scheme == "usb":
        return _usb_channel(url, base, query, timeout)
    if scheme == "serial" or url.startswith(SERIAL_SCHEMES):
        return _serial_channel(scheme, base, query, timeout)
    raise ConfigError(f"printer.url {url!r}: unknown kind {scheme!r}; use usb://, serial://, "
                      "tcp://, file://, preview:// or dummy://")


def _usb_channel(url: str, base: str, query: dict[str, str], timeout: float) -> Channel:
    match = re.fullmatch(r"([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})", base)
    if not match:
        raise ConfigError(f"printer.url {url!r}: expected usb://VID:PID in hex (04b8:0202)")
    args = {k: int(v, 0) for k, v in query.items() if k in ("in_ep", "out_ep", "interface")}
    return UsbChannel(int(match[1], 16), int(match[2], 16), timeout, **args)


def _serial_channel(scheme: str, base: str, query: dict[str, str], timeout: float) -> Channel:
    port = base if scheme == "serial" else f"{scheme}://{base}"
    options = {k: conv(query.pop(k)) for k, conv in _SERIAL_OPTIONS.items() if k in query}
    if query:  # anything else belongs to the pyserial URL itself (loop://?logging=debug)
        port += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return SerialChannel(port, timeout, **options)
