"""File-permission and transport checks the agent applies before it starts, and cashier PINs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import secrets
import ssl
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from terminal_agent.errors import ConfigError, InsecureFile

if TYPE_CHECKING:
    from terminal_agent.config import AgentConfig, SwitchConfig


def check_private_file(path: Path, what: str) -> None:
    """Refuse a secret or database that group or others can read or write.

    systemd credentials live on a private ramfs owned by the service and pass this check.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureFile(
            f"{path}: {what} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}` and start again"
        )


def create_private_file(path: Path) -> None:
    """Create ``path`` (if missing) readable and writable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


# --------------------------------------------------------------------------------------------
# Transport to the switch
# --------------------------------------------------------------------------------------------

_PLAIN_HTTP_HOSTS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def is_loopback_host(host: str) -> bool:
    """True only for the literal addresses 127.0.0.1 and ::1. A name (``localhost``,
    ``*.localhost``) resolves through ``/etc/hosts`` and DNS, which anyone who can edit them
    points elsewhere; other 127/8 addresses can be routed to another machine by a local rule."""
    try:
        return ipaddress.ip_address(host.strip("[]")) in _PLAIN_HTTP_HOSTS
    except ValueError:
        return False


def check_switch_url(url: str) -> None:
    """Refuse a switch URL that would send credentials or financial data unprotected.

    ``https://`` always (TLS is verified by the client); plain ``http://`` only to the literal
    loopback addresses 127.0.0.1 and ::1, where the simulator runs. Credentials in the URL are
    refused too.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"switch.base_url {shown!r} is not an http(s) URL with a host name")
    if parts.username or parts.password:
        raise ConfigError(
            f"switch.base_url {shown!r} carries credentials; remove them and put the password in "
            "switch.password_file or the systemd credential named by switch.password_credential")
    if scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"switch.base_url {shown!r}: plain http:// is only allowed to a loopback address "
            "written as 127.0.0.1 or [::1] (the local simulator); the switch must be reached "
            "over https://")


def check_proxy(switch: SwitchConfig) -> str | None:
    """The configured proxy (the only one ever used: the environment's is ignored), or None.
    Only for an ``https://`` switch, so the proxy sees a TLS tunnel, never the credentials."""
    if not switch.proxy:
        return None
    parts = urlsplit(switch.proxy)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"switch.proxy {switch.proxy!r} is not an http(s) URL with a host name")
    if parts.username or parts.password:
        raise ConfigError("switch.proxy must not carry credentials")
    if urlsplit(switch.base_url).scheme.lower() != "https":
        raise ConfigError("switch.proxy is only allowed with an https:// switch.base_url")
    return switch.proxy


def tls_context(switch: SwitchConfig) -> ssl.SSLContext:
    """A verifying TLS context for the switch: system CAs or ``ca_file``, plus the optional
    client certificate. Verification is never switched off."""
    for path, what in ((switch.ca_file, "switch.ca_file"),
                       (switch.client_cert, "switch.client_cert"),
                       (switch.client_key, "switch.client_key")):
        if path and not Path(path).is_file():
            raise ConfigError(f"{what} {path!r} does not exist")
    if switch.client_key:
        check_private_file(Path(switch.client_key), what="TLS client key")
    if switch.client_key and not switch.client_cert:
        raise ConfigError("switch.client_key is set but switch.client_cert is not")
    try:
        context = ssl.create_default_context(cafile=switch.ca_file or None)
        if switch.client_cert:
            context.load_cert_chain(switch.client_cert, switch.client_key or None)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"switch TLS settings: {exc}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


# --------------------------------------------------------------------------------------------
# Files the agent keeps: database, configuration, secrets
# --------------------------------------------------------------------------------------------


def check_state_files(db_path: str | os.PathLike[str], config_path: str | os.PathLike[str] | None,
                      password_file: str | os.PathLike[str] | None = None) -> None:
    """Refuse to start when the database (with its WAL files), the configuration or the password
    file can be read by group or others, or when the database's folder is writable by others.

    Missing files pass: the database is created owner-only, and no password file means none.
    """
    db = Path(db_path)
    for path, what in [(db, "database"), (Path(f"{db}-wal"), "database journal (WAL)"),
                       (Path(f"{db}-shm"), "database shared memory"),
                       *([(Path(config_path), "configuration file")] if config_path else []),
                       *([(Path(password_file), "switch password file")] if password_file else [])]:
        check_private_file(path, what)
    folder = db.parent
    try:
        mode = folder.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        raise InsecureFile(
            f"{folder}: the database folder is writable by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run `chmod 750 {folder}` and start again")


def check_agent_security(cfg: AgentConfig) -> None:
    """Every start-up check for a loaded configuration, in one call (for ``forward`` and ``ui``)."""
    check_switch_url(cfg.switch.base_url)
    source = cfg.source if cfg.source and not cfg.source.startswith("<") else None
    check_state_files(cfg.store.path, source, cfg.switch.password_file or None)


# --------------------------------------------------------------------------------------------
# Cashier PINs
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScryptCost:
    n: int
    r: int
    p: int


# OWASP Password Storage Cheat Sheet (as of 2025): scrypt N=2^17, r=8, p=1 -- 128 MiB and about
# half a second per check on a till's CPU. A 4-to-12-digit PIN space is small, so each guess must
# be expensive for whoever steals the database; the till pays it once per login.
OWASP_SCRYPT = ScryptCost(n=2**17, r=8, p=1)
# The cost new hashes get. Only the test suite lowers it (to keep hundreds of logins quick).
SCRYPT = OWASP_SCRYPT
_SALT_BYTES, _HASH_BYTES = 16, 32
_MAX_N = 2**20
# A fixed salt for the check that stands in when there is no hash to check against (unknown or
# disabled account): the same scrypt, at the same cost, whose result is thrown away.
_DECOY_SALT = b"terminal-agent:no-such-account"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=128 * r * n * 2 + 1024 * 1024)


def hash_pin(pin: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64url, no padding) with a fresh random salt per PIN."""
    if not pin:
        raise ValueError("a PIN cannot be empty")
    cost, salt = SCRYPT, secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(pin, salt, cost.n, cost.r, cost.p, _HASH_BYTES)
    return f"scrypt${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """True if ``pin`` matches ``stored`` (from ``hash_pin``); False for anything malformed.
    The comparison takes the same time wherever the digests differ."""
    try:
        scheme, n_s, r_s, p_s, salt_s, hash_s = stored.split("$")
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt, expected = _unb64(salt_s), _unb64(hash_s)
    except (ValueError, TypeError, binascii.Error):
        return False
    if scheme != "scrypt" or not (1 < n <= _MAX_N and n & (n - 1) == 0) or not (
            0 < r <= 32 and 0 < p <= 16 and salt and 16 <= len(expected) <= 64):
        return False
    actual = _scrypt(pin, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)


def check_pin_against(pin: str, stored: str | None) -> bool:
    """``verify_pin`` when there is a hash; otherwise the same scrypt at today's cost against a
    decoy, answering False. Unknown, disabled and wrong all cost one full check."""
    if stored is not None:
        return verify_pin(pin, stored)
    cost = SCRYPT
    _scrypt(pin, _DECOY_SALT, cost.n, cost.r, cost.p, _HASH_BYTES)
    return False


def pin_needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with other parameters than today's (rehash at next login)."""
    parts = stored.split("$")
    cost = SCRYPT
    return len(parts) != 6 or parts[:4] != ["scrypt", str(cost.n), str(cost.r), str(cost.p)]
