"""The durable print queue on the real SQLite store: committed before printing, printed only
after the printer said so, nothing lost to paper out, unplugged cables, timeouts or restarts."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devices.printers import DummyPrinter, open_printer
from devices.status import PrinterStatus
from terminal_agent.commands.prompts import NotAuthorised
from terminal_agent.commands.reprint import run_reprint
from terminal_agent.config import PrinterConfig
from terminal_agent.core.cashiers import Cashiers
from terminal_agent.core.printing import (
    PrintQueue,
    ReprintNeedsSupervisor,
    UnknownReceipt,
    kick_drawer,
)
from terminal_agent.core.store import Store
from terminal_agent.core.vault import open_vault
from terminal_agent.receipts import preview_files, render, to_text
from tests.fake_printers import FakeNetworkPrinter, FakeSerialPrinter
from tests.receipt_samples import receipts

from .conftest import make_config

PIN = "1234567890123456"


async def open_store(path: Path) -> Store:
    """The test's database: made on first use, reopened after; its till key (PIN receipts are
    stored sealed) is the one beside it, as the agent's is."""
    store = await (Store.create(path, "TILL0001") if not path.exists() else Store.open(path))
    await open_vault(make_config(path.parent, init=False), store)
    return store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(tmp_path / "agent.db")
    yield s
    await s.close()


def job_args(name: str = "topup", columns: int = 48) -> tuple[str, str, str, bytes, str, bool]:
    r = receipts()[name]
    data = render(r, columns)
    return (f"txn-{name}", r.reference, r.kind, data, to_text(data, columns), r.contains_pin)


async def test_job_is_committed_before_the_printer_sees_it(store: Store, tmp_path: Path) -> None:
    seen: list[tuple[str, ...]] = []

    class Spy(DummyPrinter):
        async def write(self, data: bytes, *, label: str = "") -> None:
            with sqlite3.connect(tmp_path / "agent.db") as other:  # another connection
                seen.extend(other.execute("SELECT state FROM print_jobs").fetchall())
            await super().write(data, label=label)

    printer = Spy()
    queue = PrintQueue(store, printer)
    job_id = await queue.submit(*job_args())
    assert seen == [("pending",)]
    job = await queue.job(job_id)
    assert job is not None and job.state == "printed" and job.attempts == 1
    assert printer.output == job.content and "DIRECT TOP-UP" in job.text
    assert await queue.pending() == []


async def test_paper_out_before_the_job_waits_and_prints_in_order(store: Store) -> None:
    printer = DummyPrinter()
    printer.state = PrinterStatus.PAPER_OUT
    heard: list[PrinterStatus] = []
    queue = PrintQueue(store, printer, on_status=lambda s, _reason: heard.append(s))
    first = await queue.submit(*job_args("topup"))
    second = await queue.submit(*job_args("suv_redeem"))
    waiting = await queue.pending()
    assert [j.id for j in waiting] == [first, second]
    assert waiting[0].last_status == "paper_out" and "out of paper" in (waiting[0].last_error or "")
    assert queue.status is PrinterStatus.PAPER_OUT and heard == [PrinterStatus.PAPER_OUT]
    assert printer.jobs == []

    printer.state = PrinterStatus.ONLINE
    result = await queue.pump()
    assert result.printed == (first, second) and result.all_printed
    assert [label for label, _ in printer.jobs] == ["3F9A2C71", "3F9A2C71"]
    assert heard[-1] is PrinterStatus.ONLINE


async def test_paper_runs_out_during_the_job(store: Store) -> None:
    data = job_args("voucher_sale")[3]
    with FakeNetworkPrinter() as fake:
        fake.engine.paper_left = 200  # the roll ends a few lines into the slip
        printer = open_printer(fake.url, timeout=0.3)
        queue = PrintQueue(store, printer)
        job_id = await queue.submit(*job_args("voucher_sale"))
        job = await queue.job(job_id)
        assert job is not None and job.state == "pending" and job.last_status == "paper_out"
        assert "print again in full" in (job.last_error or "")
        assert queue.status is PrinterStatus.PAPER_OUT

        fake.engine.load_paper()
        result = await queue.pump()
        assert result.printed == (job_id,)
        assert bytes(fake.engine.printed).endswith(data)  # the whole slip, after the stub
        printer.close()


async def test_printer_unplugged_then_plugged_back(store: Store, tmp_path: Path) -> None:
    dev = tmp_path / "usb" / "lp0"
    printer = open_printer(f"file://{dev}")
    queue = PrintQueue(store, printer)
    job_id = await queue.submit(*job_args())
    job = await queue.job(job_id)
    assert job is not None and job.state == "pending" and job.last_status == "offline"
    dev.parent.mkdir()
    dev.write_bytes(b"")  # plugged back in
    assert (await queue.pump()).printed == (job_id,)
    assert dev.read_bytes() == job.content


async def test_serial_timeout_keeps_the_job(store: Store) -> None:
    big = render(receipts()["shift_report"], 48) * 4000  # more than the line will buffer
    with FakeSerialPrinter() as fake:
        printer = open_printer(fake.url, timeout=0.3)
        queue = PrintQueue(store, printer)
        fake.reading = False
        job_id = await queue.submit("t", "REF1", "shift_report", big, "report", False)
        job = await queue.job(job_id)
        assert job is not None and job.state == "pending"
        assert "timed out" in (job.last_error or "") and queue.status is PrinterStatus.OFFLINE
        fake.reading = True
        # the line is back: a patient printer (this fake parses the long job in Python, slower
        # than 0.3 s on a loaded machine, which would time out again and again)
        printer.close()
        printer = queue.printer = open_printer(fake.url, timeout=10)
        deadline = time.monotonic() + 60
        while not (await queue.pump()).all_printed and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        job = await queue.job(job_id)
        assert job is not None and job.state == "printed" and job.attempts >= 2, job
        printer.close()


