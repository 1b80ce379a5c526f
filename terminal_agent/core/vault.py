"""Secrets at rest: what the database may keep of a voucher PIN, a PIN block or an ID number.

Rules:
1. A PIN block is sent and never stored: the journal keeps the request with it replaced by
   ``***`` (``redact``). A later step that would need it (a money-transfer redemption retried as
   a new one) asks for the customer's PIN again.
2. A voucher PIN (in the switch's answer, on a receipt) and an ID or passport number (in a
   money-transfer request) are kept only sealed: AES-256-GCM with the till's key, bound to the
   row they belong to (associated data), never in clear in any table, the WAL or a log line.
3. Sealed secrets are dropped after the reprint window (``[retention] reprint_hours``) once the
   transaction is final; from then on nothing of them is recoverable, even with the key.
4. The key is 32 random bytes kept outside the database: a systemd credential
   (``store.key_credential``, for the services) and/or a 0600 file (``store.key_file``, on a till
   /etc/terminal-agent/till-key for admin commands run with sudo; by default ``till.key`` beside
   the database, created on first use). The database records the key's fingerprint, so a
   missing or different key is refused with a clear sentence, never silently replaced while
   sealed data exists.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from functools import cached_property
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal_agent.errors import AgentError, ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
_MAGIC = b"TA1"
_NONCE = 12
FINGERPRINT_KEY = "vault.key_fingerprint"
REDACTED = "***"

# JSON keys (any depth) whose values are never stored: PIN blocks.
DROP_KEYS = frozenset({"pinBlock", "pin_block"})
# JSON keys whose values are stored sealed: voucher PINs, ID and passport numbers, the code of
# a digital voucher (a bearer value, like a PIN).
SEAL_KEYS = frozenset({"pin", "idNumber", "passportNumber", "passport", "code"})


class VaultError(AgentError):
    """The till's key is missing, unreadable or not the one the database was sealed with."""


