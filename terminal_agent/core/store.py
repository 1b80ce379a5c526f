"""The agent's one SQLite database: durable, owner-only, one writer step at a time.

Rules:
1. WAL journal, ``synchronous=FULL``: a committed step survives power loss.
2. Every write is one step: one ``BEGIN IMMEDIATE`` transaction (``Store.step``), a synchronous
   function run on the store's own thread; it either commits whole or leaves nothing behind.
   Steps of this process are serialised by a lock; other processes (UI and forwarder share the
   file) wait up to the busy timeout.
3. The file is created 0600 and refused if others can read it.
4. "Disk full" (or the page limit) becomes ``StoreFull``, a locked database ``StoreBusy``: both
   pass, and what was committed before stays intact.
5. A database is created on purpose only (``Store.create``: ``terminal-agent init``, the
   installer, the demo). ``Store.open`` refuses a missing, empty, damaged or foreign file (the
   till's terminal id is stamped into it) with one sentence saying what to do, and migrates only
   when asked to (``forward``, ``ui``, ``migrate``), after a backup.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from terminal_agent.core.schema import MIGRATIONS
from terminal_agent.errors import (
    StoreBusy,
    StoreDamaged,
    StoreError,
    StoreForeign,
    StoreFull,
    StoreMissing,
    StoreUnavailable,
    StoreVersion,
)
from terminal_agent.security import check_private_file, create_private_file, give_to_folder_owner

if TYPE_CHECKING:
    from terminal_agent.config import AgentConfig

TERMINAL_KEY = "till.terminal_id"   # kv: the till this database belongs to
CREATED_KEY = "till.created_at"     # kv: when `init` made it


_RESTORE = ("stop the till's services and restore the newest good backup with "
            "`terminal-agent restore BACKUP --config FILE` (docs/DEPLOY.md, Backups)")

# SQLite's message (lower case) -> the agent's error and its sentence ({path}, {text}).
_TRANSLATIONS: list[tuple[tuple[str, ...], type[StoreError], str]] = [
    (("full",), StoreFull, "{path}: the till's database is full: new transactions are refused "
                           "until space is freed (everything already stored is safe)"),
    (("locked", "busy"), StoreBusy,
     "{path}: the database is locked by another process ({text}); trying again"),
    (("malformed", "not a database", "corrupt"), StoreDamaged,
     "{path} is damaged ({text}): " + _RESTORE),
    (("disk i/o", "unable to open", "readonly"), StoreUnavailable,
     "{path}: the database cannot be written ({text}): full disk or failing storage; trying "
     "again"),
]


def _translate(exc: sqlite3.Error | UnicodeDecodeError,
               path: Path | str = "the database") -> StoreError:
    """SQLite's error as the agent's own, with one sentence saying what happens or what to do."""
    if isinstance(exc, UnicodeDecodeError):  # SQLite quoted damaged bytes in its message
        return StoreDamaged(f"{path} is damaged (unreadable bytes in its structure): {_RESTORE}")
    text = str(exc)
    for words, kind, sentence in _TRANSLATIONS:
        if any(word in text.lower() for word in words):
            return kind(sentence.format(path=path, text=text))
    return StoreError(f"{path}: database error: {text}")


def _check_files(p: Path, check_permissions: bool) -> None:
    """The database and its WAL and shared memory: owner-only (unless not asked), never links."""
    for side, what in ((p, "database"), (Path(f"{p}-wal"), "database journal (WAL)"),
                       (Path(f"{p}-shm"), "database shared memory")):
        if check_permissions or side.is_symlink():
            check_private_file(side, what, links=False)


def _own_side_files(p: Path) -> None:
    """WAL and shared memory owner-only, and the service account's under sudo. By path, never
    by opening: closing any descriptor of a file SQLite has open drops SQLite's POSIX locks on
    it (the lstat check before opening refused links)."""
    for suffix in ("-wal", "-shm"):
        side = p.with_name(p.name + suffix)
        if side.exists() and not side.is_symlink():
            side.chmod(0o600)
            give_to_folder_owner(side)


def _refuse_missing(path: Path, config: str) -> None:
    """A database is never created by accident: missing or emptied files are refused."""
    how = (f"create it with `terminal-agent init --config {config}` (a new till) or restore "
           f"a backup with `terminal-agent restore BACKUP --config {config}`")
    if not path.exists():
        raise StoreMissing(f"{path}: there is no database here; {how}")
    if path.stat().st_size == 0:
        raise StoreMissing(f"{path}: the database file is empty (0 bytes); its records are "
                           f"gone: {how}")


def create_database(path: str | Path, terminal_id: str) -> Path:
    """Make a new database for till ``terminal_id`` at ``path`` (0600, WAL, every migration).

    Refuses to touch an existing non-empty file: creation is always on purpose. The file is
    built beside ``path`` and renamed into place, so a crash never leaves half a database."""
    p = Path(path)
    for existing, what in ((p, "database"), (Path(f"{p}-wal"), "database journal (WAL)")):
        check_private_file(existing, what, links=False)  # a planted link is never written through
        if existing.exists() and existing.stat().st_size > 0:
            raise StoreError(f"{existing} already exists: nothing was changed (a database is "
                             "never overwritten; restore a backup with `terminal-agent restore`)")
    building = p.with_name(p.name + ".init")
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    create_private_file(building)
    try:
        con = sqlite3.connect(building, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.execute("BEGIN IMMEDIATE")
            for number, script in enumerate(MIGRATIONS, start=1):
                for statement in _split_sql(script):
                    con.execute(statement)
                con.execute(f"PRAGMA user_version={number}")
            con.executemany("INSERT INTO kv (key, value) VALUES (?, ?)",
                            [(TERMINAL_KEY, terminal_id), (CREATED_KEY, repr(time.time()))])
            con.execute("COMMIT")
        finally:
            con.close()
        os.replace(building, p)
    except sqlite3.Error as exc:
        building.unlink(missing_ok=True)
        raise _translate(exc, p) from exc
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    dir_fd = os.open(p.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return p


T = TypeVar("T")
Db = sqlite3.Connection  # what a step's function receives


class Store:
    """Owner of the database connection and of the one thread that uses it. Make a new
    database with ``await Store.create(path, terminal_id)``, open an existing one with
    ``await Store.open(path, ...)``; close with ``await store.close()`` (or ``async with``).

    Every use of the connection runs on the store's own thread, one hand-off per call, under
    one lock: writes as ``step(fn)`` (one ``BEGIN IMMEDIATE`` transaction, rule 2), reads as
    ``read(fn)``, ``fetchall`` and ``fetchone``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self.version = 0
        self.terminal_id: str | None = None
        self.migrated_from: int | None = None
        self.pre_migration_backup: Path | None = None
        self._check_due: str | None = None  # the deferred quick_check's config name (open)

    @classmethod
    async def create(cls, path: str | Path, terminal_id: str, *,
                     busy_timeout_ms: int = 5000) -> Store:
        """A new, empty database for till ``terminal_id`` (refused if one is already there)."""
        await asyncio.to_thread(create_database, path, terminal_id)
        return await cls.open(path, terminal_id=terminal_id, busy_timeout_ms=busy_timeout_ms)

    @classmethod
    async def open(cls, path: str | Path, *, terminal_id: str | None = None,
                   busy_timeout_ms: int = 5000, check_permissions: bool = True,
                   migrate: bool = False, read_only: bool = False, quick_check: bool = False,
                   check_later: bool = False, backup_dir: str | Path | None = None,
                   backup_keep: int = 5, config: str = "FILE") -> Store:
        """Open the database made by ``create``. Refused (one sentence naming ``path`` and what to
        do): missing or empty file, another till's database (``terminal_id``), a damaged file
        (``quick_check``), a newer schema, or an older one unless ``migrate`` (which backs up
        into ``backup_dir`` first) or ``read_only`` (the caller only reads tables every
        version has). ``check_later``: the ``quick_check`` runs at ``check_whole()``, not here
        (the UI draws its login screen first), unless a migration is due: a file is checked
        before it is migrated."""
        p = Path(path)
        later = quick_check and check_later
        _check_files(p, check_permissions)
        _refuse_missing(p, config)
        store = cls(p)
        try:
            await store._call(store._connect, busy_timeout_ms, read_only)
            await store._call(store._admit, terminal_id, config, quick_check and not later)
            if store.version < len(MIGRATIONS):
                if later and migrate:  # never migrate a file not checked
                    await store._call(store._refuse_damaged, config)
                    later = False
                await store._older_schema(migrate=migrate, read_only=read_only, config=config,
                                          backup_dir=backup_dir, backup_keep=backup_keep)
            if store.terminal_id is None and terminal_id and not read_only:
                await store._stamp(terminal_id)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            await store.close()
            raise _translate(exc, p) from exc
        except BaseException:
            await store.close()
            raise
        _own_side_files(p)
        store._check_due = config if later else None
        return store

    async def check_whole(self) -> None:
        """The ``quick_check`` that ``open(check_later=True)`` deferred (once; nothing to do
        otherwise): ``StoreDamaged`` with its sentence when the file is damaged. The UI's
        runtime runs it first, before recovery and before any PIN is taken."""
        config, self._check_due = self._check_due, None
        if config is None:
            return
        try:
            async with self._lock:
                await self._call(self._refuse_damaged, config)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            raise _translate(exc, self.path) from exc

    async def _older_schema(self, *, migrate: bool, read_only: bool, config: str,
                            backup_dir: str | Path | None, backup_keep: int) -> None:
        """Migrate (after a backup) when asked to; a reader may read an older schema; anything
        else is refused with what to run."""
        if migrate:
            if backup_dir is not None:
                self.pre_migration_backup = await self.backup(
                    backup_dir, label=f"pre-migration-v{self.version}", keep=backup_keep)
            await self._migrate()
        elif not read_only:
            raise StoreVersion(
                f"{self.path}: schema version {self.version} is older than this agent's "
                f"({len(MIGRATIONS)}); run `terminal-agent migrate --config {config}` "
                "(it takes a backup first) or start the service, which does the same")

    # -- the store's thread -------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the store's thread: the connection is used nowhere else."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the database is closed")
        return self._conn

    def _connect(self, busy_timeout_ms: int, read_only: bool) -> None:
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        conn.row_factory = sqlite3.Row
        self._conn = conn
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not read_only:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA secure_delete=ON")  # deleted secrets are overwritten

    def _admit(self, terminal_id: str | None, config: str, quick_check: bool) -> None:
        """Is this our database, whole, and of a schema we can use? (On the store's thread.)"""
        db = self._db
        row = db.execute("PRAGMA user_version").fetchone()
        self.version = int(row[0]) if row else 0
        if self.version == 0:
            self._refuse_uninitialised(config)
        if quick_check:
            self._refuse_damaged(config)
        if self.version > len(MIGRATIONS):
            raise StoreVersion(
                f"{self.path}: schema version {self.version} is newer than this agent "
                f"({len(MIGRATIONS)}): install the newer version again, or roll back with "
                "`terminal-agent restore` of the backup taken before the migration "
                "(docs/DEPLOY.md, Rollback)")
        owner = db.execute("SELECT value FROM kv WHERE key=?", (TERMINAL_KEY,)).fetchone()
        self.terminal_id = owner[0] if owner else None
        if terminal_id and self.terminal_id and self.terminal_id != terminal_id:
            raise StoreForeign(
                f"{self.path} belongs to till {self.terminal_id}, but {config} is till "
                f"{terminal_id}: point [store] path at this till's own database (another till's "
                "advices must be delivered by that till)")

    def _refuse_uninitialised(self, config: str) -> None:
        tables = self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        what = ("holds no tables: it was never initialised" if not tables or not tables[0]
                else "is not a terminal-agent database")
        raise StoreMissing(
            f"{self.path} {what}; create the database with `terminal-agent init --config "
            f"{config}` or restore a backup with `terminal-agent restore BACKUP --config "
            f"{config}`")

    def _refuse_damaged(self, config: str) -> None:
        problems = _integrity(self._db, "quick_check")
        if problems:
            first = " ".join(problems[0].split())[:160]
            raise StoreDamaged(
                f"{self.path} is damaged ({first}): stop the till's services and "
                f"restore the newest good backup with `terminal-agent restore BACKUP "
                f"--config {config}` (docs/DEPLOY.md, Backups)")

    async def _stamp(self, terminal_id: str) -> None:
        """A database from before identities were recorded: it becomes this till's."""
        await self.step(lambda db: db.execute(
            "INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)", (TERMINAL_KEY, terminal_id)))
        self.terminal_id = terminal_id

    async def integrity(self, pragma: str = "integrity_check") -> list[str]:
        """Problems found by SQLite's ``integrity_check`` (or ``quick_check``); [] = whole."""
        assert pragma in ("integrity_check", "quick_check")
        async with self._lock:
            return await self._call(_integrity, self._db, pragma)

    async def backup(self, folder: str | Path, *, label: str = "daily", keep: int = 14) -> Path:
        """A consistent copy (SQLite's online backup API) into ``folder``, 0600, keeping the
        newest ``keep`` copies with the same ``label``; records the time in the kv table."""
        from terminal_agent.core.backups import backup_into, record_backup

        async with self._lock:
            try:
                made: Path = await self._call(backup_into, self._db, Path(folder), label, keep)
            except sqlite3.Error as exc:
                raise _translate(exc, Path(folder)) from exc
            except OSError as exc:
                text = f"{folder}: backup failed: {exc.strerror or exc}"
                raise (StoreFull(text) if exc.errno in (errno.ENOSPC, errno.EDQUOT)
                       else StoreError(text)) from exc
        try:
            await self.step(lambda db: record_backup(db, made))
        except StoreError:
            pass  # the copy is made; only its bookkeeping could not be written (full disk)
        return made

    async def close(self) -> None:
        """Close the connection (on its thread) and let the thread go; closing twice is fine."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._call(conn.close)
        self._thread.shutdown(wait=False)

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _migrate(self) -> None:
        def migrate(db: Db) -> int:
            row = db.execute("PRAGMA user_version").fetchone()
            version = int(row[0]) if row else 0
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _split_sql(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")
            return version

        self.migrated_from = await self.step(migrate)
        self.version = len(MIGRATIONS)

    @property
    def schema_version(self) -> int:
        return len(MIGRATIONS)

    # -- steps and reads ------------------------------------------------------------------------

    async def step(self, fn: Callable[[Db], T]) -> T:
        """Run ``fn(db)`` as one ``BEGIN IMMEDIATE`` step on the store's thread, in one hand-off
        (a step of several statements costs one thread round trip, not one per statement).
        Committed if ``fn`` returns, rolled back if it raises. The only way anything writes."""
        async with self._lock:
            return await self._call(self._in_step, fn)

    async def read(self, fn: Callable[[Db], T]) -> T:
        """Run ``fn(db)`` (reads only) on the store's thread in one hand-off, no write lock."""
        async with self._lock:
            return await self._call(self._in_read, fn)

    def _in_step(self, fn: Callable[[Db], T]) -> T:
        conn = self._db
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(exc, sqlite3.Error | UnicodeDecodeError):
                raise _translate(exc, self.path) from exc
            raise
        return result

    def _in_read(self, fn: Callable[[Db], T]) -> T:
        try:
            return fn(self._db)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            raise _translate(exc, self.path) from exc

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return await self.read(lambda db: db.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = await self.read(lambda db: db.execute(sql, params).fetchone())
        return row

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.step(lambda db: db.executemany(sql, rows))

    async def set_page_limit(self, pages: int) -> None:
        """Cap the database size (tests use it to simulate a full disk)."""
        await self.read(lambda db: db.execute(f"PRAGMA max_page_count={int(pages)}"))

    async def page_count(self) -> int:
        row = await self.fetchone("PRAGMA page_count")
        return int(row[0]) if row else 0


def _integrity(db: Db, pragma: str) -> list[str]:
    """SQLite's own check; its report on a damaged file may quote damaged bytes, so it is read
    with undecodable bytes replaced (never an exception instead of the verdict)."""
    before = db.text_factory
    db.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
    try:
        found = [str(r[0]) for r in db.execute(f"PRAGMA {pragma}")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        db.text_factory = before
    return [] if found == ["ok"] else found


async def open_configured(cfg: AgentConfig, *, migrate: bool = False, read_only: bool = False,
                          quick_check: bool = False, check_later: bool = False) -> Store:
    """``Store.open`` with everything the configuration says: path, this till's terminal id,
    busy timeout, where the pre-migration backup goes."""
    s = cfg.store
    return await Store.open(
        s.path, terminal_id=cfg.terminal.terminal_id, busy_timeout_ms=s.busy_timeout_ms,
        migrate=migrate, read_only=read_only, quick_check=quick_check, check_later=check_later,
        backup_dir=backup_folder(cfg), backup_keep=s.backup_keep, config=cfg.source or "FILE")


def backup_folder(cfg: AgentConfig) -> Path:
    """``[store] backup_dir``, or ``backups/`` beside the database."""
    return Path(cfg.store.backup_dir) if cfg.store.backup_dir else \
        Path(cfg.store.path).parent / "backups"


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (no triggers with inner semicolons here)."""
    lines = [ln.split("--", 1)[0] for ln in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