async def test_nothing_is_lost_across_a_restart(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "agent.db")
    offline = DummyPrinter()
    offline.state = PrinterStatus.OFFLINE
    job_id = await PrintQueue(store, offline).submit(*job_args("mt_send"))
    await store.close()

    store = await open_store(tmp_path / "agent.db")
    printer = DummyPrinter()
    queue = PrintQueue(store, printer)
    assert [j.id for j in await queue.pending()] == [job_id]
    assert (await queue.pump()).printed == (job_id,)
    assert b"SEND MONEY" in printer.output
    await store.close()


async def test_background_runner_prints_when_the_printer_is_back(store: Store) -> None:
    printer = DummyPrinter()
    printer.state = PrinterStatus.COVER_OPEN
    queue = PrintQueue(store, printer)
    runner = asyncio.create_task(queue.run(interval=0.05))
    try:
        job_id = await queue.submit(*job_args(), pump=False)
        await asyncio.sleep(0.1)
        assert queue.status is PrinterStatus.COVER_OPEN and "cover" in (queue.reason or "")
        printer.state = PrinterStatus.ONLINE
        for _ in range(40):
            await asyncio.sleep(0.025)
            if not await queue.pending():
                break
        job = await queue.job(job_id)
        assert job is not None and job.state == "printed"
    finally:
        runner.cancel()


async def test_reprint_rules(store: Store) -> None:
    printer = DummyPrinter(columns=32)
    queue = PrintQueue(store, printer)
    voucher = await queue.submit(*job_args("voucher_sale", 32))
    r = receipts()["voucher_sale"]

    with pytest.raises(UnknownReceipt):
        await queue.reprint("NOPE0000", "sup1")
    with pytest.raises(ReprintNeedsSupervisor):
        await queue.reprint(r.reference, None)
    original = await queue.job(voucher)
    assert original is not None and original.reprints == 0 and len(await queue.history(r.reference)) == 1

    copy1 = await queue.reprint(r.reference.lower(), "sup1")
    copy2 = await queue.reprint(r.reference, "sup2")
    history = await queue.history(r.reference)
    assert [j.id for j in history] == [voucher, copy1, copy2]
    assert [(j.copy_of, j.copy_number, j.authorised_by) for j in history[1:]] == [
        (voucher, 1, "sup1"), (voucher, 2, "sup2")]
    assert history[0].reprints == 2
    assert history[1].text.count("*** COPY ***") == 2 and "*** COPY 2 ***" in history[2].text
    assert all(j.state == "printed" for j in history) and len(printer.jobs) == 3
    assert printer.jobs[1][0] == f"{r.reference}-copy1"


async def test_reprint_without_pin_needs_no_supervisor(store: Store) -> None:
    queue = PrintQueue(store, DummyPrinter())
    await queue.submit(*job_args("topup"))
    copy = await queue.reprint(receipts()["topup"].reference, None)
    job = await queue.job(copy)
    assert job is not None and job.authorised_by is None and "COPY" in job.text


async def test_pins_stay_out_of_logs_and_reprs(store: Store, caplog: pytest.LogCaptureFixture
                                               ) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: the store logs no statement at any level
    printer = DummyPrinter()
    printer.state = PrinterStatus.PAPER_OUT
    queue = PrintQueue(store, printer)
    job_id = await queue.submit(*job_args("voucher_sale"))
    printer.state = PrinterStatus.ONLINE
    await queue.pump()
    await queue.reprint(receipts()["voucher_sale"].reference, "sup1")
    job = await queue.job(job_id)
    assert PIN not in caplog.text and "1234 5678" not in caplog.text
    assert PIN not in repr(job) and "1234 5678" not in repr(job)


async def test_drawer_kick_helper() -> None:
    printer = DummyPrinter()
    assert await kick_drawer(printer, PrinterConfig(drawer_pin=5, drawer_pulse_ms=60))
    assert printer.jobs == [("drawer", b"\x1bp\x01\x1e\x3c")]
    assert not await kick_drawer(printer, PrinterConfig(open_drawer=False))
    printer.state = PrinterStatus.OFFLINE
    assert not await kick_drawer(printer, PrinterConfig())  # a sale never fails on the drawer


def test_reprint_command(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    previews = tmp_path / "previews"
    (tmp_path / "config.toml").write_text(
        f'[store]\npath = "{tmp_path / "agent.db"}"\n'
        f'[printer]\nurl = "preview://{previews}"\ncolumns = 32\n[logging]\ntarget = "stderr"\n')
    (tmp_path / "config.toml").chmod(0o600)

    async def seed() -> None:
        store = await open_store(tmp_path / "agent.db")
        await Cashiers(store).add("9001", "7391", role="supervisor")
        queue = PrintQueue(store, open_printer(f"preview://{previews}", columns=32,
                                               preview=preview_files))
        await queue.submit(*job_args("voucher_sale", 32))
        await store.close()

    asyncio.run(seed())
    ref = receipts()["voucher_sale"].reference
    args = argparse.Namespace(config=str(tmp_path / "config.toml"), reference=ref, supervisor="")
    monkeypatch.setattr("sys.stdin", io.StringIO("sup1\n7391\n"))  # any name no longer does
    with pytest.raises(NotAuthorised):
        run_reprint(args)
    monkeypatch.setattr("sys.stdin", io.StringIO("7391\n"))
    args.supervisor = "9001"
    assert run_reprint(args) == 0
    assert "marked COPY" in capsys.readouterr().out
    copies = sorted(previews.glob("*-copy1.txt"))
    assert len(copies) == 1 and "*** COPY ***" in copies[0].read_text()
