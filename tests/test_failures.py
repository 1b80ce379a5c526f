"""Failures that must keep the service up (issue 12, finding 6): a full disk or a locked database
makes the forwarder wait and say why, never exit; once space returns everything is delivered;
no command prints a traceback; the UI shows the cause full screen instead of a blank console."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.core.states import State
from terminal_agent.core.store import create_database
from terminal_agent.protocol.airtime import Product
from terminal_agent.sim import SimOptions, SimServer

from .conftest import make_config

ROOT = Path(__file__).resolve().parents[1]
VOUCHER = Product(product_id="VOD10")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(SimOptions()) as server:
        yield server


async def queue_reversals(cfg, sim: SimServer, n: int) -> None:
    """``n`` sales whose answer was lost: ``n`` reversals owed to the switch."""
    sim.add_faults({"op": "VOUCHER_PROVISION", "type": "status", "status": 504, "when": "after"})
    try:
        async with Agent.open(cfg, password="") as agent:
            for _ in range(n):
                assert (await agent.vouchers.sell(VOUCHER, 1000, "c1")).verdict == "unknown"
    finally:
        sim.clear_faults()


def states(db: Path) -> list[str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT state FROM transactions")]
    finally:
        con.close()


def wait_for(what, seconds: float = 60.0, step: float = 0.1) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if what():
            return True
        time.sleep(step)
    return False


# -- the forwarder loop on a database that fills up (SQLite's page limit) --------------------------


async def fill_pages(store) -> None:
    """Fill the pages up to the limit, down to the last few bytes, in the tables the forwarder
    writes (its timeline events) and in a table of their own."""
    from terminal_agent.errors import StoreFull

    txn = (await store.fetchone("SELECT id FROM transactions"))[0]
    n = 0
    for sql in ("INSERT INTO events (txn_id, at, what, note) VALUES (?, 0, 'filler', ?)",
                "INSERT INTO kv VALUES ('filler' || ?, ?)"):
        for size in (2000, 200, 20, 1):
            while True:
                n += 1
                key = txn if sql.startswith("INSERT INTO events") else str(n)
                try:
                    await store.step(lambda db, s=sql, k=key, z=size: db.execute(s, (k, "x" * z)))
                except StoreFull:
                    break


async def test_forwarder_waits_on_a_full_database_and_delivers_once_space_returns(tmp_path, sim):
    sim.reset()
    cfg = make_config(tmp_path, sim.url)
    cfg = msgspec.structs.replace(  # a lost commit's lease runs out quickly
        cfg, forwarder=msgspec.structs.replace(cfg.forwarder, lease_seconds=0.5))
    await queue_reversals(cfg, sim, 5)
    async with Agent.open(cfg, password="") as agent:
        store = agent.store
        await store.set_page_limit(await store.page_count())
        await fill_pages(store)
        stop = asyncio.Event()
        beats: list[float] = []
        agent.forwarder.on_beat = lambda: beats.append(time.monotonic())
        notes: list[str] = []
        agent.forwarder.on_trouble = notes.append
        running = asyncio.create_task(agent.forwarder.run(stop))
        for _ in range(300):
            if agent.forwarder.trouble:
                break
            await asyncio.sleep(0.05)
        assert agent.forwarder.trouble and "full" in agent.forwarder.trouble
        seen = len(beats)
        for _ in range(600):                            # keeps beating (the watchdog is fed)
            if len(beats) > seen + 2:
                break
            await asyncio.sleep(0.05)
        assert len(beats) > seen + 2
        assert not running.done()                       # and never exits
        assert any("waiting for the database" in n for n in notes)
        snap = await agent.status()
        assert snap.outbox.pending == 5                  # nothing lost, nothing marked

        await store.step(lambda db: db.execute("DELETE FROM kv WHERE key LIKE 'filler%'"))
        await store.step(lambda db: db.execute("DELETE FROM events WHERE what='filler'"))
        await store.set_page_limit(1_000_000_000)        # space is back
        for _ in range(600):
            if (await agent.outbox.counts()).pending == 0:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, 30)
        assert agent.forwarder.trouble is None and notes[-1] == ""
        txns = await agent.journal.in_states({State.REVERSED})
        assert len(txns) == 5
    assert [o["final"] for o in sim.ledger()["originals"]] == ["reversed"] * 5


# -- a locked database: `forward` (a real process) waits, says why, then delivers ------------------


def write_config(path: Path, db: Path, url: str, extra: str = "") -> Path:
    path.write_text(f'[switch]\nbase_url = "{url}"\nread_timeout = 2.0\n'
                    f'[store]\npath = "{db}"\nbusy_timeout_ms = 200\n'
                    '[forwarder]\nbackoff_initial = 0.05\nbackoff_max = 0.2\npoll_interval = 0.05\n'
                    f'[logging]\ntarget = "stderr"\n{extra}')
    path.chmod(0o600)
    return path


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal_agent.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


async def test_forward_waits_while_the_database_is_locked(tmp_path, sim):
    sim.reset()
    cfg = make_config(tmp_path, sim.url)
    await queue_reversals(cfg, sim, 3)
    path = write_config(tmp_path / "forward.toml", tmp_path / "agent.db", sim.url)
    blocker = sqlite3.connect(tmp_path / "agent.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    log = (tmp_path / "forward.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "terminal_agent.cli", "forward", "--config",
                             str(path)], cwd=ROOT, stderr=log, stdout=log)
    try:
        assert wait_for(lambda: "locked" in (tmp_path / "forward.log").read_text(), 60), \
            (tmp_path / "forward.log").read_text()
        time.sleep(1.0)
        assert proc.poll() is None  # still up, and `status` says why
        status = cli("status", "--config", str(path))
        assert "running (waiting for the database:" in status.stdout, status.stdout + status.stderr
        assert "locked" in status.stdout
        blocker.execute("ROLLBACK")
        blocker.close()
        assert wait_for(lambda: states(tmp_path / "agent.db") == ["REVERSED"] * 3, 90), \
            (tmp_path / "forward.log").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    assert proc.returncode == 0
    assert "Traceback" not in (tmp_path / "forward.log").read_text()


# -- a full file system (a small tmpfs in a private mount namespace) -------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs mounted at ``tmp_path/disk`` for this test only (needs root)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a small file system")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs",
                              str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh:  # unbuffered: nothing left to flush at close
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


async def test_forward_on_a_full_disk_stays_up_and_delivers_when_space_returns(
        tmp_path, sim, small_disk):
    sim.reset()
    cfg = make_config(small_disk, sim.url)
    await queue_reversals(cfg, sim, 10)
    for side in ("-wal", "-shm"):
        assert not Path(f"{cfg.store.path}{side}").exists()  # closed cleanly: must be re-made
    filler = fill(small_disk)
    path = write_config(tmp_path / "forward.toml", small_disk / "agent.db", sim.url)

    status = cli("status", "--config", str(path))
    assert "Traceback" not in status.stderr  # works, or one sentence
    log = (tmp_path / "forward.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "terminal_agent.cli", "forward",
                             "--config", str(path)], cwd=ROOT, stderr=log, stdout=log)
    try:
        text = lambda: (tmp_path / "forward.log").read_text()  # noqa: E731
        assert wait_for(lambda: "cannot" in text() or "full" in text(), 60), text()
        time.sleep(2.0)
        assert proc.poll() is None, text()          # rc 2 before: now it waits
        assert "Traceback" not in text()
        filler.unlink()                             # space is back
        assert wait_for(lambda: states(Path(cfg.store.path)) == ["REVERSED"] * 10, 120), text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    assert proc.returncode == 0, (tmp_path / "forward.log").read_text()
    assert [o["final"] for o in sim.ledger()["originals"]] == ["reversed"] * 10


# -- commands: one sentence, never a traceback ---------------------------------------------------


def test_status_on_a_damaged_database_is_one_sentence(tmp_path):
    from tests.test_store import damage

    create_database(tmp_path / "agent.db", "TILL0001")
    con = sqlite3.connect(tmp_path / "agent.db")
    con.executemany("INSERT INTO kv VALUES (?, ?)", [(f"k{i}", "x" * 300) for i in range(300)])
    con.commit()
    con.close()
    damage(tmp_path / "agent.db")
    path = write_config(tmp_path / "c.toml", tmp_path / "agent.db", "http://127.0.0.1:9")
    for command in ("status", "check", "backup"):
        args = [command, *([str(tmp_path / "b")] if command == "backup" else []),
                "--config", str(path)]
        out = cli(*args)
        assert out.returncode in (1, 2) and "Traceback" not in out.stderr, out.stderr
    out = cli("status", "--json", "--config", str(tmp_path / "nowhere.toml"))
    assert out.returncode == 2 and "cannot read configuration" in out.stderr


# -- the UI: the cause on screen, not a blank console -------------------------------------------


async def test_failure_screen_shows_the_cause():
    from textual.widgets import Static

    from terminal_agent.ui.failure import FailureApp

    cause = "/var/lib/terminal-agent/agent.db is damaged (database disk image is malformed)"
    app = FailureApp(cause, retry_after=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        shown = " ".join(str(w.render()) for w in app.query(Static))
        assert "The till cannot start" in shown and "is damaged" in shown
        assert "Call support" in shown
        await pilot.press("r")
    assert app.return_value == 0


def test_ui_start_on_a_damaged_database_shows_the_cause(tmp_path):
    import argparse

    from terminal_agent.commands.ui import run_ui

    create_database(tmp_path / "agent.db", "TILL0002")  # another till's: refused at start
    path = write_config(tmp_path / "c.toml", tmp_path / "agent.db", "http://127.0.0.1:9")
    shown: list[str] = []
    code = run_ui(argparse.Namespace(config=str(path)),
                  show_failure=lambda cause: shown.append(cause) or len(shown) < 2)
    assert code == 2 and len(shown) == 2  # shown, tried again, shown again
    assert "belongs to till TILL0002" in shown[0]
