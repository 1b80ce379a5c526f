"""Cashier accounts: scrypt-hashed PINs, roles, lockout after wrong PINs, and the audit trail of
supervisor actions. Also ``terminal-agent cashier add|disable|list``.

Rules:
1. A PIN is stored only as ``security.hash_pin`` (scrypt, salted); it never reaches argv, a log
   line or an exception message. Hashing runs in a thread: the event loop never waits on scrypt.
2. ``max_pin_failures`` wrong PINs in a row lock the account for ``lockout_seconds``; a right PIN
   resets the count. An unknown id and a wrong PIN get the same answer.
3. Every supervisor override (and every refused attempt) is written to ``audit``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sqlite3
import sys
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from terminal_agent import logs
from terminal_agent.config import UiConfig
from terminal_agent.core.store import Store, open_configured
from terminal_agent.errors import AgentError, ValidationError
from terminal_agent.security import hash_pin, pin_needs_rehash, verify_pin

# The cashiers and audit tables are migration 2 in core/schema.py.

_ID_RE = re.compile(r"[A-Za-z0-9]{1,16}")
_PIN_RE = re.compile(r"\d{4,12}")


class Role(StrEnum):
    CASHIER = "cashier"
    SUPERVISOR = "supervisor"


class CashierError(AgentError):
    """An account operation that cannot be done (unknown id, already exists)."""


@dataclass(frozen=True)
class Cashier:
    id: str
    name: str
    role: Role
    enabled: bool
    failures: int
    locked_until: float | None
    last_login_at: float | None

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Cashier:
        return cls(id=row["id"], name=row["name"], role=Role(row["role"]),
                   enabled=bool(row["enabled"]), failures=int(row["failures"]),
                   locked_until=row["locked_until"], last_login_at=row["last_login_at"])


@dataclass(frozen=True)
class LoginResult:
    cashier: Cashier | None
    message: str

    @property
    def ok(self) -> bool:
        return self.cashier is not None


@dataclass(frozen=True)
class AuditEntry:
    at: float
    actor: str
    action: str
    subject: str | None
    note: str | None


def check_id(cashier_id: str) -> str:
    cashier_id = cashier_id.strip()
    if not _ID_RE.fullmatch(cashier_id):
        raise ValidationError("cashier_id", "use 1 to 16 letters or digits")
    return cashier_id


def check_pin(pin: str) -> str:
    if not _PIN_RE.fullmatch(pin):
        raise ValidationError("pin", "a PIN is 4 to 12 digits")
    return pin


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


class Cashiers:
    """The accounts table and the audit trail, over the agent's ``Store``."""

    def __init__(self, store: Store, cfg: UiConfig | None = None,
                 clock: Any = time.time) -> None:
        self.store = store
        self.cfg = cfg or UiConfig()
        self.clock = clock

    # -- accounts ----------------------------------------------------------------------------

    async def add(self, cashier_id: str, pin: str, *, role: Role | str = Role.CASHIER,
                  name: str = "", replace: bool = False) -> Cashier:
        """Create an account (or, with ``replace``, reset its PIN, role, name and lock)."""
        cashier_id, role = check_id(cashier_id), Role(role)
        digest = await asyncio.to_thread(hash_pin, check_pin(pin))
        now = self.clock()
        async with self.store.transaction() as db:
            cur = await db.execute("SELECT 1 FROM cashiers WHERE id=?", (cashier_id,))
            exists = await cur.fetchone() is not None
            if exists and not replace:
                raise CashierError(f"cashier {cashier_id} already exists")
            await db.execute(
                "INSERT INTO cashiers (id, name, role, pin_hash, enabled, failures, created_at,"
                " updated_at) VALUES (?,?,?,?,1,0,?,?) ON CONFLICT(id) DO UPDATE SET"
                " name=excluded.name, role=excluded.role, pin_hash=excluded.pin_hash, enabled=1,"
                " failures=0, locked_until=NULL, updated_at=excluded.updated_at",
                (cashier_id, name.strip(), role.value, digest, now, now))
            await self._audit(db, "admin", "cashier-reset" if exists else "cashier-added",
                              cashier_id, f"role {role.value}")
        return await self.get(cashier_id)

    async def ensure(self, cashier_id: str, pin: str, *, role: Role | str = Role.CASHIER,
                     name: str = "") -> Cashier:
        """The account as given, created if missing (the demo's accounts)."""
        found = await self.find(cashier_id)
        return found if found is not None else await self.add(cashier_id, pin, role=role,
                                                               name=name)

    async def disable(self, cashier_id: str, actor: str = "admin") -> Cashier:
        async with self.store.transaction() as db:
            cur = await db.execute("UPDATE cashiers SET enabled=0, updated_at=? WHERE id=?",
                                   (self.clock(), cashier_id))
            if cur.rowcount != 1:
                raise CashierError(f"no cashier {cashier_id}")
            await self._audit(db, actor, "cashier-disabled", cashier_id, None)
        return await self.get(cashier_id)

    async def unlock(self, cashier_id: str, supervisor: str) -> None:
        async with self.store.transaction() as db:
            await db.execute("UPDATE cashiers SET failures=0, locked_until=NULL WHERE id=?",
                             (cashier_id,))
            await self._audit(db, supervisor, "cashier-unlocked", cashier_id, None)

    async def find(self, cashier_id: str) -> Cashier | None:
        row = await self.store.fetchone("SELECT * FROM cashiers WHERE id=?", (cashier_id.strip(),))
        return Cashier.from_row(row) if row else None

    async def get(self, cashier_id: str) -> Cashier:
        found = await self.find(cashier_id)
        if found is None:
            raise CashierError(f"no cashier {cashier_id}")
        return found

    async def all(self) -> list[Cashier]:
        rows = await self.store.fetchall("SELECT * FROM cashiers ORDER BY id")
        return [Cashier.from_row(r) for r in rows]

    # -- login and overrides -----------------------------------------------------------------

    async def login(self, cashier_id: str, pin: str) -> LoginResult:
        """Check id and PIN; count wrong PINs and lock after ``max_pin_failures``."""
        return await self._check(cashier_id.strip(), pin, action="login")

    async def authorise(self, supervisor_id: str, pin: str, *, action: str, subject: str = "",
                        on_behalf_of: str = "") -> LoginResult:
        """A supervisor's PIN for one supervisor-only action, audited either way."""
        result = await self._check(supervisor_id.strip(), pin, action="override",
                                   need_supervisor=True, subject=subject,
                                   note=f"{action} in the session of {on_behalf_of}".strip())
        return result

    async def _check(self, cashier_id: str, pin: str, *, action: str,
                     need_supervisor: bool = False, subject: str = "",
                     note: str = "") -> LoginResult:
        wrong = "Wrong cashier number or PIN."
        row = await self.store.fetchone("SELECT * FROM cashiers WHERE id=?", (cashier_id,))
        if row is None:
            await asyncio.to_thread(hash_pin, "0000")  # the same time as a real check
            await self.audit(cashier_id or "?", f"{action}-failed", subject, "unknown id")
            return LoginResult(None, wrong)
        cashier = Cashier.from_row(row)
        now = self.clock()
        if not cashier.enabled:
            await self.audit(cashier_id, f"{action}-failed", subject, "account disabled")
            return LoginResult(None, "This account is disabled. Ask a supervisor.")
        if cashier.locked_until is not None and cashier.locked_until > now:
            await self.audit(cashier_id, f"{action}-failed", subject, "account locked")
            return LoginResult(None, f"Too many wrong PINs: locked for "
                                     f"{_minutes(cashier.locked_until - now)}. Ask a supervisor.")
        ok = await asyncio.to_thread(verify_pin, pin, row["pin_hash"])
        if not ok:
            return await self._failed(cashier, wrong, action, subject)
        if need_supervisor and not cashier.is_supervisor:
            await self.audit(cashier_id, f"{action}-refused", subject, "not a supervisor")
            return LoginResult(None, "That account is not a supervisor.")
        rehash = await asyncio.to_thread(hash_pin, pin) if pin_needs_rehash(row["pin_hash"]) \
            else None
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE cashiers SET failures=0, locked_until=NULL, last_login_at=?,"
                " pin_hash=COALESCE(?, pin_hash) WHERE id=?", (now, rehash, cashier_id))
            await self._audit(db, cashier_id, action, subject, note or None)
        return LoginResult(await self.get(cashier_id), "Welcome.")

    async def _failed(self, cashier: Cashier, wrong: str, action: str,
                      subject: str) -> LoginResult:
        failures = cashier.failures + 1
        limit = max(1, self.cfg.max_pin_failures)
        locked = failures >= limit
        until = self.clock() + self.cfg.lockout_seconds if locked else None
        async with self.store.transaction() as db:
            await db.execute("UPDATE cashiers SET failures=?, locked_until=? WHERE id=?",
                             (0 if locked else failures, until, cashier.id))
            await self._audit(db, cashier.id, f"{action}-failed", subject,
                              "wrong PIN, account locked" if locked else "wrong PIN")
        if locked:
            return LoginResult(None, f"Too many wrong PINs: locked for "
                                     f"{_minutes(self.cfg.lockout_seconds)}. Ask a supervisor.")
        left = limit - failures
        return LoginResult(None, f"{wrong} {left} {'try' if left == 1 else 'tries'} left.")

    # -- audit -------------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, subject: str | None = None,
                    note: str | None = None) -> None:
        async with self.store.transaction() as db:
            await self._audit(db, actor, action, subject, note)

    async def _audit(self, db: Any, actor: str, action: str, subject: str | None,
                     note: str | None) -> None:
        await db.execute("INSERT INTO audit (at, actor, action, subject, note) VALUES (?,?,?,?,?)",
                         (self.clock(), actor, action, subject or None, note))
        # ... and the journal: `journalctl AUDIT=1` lists every supervisor action.
        logs.audit(action, actor=actor, subject=subject or "", note=note or "")

    async def audit_log(self, limit: int = 200, action: str | None = None) -> list[AuditEntry]:
        where, params = ("WHERE action=?", [action]) if action else ("", [])
        rows = await self.store.fetchall(
            f"SELECT at, actor, action, subject, note FROM audit {where}"  # noqa: S608
            " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [AuditEntry(r["at"], r["actor"], r["action"], r["subject"], r["note"])
                for r in rows]


