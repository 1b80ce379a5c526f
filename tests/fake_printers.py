"""Fake ESC/POS printers for tests and demos: a network printer on 127.0.0.1 and a serial printer
on a pseudo-terminal, both answering the real ``DLE EOT n`` status queries.

    with FakeNetworkPrinter() as fake:            # tcp://127.0.0.1:<port>
        fake.engine.state = PrinterStatus.PAPER_OUT
        printer = open_printer(fake.url)

``engine.paper_left`` makes the paper run out part-way through a job; ``engine.silent`` makes
the printer stop answering status queries; ``FakeSerialPrinter.reading = False`` stops it
draining the line so writes time out.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from types import TracebackType

from devices.status import ANSWERS, PrinterStatus

_DLE_EOT = b"\x10\x04"


class FakeEscpos:
    """The printer's brain: separates status queries from print data, answers the queries and
    keeps what reached the paper (``printed``) apart from what did not (``lost``)."""

    def __init__(self) -> None:
        self.state = PrinterStatus.ONLINE
        self.silent = False
        self.paper_left: int | None = None  # bytes of print data before the paper runs out
        self.printed = bytearray()
        self.lost = bytearray()
        self.queries = 0
        self._tail = b""
        self._lock = threading.Lock()

    def feed(self, data: bytes) -> bytes:
        """Bytes received from the host -> bytes the printer sends back."""
        with self._lock:
            data, self._tail = self._tail + data, b""
            answer = bytearray()
            i = 0
            while i < len(data):
                at = data.find(_DLE_EOT, i)
                if at < 0 or at + 2 >= len(data):
                    keep = len(data) - at if at >= 0 else (1 if data.endswith(b"\x10") else 0)
                    self._paper(data[i : len(data) - keep])
                    self._tail = data[len(data) - keep :]
                    break
                self._paper(data[i:at])
                answer += self._status(data[at + 2])
                i = at + 3
            return bytes(answer)

    def _paper(self, chunk: bytes) -> None:
        if not chunk:
            return
        if not self.state.can_print:
            self.lost += chunk
            return
        if self.paper_left is not None and len(chunk) > self.paper_left:
            self.printed += chunk[: self.paper_left]
            self.lost += chunk[self.paper_left :]
            self.paper_left = 0
            self.state = PrinterStatus.PAPER_OUT
            return
        if self.paper_left is not None:
            self.paper_left -= len(chunk)
        self.printed += chunk

    def _status(self, n: int) -> bytes:
        self.queries += 1
        if self.silent or self.state not in ANSWERS:
            return b""
        printer, cause, paper = ANSWERS[self.state]
        return bytes([{1: printer, 2: cause, 3: 0x12, 4: paper}.get(n, 0x12)])

    def load_paper(self) -> None:
        self.paper_left = None
        self.state = PrinterStatus.ONLINE


class FakeNetworkPrinter:
    """A raw-TCP (port 9100 style) ESC/POS printer on 127.0.0.1 with a free port."""

    def __init__(self) -> None:
        self.engine = FakeEscpos()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self._clients: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self._server.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            self._clients.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                reply = self.engine.feed(data)
                if reply:
                    with contextlib.suppress(OSError):
                        conn.sendall(reply)

    def drop_connections(self) -> None:
        """Pull the cable: every open connection is reset."""
        for conn in self._clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._clients.clear()

    def start(self) -> FakeNetworkPrinter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.drop_connections()
        self._server.close()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def __enter__(self) -> FakeNetworkPrinter:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class FakeSerialPrinter:
    """An ESC/POS printer on the far end of a pseudo-terminal; ``port`` is the device path to
    give pyserial (``serial://<port>`` as a printer URL)."""

    def __init__(self) -> None:
        self.engine = FakeEscpos()
        self.master, self._slave = os.openpty()
        self.port = os.ttyname(self._slave)
        self.url = f"serial://{self.port}"
        self.reading = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self.reading:
                self._stop.wait(0.02)
                continue
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            reply = self.engine.feed(data)
            if reply:
                os.write(self.master, reply)

    def send(self, data: bytes) -> None:
        """Bytes from the device to the host (a scanner on the same kind of line)."""
        os.write(self.master, data)

    def start(self) -> FakeSerialPrinter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> FakeSerialPrinter:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
