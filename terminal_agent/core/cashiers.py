"""Cashier accounts: scrypt-hashed PINs, roles, lockout after wrong PINs, and the audit trail of
supervisor actions (the command line's ``terminal-agent cashier`` is commands/cashier.py).

Rules:
1. A PIN is stored only as ``security.hash_pin`` (scrypt, salted); it never reaches argv, a log
   line or an exception message. Hashing runs in a thread: the event loop never waits on scrypt.
2. ``max_pin_failures`` wrong PINs in a row lock the account for ``lockout_seconds``; a right PIN
   resets the count. An unknown id, a disabled account and a wrong PIN get the same answer after
   the same work (one scrypt at today's cost); a hash made at an older cost is replaced at the
   next right PIN.
3. A new PIN is refused when it is trivial (``weak_pin_reason``): repeated digits, sequences,
   the cashier's own number...
4. Every login and its failure, every supervisor override (and every refused attempt), every
   change to an account is an audit row (``core/audit.py``) naming who did it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from terminal_agent.config import UiConfig
from terminal_agent.core.audit import AuditEntry, AuditTrail
from terminal_agent.core.store import Db, Store
from terminal_agent.errors import AgentError, ValidationError
from terminal_agent.security import check_pin_against, hash_pin, pin_needs_rehash

log = logging.getLogger(__name__)

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


def check_id(cashier_id: str) -> str:
    cashier_id = cashier_id.strip()
    if not _ID_RE.fullmatch(cashier_id):
        raise ValidationError("cashier_id", "use 1 to 16 letters or digits")
    return cashier_id


def check_pin(pin: str, cashier_id: str = "") -> str:
    """A new PIN: 4 to 12 digits and not one a guesser tries first (``weak_pin_reason``)."""
    if not _PIN_RE.fullmatch(pin):
        raise ValidationError("pin", "a PIN is 4 to 12 digits")
    reason = weak_pin_reason(pin, cashier_id)
    if reason:
        raise ValidationError("pin", f"too easy to guess ({reason}); choose another")
    return pin


# Guessed first (DataGenetics' study of 3.4 million 4-digit PINs) and not caught by the rules
# below: keypad columns, and the years a birthday PIN is made of.
_COMMON_PINS = frozenset({"1004", "2580", "0852", "6969", "1313"})
_YEAR_RE = re.compile(r"(19|20)\d\d")


def weak_pin_reason(pin: str, cashier_id: str = "") -> str | None:
    """Why ``pin`` is trivial, or None: repeated digits, a sequence with a constant step
    (1234, 9876, 2468, 8901), a repeated block (1212, 123123), pairs (1122), a year (19xx,
    20xx), a well-known PIN, or the cashier's own number (or it reversed)."""
    for reason, trivial in _TRIVIAL:
        if trivial(pin, cashier_id):
            return reason
    return None


def _steps(pin: str) -> set[int]:
    digits = [int(c) for c in pin]
    return {(b - a) % 10 for a, b in zip(digits, digits[1:], strict=False)}