# -- terminal-agent cashier add|disable|list ----------------------------------------------------


def _read_pin(args: argparse.Namespace) -> str:
    if getattr(args, "pin_stdin", False):
        return check_pin(sys.stdin.readline().strip())
    first = getpass.getpass("New PIN (4 to 12 digits): ")
    check_pin(first)
    if getpass.getpass("Same PIN again: ") != first:
        raise ValidationError("pin", "the two PINs differ; nothing was changed")
    return first


async def _cashier_command(args: argparse.Namespace) -> int:
    from terminal_agent import config as config_mod
    from terminal_agent.security import check_state_files

    cfg = config_mod.load(args.config)
    check_state_files(cfg.store.path, args.config)
    store = await open_configured(cfg)
    try:
        accounts = Cashiers(store, cfg.ui)
        if args.action == "add":
            cashier_id = check_id(args.cashier_id)
            pin = _read_pin(args)
            replace = await accounts.find(cashier_id) is not None
            added = await accounts.add(cashier_id, pin, role=args.role, name=args.name,
                                       replace=replace)
            print(f"{'updated' if replace else 'added'} {added.role.value} {added.label}")
        elif args.action == "disable":
            gone = await accounts.disable(args.cashier_id)
            print(f"disabled {gone.label}")
        else:
            for c in await accounts.all():
                state = "enabled" if c.enabled else "disabled"
                if c.locked_until and c.locked_until > time.time():
                    state = "locked"
                print(f"{c.id:<16} {c.role.value:<10} {state:<9} {c.name}")
        return 0
    finally:
        await store.close()


def run_cashier(args: argparse.Namespace) -> int:
    return asyncio.run(_cashier_command(args))
