"""`terminal-agent forward` under a real NOTIFY_SOCKET: READY, STATUS, WATCHDOG, and a stuck
forwarder loop (TERMINAL_AGENT_STALL_FILE) that stops the watchdog pings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from terminal_agent.core.store import create_database

# Runs once the lead's forwarder (terminal_agent.core.service:run_forward) imports.
pytest.importorskip("terminal_agent.core.service")

ROOT = Path(__file__).resolve().parents[1]
WATCHDOG_USEC = 400_000  # ping every 0.2 s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _collect(sock: socket.socket, seconds: float) -> list[str]:
    """Every datagram received for ``seconds``, split into lines."""
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            lines += sock.recv(65536).decode().splitlines()
        except TimeoutError:
            break
    return lines


def _wait_for(sock: socket.socket, prefix: str, seconds: float,
              proc: subprocess.Popen[bytes], log: Path) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        sock.settimeout(0.2)
        try:
            seen += sock.recv(65536).decode().splitlines()
        except TimeoutError:
            continue
        if any(line.startswith(prefix) for line in seen):
            return seen
    raise AssertionError(f"no {prefix} within {seconds}s (exit code {proc.poll()}); got {seen}\n"
                         + log.read_text(errors="replace")[-3000:])


def test_forward_notifies_and_watchdog_follows_the_loop(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o700)
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[store]\npath = "{tmp_path / "agent.db"}"\n'
        f'[switch]\nbase_url = "http://127.0.0.1:{_free_port()}"\n'
        '[forwarder]\npoll_interval = 0.05\n'
        '[logging]\ntarget = "stderr"\n',
        encoding="utf-8",
    )
    cfg.chmod(0o600)
    create_database(tmp_path / "agent.db", "TILL0001")
    stall = tmp_path / "stall"
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    env = {k: v for k, v in os.environ.items()
           if k not in ("WATCHDOG_PID", "LISTEN_FDS", "CREDENTIALS_DIRECTORY")}
    env.update(NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC=str(WATCHDOG_USEC),
               TERMINAL_AGENT_STALL_FILE=str(stall), PYTHONPATH=str(ROOT))
    log = (tmp_path / "forward.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal_agent.cli", "forward", "--config", str(cfg)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    try:
        seen = _wait_for(sock, "READY=1", 20, proc, tmp_path / "forward.log")
        seen += _collect(sock, 1.0)
        assert any(line.startswith("STATUS=") for line in seen), seen
        assert seen.count("WATCHDOG=1") >= 3, seen

        stall.touch()  # the forwarder loop stops beating from its next iteration
        _collect(sock, 1.5)  # let the last fresh beat age past the freshness limit
        stuck = _collect(sock, 1.5)
        assert "WATCHDOG=1" not in stuck, stuck
        assert proc.poll() is None, "a stuck loop is systemd's to kill, not ours"

        stall.unlink()  # the loop recovers: pings resume
        resumed = _collect(sock, 1.5)
        assert resumed.count("WATCHDOG=1") >= 2, resumed
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        sock.close()
    output = (tmp_path / "forward.log").read_text(errors="replace")
    assert proc.returncode in (0, -15), output
