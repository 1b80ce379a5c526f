"""The agent's configuration: one TOML file, loaded once into a frozen, typed object.

Unknown keys and wrong types are errors naming the file, the key and its line (with the nearest
known key suggested). Secrets are never in the TOML: the switch password comes from a file named
here or from a systemd credential (``$CREDENTIALS_DIRECTORY``).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

import msgspec

from terminal_agent.errors import ConfigError
from terminal_agent.typeinfo import ready


class TerminalConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who we are on the wire (Originator, Merchant, Client) and how money looks."""

    terminal_id: str = "TILL0001"
    merchant_id: str = "000000000000001"
    merchant_type: str = "5411"
    merchant_name: str = "Demo Spaza"
    city: str = "Johannesburg"
    region: str = "GP"
    country: str = "ZA"
    institution_id: str = "1234"
    institution_name: str = "Demo Retailer"
    client_id: str = "1234"
    client_name: str = "Demo Retailer"
    operator_id: str = ""
    currency: str = "710"
    currency_symbol: str = "R"
    channel_name: str = "POS"


class SwitchConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    base_url: str = "http://127.0.0.1:8080"
    username: str = "1234"
    password_file: str = ""
    password_credential: str = ""
    ca_file: str = ""
    client_cert: str = ""
    client_key: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    proxy: str = ""


class StoreConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    path: str = "/var/lib/terminal-agent/agent.db"
    retention_days: int = 90
    busy_timeout_ms: int = 5000
    # Backups taken before a migration (and the usual target of `terminal-agent backup`);
    # "" = backups/ beside the database.
    backup_dir: str = ""
    # Backups of each kind kept (daily ones by `terminal-agent backup`, pre-migration ones).
    backup_keep: int = 14
    # The till key that seals voucher PINs and ID numbers at rest (core/vault.py): a systemd
    # credential (preferred), else a 0600 file; "" = till.key beside the database.
    key_credential: str = ""
    key_file: str = ""


Days = Annotated[float, msgspec.Meta(ge=1)]


class RetentionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How long the till keeps what (core/retention.py), enforced by housekeeping every hour.
    Only finished business is ever deleted: open decisions and undelivered advices stay."""

    reprint_hours: Annotated[float, msgspec.Meta(ge=0.1, le=24 * 31)] = 24.0
    journal_days: Days = 180.0
    events_days: Days = 180.0
    print_jobs_days: Days = 31.0
    audit_days: Days = 400.0


class ForwarderConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    concurrency: int = 4
    batch_size: int = 128
    lease_seconds: float = 120.0
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    auth_failures_before_park: int = 5
    status_first_delay: float = 30.0
    # A status lookup answered 404 means "never received" only once this long has passed since
    # the purchase was sent (airtime §6.1); before that, the till looks again later.
    processing_window_seconds: float = 120.0
    poll_interval: float = 1.0
    # advices per second this till sends at most when draining a backlog (0 = no limit)
    max_rate: float = 0.0
    approved_deadline_seconds: float = 300.0
    auto_reverse_payouts: bool = False
    # How often the forwarding process looks for work whose sender is gone (core/recovery.py).
    sweep_seconds: float = 2.0


class AirtimeConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # "vouchers" uses the deprecated /vouchers/{id} resources; "purchases" uses /purchases with
    # confirmations and reversals (for providers that run PIN products through purchases).
    voucher_route: str = "vouchers"
    trial_before_topup: bool = True
    # The switch's product list is asked again after this long; a failed load is retried
    # in the background this often until the switch answers (core/catalogue.py).
    products_ttl_seconds: float = 3600.0
    products_retry_seconds: float = 15.0


class SuvProvider(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    dual_messaging: bool = True


class SuvConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    default_dual_messaging: bool = True
    providers: dict[str, SuvProvider] = msgspec.field(default_factory=dict)


class Receiver(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    name: str


class MoneyTransferConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # The money-transfer providers (receiver institutions) this till offers, first = default.
    receivers: list[Receiver] = msgspec.field(default_factory=lambda: [
        Receiver("30000001", "Mukuru Money Transfer"), Receiver("30000002", "Hello Paisa"),
        Receiver("30000003", "Shoprite Money Transfer")])
    # The 12-digit account number of the ISO 9564 format 0 PIN blocks this till forms from the
    # PIN a customer types (pay out, send money): agreed with the provider; the block is not
    # encrypted under a key (no PIN pad), it travels inside TLS.
    pin_account_number: str = "000000000000"


class PrinterConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # usb://VID:PID, serial:///dev/ttyS0?baudrate=19200, tcp://HOST:9100, file:///dev/usb/lp0,
    # preview://DIR (a .txt and .png per job) or dummy:// (kept in memory).
    url: str = "dummy://"
    columns: int = 48
    drawer_pin: int = 2
    drawer_pulse_ms: int = 100
    open_drawer: bool = True
    # python-escpos capability profile ("" = its default; e.g. "TM-T20II", "POS-5890").
    profile: str = ""
    # Seconds a write or a status query may take before the printer counts as offline.
    timeout: float = 5.0
    # Seconds between attempts to print jobs that are waiting (printer offline, paper out).
    retry_seconds: float = 5.0

    def __post_init__(self) -> None:
        if self.drawer_pin not in (2, 5):
            raise ValueError("`drawer_pin` must be 2 or 5")
        if not 2 <= self.drawer_pulse_ms <= 510:
            raise ValueError("`drawer_pulse_ms` must be between 2 and 510")
        if self.timeout <= 0 or self.retry_seconds <= 0:
            raise ValueError("`timeout` and `retry_seconds` must be positive")


class ReceiptConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    header: list[str] = msgspec.field(default_factory=lambda: ["Demo Spaza", "12 Main Rd, Soweto"])
    footer: list[str] = msgspec.field(default_factory=lambda: ["Thank you for your business"])
    # strftime format of the local date and time printed on every receipt.
    date_format: str = "%Y-%m-%d %H:%M"


class ScannerConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # A pyserial URL ("/dev/ttyACM0", "serial:///dev/ttyUSB0", "loop://"); "" = no serial
    # scanner (keyboard-wedge scanners need nothing).
    url: str = ""
    baudrate: int = 9600
    # Shortest scan accepted (shorter reads are line noise).
    min_length: int = 4
    # Seconds to wait before reopening a scanner that went away.
    reconnect_seconds: float = 5.0


class UiConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    idle_lock_seconds: float = 300.0
    max_pin_failures: int = 3
    lockout_seconds: float = 300.0


class LoggingConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    level: str = "INFO"
    # "journal" (systemd journal, structured fields), "stderr", or a file path.
    target: str = "auto"


class MetricsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # node_exporter textfile collector file ("" = not written), e.g.
    # "/var/lib/node_exporter/textfile_collector/terminal_agent.prom".
    textfile: str = ""
    # serve /metrics here too: "9464" or ":9464" (loopback), "HOST:PORT" ("" = not served).
    listen: str = ""
    # seconds between refreshes (written by the process that forwards).
    interval: float = 5.0
    # count the whole journal (transactions by kind and state, delivered advices) only every
    # this many refreshes.
    slow_every: int = 12
    # the `store` label ("" = terminal.merchant_id).
    store: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.textfile or self.listen)


class AgentConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    terminal: TerminalConfig = msgspec.field(default_factory=TerminalConfig)
    switch: SwitchConfig = msgspec.field(default_factory=SwitchConfig)
    store: StoreConfig = msgspec.field(default_factory=StoreConfig)
    forwarder: ForwarderConfig = msgspec.field(default_factory=ForwarderConfig)
    airtime: AirtimeConfig = msgspec.field(default_factory=AirtimeConfig)
    suv: SuvConfig = msgspec.field(default_factory=SuvConfig)
    moneytransfer: MoneyTransferConfig = msgspec.field(default_factory=MoneyTransferConfig)
    printer: PrinterConfig = msgspec.field(default_factory=PrinterConfig)
    receipts: ReceiptConfig = msgspec.field(default_factory=ReceiptConfig)
    scanner: ScannerConfig = msgspec.field(default_factory=ScannerConfig)
    ui: UiConfig = msgspec.field(default_factory=UiConfig)
    logging: LoggingConfig = msgspec.field(default_factory=LoggingConfig)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    retention: RetentionConfig = msgspec.field(default_factory=RetentionConfig)
    # Where the file came from (set by the loader; relative paths resolve against its folder).
    source: str = ""

    def switch_password(self) -> str:
        return read_secret(self.switch.password_file, self.switch.password_credential)


_PATH_RE = re.compile(r"at `\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])*)`")
_UNKNOWN_RE = re.compile(r"unknown field `([^`]+)`")


def _locate(text: str, dotted: list[str]) -> int | None:
    """Line number (1-based) of the key ``dotted`` in TOML ``text``: the nearest ``key =`` line
    inside the right table, or the table header itself."""
    if not dotted:
        return None
    table, key = dotted[:-1], dotted[-1]
    current: list[str] = []
    header_line: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            current = [p.strip().strip('"') for p in line.strip("[]").split(".")]
            if current == dotted:
                header_line = number
            continue
        if current == table and re.match(rf'^"?{re.escape(key)}"?\s*=', line):
            return number
    return header_line


def _known_keys(dotted: list[str]) -> list[str]:
    struct: Any = AgentConfig
    for part in dotted[:-1]:
        hints = {f.name: f.type for f in msgspec.structs.fields(struct)}
        struct = hints.get(part)
        if struct is None or not isinstance(struct, type) or not issubclass(struct, msgspec.Struct):
            return []
    return [f.name for f in msgspec.structs.fields(struct)]


def _explain(error: msgspec.ValidationError, text: str, where: str) -> ConfigError:
    message = str(error)
    match = _PATH_RE.search(message)
    path = [p for p in (match.group(1).split(".") if match else []) if p]
    unknown = _UNKNOWN_RE.search(message)
    if unknown:
        path = [*path, unknown.group(1)]
    key = ".".join(path) or "(top level)"
    line = _locate(text, path)
    line_txt = f", line {line}" if line else ""
    if unknown:
        near = difflib.get_close_matches(unknown.group(1), _known_keys(path), n=1)
        hint = f"; did you mean `{near[0]}`?" if near else ""
        return ConfigError(f"{where}{line_txt}: unknown key `{key}`{hint}")
    reason = _PATH_RE.sub("", message).strip().rstrip("-").strip()
    return ConfigError(f"{where}{line_txt}: key `{key}`: {reason}")


def _listen_ok(text: str) -> bool:
    if not text:
        return True
    port = text.rpartition(":")[2]
    return port.isdigit() and 0 < int(port) < 65536


# Every number the file can set, with the range that makes sense (inclusive). A value outside
# (0 that would busy-loop or switch a lock off, a million PIN tries, inf) is refused with the
# file, key and line. tests/test_config.py checks that no number is missing here.
BOUNDS: dict[str, tuple[float, float]] = {
    "switch.connect_timeout": (0.1, 120),
    "switch.read_timeout": (0.1, 300),
    "store.retention_days": (1, 3650),
    "store.busy_timeout_ms": (50, 600_000),
    "store.backup_keep": (1, 1000),
    "forwarder.concurrency": (1, 64),
    "forwarder.batch_size": (1, 10_000),
    "forwarder.lease_seconds": (0.1, 3600),
    "forwarder.backoff_initial": (0.01, 3600),
    "forwarder.backoff_max": (0.01, 86_400),
    "forwarder.auth_failures_before_park": (1, 1000),
    "forwarder.status_first_delay": (0, 3600),
    "forwarder.processing_window_seconds": (0, 86_400),
    "forwarder.poll_interval": (0.01, 60),
    "forwarder.approved_deadline_seconds": (0, 86_400),
    "forwarder.sweep_seconds": (0.05, 3600),
    "forwarder.max_rate": (0, 100_000),  # advices/s; 0 = no limit
    "airtime.products_ttl_seconds": (10, 86_400),
    "airtime.products_retry_seconds": (1, 3600),
    "printer.columns": (32, 48),
    "printer.drawer_pin": (2, 5),
    "printer.drawer_pulse_ms": (2, 510),
    "printer.timeout": (0.1, 120),
    "printer.retry_seconds": (0.1, 3600),
    "scanner.baudrate": (300, 921_600),
    "scanner.min_length": (1, 128),
    "scanner.reconnect_seconds": (0.01, 3600),
    "ui.idle_lock_seconds": (1, 86_400),
    "ui.max_pin_failures": (1, 20),
    "ui.lockout_seconds": (1, 86_400),
    "metrics.interval": (0.1, 3600),
    "metrics.slow_every": (1, 10_000),
}


def numeric_keys() -> list[str]:
    """Every int/float key of the config, dotted (for the bounds test)."""
    out = []
    for table in msgspec.structs.fields(AgentConfig):
        if isinstance(table.type, type) and issubclass(table.type, msgspec.Struct):
            out += [f"{table.name}.{f.name}" for f in msgspec.structs.fields(table.type)
                    if f.type in (int, float)]
    return out


def _check_bounds(cfg: AgentConfig, text: str, where: str) -> None:
    for key, (low, high) in BOUNDS.items():
        table, name = key.split(".")
        value = getattr(getattr(cfg, table), name)
        if not (math.isfinite(value) and low <= value <= high):
            line = _locate(text, [table, name])
            line_txt = f", line {line}" if line else ""
            raise ConfigError(f"{where}{line_txt}: key `{key}` = {value} is out of range: "
                              f"it must be between {low:g} and {high:g}")
    if cfg.forwarder.backoff_max < cfg.forwarder.backoff_initial:
        line = _locate(text, ["forwarder", "backoff_max"])
        raise ConfigError(f"{where}{f', line {line}' if line else ''}: key "
                          "`forwarder.backoff_max` must not be below `forwarder.backoff_initial`")


def _check_values(cfg: AgentConfig, text: str, where: str) -> None:
    """Identity fields must already fit the protocol: catch it at load, not at the first sale."""
    t = cfg.terminal
    rules: list[tuple[str, bool, str]] = [
        ("terminal.terminal_id", len(t.terminal_id) == 8, "must be exactly 8 characters"),
        ("terminal.merchant_id", len(t.merchant_id) == 15, "must be exactly 15 characters"),
        ("terminal.merchant_type", bool(re.fullmatch(r"\d{4}", t.merchant_type)), "must be 4 digits"),
        ("terminal.merchant_name", 0 < len(t.merchant_name) <= 23, "must be 1 to 23 characters"),
        ("terminal.city", 0 < len(t.city) <= 13, "must be 1 to 13 characters"),
        ("terminal.region", 0 < len(t.region) <= 2, "must be 1 or 2 characters"),
        ("terminal.country", 0 < len(t.country) <= 2, "must be 1 or 2 characters"),
        ("terminal.institution_id", bool(re.fullmatch(r"\d{1,11}", t.institution_id)),
         "must be 1 to 11 digits"),
        ("terminal.client_id", bool(re.fullmatch(r"\d{1,11}", t.client_id)),
         "must be 1 to 11 digits"),
        ("terminal.currency", bool(re.fullmatch(r"\d{3}", t.currency)),
         "must be a 3-digit ISO 4217 numeric code such as \"710\""),
        ("switch.read_timeout", cfg.switch.read_timeout > 0, "must be positive"),
        ("switch.connect_timeout", cfg.switch.connect_timeout > 0, "must be positive"),
        ("airtime.voucher_route", cfg.airtime.voucher_route in ("vouchers", "purchases"),
         "must be \"vouchers\" or \"purchases\""),
        ("forwarder.concurrency", cfg.forwarder.concurrency >= 1, "must be at least 1"),
        ("printer.columns", cfg.printer.columns in (32, 42, 48), "must be 32, 42 or 48"),
        ("metrics.listen", _listen_ok(cfg.metrics.listen),
         "must be PORT, :PORT or HOST:PORT (port 1-65535)"),
        ("metrics.store", bool(re.fullmatch(r"[A-Za-z0-9_.-]{0,32}", cfg.metrics.store)),
         "must be at most 32 letters, digits, '.', '_' or '-'"),
        ("moneytransfer.receivers", bool(cfg.moneytransfer.receivers),
         "must list at least one provider"),
        ("moneytransfer.pin_account_number", len(cfg.moneytransfer.pin_account_number) == 12
         and cfg.moneytransfer.pin_account_number.isdigit(), "must be 12 digits"),
    ]
    for key, ok, why in rules:
        if not ok:
            line = _locate(text, key.split("."))
            line_txt = f", line {line}" if line else ""
            raise ConfigError(f"{where}{line_txt}: key `{key}` {why}")
    scheme = cfg.switch.base_url.split(":", 1)[0]
    if scheme not in ("http", "https"):
        line = _locate(text, ["switch", "base_url"])
        raise ConfigError(f"{where}, line {line}: key `switch.base_url` must be an http(s) URL")


def loads(text: str, source: str = "<string>") -> AgentConfig:
    """Parse TOML ``text`` into a validated config; relative paths resolve against ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    data["source"] = source
    ready(AgentConfig)
    try:
        cfg = msgspec.convert(data, AgentConfig, strict=True)
    except msgspec.ValidationError as exc:
        raise _explain(exc, text, source) from exc
    _check_bounds(cfg, text, source)
    _check_values(cfg, text, source)
    return _resolve_paths(cfg)


