"""One runtime for both processes: the background work of ``terminal-agent forward`` and
``terminal-agent ui``, started with one call (``async with Runtime(agent, Role.UI): ...``).

Theory of operation
-------------------
A till runs two processes on one database: the service (``forward``, from boot, under systemd)
and the cashier UI. Each holds its own owner lock (``core/owners.py``, taken by ``Agent.open``)
and both run this same runtime, so they can never disagree about who does what:

1. **One forwarder.** Exactly one process forwards: the one holding the forwarder lock
   (``<db>.forward.lock``). A runtime that cannot take it *stands by* and tries again every
   ``forwarder.sweep_seconds``: when the holder dies, the other process takes over within
   seconds.
2. **The service is preferred.** While the service stands by it holds ``<db>.forward.wait``; a
   UI that forwards sees it at its next sweep, finishes the batch in flight and hands over.
   A second service refuses to start (``ForwarderBusy``).
3. **Taking over** = void the old forwarder's leases, recovery (orphaned requests: their
   senders are gone; expired decisions), then the forwarder loop and, every ``sweep_seconds``,
   the sweep for orphaned work, expired decisions and the STATUS line; hourly the retention
   purge, as its own task in short steps (``core/retention.py``) so that neither a sale nor
   the sweep waits for it. Recovery never touches a live process's request (owner locks) and re-checks every
   row it writes (compare-and-set), so take-overs may race any sale.
4. **The devices** live where the cashier is (the UI), whatever the forwarder role: the print
   pump prints the jobs the sale's own steps committed, in this process or in the other one;
   a serial barcode scanner (``[scanner] url``) hands each code to ``on_scan``.
5. **Nothing raises out of a loop.** A failing round is logged and tried again; a forwarder
   loop that died gives the lock back and the next round takes it again.
6. **Watchdog.** The forwarder loop beats while it forwards, the stand-by loop while it waits;
   a loop that hangs stops the beats (``on_beat``), and systemd restarts the service.
7. **The product list** is kept where the cashier sells (the UI): loaded at start, retried in
   the background until the switch answers (``core/catalogue.py``), so a till that boots
   before its network sells once the network is up.
8. **Metrics** (``[metrics]``): every process counts its own switch requests and leaves the
   counts in the database (``core/tally.py``); the process that forwards writes the metrics
   textfile and serves ``[metrics] listen`` (``core/metrics.py``) with both processes' counts,
   and stops when it stops forwarding, so the file is fresh whoever forwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from terminal_agent.core import retention
from terminal_agent.core.owners import ForwarderBusy, ForwarderLock
from terminal_agent.core.tally import KEY_PREFIX, RequestTally
from terminal_agent.errors import AgentError

log = logging.getLogger("terminal_agent.runtime")

PURGE_EVERY = 3600.0  # seconds between retention purges


class Role(StrEnum):
    SERVICE = "service"   # terminal-agent forward
    UI = "ui"             # terminal-agent ui (and a till process in the tests)


class Duty(StrEnum):
    """What this process's runtime does right now."""

    STARTING = "starting"
    FORWARDING = "forwarding"
    STANDBY = "standby"       # another process forwards; this one takes over if it dies
    OFF = "off"               # not asked to forward at all (``forward=False``)


