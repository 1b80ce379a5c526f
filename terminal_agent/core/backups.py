"""Backups of the till's database: taken while the services run, checked before a restore.

Rules:
1. A backup is SQLite's online backup API from a live connection: a consistent snapshot even
   while the forwarder and the UI write. It is written beside its final name, fsync'd, then
   renamed: a crash leaves either the old set of backups or the new one, never half a file.
2. Backups are owner-only (0600) in an owner-only folder, and rotated per label (``daily``,
   ``pre-migration-vN``): the newest ``keep`` of a label are kept.
3. The time of the last backup is in the ``kv`` table (``backup.last_at``, seconds since the
   epoch, and ``backup.last_file``) for status and metrics.
4. A restore checks the backup (integrity, a terminal-agent database, this till's), keeps the
   current file aside (never deletes it) and reports the advices the backup does not have.
"""

from __future__ import annotations

import calendar
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from terminal_agent.core.states import OWED_ROWS, sql_set
from terminal_agent.errors import StoreDamaged, StoreError, StoreForeign, StoreMissing

LAST_AT_KEY = "backup.last_at"
LAST_FILE_KEY = "backup.last_file"
_NAME = re.compile(r"^agent-(\d{8}T\d{6}\.\d{3}Z)-(.+)\.db$")


def backup_name(label: str, now: float | None = None) -> str:
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    return f"agent-{stamp}-{label}.db"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_into(conn: sqlite3.Connection, folder: Path, label: str, keep: int) -> Path:
    """Copy the database behind ``conn`` into ``folder`` (rule 1, 2); returns the new file."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = folder / backup_name(label)
    part = folder / (final.name + ".part")
    part.unlink(missing_ok=True)
    os.close(os.open(part, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        target = sqlite3.connect(part)
        try:
            conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
        fd = os.open(part, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    rotate(folder, label, keep)
    return final


def rotate(folder: Path, label: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``label``; returns what was deleted."""
    mine = sorted(p for p in folder.glob(f"agent-*-{label}.db")
                  if (m := _NAME.match(p.name)) and m.group(2) == label)
    gone = mine[:-keep] if keep > 0 else []
    for old in gone:
        old.unlink(missing_ok=True)
    return gone


def record_backup(db: sqlite3.Connection, made: Path) -> None:
    db.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)",
                   [(LAST_AT_KEY, repr(time.time())), (LAST_FILE_KEY, str(made))])


def newest(folder: Path) -> Path | None:
    found = sorted(folder.glob("agent-*.db"), key=lambda p: p.name) if folder.is_dir() else []
    return found[-1] if found else None


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    version: int
    terminal_id: str | None
    taken_at: float | None
    owed: set[str]          # outbox ids not yet delivered (pending, parked, held)


def inspect_backup(path: Path, terminal_id: str | None) -> BackupInfo:
    """Check ``path`` is a whole terminal-agent database of this till (rule 4)."""
    from terminal_agent.core.schema import MIGRATIONS
    from terminal_agent.core.store import TERMINAL_KEY

    if not path.is_file() or path.stat().st_size == 0:
        raise StoreMissing(f"{path}: no backup here (missing or empty file)")
    try:
        version, kv, owed = _read_backup(path)
    except sqlite3.Error as exc:
        raise StoreDamaged(f"{path}: not a usable backup ({exc}); choose another backup") from exc
    if version > len(MIGRATIONS):
        raise StoreError(f"{path}: schema version {version} is newer than this agent "
                         f"({len(MIGRATIONS)}); restore it with the newer version")
    owner = kv.get(TERMINAL_KEY)
    if terminal_id and owner and owner != terminal_id:
        raise StoreForeign(f"{path} is a backup of till {owner}, not of till {terminal_id}")
    m = _NAME.match(path.name)
    taken = (calendar.timegm(time.strptime(m.group(1)[:15], "%Y%m%dT%H%M%S")) if m else None)
    return BackupInfo(path, version, owner, taken, owed)


def _read_backup(path: Path) -> tuple[int, dict[str, str], set[str]]:
    """(schema version, kv table, advices owed) of a whole backup, read-only."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problems = [r[0] for r in con.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise StoreDamaged(f"{path}: the backup is damaged ({problems[0]}); "
                               "choose another backup")
        version = int(con.execute("PRAGMA user_version").fetchone()[0])
        if version == 0:
            raise StoreMissing(f"{path} is not a terminal-agent database")
        kv = dict(con.execute("SELECT key, value FROM kv").fetchall())
        owed = {r[0] for r in con.execute(
            f"SELECT id FROM outbox WHERE state IN {sql_set(OWED_ROWS)}")}  # noqa: S608
    finally:
        con.close()
    return version, kv, owed