def _resolve_paths(cfg: AgentConfig) -> AgentConfig:
    if not cfg.source or cfg.source.startswith("<"):
        return cfg
    base = Path(cfg.source).resolve().parent

    def fix(p: str) -> str:
        return str(base / p) if p and not os.path.isabs(p) and "://" not in p else p

    store = msgspec.structs.replace(cfg.store, path=fix(cfg.store.path),
                                    backup_dir=fix(cfg.store.backup_dir),
                                    key_file=fix(cfg.store.key_file))
    metrics = msgspec.structs.replace(cfg.metrics, textfile=fix(cfg.metrics.textfile))
    switch = msgspec.structs.replace(
        cfg.switch,
        password_file=fix(cfg.switch.password_file),
        ca_file=fix(cfg.switch.ca_file),
        client_cert=fix(cfg.switch.client_cert),
        client_key=fix(cfg.switch.client_key),
    )
    return msgspec.structs.replace(cfg, store=store, switch=switch, metrics=metrics)


def load(path: str | os.PathLike[str]) -> AgentConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read configuration: {exc.strerror}") from exc
    return loads(text, str(p))


def read_secret(file: str, credential: str) -> str:
    """A secret from a systemd credential (preferred) or a file; never from the TOML itself.

    An empty result (neither configured) means "no secret" (the simulator accepts any password).
    """
    candidates: list[Path] = []
    if credential:
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if not creds:
            raise ConfigError(
                f"credential `{credential}` is configured but $CREDENTIALS_DIRECTORY is not set "
                "(run under systemd with LoadCredential=, or use switch.password_file)"
            )
        candidates.append(Path(creds) / credential)
    elif file:
        candidates.append(Path(file))
    for candidate in candidates:
        from terminal_agent.security import check_private_file

        check_private_file(candidate, what="switch password file")
        try:
            return candidate.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{candidate}: cannot read secret: {exc.strerror}") from exc
    return ""
