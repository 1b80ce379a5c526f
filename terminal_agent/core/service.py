"""The headless service (`terminal-agent forward`, commands/forward.py): the runtime as the
service, waiting out a database it cannot use, with systemd's notifications and watchdog."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from contextlib import suppress
from typing import Any

from terminal_agent.config import AgentConfig
from terminal_agent.core.agent import Agent, StatusSnapshot
from terminal_agent.errors import StoreUnavailable

log = logging.getLogger("terminal_agent.service")

STALL_ENV = "TERMINAL_AGENT_STALL_FILE"


def describe(snap: StatusSnapshot) -> str:
    return (f"outbox: {snap.outbox.pending} pending{_age_text(snap)}, {snap.outbox.parked} "
            f"parked; {snap.awaiting_decision} awaiting decision")


def _age_text(snap: StatusSnapshot) -> str:
    return f", {snap.oldest_phrase}" if snap.oldest_phrase else ""


async def forward(cfg: AgentConfig, *, stop: asyncio.Event | None = None) -> int:
    """The headless service. A database that cannot be written for a while (full disk, locked)
    never ends it: it says why (systemd STATUS=, `status`), keeps the watchdog fed and tries
    again with a growing pause. Only what a person must fix (config, a missing, foreign or
    damaged database, another forwarder) ends it, with one sentence."""
    from terminal_agent.core.forwarder import TROUBLE_PAUSE_MAX, ForwarderLock
    from terminal_agent.sdnotify import Notifier, WatchdogGuard

    notify = Notifier.from_env()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    guard = WatchdogGuard(notify)
    lock = ForwarderLock(cfg.store.path)  # held across retries: `status` reads its note
    pause, said = 0.0, ""
    try:
        async with guard:
            while not stop.is_set():
                try:
                    return await _serve(cfg, stop, notify, guard, lock)
                except StoreUnavailable as exc:
                    pause = min(TROUBLE_PAUSE_MAX, max(1.0, pause * 2))
                    if str(exc) != said:
                        log.error("cannot use the database: %s (trying again every %.0f s at "
                                  "most)", exc, TROUBLE_PAUSE_MAX)
                        said = str(exc)
                    notify.ready()  # up, and saying what it waits for
                    notify.status(f"waiting for the database: {exc}")
                    with suppress(OSError):  # a full disk may refuse even the lock file
                        if lock.held or lock.acquire():
                            lock.note(f"waiting for the database: {exc}")
                    await _pause(stop, pause, guard)
    finally:
        lock.release()
    return 0


async def _pause(stop: asyncio.Event, seconds: float, guard: object) -> None:
    end = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < end:
        guard.beat()  # type: ignore[attr-defined]
        try:
            await asyncio.wait_for(stop.wait(), timeout=min(1.0, end - time.monotonic()))
        except TimeoutError:
            pass


async def _serve(cfg: AgentConfig, stop: asyncio.Event, notify: Any, guard: Any,
                 lock: Any) -> int:
    """The runtime as ``Role.SERVICE`` (forwarding, or standing by while a UI forwards and
    taking over from it) until SIGTERM; READY once recovery is done or it stands by."""
    from terminal_agent.core.runtime import Role, Runtime

    async with Agent.open(cfg, migrate=True, quick_check=True, role="service") as agent:
        if agent.store.migrated_from is not None:
            log.warning("database migrated from schema %d to %d; backup taken before: %s",
                        agent.store.migrated_from, agent.store.version,
                        agent.store.pre_migration_backup)
        agent.lock = lock  # perhaps held already, noting what it waited for
        agent.forwarder.stall_file = os.environ.get(STALL_ENV)

        def trouble(text: str) -> None:
            lock.note(text)
            if text:
                notify.status(text)

        agent.forwarder.on_trouble = trouble
        guard.beat()
        async with Runtime(agent, Role.SERVICE, notify=notify, on_beat=guard.beat,
                           describe=describe):
            notify.ready()
            notify.status(describe(await agent.status()))
            await stop.wait()  # the runtime forwards, sweeps, purges and writes metrics
            notify.stopping()
    return 0