class Runtime:
    def __init__(self, agent: Any, role: Role, *, forward: bool = True,
                 print_queue: Any | None = None, notify: Any | None = None,
                 on_beat: Callable[[], None] | None = None,
                 describe: Callable[[Any], str] | None = None,
                 on_scan: Callable[[Any], Any] | None = None) -> None:
        self.agent = agent
        self.role = role
        self.forward = forward
        self.print_queue = print_queue
        self.notify = notify
        self.describe = describe
        self.on_scan = on_scan
        self.scanner: Any = None  # devices.scanner.SerialScanner when one is configured
        self.lock: ForwarderLock = agent.lock
        if on_beat is not None:
            agent.forwarder.on_beat = on_beat
        self.duty = Duty.STARTING if forward else Duty.OFF
        self.took_over = 0          # how many times this process became the forwarder
        self.last_report: Any = None
        self._stop = asyncio.Event()
        self._settled = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._last_purge: float | None = None
        self._purge: asyncio.Task[Any] | None = None
        # rule 8: this process's switch requests, counted only when metrics are configured
        self.tally = RequestTally().hook(agent) if agent.config.metrics.enabled else None

    @property
    def interval(self) -> float:
        return float(self.agent.config.forwarder.sweep_seconds)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> Runtime:
        """Start the background work; returns once this process forwards (recovery done) or
        stands by. A second service is refused (rule 2). The database's deferred quick_check
        (the UI's: ``Agent.open(defer=True)``) runs first: a damaged file stops the start."""
        await self.agent.store.check_whole()
        if self.forward and self.role == Role.SERVICE and self.lock.holder_role() == Role.SERVICE:
            raise ForwarderBusy(f"another forwarder already serves {self.agent.store.path}")
        if self.forward:
            self._tasks.append(asyncio.create_task(self._duty(), name="forwarder-duty"))
            await self._settled.wait()
        if self.print_queue is not None:
            self._tasks.append(asyncio.create_task(self._print_pump(), name="print-pump"))
        catalogue = getattr(self.agent, "catalogue", None)
        if self.role == Role.UI and catalogue is not None:
            self._tasks.append(asyncio.create_task(catalogue.keep_fresh(self._stop),
                                                   name="catalogue"))
        if self.tally is not None:
            self._tasks.append(asyncio.create_task(self._share_tally(), name="metrics-tally"))
        scanner = self.agent.config.scanner
        if self.on_scan is not None and scanner.url:
            from devices.scanner import SerialScanner

            self.scanner = SerialScanner(scanner.url, baudrate=scanner.baudrate,
                                         min_length=scanner.min_length,
                                         reconnect_seconds=scanner.reconnect_seconds)
            self._tasks.append(asyncio.create_task(self.scanner.run(self.on_scan),
                                                   name="scanner"))
        return self

    async def stop(self) -> None:
        """Finish the batch in flight, give the forwarder lock back, stop the pump."""
        self._stop.set()
        for task in self._tasks:
            if task.get_name() in ("print-pump", "scanner"):
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._save_tally()
        if self.forward:  # stopped while waiting after a failure: nobody forwards from here
            self.lock.release()
            self.lock.stop_waiting()
        if self.scanner is not None:
            self.scanner.close()

    async def __aenter__(self) -> Runtime:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def wait_stopped(self) -> Any:
        return self._stop.wait()

    # -- who forwards (rules 1-3) ---------------------------------------------------------------

    async def _duty(self) -> None:
        while not self._stop.is_set():
            try:
                if self._take():
                    await self._forwarding()
                else:
                    await self._standing_by()
            except Exception as exc:  # noqa: BLE001 - rule 5: said, and tried again
                await self._failed(exc)

    def _take(self) -> bool:
        if not self._my_turn():
            return False
        if self.lock.held:  # taken before the database opened (forward's waiting loop)
            self.lock.role = self.role.value
            return True
        return self.lock.acquire(self.role.value)

    async def _forwarding(self) -> None:
        """Forward until stopped or handing over. A failure leaves the lock held (this process
        is still the forwarder, waiting for what failed) and goes to ``_failed``."""
        self.lock.stop_waiting()
        self.duty = Duty.FORWARDING
        self.took_over += 1
        await self.agent.clock_watch.check()  # before any deadline is judged
        await self.agent.outbox.drop_leases()
        self.last_report = report = await self.agent.recovery.run()
        self.lock.note("")
        log.info("forwarding (%s): %d reversals queued, %d status lookups, %d awaiting "
                 "decision", self.role, len(report.reversed), len(report.status_lookups),
                 len(report.awaiting_decision))
        self._settled.set()
        until = asyncio.Event()
        loop = asyncio.create_task(self.agent.forwarder.run(until), name="forwarder")
        metrics = (asyncio.create_task(self._write_metrics(until), name="metrics")
                   if self.tally is not None else None)
        try:
            while not (self._stop.is_set() or loop.done() or self._hand_over()):
                await self._housekeeping()
                await self._pause(also=loop)
        finally:
            until.set()
            await self._stop_purge()
            await asyncio.gather(loop, *([metrics] if metrics else []), return_exceptions=True)
        if loop.done() and not loop.cancelled() and loop.exception() is not None:
            raise loop.exception()  # type: ignore[misc]
        self.lock.release()
        self.duty = Duty.STANDBY

    async def _failed(self, exc: Exception) -> None:
        """Rule 5: say why (log, the lock's note for `status`, STATUS=), keep beating, try
        again after a pause. A UI gives the lock up if the service waits for it."""
        if isinstance(exc, AgentError):
            log.error("forwarding interrupted: %s; trying again in %.0f s", exc, self.interval)
            why = f"waiting for the database: {exc}"
        else:
            log.exception("forwarder duty failed; trying again in %.0f s", self.interval)
            why = f"forwarding failed ({type(exc).__name__}); trying again"
        if self.lock.held:
            self.lock.note(why)
            if self.role == Role.UI and self.lock.someone_waiting():
                self.lock.release()
                self.duty = Duty.STANDBY
        if self.notify is not None:
            self.notify.status(why)
        self._settled.set()
        self._beat()
        await self._pause()

    def _my_turn(self) -> bool:
        """A UI never takes the lock while the service waits for it (rule 2)."""
        return self.role == Role.SERVICE or not self.lock.someone_waiting()

    def _hand_over(self) -> bool:
        """A UI that forwards gives way to a service standing by (rule 2)."""
        if self.role == Role.UI and self.lock.someone_waiting():
            log.info("the service is up: handing the forwarding over to it")
            return True
        return False

    async def _standing_by(self) -> None:
        if self.duty != Duty.STANDBY:
            holder = self.lock.holder_role() or "another process"
            log.info("standing by: %s forwards for this database", holder)
        self.duty = Duty.STANDBY
        if self.role == Role.SERVICE:
            self.lock.wait_for_turn()
        self._settled.set()
        self._beat()
        if self.notify is not None:
            self.notify.status(f"standing by: {self.lock.holder_role() or 'another process'} "
                               "forwards; taking over if it stops")
        await self._pause()

    # -- every sweep_seconds while forwarding (rule 3) ------------------------------------------

    async def _housekeeping(self) -> None:
        try:
            await self.agent.clock_watch.check()  # before any deadline is judged
            await self.agent.recovery.sweep()
            await self.agent.recovery.expire_decisions()
            self._start_purge()
            if self.notify is not None and self.describe is not None:
                trouble = self.agent.forwarder.trouble
                self.notify.status(f"waiting for the database: {trouble}" if trouble
                                   else self.describe(await self.agent.status()))
        except AgentError as exc:  # a busy or full database: the next round tries again
            log.error("housekeeping: %s", exc)

    def _start_purge(self) -> None:
        """Hourly, the retention purge as its own task (it may take minutes on a till that has
        not purged for long; each of its steps is short)."""
        if self._purge is not None and not self._purge.done():
            return
        if self._last_purge is not None and time.monotonic() - self._last_purge < PURGE_EVERY:
            return
        self._purge = asyncio.create_task(self._retention(), name="retention")

    async def _retention(self) -> None:
        config = self.agent.config
        try:
            await retention.enforce(self.agent.store, config.retention, self.agent.clock(),
                                    advices_days=config.store.retention_days)
        except AgentError as exc:  # a busy or full database: the next round tries again
            log.error("retention: %s", exc)
            return
        except Exception:  # noqa: BLE001 - rule 5
            log.exception("retention failed; trying again within the hour")
        self._last_purge = time.monotonic()

    async def _stop_purge(self) -> None:
        """A pass cut short is finished by the next one (its tally is kept, retention rule 6)."""
        if self._purge is not None:
            self._purge.cancel()
            await asyncio.gather(self._purge, return_exceptions=True)
            self._purge = None

    # -- metrics (rule 8) -----------------------------------------------------------------------

    async def _write_metrics(self, until: asyncio.Event) -> None:
        """While this process forwards: the textfile every interval and the endpoint."""
        from terminal_agent.core.metrics import attach  # prometheus_client: only here

        metrics = attach(self.agent.config, self.agent, tally=self.tally, role=self.role.value,
                         watchdog_usec=getattr(self.notify, "watchdog_usec", None))
        server = metrics.serve()
        try:
            await metrics.run(self.agent.store, until)
        finally:
            if server is not None:
                await asyncio.to_thread(server.shutdown)
                server.server_close()

    async def _share_tally(self) -> None:
        while not self._stop.is_set():
            await self._pause(seconds=float(self.agent.config.metrics.interval))
            await self._save_tally()

    async def _save_tally(self) -> None:
        """This process's counts into ``kv`` when they changed (for whoever writes metrics)."""
        tally = self.tally
        if tally is None or not tally.changed:
            return
        tally.changed = False
        key, text = KEY_PREFIX + self.role.value, tally.to_json()
        try:
            await self.agent.store.step(lambda db: db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET"
                " value=excluded.value", (key, text)))
        except AgentError as exc:  # a busy or full database: the next round tries again
            tally.changed = True
            log.warning("switch request counts not saved: %s", exc)

    # -- the print pump (rule 4) ----------------------------------------------------------------

    async def _print_pump(self) -> None:
        assert self.print_queue is not None
        await self.print_queue.run(float(self.agent.config.printer.retry_seconds))

    # -- helpers --------------------------------------------------------------------------------

    def _beat(self) -> None:
        """Standing by is progress too: the same heartbeat the forwarder loop beats."""
        self.agent.forwarder.beat()

    async def _pause(self, also: asyncio.Task[Any] | None = None,
                     seconds: float | None = None) -> None:
        waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._stop.wait())}
        if also is not None:
            waiters.add(also)
        try:
            await asyncio.wait(waiters, timeout=self.interval if seconds is None else seconds,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                if waiter is not also:
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter
