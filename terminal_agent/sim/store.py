"""What the simulator remembers: originals it answered, advices it received, customers it created.

One SQLite database, in memory by default or in a file (``--state``) so the simulator can be
killed with SIGKILL and restarted without forgetting what it approved. Every write is its own
committed transaction (WAL, ``synchronous=FULL``) *before* the answer leaves the server, so a
request that was answered is always remembered. The connection lives in the server thread; a
lock guards it because tests may read the ledger from another thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal_agent.security import create_private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS originals (
    id          TEXT PRIMARY KEY,
    interface   TEXT NOT NULL,
    operation   TEXT NOT NULL,
    status      INTEGER NOT NULL,
    outcome     TEXT NOT NULL,            -- approved | declined
    error_type  TEXT,
    amount      INTEGER,
    state       TEXT NOT NULL,            -- open | confirmed | reversed | declined
    ref         TEXT,                     -- orderRedeemRef / voucher code / cancelled order ref
    request     TEXT NOT NULL,
    response    TEXT,
    aux         TEXT NOT NULL DEFAULT '{}',
    lookups     INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL,
    created     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS originals_ref ON originals(ref, operation);
CREATE TABLE IF NOT EXISTS advices (
    id          TEXT PRIMARY KEY,
    original_id TEXT NOT NULL,
    kind        TEXT NOT NULL,            -- confirmation | reversal | cancellation
    operation   TEXT NOT NULL,
    status      INTEGER NOT NULL,
    error_type  TEXT,
    count       INTEGER NOT NULL DEFAULT 1,
    body        TEXT,
    seq         INTEGER NOT NULL,
    first_at    REAL NOT NULL,
    last_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS advices_original ON advices(original_id);
CREATE TABLE IF NOT EXISTS customers (
    profile_id  TEXT PRIMARY KEY,
    id_number   TEXT NOT NULL,
    receiver_id TEXT,
    message     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_id_number ON customers(id_number);
CREATE TABLE IF NOT EXISTS counters (
    name        TEXT PRIMARY KEY,
    value       INTEGER NOT NULL
);
"""


@dataclass
class Original:
    id: str
    interface: str
    operation: str
    status: int
    outcome: str
    request: dict[str, Any]
    response: Any = None
    error_type: str | None = None
    amount: int | None = None
    state: str = "open"
    ref: str | None = None
    aux: dict[str, Any] = field(default_factory=dict)
    lookups: int = 0


@dataclass
class Advice:
    id: str
    original_id: str
    kind: str
    operation: str
    status: int
    error_type: str | None
    count: int
    body: Any = None


class SimStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path else ":memory:"
        self._lock = threading.RLock()
        if self.path != ":memory:":  # it holds voucher PINs and PIN blocks: owner only
            create_private_file(Path(self.path))
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def reset(self) -> None:
        with self._lock, self._tx():
            for table in ("originals", "advices", "customers", "counters"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names

    # -- plumbing ---------------------------------------------------------------------------
    def _tx(self) -> _Tx:
        return _Tx(self._db)

    def _next(self, name: str) -> int:
        self._db.execute(
            "INSERT INTO counters(name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,))
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row["value"])

    def next_number(self, name: str) -> int:
        """A durable counter (references that must not repeat after a restart)."""
        with self._lock, self._tx():
            return self._next(name)

    # -- originals --------------------------------------------------------------------------
    def add_original(self, o: Original) -> None:
        with self._lock, self._tx():
            self._db.execute(
                "INSERT INTO originals(id, interface, operation, status, outcome, error_type,"
                " amount, state, ref, request, response, aux, lookups, seq, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (o.id, o.interface, o.operation, o.status, o.outcome, o.error_type, o.amount,
                 o.state, o.ref, json.dumps(o.request), _dump(o.response), json.dumps(o.aux),
                 o.lookups, self._next("seq"), time.time()))

    def get_original(self, original_id: str) -> Original | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM originals WHERE id = ?",
                                   (original_id,)).fetchone()
        return _original(row) if row else None

    def originals_by_ref(self, ref: str, operation: str) -> list[Original]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM originals WHERE ref = ? AND operation = ? ORDER BY seq",
                (ref, operation)).fetchall()
        return [_original(r) for r in rows]

    def originals_of(self, operation: str) -> list[Original]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM originals WHERE operation = ? ORDER BY seq",
                                    (operation,)).fetchall()
        return [_original(r) for r in rows]

    def all_originals(self) -> list[Original]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM originals ORDER BY seq").fetchall()
        return [_original(r) for r in rows]

    def set_state(self, original_id: str, state: str) -> None:
        with self._lock, self._tx():
            self._db.execute("UPDATE originals SET state = ? WHERE id = ?", (state, original_id))

    def count_lookup(self, original_id: str) -> int:
        """Counts one status lookup of an original and returns how many there have been."""
        with self._lock, self._tx():
            self._db.execute("UPDATE originals SET lookups = lookups + 1 WHERE id = ?",
                             (original_id,))
            row = self._db.execute("SELECT lookups FROM originals WHERE id = ?",
                                   (original_id,)).fetchone()
        return int(row["lookups"]) if row else 0

    # -- advices ----------------------------------------------------------------------------
    def get_advice(self, advice_id: str) -> Advice | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM advices WHERE id = ?", (advice_id,)).fetchone()
        return _advice(row) if row else None

    def record_advice(self, advice_id: str, original_id: str, kind: str, operation: str,
                      status: int, error_type: str | None, body: Any,
                      new_state: str | None = None) -> None:
        """Stores one receipt of an advice (a repeat bumps ``count``) and, in the same
        transaction, the original's new state."""
        now = time.time()
        with self._lock, self._tx():
            row = self._db.execute("SELECT id FROM advices WHERE id = ?", (advice_id,)).fetchone()
            if row:
                self._db.execute(
                    "UPDATE advices SET count = count + 1, status = ?, error_type = ?, last_at = ?"
                    " WHERE id = ?", (status, error_type, now, advice_id))
            else:
                self._db.execute(
                    "INSERT INTO advices(id, original_id, kind, operation, status,"
                    " error_type, count, body, seq, first_at, last_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    (advice_id, original_id, kind, operation, status, error_type, _dump(body),
                     self._next("seq"), now, now))
            if new_state is not None:
                self._db.execute("UPDATE originals SET state = ? WHERE id = ?",
                                 (new_state, original_id))

    def advices_for(self, original_id: str) -> list[Advice]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM advices WHERE original_id = ? ORDER BY seq",
                                    (original_id,)).fetchall()
        return [_advice(r) for r in rows]

    def all_advices(self) -> list[Advice]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM advices ORDER BY seq").fetchall()
        return [_advice(r) for r in rows]

    def is_dead(self, original_id: str) -> bool:
        """A reversal arrived before (or instead of) its original: a late original stays dead."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM advices WHERE original_id = ? AND kind = 'reversal'"
                " AND NOT EXISTS (SELECT 1 FROM originals WHERE originals.id = ?)",
                (original_id, original_id)).fetchone()
        return row is not None

    # -- customers (money transfer admin) ---------------------------------------------------
    def find_customer(self, id_number: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT message FROM customers WHERE id_number = ?",
                                   (id_number,)).fetchone()
        return json.loads(row["message"]) if row else None

    def customer_by_profile(self, profile_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT message FROM customers WHERE profile_id = ?",
                                   (profile_id,)).fetchone()
        return json.loads(row["message"]) if row else None

    def put_customer(self, profile_id: str, id_number: str, message: dict[str, Any]) -> None:
        with self._lock, self._tx():
            self._db.execute(
                "INSERT INTO customers(profile_id, id_number, message) VALUES (?, ?, ?)"
                " ON CONFLICT(profile_id) DO UPDATE SET id_number = excluded.id_number,"
                " message = excluded.message", (profile_id, id_number, json.dumps(message)))


class _Tx:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _original(row: sqlite3.Row) -> Original:
    return Original(
        id=row["id"], interface=row["interface"], operation=row["operation"],
        status=row["status"], outcome=row["outcome"], request=json.loads(row["request"]),
        response=_load(row["response"]), error_type=row["error_type"], amount=row["amount"],
        state=row["state"], ref=row["ref"], aux=json.loads(row["aux"]), lookups=row["lookups"])


def _advice(row: sqlite3.Row) -> Advice:
    return Advice(
        id=row["id"], original_id=row["original_id"], kind=row["kind"],
        operation=row["operation"], status=row["status"], error_type=row["error_type"],
        count=row["count"], body=_load(row["body"]))
