"""The journal target (journald's native protocol on a stand-in socket), the stderr and file
targets, and the rule that the UI never logs to the terminal."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal_agent.config import LoggingConfig
from terminal_agent.errors import ConfigError
from terminal_agent.logs import (
    JournalHandler,
    audit,
    encode_journal_fields,
    log_event,
    setup_logging,
    ui_log_path,
)


def parse_journal(data: bytes) -> dict[str, str]:
    """Inverse of the native protocol: KEY=value lines and KEY\\n<le64 size><value>\\n blocks."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            i = nl + 1
        else:
            key = line
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        fields[key.decode()] = value.decode()
    return fields


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = tmp_path / "journal.socket"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield str(path), sock
    sock.close()


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook, threading.excepthook)
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:], root.level = saved[0], saved[1]
    sys.excepthook, threading.excepthook = saved[2], saved[3]


def test_encode_handles_multiline_values() -> None:
    data = encode_journal_fields({"MESSAGE": "a\nb", "PRIORITY": 6})
    assert data == b"MESSAGE\n" + struct.pack("<Q", 3) + b"a\nb\nPRIORITY=6\n"
    assert parse_journal(data) == {"MESSAGE": "a\nb", "PRIORITY": "6"}


def test_journal_record_has_structured_fields_and_is_masked(
        journal: tuple[str, socket.socket]) -> None:
    path, sock = journal
    setup_logging(LoggingConfig(level="INFO", target="journal"), "forward", journal_socket=path)
    log = logging.getLogger("terminal_agent.forwarder")
    log_event(log, "advice delivered for 27821234567", txn_id="t-1", advice_id="a-1",
              operation="VOUCHER_CONFIRM", outcome="approved", level=logging.WARNING,
              body='{"pin": "73914682051937"}')
    fields = parse_journal(sock.recv(65536))
    assert fields["MESSAGE"] == "advice delivered for *******4567"
    assert fields["PRIORITY"] == "4"
    assert (fields["TXN_ID"], fields["ADVICE_ID"]) == ("t-1", "a-1")
    assert (fields["OPERATION"], fields["OUTCOME"]) == ("VOUCHER_CONFIRM", "approved")
    assert fields["PROCESS"] == "forward" and fields["SYSLOG_IDENTIFIER"] == "terminal-agent"
    assert fields["LOGGER"] == "terminal_agent.forwarder"
    assert fields["CODE_FILE"].endswith("logs.py") or fields["CODE_FILE"].endswith(".py")
    assert fields["CODE_LINE"].isdigit() and fields["CODE_FUNC"]
    assert fields["BODY"] == '{"pin": "***"}'

    try:
        raise RuntimeError("idNumber=8001015009087")
    except RuntimeError:
        log.exception("failed")
    fields = parse_journal(sock.recv(65536))
    assert fields["PRIORITY"] == "3"
    assert "Traceback" in fields["MESSAGE"] and "8001015009087" not in fields["MESSAGE"]


def test_audit_entries(journal: tuple[str, socket.socket]) -> None:
    path, sock = journal
    setup_logging(LoggingConfig(target="journal"), "ui", journal_socket=path)
    audit("reprint", actor="S01", txn_id="t-9", reference="ABC")
    fields = parse_journal(sock.recv(65536))
    assert fields["AUDIT"] == "1" and fields["ACTOR"] == "S01"
    assert fields["OPERATION"] == "reprint" and fields["TXN_ID"] == "t-9"
    assert fields["REFERENCE"] == "ABC" and fields["PROCESS"] == "ui"


def test_large_entry_goes_through_a_memfd(journal: tuple[str, socket.socket]) -> None:
    path, sock = journal
    handler = JournalHandler("forward", path)
    try:
        # Bigger than the socket's send buffer: EMSGSIZE, then sent as a file descriptor.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        handler._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "x" * 300_000, None, None)
        handler.handle(record)
        msg, ancdata, _, _ = sock.recvmsg(1024, socket.CMSG_SPACE(4))
        assert msg == b"" and ancdata and ancdata[0][1] == socket.SCM_RIGHTS
        fd = int.from_bytes(ancdata[0][2][:4], sys.byteorder)
        os.lseek(fd, 0, os.SEEK_SET)
        with open(fd, "rb", closefd=False) as f:
            assert parse_journal(f.read())["MESSAGE"] == "x" * 300_000
        seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)  # sealed: journald may map it safely
        assert seals & fcntl.F_SEAL_WRITE and seals & fcntl.F_SEAL_SHRINK
        os.close(fd)
    finally:
        handler.close()


def test_auto_without_journal_is_stderr_for_the_forwarder(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    setup_logging(LoggingConfig(target="auto"), "forward",
                  journal_socket=str(tmp_path / "none"))
    log_event(logging.getLogger("terminal_agent.x"), "hello msisdn 27821234567", txn_id="t-2")
    err = capfd.readouterr().err
    assert "hello msisdn *******4567 [txn_id=t-2]" in err and "27821234567" not in err


def test_ui_never_logs_to_the_terminal(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    logging.basicConfig()  # what python-escpos does on import: must not survive for the UI
    for target in ("auto", "stderr"):
        handler = setup_logging(LoggingConfig(target=target), "ui", state_dir=tmp_path,
                                journal_socket=str(tmp_path / "none"))
        logging.getLogger("terminal_agent.ui").error("cannot print, pin=1234")
        handler.flush()
        out = capfd.readouterr()
        assert out.out == "" and out.err == ""
    log_file = ui_log_path(tmp_path)
    assert log_file == tmp_path / "ui.log"
    text = log_file.read_text()
    assert text.count("cannot print, pin=***") == 2 and "1234" not in text
    assert log_file.stat().st_mode & 0o777 == 0o600


def test_file_target_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "agent.log"
    setup_logging(LoggingConfig(target=str(path)), "forward")
    logging.getLogger("terminal_agent").warning("x")
    assert path.stat().st_mode & 0o777 == 0o600


def test_unknown_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="logging.level"):
        setup_logging(LoggingConfig(level="LOUD", target="stderr"), "forward")
