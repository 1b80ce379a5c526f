"""Printers by URL, against fakes that speak real ESC/POS status (DLE EOT) on 127.0.0.1 and on a
pseudo-terminal; unplugged devices and timeouts must give a clear status, never a crash."""

from __future__ import annotations

import asyncio
import io
import socket
from pathlib import Path

import pytest
from PIL import Image

from devices.printers import (
    DevicePrinter,
    DummyPrinter,
    FileChannel,
    PreviewPrinter,
    SerialChannel,
    SocketChannel,
    UsbChannel,
    drawer_kick,
    open_printer,
)
from devices.status import PrinterError, PrinterStatus, decode
from terminal_agent.errors import ConfigError
from terminal_agent.receipts import preview_files, render
from tests.fake_printers import FakeNetworkPrinter, FakeSerialPrinter
from tests.receipt_samples import receipts

FAST = 0.3


def test_open_printer_by_url(tmp_path: Path) -> None:
    assert isinstance(open_printer("dummy://"), DummyPrinter)
    preview = open_printer(f"preview://{tmp_path}", columns=32)
    assert isinstance(preview, PreviewPrinter) and preview.folder == tmp_path
    tcp = open_printer("tcp://10.0.0.5:9101?timeout=2")
    assert isinstance(tcp, DevicePrinter) and isinstance(tcp.channel, SocketChannel)
    assert (tcp.channel.host, tcp.channel.port, tcp.timeout) == ("10.0.0.5", 9101, 2.0)
    assert open_printer("tcp://10.0.0.5").channel.port == 9100  # type: ignore[attr-defined]
    ser = open_printer("serial:///dev/ttyS0?baudrate=19200&rtscts=1")
    assert isinstance(ser, DevicePrinter) and isinstance(ser.channel, SerialChannel)
    assert ser.channel.port == "/dev/ttyS0"
    assert ser.channel.options == {"baudrate": 19200, "rtscts": True}
    assert open_printer("loop://").channel.port == "loop://"  # type: ignore[attr-defined]
    f = open_printer("file:///dev/usb/lp0")
    assert isinstance(f, DevicePrinter) and isinstance(f.channel, FileChannel)
    assert f.channel.path == "/dev/usb/lp0"
    usb = open_printer("usb://04b8:0202?out_ep=0x01")
    assert isinstance(usb, DevicePrinter) and isinstance(usb.channel, UsbChannel)
    assert (usb.channel.vendor, usb.channel.product) == (0x04B8, 0x0202)
    for bad in ("lpt://1", "/dev/usb/lp0", "usb://epson"):
        with pytest.raises(ConfigError):
            open_printer(bad)


def test_drawer_kick_bytes() -> None:
    assert drawer_kick(2, 100) == b"\x1bp\x00\x32\x64"
    assert drawer_kick(5, 1000) == b"\x1bp\x01\xff\xff"
    with pytest.raises(ConfigError):
        drawer_kick(3, 100)


def test_status_decoding_table() -> None:
    assert decode(0x12, None, 0x12) is PrinterStatus.ONLINE
    assert decode(0x12, None, 0x1E) is PrinterStatus.PAPER_NEAR_END
    assert decode(0x1A, 0x16, 0x12) is PrinterStatus.COVER_OPEN
    assert decode(0x1A, 0x32, 0x72) is PrinterStatus.PAPER_OUT
    assert decode(0x1A, 0x52, 0x12) is PrinterStatus.OFFLINE
    assert decode(0x10, None, None) is PrinterStatus.UNKNOWN  # an echo, not a status byte
    assert all(s.message for s in PrinterStatus)


async def test_dummy_printer_acts_out_states() -> None:
    p = DummyPrinter()
    await p.write(b"abc", label="R1")
    p.state = PrinterStatus.PAPER_OUT
    with pytest.raises(PrinterError) as err:
        await p.write(b"def")
    assert err.value.status is PrinterStatus.PAPER_OUT and p.output == b"abc"


