"""Talking to systemd: readiness, status and the watchdog (the ``sd_notify`` protocol).

The protocol is one datagram of ``KEY=value`` lines to the AF_UNIX socket named by
``$NOTIFY_SOCKET`` (a leading ``@`` means the Linux abstract namespace). Outside systemd the
variable is unset and every call is a no-op, so the service runs the same in a terminal.

``WatchdogGuard`` is the part that matters for ``WatchdogSec=``: the forwarder loop calls
``beat()`` on every iteration and the guard sends ``WATCHDOG=1`` only while that heartbeat is
fresh. A loop that hangs (a stuck await, a deadlock) stops the pings and systemd restarts us;
an event loop that is blocked outright stops the guard task itself, with the same result.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from types import TracebackType

log = logging.getLogger(__name__)


class Notifier:
    """Sends state lines to systemd's notification socket; silent when there is none."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address or None
        self.watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._sock: socket.socket | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        """Read ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID`` (the watchdog is ours
        only when ``WATCHDOG_PID`` is unset or names this process)."""
        env = os.environ if env is None else env
        usec: int | None = None
        pid = env.get("WATCHDOG_PID", "")
        if not pid or pid == str(os.getpid()):
            try:
                usec = int(env.get("WATCHDOG_USEC", ""))
            except ValueError:
                usec = None
        return cls(env.get("NOTIFY_SOCKET"), usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def watchdog_interval(self) -> float | None:
        """Seconds between pings: half the period systemd asked for, or None without a watchdog."""
        if not self.enabled or self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 1_000_000 / 2

    def notify(self, *lines: str) -> bool:
        """Send ``lines`` as one message; False (never an exception) if it could not be sent."""
        if self.address is None:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        payload = "\n".join(lines).encode("utf-8")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(payload, target)
        except OSError as exc:
            log.debug("sd_notify to %s failed: %s", self.address, exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        return self.notify("STOPPING=1", *([f"STATUS={_one_line(status)}"] if status else []))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _one_line(text: str) -> str:
    return " ".join(text.split())


class WatchdogGuard:
    """Feeds the systemd watchdog only while the loop that owns it keeps beating.

    ``interval`` defaults to the notifier's (half of ``WatchdogSec=``); ``max_silence`` (how old
    the last beat may be) defaults to the same. Use as ``async with guard:`` or ``guard.start()``.
    """

    def __init__(self, notifier: Notifier, interval: float | None = None,
                 max_silence: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.notifier = notifier
        self.interval = interval if interval is not None else notifier.watchdog_interval()
        self.max_silence = max_silence if max_silence is not None else self.interval
        self._clock = clock
        self._last = clock()
        self._stalled = False
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.interval is not None and self.notifier.enabled

    def beat(self) -> None:
        """Called by the forwarder loop on every iteration: "I am alive and making progress"."""
        self._last = self._clock()

    def silence(self) -> float:
        """Seconds since the last beat."""
        return self._clock() - self._last

    def fresh(self) -> bool:
        return self.max_silence is None or self.silence() <= self.max_silence

    def tick(self) -> bool:
        """One round: ping if the heartbeat is fresh; report a stall once. True if pinged."""
        if self.fresh():
            if self._stalled:
                log.warning("forwarder loop is beating again; watchdog resumed")
                self._stalled = False
            return self.notifier.watchdog()
        if not self._stalled:
            self._stalled = True
            silent = self.silence()
            log.error("forwarder loop has not made progress for %.1f s; "
                      "no longer feeding the watchdog", silent)
            self.notifier.status(f"forwarder loop stalled for {silent:.0f} s")
        return False

    async def run(self) -> None:
        if not self.active or self.interval is None:
            return
        while True:
            self.tick()
            await asyncio.sleep(self.interval)

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="sd-watchdog")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def __aenter__(self) -> WatchdogGuard:
        self.beat()
        self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()
