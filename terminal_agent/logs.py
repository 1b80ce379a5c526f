"""Logging for both processes: the systemd journal with structured fields, and masking.

Rules (docs/DESIGN.md §3.7, "no secret leaks"):

1. Every handler this module installs carries ``MaskingFilter``; it rewrites the message, its
   arguments, ``extra`` fields, the exception text and the stack before any formatter sees them.
2. ``mask(text)`` is the one masking function (also for anything else that must show text
   safely). It removes voucher PINs, PIN blocks, ID and passport numbers, passwords, tokens,
   Authorization headers and URL credentials, and keeps only the last 4 digits of phone numbers
   (MSISDNs), card numbers and bearer references -- whether they appear as JSON, as a Python repr
   of a dict or struct, as ``key=value``, or loose in free text.
3. The journal target speaks journald's native protocol (``/run/systemd/journal/socket``) and
   adds the fields TXN_ID, ADVICE_ID, OPERATION, OUTCOME, PROCESS and CODE_*.
4. The UI process never logs to stdout or stderr: those are the cashier's screen.
"""

from __future__ import annotations

import array
import errno
import fcntl
import logging
import logging.handlers
import os
import re
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from terminal_agent.config import LoggingConfig
from terminal_agent.errors import ConfigError

JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "terminal-agent"

# --------------------------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------------------------

# Keys whose value is removed entirely. Suffix words catch variants: voucherPin, pin_block,
# switchPassword, clientSecret, accessToken, partnerPaymentToken, pin_hash ...
_FULL_KEYS = (
    r"[A-Za-z0-9_]*(?:pin|pin_?block|password|passwd|passphrase|secret|token|hash|credentials?)"
    r"|authorization|proxy-authorization|cookie|api_?key"
    r"|account_?number|id_?number|id_?num|passport(?:_?number)?|reward_?code|wallet_?id"
    r"|track_?2|track2_?data|cvv2?|cvc|code"
    r"|date_?of_?birth|dob|e_?mail|first_?name|last_?name|middle_?name|surname"
    r"|address_?line_?[12]"
)
# Keys whose value keeps its last 4 characters: phone numbers, card numbers, bearer references.
_LAST4_KEYS = (
    r"[A-Za-z0-9_]*(?:msisdn|cell|phone|contact_?number|contact_?home|contact_?work)"
    r"|pan|card_?number|account_?id|order_?redeem_?ref(?:_?alt)?"
)

_Q = r"\\*[\"']"  # a quote, possibly escaped (JSON inside a JSON string or a repr)
_KEY_TAIL = r"(?![A-Za-z0-9_])"


def _keyed(keys: str) -> list[re.Pattern[str]]:
    k = rf"(?:{keys})"
    return [
        # "key": "value" / 'key': 'value' / \"key\": \"value\"
        re.compile(rf"(?P<pre>{_Q}{k}{_Q}\s*:\s*)(?P<q>{_Q})(?P<v>.*?)(?P=q)", re.I),
        # "key": 1234 (a JSON or repr number)
        re.compile(rf"(?P<pre>{_Q}{k}{_Q}\s*:\s*)(?P<v>[-+]?\d[\d.eE+-]*)", re.I),
        # key='value' / key="value" (struct and dataclass reprs, shell-ish text)
        re.compile(rf"(?P<pre>(?<![A-Za-z0-9_\\\"']){k}\s*[=:]\s*)(?P<q>[\"'])(?P<v>.*?)(?P=q)",
                   re.I),
        # key=value, key: value (query strings, headers, free text)
        re.compile(rf"(?P<pre>(?<![A-Za-z0-9_\\\"']){k}{_KEY_TAIL}\s*(?:=|:\s)\s*)"
                   r"(?P<v>(?!\*\*\*)[^\s&,;)\]}'\"]+)", re.I),
    ]