async def test_preview_printer_writes_txt_and_png(tmp_path: Path) -> None:
    data = render(receipts()["topup"], 32)
    p = open_printer(f"preview://{tmp_path}", columns=32, preview=preview_files)
    assert await p.status() is PrinterStatus.ONLINE
    assert await p.write(data, label="3F9A2C71") == str(tmp_path / "0001-3F9A2C71.png")
    await p.write(data, label="a/b c")
    await p.kick_drawer(2, 100)
    again = open_printer(f"preview://{tmp_path}", columns=32,  # numbering survives a restart
                         preview=preview_files)
    await again.write(data, label="X")
    names = sorted(x.name for x in tmp_path.iterdir())
    assert names == ["0001-3F9A2C71.png", "0001-3F9A2C71.txt", "0002-a_b_c.png",
                     "0002-a_b_c.txt", "0003-X.png", "0003-X.txt"]
    assert "DIRECT TOP-UP" in (tmp_path / "0001-3F9A2C71.txt").read_text()
    Image.open(io.BytesIO((tmp_path / "0001-3F9A2C71.png").read_bytes())).verify()


async def test_preview_printer_takes_bytes_and_draws_with_what_it_is_given(tmp_path: Path) -> None:
    """Devices render nothing themselves: without a drawer the job's bytes are kept as they
    came; with one, what it drew; a job it cannot draw is kept raw beside its sentence."""
    bare = open_printer(f"preview://{tmp_path / 'bare'}", columns=32)
    where = await bare.write(b"\x1b@hello\n", label="R1")
    assert where.endswith("0001-R1.txt")
    assert (tmp_path / "bare" / "0001-R1.bin").read_bytes() == b"\x1b@hello\n"
    seen = []

    def drawer(data: bytes, columns: int, profile: str | None) -> tuple[str, bytes | None]:
        seen.append((data, columns, profile))
        return "drawn\n", None

    drawn = open_printer(f"preview://{tmp_path / 'drawn'}", columns=42, profile="TM-T20II",
                         preview=drawer)
    await drawn.write(b"abc", label="R2")
    assert seen == [(b"abc", 42, "TM-T20II")]
    assert (tmp_path / "drawn" / "0001-R2.txt").read_text() == "drawn\n"
    assert (await open_printer("dummy://").write(b"x")) == "dummy://"


async def test_preview_printer_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    p = open_printer(f"preview://{blocker}/sub")
    assert await p.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError):
        await p.write(b"x\n")


# --- network printer ------------------------------------------------------------------------

@pytest.mark.parametrize("state", [PrinterStatus.ONLINE, PrinterStatus.PAPER_NEAR_END,
                                   PrinterStatus.COVER_OPEN, PrinterStatus.PAPER_OUT,
                                   PrinterStatus.OFFLINE])
async def test_network_printer_reports_real_status(state: PrinterStatus) -> None:
    with FakeNetworkPrinter() as fake:
        fake.engine.state = state
        p = open_printer(fake.url, timeout=FAST)
        try:
            assert await p.status() is state
        finally:
            p.close()


async def test_network_printer_gets_exact_bytes_and_drawer_kick() -> None:
    data = render(receipts()["voucher_sale"], 48)
    with FakeNetworkPrinter() as fake:
        p = open_printer(fake.url, timeout=FAST)
        await p.write(data)
        await p.kick_drawer(5, 60)
        assert await p.status() is PrinterStatus.ONLINE  # round trip: everything has arrived
        p.close()
        assert bytes(fake.engine.printed) == data + b"\x1bp\x01\x1e\x3c"


async def test_network_printer_switched_off() -> None:
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = open_printer(f"tcp://127.0.0.1:{port}", timeout=FAST)
    assert await p.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError) as err:
        await p.write(b"hello\n")
    assert "connection refused" in str(err.value) and err.value.status is PrinterStatus.OFFLINE


async def test_network_printer_goes_quiet_then_comes_back() -> None:
    with FakeNetworkPrinter() as fake:
        p = open_printer(fake.url, timeout=FAST)
        assert await p.status() is PrinterStatus.ONLINE
        fake.engine.silent = True
        assert await p.status() is PrinterStatus.OFFLINE  # it answered before: silence = trouble
        fake.engine.silent = False
        fake.drop_connections()  # cable pulled and put back
        seen = [await p.status() for _ in range(2)]
        assert seen[-1] is PrinterStatus.ONLINE
        p.close()


