"""File-permission and transport checks the agent applies before it starts, and cashier PINs."""

from __future__ import annotations

import base64
import binascii
import errno
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


def check_private_file(path: Path, what: str, *, links: bool = True) -> None:
    """Refuse a secret or database that group or others can read or write. A file of the state
    folder (``links=False``) must not be a symbolic link at all: the agent never writes through
    one. Advice to ``chmod`` always names the file itself, never a link to it.

    systemd credentials live on a private ramfs owned by the service and pass this check.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    real = path
    if stat.S_ISLNK(info.st_mode):
        real = Path(os.path.realpath(path))
        if not links:
            raise InsecureFile(
                f"{path}: the {what} is a symbolic link (to {real}); the agent never follows "
                "links among its own files: remove the link and start again")
        try:
            info = real.stat()
        except FileNotFoundError:
            return
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureFile(
            f"{path}: {what} is accessible by group or others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {real}` and start again"
        )


def open_state_file(path: Path, flags: int = os.O_RDWR | os.O_CREAT, what: str = "file") -> int:
    """Open (creating 0600 if ``O_CREAT``) a file of the state folder without following a
    symbolic link: a link planted there is refused, never written through. A file created by
    root goes to the folder's owner (the service account), so the services can open it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InsecureFile(f"{path}: the {what} is a symbolic link; the agent never follows "
                               "links among its own files: remove the link and start again"
                               ) from exc
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InsecureFile(f"{path}: the {what} is not a regular file")
        if flags & os.O_CREAT:
            os.fchmod(fd, 0o600)
            give_to_folder_owner(path, fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_private_file(path: Path) -> None:
    """Create ``path`` (if missing) readable and writable by its owner only (see
    ``open_state_file``: no link followed, a root-made file given to the folder's owner)."""
    os.close(open_state_file(path, os.O_WRONLY | os.O_CREAT))


def give_to_folder_owner(path: Path, fd: int | None = None) -> None:
    """Run as root (an admin command under sudo), a file made in the state folder belongs to
    the folder's owner, the service account, never to root: the services could not open it."""
    if os.geteuid() != 0:
        return
    folder = path.parent.lstat()
    if folder.st_uid == 0:
        return
    if fd is not None:
        os.fchown(fd, folder.st_uid, folder.st_gid)
    else:
        os.chown(path, folder.st_uid, folder.st_gid, follow_symlinks=False)


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


def check_switch_settings(switch: SwitchConfig) -> None:
    """What the switch client is made with (URL, proxy, TLS files), checked without making it:
    a process that makes it on first use (the UI, after its login screen) refuses a wrong
    setting at start all the same."""
    check_switch_url(switch.base_url)
    check_proxy(switch)
    _check_tls_files(switch)


def tls_context(switch: SwitchConfig) -> ssl.SSLContext:
    """A verifying TLS context for the switch: system CAs or ``ca_file``, plus the optional
    client certificate. Verification is never switched off."""
    _check_tls_files(switch)
    try:
        context = ssl.create_default_context(cafile=switch.ca_file or None)
        if switch.client_cert:
            context.load_cert_chain(switch.client_cert, switch.client_key or None)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"switch TLS settings: {exc}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _check_tls_files(switch: SwitchConfig) -> None:
    for path, what in ((switch.ca_file, "switch.ca_file"),
                       (switch.client_cert, "switch.client_cert"),
                       (switch.client_key, "switch.client_key")):
        if path and not Path(path).is_file():
            raise ConfigError(f"{what} {path!r} does not exist")
    if switch.client_key:
        check_private_file(Path(switch.client_key), what="TLS client key")
    if switch.client_key and not switch.client_cert:
        raise ConfigError("switch.client_key is set but switch.client_cert is not")


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
                       (Path(f"{db}.forward.lock"), "forwarder lock file")]:
        check_private_file(path, what, links=False)
    for path, what in [*([(Path(config_path), "configuration file")] if config_path else []),
                       *([(Path(password_file), "switch password file")] if password_file else [])]:
        check_private_file(path, what)
    folder = db.parent
    try:
        info = folder.stat()
    except FileNotFoundError:
        return
    mode = info.st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        raise InsecureFile(
            f"{folder}: the database folder is writable by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run `chmod 750 {folder}` and start again")
    check_folder_owner(folder, info.st_uid)


def check_folder_owner(folder: Path, owner: int) -> None:
    """The state folder must belong to the account running the agent (root may act on the
    service account's folder: what it creates there goes to that account). A folder another
    account owns lets that account swap the till's files under it."""
    me = os.geteuid()
    if me in (0, owner):
        return
    raise InsecureFile(
        f"{folder}: the database folder belongs to {_user(owner)}, not to {_user(me)} who runs "
        f"the agent; run the agent as {_user(owner)} (e.g. `sudo -u {_user(owner)} "
        "terminal-agent ...`) or give the folder to the service account")


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


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