_FULL_PATTERNS = _keyed(_FULL_KEYS)
_LAST4_PATTERNS = _keyed(_LAST4_KEYS)
# A cheap test first: every key above contains one of these words, so a line with none of them
# (most lines: "reversal <uuid> delivered") cannot match the eight keyed patterns: skip them.
_KEY_WORDS = ("pin", "passw", "passphrase", "secret", "token", "hash", "credential",
              "authorization", "cookie", "api", "num", "passport", "code", "wallet", "track",
              "cvv", "cvc", "birth", "dob", "mail", "name", "address", "msisdn", "cell", "phone",
              "contact", "pan", "card", "account", "order")
_AUTH = re.compile(r"\b(Basic|Bearer|Digest)\s+[A-Za-z0-9+/=._~-]{6,}", re.I)
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*):[^@\s/]*@", re.I)
_HEX16 = re.compile(r"(?<![\w-])[0-9A-Fa-f]{16}(?![\w-])")
_DIGITS = re.compile(r"(?<![\w.*-])\+?\d{9,40}(?![\w*-]|\.\d)")

MASK = "***"


def _last4(value: str) -> str:
    digits = value.strip()
    if len(digits) < 8:
        return MASK
    return "*" * (len(digits) - 4) + digits[-4:]


def _sub_full(m: re.Match[str]) -> str:
    q = m.groupdict().get("q") or ""
    return f"{m.group('pre')}{q}{MASK}{q}"


def _sub_last4(m: re.Match[str]) -> str:
    q = m.groupdict().get("q") or ""
    return f"{m.group('pre')}{q}{_last4(m.group('v'))}{q}"


def _sub_hex(m: re.Match[str]) -> str:
    text = m.group(0)
    return text if text.isdigit() else MASK  # all digits: left to the digit rule below


def _sub_digits(m: re.Match[str]) -> str:
    text = m.group(0)
    if len(text) == 13 and text.isdigit():
        return MASK  # a South African ID number (YYMMDD SSSS C A Z): nothing of it stays
    if len(text) > 19:
        return MASK  # longer than any phone or card number: a voucher PIN or code
    return _last4(text)  # phone numbers (E.164 or 0XXXXXXXXX), card numbers


def mask(text: str) -> str:
    """``text`` with every secret removed and every phone/card number cut to its last 4 digits.

    Idempotent: ``mask(mask(t)) == mask(t)``.
    """
    if not text:
        return text
    text = _AUTH.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    lower = text.lower()
    if any(word in lower for word in _KEY_WORDS):
        for pattern in _FULL_PATTERNS:
            text = pattern.sub(_sub_full, text)
        for pattern in _LAST4_PATTERNS:
            text = pattern.sub(_sub_last4, text)
    text = _HEX16.sub(_sub_hex, text)
    return _DIGITS.sub(_sub_digits, text)


# The attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
}