class Vault:
    """AES-256-GCM with the till's key. ``seal(data, context)`` / ``open(blob, context)``; the
    context (e.g. ``txn:<id>``) is authenticated, so a sealed value moved to another row does
    not open.

    ``cryptography`` is imported at the first seal or open, not with the key: a process that
    never meets a secret (the forwarder delivering advices, the UI up to its login screen) does
    not load it (about 9 MB resident; issue 17, footprint)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise VaultError(f"the till key must be {KEY_BYTES} bytes, not {len(key)}")
        self._key = key
        self.fingerprint = hmac.new(key, b"terminal-agent key fingerprint",
                                    hashlib.sha256).hexdigest()[:16]

    @cached_property
    def _aead(self) -> AESGCM:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(self._key)

    def seal(self, data: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return _MAGIC + nonce + self._aead.encrypt(nonce, data, context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        if not blob.startswith(_MAGIC):
            raise VaultError("not a sealed value")
        nonce, body = blob[len(_MAGIC):len(_MAGIC) + _NONCE], blob[len(_MAGIC) + _NONCE:]
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag as exc:
            raise VaultError("a sealed value does not open with this key (or was moved)") from exc

    def seal_json(self, value: Any, context: str) -> bytes:
        return self.seal(json.dumps(value, separators=(",", ":")).encode(), context)

    def open_json(self, blob: bytes, context: str) -> Any:
        return json.loads(self.open(blob, context))


def is_sealed(blob: bytes | None) -> bool:
    return bool(blob) and bytes(blob).startswith(_MAGIC)  # type: ignore[arg-type]


# -- the key ----------------------------------------------------------------------------------


def key_path(db_path: str | os.PathLike[str], key_file: str = "") -> Path:
    return Path(key_file) if key_file else Path(db_path).with_name("till.key")


def load_key(db_path: str | os.PathLike[str], key_file: str = "", key_credential: str = "", *,
             create: bool = True) -> bytes:
    """The till key: the systemd credential when running under systemd, else ``key_file`` (on a
    till: /etc/terminal-agent/till-key, root's, for admin commands run with sudo), else
    ``till.key`` beside the database (created 0600 on first use when ``create``). Stored as
    base64 text (one line) so it can be written with a shell."""
    from terminal_agent.security import check_private_file

    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if key_credential and creds:
        path = Path(creds) / key_credential
    elif key_credential and not key_file:
        raise ConfigError(f"credential `{key_credential}` is configured but "
                          "$CREDENTIALS_DIRECTORY is not set (run under systemd with "
                          "LoadCredential=, or set store.key_file too)")
    else:
        path = key_path(db_path, key_file)
        if create and not key_file and not path.exists():
            _create_key(path)
    check_private_file(path, what="till key", links=False)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "no till key", str(path))
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise VaultError(f"{path}: cannot read the till key: {exc}") from exc
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise VaultError(f"{path}: the till key is not base64 text") from exc
    if len(key) != KEY_BYTES:
        raise VaultError(f"{path}: the till key must be {KEY_BYTES} bytes of base64, "
                         f"not {len(key)}")
    return key


def _create_key(path: Path) -> None:
    """A new key file, whole or not at all: written aside, then linked into place. Two processes
    starting at once (UI and forwarder) end up with the same key: the first link wins."""
    from terminal_agent.security import open_state_file

    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = open_state_file(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, "till key")
    try:
        os.write(fd, (new_key_text() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()


def new_key_text() -> str:
    """A fresh key as the key file holds it (``terminal-agent`` writes it; so can a shell:
    ``head -c 32 /dev/urandom | base64``)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


# -- what is kept of a message ------------------------------------------------------------------


def redact(body: bytes | None) -> tuple[bytes | None, dict[str, Any]]:
    """``body`` (JSON) with PIN blocks replaced by ``***`` and the values to seal replaced by
    ``***`` too; returns the stored bytes and the secrets ``{json path: value}`` to seal.
    A body that is not JSON is stored as it is (it came from the switch and is kept for the
    record) only if it holds none of the keys; otherwise it is not stored at all."""
    if not body:
        return body, {}
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        text = bytes(body)
        if any(k.encode() in text for k in (*DROP_KEYS, *SEAL_KEYS)):
            return b"", {}
        return text, {}
    found: dict[str, Any] = {}
    changed = _walk(doc, "", found)
    if not changed:
        return bytes(body), {}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(), found


def _walk(node: Any, path: str, found: dict[str, Any]) -> bool:
    changed = False
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}"
            if key in DROP_KEYS and value not in (None, REDACTED):
                node[key] = REDACTED
                changed = True
            elif key in SEAL_KEYS and isinstance(value, str | int) and value != REDACTED:
                found[here] = value
                node[key] = REDACTED
                changed = True
            else:
                changed = _walk(value, here, found) or changed
    elif isinstance(node, list):
        for index, value in enumerate(node):
            changed = _walk(value, f"{path}/{index}", found) or changed
    return changed


def restore(body: bytes | None, found: dict[str, Any]) -> bytes | None:
    """``body`` with the sealed values put back at their paths (for the step that needs them)."""
    if not body or not found:
        return body
    doc = json.loads(body)
    for path, value in found.items():
        _put(doc, [p for p in path.split("/") if p != ""], value)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _put(doc: Any, parts: Iterable[str], value: Any) -> None:
    parts = list(parts)
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


class Keeper:
    """What the journal keeps of a message: the redacted bytes in clear, the sealable values in
    one sealed blob per transaction (``{"request": {path: value}, "response": {...}}``), bound
    to it (``txn:<id>``). Without a vault the values are dropped, never kept in clear."""

    def __init__(self, vault: Vault | None) -> None:
        self.vault = vault

    def keep(self, txn_id: str, part: str, body: bytes | None,
             sealed: bytes | None) -> tuple[bytes | None, bytes | None]:
        """(bytes to store, the new sealed blob, or None when it does not change)."""
        stored, found = redact(body)
        if not found or self.vault is None:
            return stored, None
        secrets_now = self.secrets(txn_id, sealed)
        secrets_now[part] = found
        return stored, self.vault.seal_json(secrets_now, f"txn:{txn_id}")

    def secrets(self, txn_id: str, sealed: bytes | None) -> dict[str, Any]:
        if not sealed or self.vault is None:
            return {}
        opened: dict[str, Any] = self.vault.open_json(bytes(sealed), f"txn:{txn_id}")
        return opened

    def restore(self, txn_id: str, request: bytes | None, response: bytes | None,
                sealed: bytes | None) -> tuple[bytes | None, bytes | None]:
        """The messages as they were sent and received, for the step that needs them."""
        found = self.secrets(txn_id, sealed)
        return (restore(request, found.get("request", {})),
                restore(response, found.get("response", {})))


