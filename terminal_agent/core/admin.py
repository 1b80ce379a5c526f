"""The database's life: check, backup, restore, migrate (the `init`, `check`, `backup`,
`restore` and `migrate` commands are commands/admin.py). Problems are `AgentError`s with one
sentence saying what to do.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from terminal_agent.config import AgentConfig
from terminal_agent.core import backups
from terminal_agent.core.states import OWED_ROWS
from terminal_agent.core.store import Store, open_configured
from terminal_agent.errors import AgentError, StoreError
from terminal_agent.security import give_to_folder_owner

# -- check ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found: the file, its till, schema, last backup and every problem."""

    path: Path
    terminal_id: str | None
    version: int
    last_backup_at: float | None
    problems: list[str]


async def check(cfg: AgentConfig) -> CheckReport:
    """SQLite's full integrity check and the foreign keys, read-only."""
    store = await open_configured(cfg, read_only=True)
    try:
        problems = await store.integrity("integrity_check")
        problems += [f"foreign key: table {r[0]} row {r[1]} points at a missing {r[2]}"
                     for r in await store.fetchall("PRAGMA foreign_key_check")]
        last = await store.fetchone("SELECT value FROM kv WHERE key=?", (backups.LAST_AT_KEY,))
        return CheckReport(store.path, store.terminal_id, store.version,
                           float(last[0]) if last else None, problems)
    finally:
        await store.close()


# -- backup ---------------------------------------------------------------------------------------


async def backup(cfg: AgentConfig, folder: Path, keep: int) -> Path:
    """A consistent copy (SQLite online backup) into ``folder``, checked, the newest ``keep``
    kept; a copy that fails its check is removed."""
    store = await open_configured(cfg, read_only=True)
    try:
        made = await store.backup(folder, label="daily", keep=keep)
    finally:
        await store.close()
    try:
        backups.inspect_backup(made, cfg.terminal.terminal_id)
    except AgentError:
        made.unlink(missing_ok=True)
        raise
    return made


# -- restore --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """What the current database has that the backup lacks."""

    newer_owed: list[str]       # advices queued after the backup and still owed: at risk
    newer_delivered: int        # advices queued and delivered after the backup
    resent: int                 # owed in the backup, delivered since: will be sent again
    readable: bool


def _owed_rows(path: Path) -> dict[str, tuple[str, str, str]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {r[0]: (r[1], r[2], r[3]) for r in con.execute(
            "SELECT o.id, o.state, o.kind, o.op || ' ' || COALESCE(t.reference, '') || ' '"
            " || COALESCE(t.amount, 0) FROM outbox o LEFT JOIN transactions t ON t.id = o.txn_id"
            " WHERE o.state != 'void'")}
    finally:
        con.close()


def compare(current: Path, backup: Path) -> Comparison:
    try:
        now = _owed_rows(current)
    except sqlite3.Error:
        return Comparison([], 0, 0, readable=False)
    then = _owed_rows(backup)
    owed = {s.value for s in OWED_ROWS}
    newer = {k: v for k, v in now.items() if k not in then}
    newer_owed = [f"{k} ({v[1]} {v[2]}, {v[0]})" for k, v in newer.items() if v[0] in owed]
    resent = sum(1 for k, v in then.items() if v[0] in owed and now.get(k, ("",))[0]
                 not in owed)
    return Comparison(newer_owed, len(newer) - len(newer_owed), resent, readable=True)


def processes_using(path: Path) -> list[int]:
    """Other processes with the database (or its WAL) open, from /proc (all of them as root)."""
    names = {str(path), f"{path}-wal", f"{path}-shm"}
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        if names.intersection(links):
            found.append(int(entry.name))
    return found


def _set_aside(path: Path) -> Path | None:
    """Rename the database with its WAL and shared memory (together: SQLite pairs them by
    name), so nothing of the current file is lost."""
    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    for suffix in ("-wal", "-shm", ""):
        part = Path(f"{path}{suffix}")
        if part.exists():
            os.replace(part, f"{aside}{suffix}")
    return aside


def _put_in_place(backup: Path, path: Path) -> None:
    incoming = path.with_name(path.name + ".restoring")
    incoming.unlink(missing_ok=True)
    os.close(os.open(incoming, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    with open(backup, "rb") as src, open(incoming, "wb") as dst:
        shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(incoming, path)
    give_to_folder_owner(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def restore(cfg: AgentConfig, backup: Path) -> tuple[Path | None, Comparison | None]:
    """Check ``backup``, set the current database aside, put the backup in its place."""
    path = Path(cfg.store.path)
    backups.inspect_backup(backup, cfg.terminal.terminal_id)
    users = processes_using(path)
    if users:
        raise StoreError(
            f"{path} is in use (process {', '.join(map(str, users))}): stop the till's services "
            "first (systemctl stop terminal-agent.service terminal-agent-ui.service)")
    comparison = compare(path, backup) if path.exists() and path.stat().st_size else None
    aside = _set_aside(path)
    _put_in_place(backup, path)
    return aside, comparison


# -- migrate --------------------------------------------------------------------------------------


async def migrate(cfg: AgentConfig) -> Store:
    """Bring the schema to this version (after a backup): the closed store says what was done."""
    store = await open_configured(cfg, migrate=True, quick_check=True)
    await store.close()
    return store


