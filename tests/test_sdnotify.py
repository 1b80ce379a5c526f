"""sd_notify against a real AF_UNIX datagram socket, and the watchdog guard's freshness rule."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal_agent.sdnotify import Notifier, WatchdogGuard


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield str(path), sock
    sock.close()


def drain(sock: socket.socket) -> list[str]:
    sock.setblocking(False)
    out: list[str] = []
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(2)
    return out


def test_ready_status_watchdog_stopping(notify_socket: tuple[str, socket.socket]) -> None:
    path, sock = notify_socket
    n = Notifier.from_env({"NOTIFY_SOCKET": path})
    assert n.enabled
    assert n.ready()
    assert sock.recv(4096) == b"READY=1"
    assert n.status("outbox: 3 pending\nsecond line")
    assert sock.recv(4096) == b"STATUS=outbox: 3 pending second line"
    assert n.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert n.stopping("bye")
    assert sock.recv(4096) == b"STOPPING=1\nSTATUS=bye"
    n.close()


def test_abstract_namespace() -> None:
    name = f"terminal-agent-test-{uuid.uuid4()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        n = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert n.ready("recovered")
        assert sock.recv(4096) == b"READY=1\nSTATUS=recovered"
    finally:
        sock.close()


def test_noop_without_socket() -> None:
    n = Notifier.from_env({})
    assert not n.enabled
    assert n.ready() is False and n.watchdog() is False and n.status("x") is False
    assert n.watchdog_interval() is None


def test_send_failure_is_not_an_exception(tmp_path: Path) -> None:
    n = Notifier(str(tmp_path / "nobody-listens"))
    assert n.watchdog() is False


def test_watchdog_interval_rules(notify_socket: tuple[str, socket.socket]) -> None:
    path, _ = notify_socket
    assert Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"}
                             ).watchdog_interval() == 15.0
    mine = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier.from_env(mine).watchdog_interval() == pytest.approx(0.2)
    other = {**mine, "WATCHDOG_PID": str(os.getpid() + 1)}
    assert Notifier.from_env(other).watchdog_interval() is None
    assert Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "junk"}
                             ).watchdog_interval() is None
    assert Notifier.from_env({"WATCHDOG_USEC": "400000"}).watchdog_interval() is None


def test_guard_pings_only_while_fresh(notify_socket: tuple[str, socket.socket]) -> None:
    path, sock = notify_socket
    now = [100.0]
    guard = WatchdogGuard(Notifier(path, 2_000_000), clock=lambda: now[0])
    assert guard.interval == 1.0 and guard.max_silence == 1.0
    guard.beat()
    now[0] += 0.9
    assert guard.tick() and drain(sock) == ["WATCHDOG=1"]
    now[0] += 0.2  # 1.1 s without a beat: stale
    assert not guard.tick()
    assert [m for m in drain(sock) if m.startswith("WATCHDOG")] == []
    assert not guard.tick()
    assert drain(sock) == []  # the stall STATUS= is sent once, not every round
    guard.beat()
    assert guard.tick() and drain(sock) == ["WATCHDOG=1"]


async def test_guard_task_stops_feeding_when_the_loop_stalls(
        notify_socket: tuple[str, socket.socket]) -> None:
    path, sock = notify_socket
    guard = WatchdogGuard(Notifier(path, 100_000))  # WatchdogSec=0.1s: ping every 50 ms
    stalled = asyncio.Event()

    async def forwarder_loop() -> None:
        while not stalled.is_set():
            guard.beat()
            await asyncio.sleep(0.01)
        await asyncio.sleep(3600)  # hung: awaits forever, never beats

    async with guard:
        loop_task = asyncio.create_task(forwarder_loop())
        await asyncio.sleep(0.3)
        alive = drain(sock)
        assert alive.count("WATCHDOG=1") >= 3
        stalled.set()
        await asyncio.sleep(0.2)  # > max_silence: the guard has noticed
        drain(sock)
        await asyncio.sleep(0.3)
        assert "WATCHDOG=1" not in drain(sock)
        loop_task.cancel()
    assert guard._task is None


async def test_guard_inactive_without_watchdog() -> None:
    guard = WatchdogGuard(Notifier(None))
    assert not guard.active
    await asyncio.wait_for(guard.run(), timeout=1)  # returns at once