async def test_network_printer_that_never_answers_status_is_unknown() -> None:
    with FakeNetworkPrinter() as fake:
        fake.engine.silent = True
        p = open_printer(fake.url, timeout=FAST)
        assert await p.status() is PrinterStatus.UNKNOWN
        p.close()


# --- serial printer -------------------------------------------------------------------------

async def test_serial_printer_on_a_pty() -> None:
    data = render(receipts()["mt_send"], 32)
    with FakeSerialPrinter() as fake:
        p = open_printer(f"{fake.url}?baudrate=19200", columns=32, timeout=FAST)
        assert await p.status() is PrinterStatus.ONLINE
        await p.write(data)
        for _ in range(200):  # the fake reads the pty on its own thread
            if bytes(fake.engine.printed) == data:
                break
            await asyncio.sleep(0.01)
        assert bytes(fake.engine.printed) == data
        fake.engine.state = PrinterStatus.PAPER_OUT
        assert await p.status() is PrinterStatus.PAPER_OUT
        p.close()


async def test_serial_write_timeout_keeps_the_loop_free_and_recovers() -> None:
    with FakeSerialPrinter() as fake:
        p = open_printer(fake.url, timeout=FAST)
        assert await p.status() is PrinterStatus.ONLINE
        fake.reading = False  # printer stops taking data (flow control, jammed)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        task = asyncio.create_task(ticker())
        with pytest.raises(PrinterError) as err:
            await p.write(b"x" * 2_000_000)
        task.cancel()
        assert "timed out" in str(err.value)
        assert ticks >= 5  # the blocking write ran off the event loop
        assert await p.status() is PrinterStatus.OFFLINE
        fake.reading = True
        for _ in range(20):  # drains what was sent, then answers again
            if await p.status() is PrinterStatus.ONLINE:
                break
        else:
            pytest.fail("printer did not come back")
        p.close()


async def test_serial_loop_url() -> None:
    p = open_printer("serial://loop://", timeout=0.1)
    await p.write(b"abc\n")
    assert await p.status() is PrinterStatus.UNKNOWN  # loop:// echoes: not a status answer
    p.close()


async def test_serial_device_missing() -> None:
    p = open_printer("serial:///dev/ttyNOPE99", timeout=FAST)
    assert await p.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError):
        await p.write(b"x")
    assert p.last_error


# --- device files and USB -------------------------------------------------------------------

async def test_file_printer(tmp_path: Path) -> None:
    dev = tmp_path / "lp0"
    dev.write_bytes(b"")
    p = open_printer(f"file://{dev}")
    assert await p.status() is PrinterStatus.UNKNOWN  # a device file cannot tell
    await p.write(b"one\n")
    await p.write(b"two\n")
    assert dev.read_bytes() == b"one\ntwo\n"


async def test_file_printer_unplugged(tmp_path: Path) -> None:
    p = open_printer(f"file://{tmp_path}/usb/lp0")
    assert await p.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError) as err:
        await p.write(b"x")
    assert "unplugged" in str(err.value)


async def test_usb_printer_absent_is_offline_not_a_crash() -> None:
    p = open_printer("usb://04b8:0e15", timeout=FAST)
    assert await p.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError):
        await p.write(b"x")
    assert p.last_error and ("pyusb" in p.last_error or "not found" in p.last_error)


def test_printer_config_is_checked_at_load() -> None:
    from terminal_agent.config import loads

    with pytest.raises(ConfigError, match="drawer_pin"):
        loads("[printer]\ndrawer_pin = 3\n", "x.toml")
    cfg = loads('[printer]\nurl = "tcp://10.0.0.9"\nprofile = "TM-T20II"\ntimeout = 2.5\n')
    assert (cfg.printer.profile, cfg.printer.timeout) == ("TM-T20II", 2.5)


def test_devices_and_receipts_never_import_the_ui() -> None:
    import subprocess
    import sys

    code = ("import sys, devices, devices.printers, devices.scanner, "
            "terminal_agent.receipts, terminal_agent.receipts.preview_png, "
            "terminal_agent.core.printing\n"
            "bad = [m for m in sys.modules if m.startswith(('textual', 'terminal_agent.ui'))]\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