async def open_vault(cfg: Any, store: Any) -> Vault:
    """The till's key for ``store``: loaded (created on first use, when no sealed data can exist
    yet) and checked against the fingerprint the database recorded."""
    import asyncio

    row = await store.fetchone("SELECT value FROM kv WHERE key=?", (FINGERPRINT_KEY,))
    recorded = str(row[0]) if row else None
    s = cfg.store
    try:
        key = await asyncio.to_thread(load_key, s.path, s.key_file, s.key_credential,
                                      create=recorded is None)
    except FileNotFoundError as exc:
        raise VaultError(_lost(cfg, f"{exc.filename} is missing")) from exc
    if find_spec("cryptography") is None:  # imported at the first seal: say it now, not mid-sale
        raise VaultError("the cipher library (python package 'cryptography') is not installed:"
                         " reinstall terminal-agent with its dependencies")
    vault = Vault(key)
    store.vault = vault  # the print queue's too
    await store.step(lambda db: db.execute(_PIN_RECEIPT_GUARD))
    if recorded is None:  # first use; another process may record at the same time
        await store.executemany("INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)",
                                [(FINGERPRINT_KEY, vault.fingerprint)])
        row = await store.fetchone("SELECT value FROM kv WHERE key=?", (FINGERPRINT_KEY,))
        recorded = str(row[0]) if row else vault.fingerprint
    if recorded != vault.fingerprint:
        raise VaultError(_lost(cfg, "the till key is not the one this database was sealed with"))
    return vault


# A net under rule 2 for every writer of this connection: a receipt marked as holding a PIN
# goes into print_jobs sealed, or not at all (whatever code path inserts it).
_PIN_RECEIPT_GUARD = """
CREATE TEMP TRIGGER IF NOT EXISTS pin_receipts_sealed BEFORE INSERT ON print_jobs
WHEN NEW.contains_pin AND substr(NEW.content, 1, 3) != X'544131'
BEGIN SELECT RAISE(ABORT, 'a receipt with a voucher PIN must be sealed (core/vault.py)'); END
"""


def _lost(cfg: Any, what: str) -> str:
    where = (f"the credential {cfg.store.key_credential}" if cfg.store.key_credential
             else str(key_path(cfg.store.path, cfg.store.key_file)))
    return (f"{what} ({where}): put the till's key back (docs/DEPLOY.md, Keys); without it the "
            "voucher PINs and ID numbers kept for reprints and retries cannot be read")


# -- receipts ---------------------------------------------------------------------------------


def receipt_context(reference: str) -> str:
    return f"receipt:{reference.upper()}"


def seal_receipt(vault: Vault | None, reference: str, content: bytes,
                 text: str) -> tuple[bytes, bytes]:
    """A receipt with a voucher PIN as the print queue stores it: both its ESC/POS bytes and its
    text sealed (rule 2). Without the till key it is refused, never stored in clear."""
    if vault is None:
        raise VaultError("a receipt with a voucher PIN needs the till key: it is never stored "
                         "in clear")
    context = receipt_context(reference)
    return vault.seal(bytes(content), context), vault.seal(text.encode("utf-8"), context)


def open_receipt(vault: Vault | None, reference: str, content: bytes,
                 text: bytes | str) -> tuple[bytes, str]:
    """The stored receipt as the printer needs it (``b""`` once dropped after the window)."""
    if not is_sealed(content):
        return bytes(content), text if isinstance(text, str) else bytes(text).decode()
    if vault is None:
        raise VaultError("a sealed receipt needs the till key")
    context = receipt_context(reference)
    raw_text = text.encode() if isinstance(text, str) else bytes(text)
    return vault.open(bytes(content), context), vault.open(raw_text, context).decode()