class MaskingFilter(logging.Filter):
    """Masks a record in place: message and args, extra fields, exception and stack text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record (or leak its args)
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = mask(message), None
        _mask_trace(record)
        _mask_extras(record)
        record._masked = True
        return True


def _mask_trace(record: logging.LogRecord) -> None:
    """The traceback and stack as masked text; formatters must never re-render them."""
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    record.exc_info = None
    if record.stack_info:
        record.stack_info = mask(record.stack_info)


def _mask_extras(record: logging.LogRecord) -> None:
    """Every field a caller added (``extra=``), masked; numbers stay numbers."""
    for key, value in list(vars(record).items()):
        if key in _STANDARD_ATTRS or key.startswith("_") or value is None:
            continue
        if key == "journal_fields" and isinstance(value, Mapping):
            record.journal_fields = {k: mask(str(v)) for k, v in value.items()}
        elif not isinstance(value, int | float | bool):
            setattr(record, key, mask(value if isinstance(value, str) else repr(value)))


# --------------------------------------------------------------------------------------------
# Structured fields
# --------------------------------------------------------------------------------------------

# record attribute (from ``extra=``) -> journal field
STRUCTURED_FIELDS = {
    "txn_id": "TXN_ID",
    "advice_id": "ADVICE_ID",
    "operation": "OPERATION",
    "outcome": "OUTCOME",
}
_FIELD_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def _extra(txn_id: str | None, advice_id: str | None, operation: object, outcome: object,
           fields: Mapping[str, object]) -> dict[str, Any]:
    extra: dict[str, Any] = {"txn_id": txn_id, "advice_id": advice_id,
                             "operation": None if operation is None else str(operation),
                             "outcome": None if outcome is None else str(outcome)}
    if fields:
        extra["journal_fields"] = {k.upper(): v for k, v in fields.items() if v is not None}
    return extra


def log_event(logger: logging.Logger, msg: str, *, txn_id: str | None = None,
              advice_id: str | None = None, operation: str | None = None,
              outcome: str | None = None, level: int = logging.INFO,
              **fields: object) -> None:
    """Log ``msg`` with the structured fields the journal indexes (``journalctl TXN_ID=...``).

    Further keyword ``fields`` become upper-case journal fields (``actor="S01"`` -> ``ACTOR=S01``).
    """
    logger.log(level, msg, extra=_extra(txn_id, advice_id, operation, outcome, fields))


AUDIT_LOGGER = "terminal_agent.audit"


def audit(action: str, *, actor: str, txn_id: str | None = None, outcome: str | None = None,
          **fields: object) -> None:
    """A supervisor action for the audit trail: ``journalctl AUDIT=1`` lists them all."""
    extra = _extra(txn_id, None, action, outcome, {"audit": 1, "actor": actor, **fields})
    logging.getLogger(AUDIT_LOGGER).info("audit: %s by %s", action, actor, extra=extra)


def _structured_suffix(record: logging.LogRecord) -> str:
    parts = [f"{attr}={value}" for attr in STRUCTURED_FIELDS
             if (value := getattr(record, attr, None)) is not None]
    extra = getattr(record, "journal_fields", None)
    if isinstance(extra, Mapping):
        parts += [f"{k.lower()}={v}" for k, v in extra.items()]
    return f" [{' '.join(parts)}]" if parts else ""


class TextFormatter(logging.Formatter):
    """``time level logger: message [txn_id=... operation=...]`` for stderr and files."""

    def __init__(self, process: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {process} %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return super().formatMessage(record) + _structured_suffix(record)


# --------------------------------------------------------------------------------------------
# The journal (native protocol, no libsystemd needed)
# --------------------------------------------------------------------------------------------


def _syslog_priority(levelno: int) -> int:
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


def encode_journal_fields(fields: Mapping[str, object]) -> bytes:
    """journald's native wire format: ``KEY=value\\n``, or for values with a newline
    ``KEY\\n`` + 64-bit little-endian length + value + ``\\n``."""
    out = bytearray()
    for key, value in fields.items():
        data = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
        name = key.encode("ascii")
        if b"\n" in data:
            out += name + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += name + b"=" + data + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    """Writes records to journald with structured fields (masked first, like every handler)."""

    def __init__(self, process: str, socket_path: str = JOURNAL_SOCKET,
                 identifier: str = IDENTIFIER) -> None:
        super().__init__()
        self.process = process
        self.socket_path = socket_path
        self.identifier = identifier
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.setFormatter(logging.Formatter("%(message)s"))

    def fields(self, record: logging.LogRecord) -> dict[str, object]:
        fields: dict[str, object] = {
            "MESSAGE": self.format(record),
            "PRIORITY": _syslog_priority(record.levelno),
            "SYSLOG_IDENTIFIER": self.identifier,
            "PROCESS": self.process,
            "LOGGER": record.name,
            "CODE_FILE": record.pathname,
            "CODE_LINE": record.lineno,
            "CODE_FUNC": record.funcName,
        }
        if record.threadName and record.threadName != "MainThread":
            fields["THREAD_NAME"] = record.threadName
        for attr, name in STRUCTURED_FIELDS.items():
            value = getattr(record, attr, None)
            if value is not None:
                fields[name] = value
        extra = getattr(record, "journal_fields", None)
        if isinstance(extra, Mapping):
            for key, value in extra.items():
                if _FIELD_NAME.match(key) and key not in fields:
                    fields[key] = value
        return fields

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._send(encode_journal_fields(self.fields(record)))
        except Exception:
            self.handleError(record)

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendto(data, self.socket_path)
        except OSError as exc:
            if exc.errno not in (errno.EMSGSIZE, errno.ENOBUFS):
                raise
            # Too big for one datagram: journald takes the payload as a sealed memfd instead
            # (unsealed ones from an unprivileged sender are refused).
            fd = os.memfd_create("journal-entry", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
            try:
                os.write(fd, data)
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW
                            | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL)
                fds = array.array("i", [fd])
                self._sock.sendmsg([], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)],
                                   0, self.socket_path)
            finally:
                os.close(fd)

    def close(self) -> None:
        self._sock.close()
        super().close()


# --------------------------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------------------------

_OURS = "_terminal_agent_handler"


def journal_available(socket_path: str = JOURNAL_SOCKET) -> bool:
    return Path(socket_path).is_socket()


def ui_log_path(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the UI logs when there is no journal: its state directory, never the screen."""
    base = state_dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if not base:
        xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        base = Path(xdg) / "terminal-agent"
    return Path(base) / "ui.log"