def _repeated_group(pin: str) -> bool:
    n = len(pin)
    return any(n % k == 0 and pin == pin[:k] * (n // k) for k in range(1, n // 2 + 1))


def _pairs(pin: str) -> bool:
    return len(pin) % 2 == 0 and all(pin[i] == pin[i + 1] for i in range(0, len(pin), 2))


# Checked in order: the first that fits names why the PIN is refused.
_TRIVIAL: list[tuple[str, Callable[[str, str], bool]]] = [
    ("one digit repeated", lambda pin, _: _steps(pin) == {0}),
    ("a sequence such as 1234 or 2468", lambda pin, _: len(_steps(pin)) == 1),
    ("a repeated group of digits", lambda pin, _: _repeated_group(pin)),
    ("pairs of digits", lambda pin, _: _pairs(pin)),
    ("the cashier's own number", lambda pin, me: bool(me) and pin in (me, me[::-1])),
    ("a year or one of the most common PINs",
     lambda pin, _: len(pin) == 4 and bool(_YEAR_RE.fullmatch(pin) or pin in _COMMON_PINS)),
]


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


WRONG = "Wrong cashier number or PIN."


class Cashiers:
    """The accounts table over the agent's ``Store``; every change and check is audited."""

    def __init__(self, store: Store, cfg: UiConfig | None = None,
                 clock: Any = time.time) -> None:
        self.store = store
        self.cfg = cfg or UiConfig()
        self.clock = clock
        self.trail = AuditTrail(store, clock)

    # -- accounts ----------------------------------------------------------------------------

    async def add(self, cashier_id: str, pin: str, *, role: Role | str = Role.CASHIER,
                  name: str = "", replace: bool = False, actor: str = "") -> Cashier:
        """Create an account (or, with ``replace``, reset its PIN, role, name and lock).
        ``actor``: who does it (the CLI's operator); the audit row names them."""
        cashier_id, role = check_id(cashier_id), Role(role)
        digest = await asyncio.to_thread(hash_pin, check_pin(pin, cashier_id))
        now = self.clock()

        def write(db: Db) -> AuditEntry:
            exists = db.execute("SELECT 1 FROM cashiers WHERE id=?", (cashier_id,)).fetchone()
            if exists and not replace:
                raise CashierError(f"cashier {cashier_id} already exists; to reset its PIN and "
                                   "role say so explicitly (cashier add --replace)")
            db.execute(
                "INSERT INTO cashiers (id, name, role, pin_hash, enabled, failures, created_at,"
                " updated_at) VALUES (?,?,?,?,1,0,?,?) ON CONFLICT(id) DO UPDATE SET"
                " name=excluded.name, role=excluded.role, pin_hash=excluded.pin_hash, enabled=1,"
                " failures=0, locked_until=NULL, updated_at=excluded.updated_at",
                (cashier_id, name.strip(), role.value, digest, now, now))
            return self.trail.add(db, actor or "system", "cashier-reset" if exists
                                  else "cashier-added", cashier_id, f"role {role.value}")

        (await self.store.step(write)).publish()
        return await self.get(cashier_id)

    async def ensure(self, cashier_id: str, pin: str, *, role: Role | str = Role.CASHIER,
                     name: str = "") -> Cashier:
        """The account as given, created if missing (the demo's accounts)."""
        found = await self.find(cashier_id)
        return found if found is not None else await self.add(
            cashier_id, pin, role=role, name=name, actor="demo")

    async def disable(self, cashier_id: str, actor: str) -> Cashier:
        def write(db: Db) -> AuditEntry:
            cur = db.execute("UPDATE cashiers SET enabled=0, updated_at=? WHERE id=?",
                             (self.clock(), cashier_id))
            if cur.rowcount != 1:
                raise CashierError(f"no cashier {cashier_id}")
            return self.trail.add(db, actor, "cashier-disabled", cashier_id)

        (await self.store.step(write)).publish()
        return await self.get(cashier_id)

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
        return await self._check(supervisor_id.strip(), pin, action="override",
                                 need_supervisor=True, subject=subject,
                                 note=f"{action} in the session of {on_behalf_of}".strip())

    async def _check(self, cashier_id: str, pin: str, *, action: str,
                     need_supervisor: bool = False, subject: str = "",
                     note: str = "") -> LoginResult:
        """Rule 2: an unknown id, a disabled account and a wrong PIN get the same answer after
        the same work (one scrypt at today's cost); only a lock is told apart."""
        row = await self.store.fetchone("SELECT * FROM cashiers WHERE id=?", (cashier_id,))
        cashier, stored = (Cashier.from_row(row), str(row["pin_hash"])) if row else (None, "")
        ok = await asyncio.to_thread(check_pin_against, pin,
                                     stored if cashier is not None and cashier.enabled else None)
        refused = await self._refused(cashier, cashier_id, action, subject)
        if refused is not None or cashier is None:
            return refused or LoginResult(None, WRONG)
        if not ok:
            return await self._failed(cashier, action, subject)
        if need_supervisor and not cashier.is_supervisor:
            await self.audit(cashier_id, f"{action}-refused", subject, "not a supervisor")
            return LoginResult(None, "That account is not a supervisor.")
        return await self._succeeded(cashier, pin, stored, action, subject, note)

    async def _refused(self, cashier: Cashier | None, cashier_id: str, action: str,
                       subject: str) -> LoginResult | None:
        """The answer for an unknown, disabled or locked account (audited), None otherwise."""
        if cashier is None or not cashier.enabled:
            why = "unknown id" if cashier is None else "account disabled"
            await self.audit(cashier_id or "?", f"{action}-failed", subject, why)
            return LoginResult(None, WRONG)
        now = self.clock()
        if cashier.locked_until is not None and cashier.locked_until > now:
            await self.audit(cashier_id, f"{action}-failed", subject, "account locked")
            return LoginResult(None, f"Too many wrong PINs: locked for "
                                     f"{_minutes(cashier.locked_until - now)}. Ask a supervisor.")
        return None

    async def _succeeded(self, cashier: Cashier, pin: str, stored: str, action: str,
                         subject: str, note: str) -> LoginResult:
        """Reset the failure count; a hash made at an older cost is replaced by one at today's."""
        rehash = await asyncio.to_thread(hash_pin, pin) if pin_needs_rehash(stored) else None
        weak = weak_pin_reason(pin, cashier.id)
        if weak:
            log.warning("cashier %s logs in with a PIN refused for new accounts (%s): reset it "
                        "with `terminal-agent cashier add %s --replace`", cashier.id, weak,
                        cashier.id)
        notes = [note, "PIN hash upgraded" if rehash else "", "weak PIN" if weak else ""]

        def write(db: Db) -> AuditEntry:
            db.execute(
                "UPDATE cashiers SET failures=0, locked_until=NULL, last_login_at=?,"
                " pin_hash=COALESCE(?, pin_hash) WHERE id=?", (self.clock(), rehash, cashier.id))
            return self.trail.add(db, cashier.id, action, subject,
                                  "; ".join(n for n in notes if n) or None)

        (await self.store.step(write)).publish()
        return LoginResult(await self.get(cashier.id), "Welcome.")

    async def _failed(self, cashier: Cashier, action: str, subject: str) -> LoginResult:
        failures = cashier.failures + 1
        limit = max(1, self.cfg.max_pin_failures)
        locked = failures >= limit
        until = self.clock() + self.cfg.lockout_seconds if locked else None

        def write(db: Db) -> AuditEntry:
            db.execute("UPDATE cashiers SET failures=?, locked_until=? WHERE id=?",
                       (0 if locked else failures, until, cashier.id))
            return self.trail.add(db, cashier.id, f"{action}-failed", subject,
                                  "wrong PIN, account locked" if locked else "wrong PIN")

        (await self.store.step(write)).publish()
        if locked:
            return LoginResult(None, f"Too many wrong PINs: locked for "
                                     f"{_minutes(self.cfg.lockout_seconds)}. Ask a supervisor.")
        return LoginResult(None, WRONG)

    # -- audit -------------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, subject: str | None = None,
                    note: str | None = None) -> None:
        await self.trail.record(actor, action, subject, note)

    async def audit_log(self, limit: int = 200, action: str | None = None) -> list[AuditEntry]:
        return await self.trail.entries(limit, action)
