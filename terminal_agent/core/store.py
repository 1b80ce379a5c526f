"""The agent's one SQLite database (aiosqlite): durable, owner-only, one writer step at a time.

Rules:
1. WAL journal, ``synchronous=FULL``: a committed step survives power loss.
2. Every step is one ``BEGIN IMMEDIATE`` transaction (``Store.transaction``): it either commits
   whole or leaves nothing behind. Steps of this process are serialised by a lock; other
   processes (UI and forwarder share the file) wait up to the busy timeout.
3. The file is created 0600 and refused if others can read it.
4. "Disk full" (or the page limit) becomes ``StoreFull``; what was committed before stays intact.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from terminal_agent.core.schema import MIGRATIONS
from terminal_agent.errors import StoreError, StoreFull
from terminal_agent.security import check_private_file, create_private_file


def _translate(exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    if "full" in text or isinstance(exc, sqlite3.OperationalError) and "disk" in text:
        return StoreFull(
            "the till's database is full: new transactions are refused until space is freed "
            "(everything already stored is safe)"
        )
    return StoreError(f"database error: {text}")


T = TypeVar("T")
Db = sqlite3.Connection  # what a step's function receives


class Store:
    """Owner of the database connection. Open with ``await Store.open(path)``; close with
    ``await store.close()`` (or ``async with``)."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout_ms: int = 5000,
                   check_permissions: bool = True) -> Store:
        p = Path(path)
        if check_permissions:
            check_private_file(p, what="database")
        if not p.exists():
            create_private_file(p)
        db = await aiosqlite.connect(str(p), isolation_level=None)
        db.row_factory = sqlite3.Row
        store = cls(db, p)
        try:
            await db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA foreign_keys=ON")
            await store._migrate()
        except BaseException:
            await db.close()
            raise
        for suffix in ("-wal", "-shm"):
            side = p.with_name(p.name + suffix)
            if side.exists():
                side.chmod(0o600)
        return store

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _migrate(self) -> None:
        async with self.transaction() as db:
            cur = await db.execute("PRAGMA user_version")
            row = await cur.fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path}: schema version {version} is newer than this agent "
                    f"({len(MIGRATIONS)}); upgrade the agent"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _split_sql(script):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version={number}")

    @property
    def schema_version(self) -> int:
        return len(MIGRATIONS)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One ``BEGIN IMMEDIATE`` step: committed when the block ends, rolled back on error."""
        async with self._lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc) from exc
            try:
                yield self._db
            except BaseException as exc:
                try:
                    await self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc) from exc
                raise
            else:
                try:
                    await self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    try:
                        await self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                    raise _translate(exc) from exc

    async def step(self, fn: Callable[[Db], T]) -> T:
        """Run ``fn(db)`` as one ``BEGIN IMMEDIATE`` step on the database thread, in one hand-off
        (a step of several statements costs one thread round trip, not one per statement).
        Committed if ``fn`` returns, rolled back if it raises."""
        async with self._lock:
            return await self._db._execute(self._in_step, fn)  # aiosqlite's own worker thread

    async def read(self, fn: Callable[[Db], T]) -> T:
        """Run ``fn(db)`` (reads only) on the database thread in one hand-off, no write lock."""
        async with self._lock:
            return await self._db._execute(fn, self._db._conn)

    def _in_step(self, fn: Callable[[Db], T]) -> T:
        conn: sqlite3.Connection = self._db._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc) from exc
            raise
        return result

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            cur = await self._db.execute(sql, params)
            rows = await cur.fetchall()
            return list(rows)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        async with self._lock:
            cur = await self._db.execute(sql, params)
            row: sqlite3.Row | None = await cur.fetchone()
            return row

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as db:
            await db.executemany(sql, rows)

    async def set_page_limit(self, pages: int) -> None:
        """Cap the database size (tests use it to simulate a full disk)."""
        async with self._lock:
            await self._db.execute(f"PRAGMA max_page_count={int(pages)}")

    async def page_count(self) -> int:
        row = await self.fetchone("PRAGMA page_count")
        return int(row[0]) if row else 0


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (no triggers with inner semicolons here)."""
    lines = [ln.split("--", 1)[0] for ln in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