def _file_handler(path: Path, process: str) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    from terminal_agent.security import open_state_file

    # owner-only from birth, never through a link planted in the state folder
    os.close(open_state_file(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, "log file"))
    handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    handler.setFormatter(TextFormatter(process))
    return handler


def _choose_handler(cfg: LoggingConfig, process: str, state_dir: str | os.PathLike[str] | None,
                    journal_socket: str) -> logging.Handler:
    target = cfg.target.strip() or "auto"
    if target == "journal" or (target == "auto" and journal_available(journal_socket)):
        return JournalHandler(process, journal_socket)
    if target in ("auto", "stderr"):
        if process == "ui":  # stderr is the cashier's screen
            return _file_handler(ui_log_path(state_dir), process)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(TextFormatter(process))
        return handler
    return _file_handler(Path(target).expanduser(), process)


def setup_logging(cfg: LoggingConfig, process: str, *,
                  state_dir: str | os.PathLike[str] | None = None,
                  journal_socket: str = JOURNAL_SOCKET) -> logging.Handler:
    """Configure the root logger for ``process`` ("forward", "ui", ...) and return its handler.

    ``cfg.target``: "journal", "stderr", "auto" (journal if its socket exists, else stderr), or a
    file path. For process "ui", stderr is replaced by ``<state dir>/ui.log``. Safe to call again:
    the handler installed by an earlier call is replaced.
    """
    level = logging.getLevelName(cfg.level.upper())
    if not isinstance(level, int):
        raise ConfigError(f"logging.level: unknown level {cfg.level!r} "
                          "(use DEBUG, INFO, WARNING or ERROR)")
    handler = _choose_handler(cfg, process, state_dir, journal_socket)
    handler.addFilter(MaskingFilter())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    for other in list(root.handlers):
        if type(other) is logging.StreamHandler and getattr(other, "stream", None) in (
                sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            # A library's logging.basicConfig() (python-escpos calls it on import): unmasked,
            # and for the UI it would write over the screen.
            root.removeHandler(other)
        elif not any(isinstance(f, MaskingFilter) for f in other.filters):
            other.addFilter(MaskingFilter())  # whatever stays is masked too
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    _install_excepthooks()
    return handler


def setup_admin_logging(cfg: LoggingConfig, *, journal_socket: str = JOURNAL_SOCKET) -> None:
    """For admin commands: their records (``AUDIT=1``) go to the journal or the configured file,
    like the services'; with only stderr to write to, the command's own output says enough."""
    target = cfg.target.strip() or "auto"
    if target == "stderr" or (target == "auto" and not journal_available(journal_socket)):
        return
    setup_logging(cfg, "cli", journal_socket=journal_socket)


def _log_uncaught(exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logging.getLogger("terminal_agent").critical("uncaught exception",
                                                 exc_info=(exc_type, exc, tb))


def _log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    logging.getLogger("terminal_agent").critical(
        "uncaught exception in thread %s", getattr(args.thread, "name", "?"),
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def _install_excepthooks() -> None:
    """Uncaught tracebacks go through the masked handlers instead of raw to stderr."""
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_uncaught
