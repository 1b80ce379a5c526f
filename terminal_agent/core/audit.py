"""The audit trail: every privileged act, who did it, as a tamper-evident hash chain.

Rules:
1. Every privileged act (a supervisor override, a refund given, a parked advice resolved, a
   reprint, a login or its failure, every change to an account, every admin command) is one row
   in ``audit``, written in the step that does the act where it can be, and one journal record
   with ``AUDIT=1`` (``journalctl AUDIT=1``) sent after the commit.
2. Rows are only appended. Each carries ``prev_hash`` (the previous row's ``hash``; 64 zeros for
   the first) and ``hash`` = SHA-256 over that and its own id, time, actor, action, subject and
   note. Editing a row breaks its own hash; deleting one breaks the next row's link and leaves a
   gap in the ids; re-computing the chain after an edit changes every later hash, which no longer
   match the ones already sent to the journal (``AUDIT_HASH``).
3. ``verify`` walks the chain from its anchor and names the first row that does not fit.
   Retention cuts the oldest rows only as a whole prefix; the cut is itself an audit row, and the
   last hash cut off becomes the anchor (``kv`` ``audit.anchor``) the remaining chain starts from.
4. The actor is who really did it: a cashier or supervisor number in the UI; for a command line,
   the login user behind ``sudo`` (``cli_operator``), never a fixed word such as "admin".
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pwd
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from terminal_agent import logs
from terminal_agent.config import AgentConfig
from terminal_agent.core.store import Db, Store, open_configured
from terminal_agent.errors import AgentError

GENESIS = "0" * 64
ANCHOR_KEY = "audit.anchor"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    action: str
    subject: str | None
    note: str | None
    prev_hash: str | None = None
    hash: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row | tuple[Any, ...]) -> AuditEntry:
        return cls(*row)

    def publish(self) -> None:
        """The journal's copy (``AUDIT=1``), with the row's hash so the chain has a witness
        outside the database."""
        logs.audit(self.action, actor=self.actor, subject=self.subject or "",
                   note=self.note or "", audit_id=self.id, audit_hash=self.hash or "")


_COLUMNS = "id, at, actor, action, subject, note, prev_hash, hash"


def link_hash(prev_hash: str, row_id: int, at: float, actor: str, action: str,
              subject: str | None, note: str | None) -> str:
    payload = json.dumps([prev_hash, row_id, at, actor, action, subject, note],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(db: Db, at: float, actor: str, action: str, subject: str | None = None,
           note: str | None = None) -> AuditEntry:
    """Append one row inside the caller's write step (``Store.step``). The caller publishes the
    returned entry once the step has committed."""
    _seal_legacy(db)
    last = db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev_id, prev = (int(last[0]), str(last[1])) if last else _anchor(db)
    row_id = prev_id + 1
    digest = link_hash(prev, row_id, at, actor, action, subject or None, note)
    db.execute("INSERT INTO audit (id, at, actor, action, subject, note, prev_hash, hash)"
               " VALUES (?,?,?,?,?,?,?,?)",
               (row_id, at, actor, action, subject or None, note, prev, digest))
    return AuditEntry(row_id, at, actor, action, subject or None, note, prev, digest)


def _anchor(db: Db) -> tuple[int, str]:
    """Where the chain starts: (id, hash) of the last row retention removed, or (0, zeros)."""
    row = db.execute("SELECT value FROM kv WHERE key=?", (ANCHOR_KEY,)).fetchone()
    if row is None:
        return 0, GENESIS
    anchor_id, _, anchor_hash = str(row[0]).partition(":")
    return int(anchor_id), anchor_hash


def _seal_legacy(db: Db) -> None:
    """Rows written before the chain existed (the upgrade added the columns empty) are chained
    once, in order, by the first append after the upgrade; from then on they are protected
    like any other row."""
    if db.execute("SELECT 1 FROM audit WHERE hash IS NULL LIMIT 1").fetchone() is None:
        return
    _, prev = _anchor(db)
    for row in db.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY id").fetchall():  # noqa: S608
        entry = AuditEntry.from_row(row)
        digest = link_hash(prev, entry.id, entry.at, entry.actor, entry.action, entry.subject,
                           entry.note)
        db.execute("UPDATE audit SET prev_hash=?, hash=? WHERE id=?", (prev, digest, entry.id))
        prev = digest


@dataclass(frozen=True)
class ChainReport:
    rows: int
    first_bad_id: int | None = None
    problem: str = ""
    unsealed: bool = False

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None

    def describe(self) -> str:
        if not self.intact:
            return f"BROKEN at row {self.first_bad_id}: {self.problem}"
        if self.unsealed:
            return (f"not chained yet ({self.rows} rows from an older version; "
                    "chained at the next entry)")
        return f"intact ({self.rows} rows)"


def verify_chain(db: Db) -> ChainReport:
    """Walk the chain in id order from its anchor; report the first row that is missing,
    altered or out of place. Reads only."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
    if "hash" not in columns:  # a database not migrated yet (status reads without migrating)
        count = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        return ChainReport(int(count), unsealed=True)
    sealed = db.execute("SELECT COUNT(*), COUNT(hash) FROM audit").fetchone()
    if sealed[0] and not sealed[1]:
        return ChainReport(int(sealed[0]), unsealed=True)
    expected_id, prev = _anchor(db)
    count = 0
    for row in db.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY id"):  # noqa: S608
        entry = AuditEntry.from_row(row)
        count += 1
        expected_id += 1
        broken = _misfit(entry, expected_id, prev)
        if broken is not None:
            return ChainReport(count, *broken)
        assert entry.hash is not None  # it fits: its hash is the one computed
        prev = entry.hash
    return ChainReport(count)


def _misfit(entry: AuditEntry, expected_id: int, prev: str) -> tuple[int, str] | None:
    """(the row to name, why) when ``entry`` does not fit the chain where ``expected_id`` and
    the previous hash ``prev`` are due; None when it fits."""
    if entry.id < expected_id:
        return entry.id, "the row lies before the chain's anchor"
    if entry.id != expected_id:
        missing = (f"row {expected_id} is missing" if entry.id == expected_id + 1 else
                   f"rows {expected_id} to {entry.id - 1} are missing")
        return expected_id, missing + " (deleted)"
    if entry.prev_hash != prev:
        return entry.id, ("its link to the previous row does not match "
                          "(the row before it was replaced or removed)")
    if entry.hash != link_hash(prev, entry.id, entry.at, entry.actor, entry.action,
                               entry.subject, entry.note):
        return entry.id, "its content does not match its hash (edited)"
    return None


class AuditTrail:
    """The audit table over the agent's ``Store``: appends, the chain check, and the listing."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def add(self, db: Db, actor: str, action: str, subject: str | None = None,
            note: str | None = None) -> AuditEntry:
        """Inside a step; ``publish()`` the result after the step."""
        return append(db, self.clock(), actor, action, subject, note)

    async def record(self, actor: str, action: str, subject: str | None = None,
                     note: str | None = None) -> AuditEntry:
        """One row in its own step, then the journal record."""
        entry = await self.store.step(lambda db: self.add(db, actor, action, subject, note))
        entry.publish()
        return entry

    async def verify(self) -> ChainReport:
        return await self.store.read(verify_chain)

    async def entries(self, limit: int = 200, action: str | None = None) -> list[AuditEntry]:
        where, params = ("WHERE action=?", [action]) if action else ("", [])
        rows = await self.store.fetchall(
            f"SELECT {_COLUMNS} FROM audit {where} ORDER BY id DESC LIMIT ?",  # noqa: S608
            [*params, limit])
        return [AuditEntry.from_row(tuple(r)) for r in rows]


def cli_operator(env: Mapping[str, str] | None = None, *, loginuid_path: str =
                 "/proc/self/loginuid") -> str:
    """The person behind a command line: the kernel's login uid (kept across ``su`` and ``sudo``),
    else ``SUDO_USER``, else the effective user; ``as root`` added when they differ.
    E.g. ``cli:alice as root``."""
    env = os.environ if env is None else env
    effective = _user_name(os.geteuid())
    person = _login_user(loginuid_path) or env.get("SUDO_USER", "").strip() or effective
    return f"cli:{person}" + (f" as {effective}" if person != effective else "")


def _login_user(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as f:
            uid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return None if uid in (-1, 0xFFFFFFFF) else _user_name(uid)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


@asynccontextmanager
async def admin_store(config_path: str) -> AsyncIterator[tuple[AgentConfig, Store]]:
    """The configuration and the database for an admin command, with its journal records
    (``AUDIT=1``) going where the services' go."""
    from terminal_agent import config as config_mod
    from terminal_agent.security import check_state_files

    cfg = config_mod.load(config_path)
    check_state_files(cfg.store.path, config_path)
    logs.setup_admin_logging(cfg.logging)
    store = await open_configured(cfg)
    try:
        yield cfg, store
    finally:
        await store.close()


def record_admin_act(cfg: AgentConfig, action: str, subject: str | None = None,
                     note: str | None = None) -> None:
    """An admin command (``init``, ``backup``, ``restore``...) as an audit row naming the
    operator, and its ``AUDIT=1`` journal record. A database that cannot take the row (damaged,
    an older schema) is left untouched: the journal record still says who did what."""
    logs.setup_admin_logging(cfg.logging)
    operator = cli_operator()

    async def write() -> None:
        store = await open_configured(cfg)
        try:
            await AuditTrail(store).record(operator, action, subject, note)
        finally:
            await store.close()

    try:
        asyncio.run(write())
    except AgentError as exc:
        logs.audit(action, actor=operator, subject=subject or "", note=note or "",
                   audit_id="", audit_hash=f"not recorded in the database: {exc}")
