"""Serial barcode scanners: codes arrive as events; a scanner that goes away is reopened."""

from __future__ import annotations

import asyncio
import contextlib
import os

from devices.scanner import Scan, SerialScanner, classify


def _pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    return master, slave, os.ttyname(slave)


def test_classify() -> None:
    assert classify("27821234567") == "msisdn"
    assert classify("0821234567") == "msisdn"
    assert classify("+27821234567") == "msisdn"
    assert classify("1234567890123456") == "code"
    assert classify("ABCD-1234") == "code"


async def test_codes_arrive_as_events_over_a_pty() -> None:
    master, slave, port = _pty()
    scanner = SerialScanner(f"serial://{port}?baudrate=9600", poll=0.05)
    try:
        got: list[Scan] = []

        async def collect() -> None:
            async for scan in scanner:
                got.append(scan)
                if len(got) == 3:
                    return

        task = asyncio.create_task(collect())
        await asyncio.sleep(0.1)
        os.write(master, b"27821234567\r\n9876543210")
        await asyncio.sleep(0.1)
        os.write(master, b"987654\r\nab\r")  # split code, then line noise (too short)
        os.write(master, b"VOUCHER-XYZ-1\n")
        await asyncio.wait_for(task, 3)
        assert [(s.code, s.kind) for s in got] == [
            ("27821234567", "msisdn"), ("9876543210987654", "code"), ("VOUCHER-XYZ-1", "code")]
        assert scanner.connected
    finally:
        scanner.close()
        os.close(master)
        os.close(slave)


async def test_callback_form_with_loop_url() -> None:
    scanner = SerialScanner("loop://", poll=0.05)
    seen: list[str] = []
    done = asyncio.Event()

    async def on_scan(scan: Scan) -> None:
        seen.append(scan.code)
        done.set()

    task = asyncio.create_task(scanner.run(on_scan))
    await asyncio.sleep(0.1)
    assert scanner._dev is not None
    scanner._dev.write(b"1234567890\r\n")  # loop:// hands written bytes back as if scanned
    await asyncio.wait_for(done.wait(), 3)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    scanner.close()
    assert seen == ["1234567890"]


async def test_missing_scanner_retries_without_crashing() -> None:
    scanner = SerialScanner("/dev/ttyNOPE42", reconnect_seconds=0.05, poll=0.05)
    task = asyncio.create_task(anext(aiter(scanner)))
    await asyncio.sleep(0.2)
    assert not task.done()
    assert not scanner.connected and scanner.last_error and "ttyNOPE42" in scanner.last_error
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
