"""The database's life as operator commands: `init`, `check`, `backup`, `restore`, `migrate`.

Each prints one short report and exits 0 when all is well; problems are `AgentError`s whose one
sentence the `terminal-agent` command prints (never a traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from terminal_agent import config as config_mod
from terminal_agent.config import AgentConfig
from terminal_agent.core import backups
from terminal_agent.core.audit import record_admin_act
from terminal_agent.core.store import Store, backup_folder, create_database, open_configured
from terminal_agent.errors import AgentError, StoreError
from terminal_agent.security import give_to_folder_owner


def _load(args: argparse.Namespace) -> AgentConfig:
    from terminal_agent.security import check_state_files

    cfg = config_mod.load(args.config)
    check_state_files(cfg.store.path, args.config)
    return cfg


# -- init -----------------------------------------------------------------------------------------


def run_init(args: argparse.Namespace) -> int:
    """`terminal-agent init --config FILE`: the till's database, made on purpose, once."""
    cfg = _load(args)
    path = create_database(cfg.store.path, cfg.terminal.terminal_id)
    give_to_folder_owner(path)
    record_admin_act(cfg, "database-created", cfg.terminal.terminal_id)
    print(f"created {path} for till {cfg.terminal.terminal_id}")
    return 0


# -- check ----------------------------------------------------------------------------------------


async def _check(cfg: AgentConfig) -> list[str]:
    store = await open_configured(cfg, read_only=True)
    try:
        problems = await store.integrity("integrity_check")
        problems += [f"foreign key: table {r[0]} row {r[1]} points at a missing {r[2]}"
                     for r in await store.fetchall("PRAGMA foreign_key_check")]
        last = await store.fetchone("SELECT value FROM kv WHERE key=?", (backups.LAST_AT_KEY,))
        print(f"database:     {store.path}")
        print(f"till:         {store.terminal_id or '(not recorded yet)'}")
        print(f"schema:       version {store.version}")
        print(f"last backup:  {_age(float(last[0])) if last else 'never'}")
        print(f"integrity:    {'ok' if not problems else f'{len(problems)} problems'}")
        for problem in problems[:20]:
            print(f"  {problem}")
        return problems
    finally:
        await store.close()


def _age(at: float) -> str:
    seconds = max(0.0, time.time() - at)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
    return f"{when} ({seconds / 3600:.1f} h ago)"


def run_check(args: argparse.Namespace) -> int:
    """`terminal-agent check --config FILE`: SQLite's full integrity check, foreign keys,
    identity and schema; exit 1 when the file is damaged."""
    cfg = _load(args)
    problems = asyncio.run(_check(cfg))
    if not problems:
        record_admin_act(cfg, "database-checked", None, "whole")
    if problems:
        newest = backups.newest(backup_folder(cfg))
        print(f"The database is damaged: stop the till's services and restore a backup: "
              f"terminal-agent restore {newest or 'BACKUP'} --config {args.config}")
        return 1
    return 0


# -- backup ---------------------------------------------------------------------------------------


async def _backup(cfg: AgentConfig, folder: Path, keep: int) -> Path:
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


def run_backup(args: argparse.Namespace) -> int:
    """`terminal-agent backup DIR --config FILE [--keep N]`: a consistent copy while the
    services run (SQLite online backup), checked, 0600, the newest N kept."""
    cfg = _load(args)
    keep = args.keep if args.keep is not None else cfg.store.backup_keep
    if keep < 1:
        raise AgentError("--keep must be at least 1")
    made = asyncio.run(_backup(cfg, Path(args.dir), keep))
    give_to_folder_owner(made)
    record_admin_act(cfg, "database-backup", made.name)
    print(f"backup {made} ({made.stat().st_size} bytes, checked)")
    return 0


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
    owed = ("pending", "parked", "held")
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


def run_restore(args: argparse.Namespace) -> int:
    """`terminal-agent restore FILE --config FILE`."""
    cfg = _load(args)
    backup = Path(args.file)
    aside, comparison = restore(cfg, backup)
    record_admin_act(cfg, "database-restored", backup.name,
                     f"previous kept as {aside.name}" if aside is not None else None)
    print(f"restored {cfg.store.path} from {backup}")
    if aside is not None:
        print(f"the previous database is kept as {aside}")
    if comparison is None:
        return 0
    if not comparison.readable:
        print("WARNING: the previous database could not be read to compare it with the backup; "
              "advices queued after the backup may be missing")
    if comparison.newer_owed:
        print(f"WARNING: {len(comparison.newer_owed)} advices were queued after this backup and "
              "were not yet delivered; they are NOT in the restored database (settle them with "
              "the switch by hand, from the kept file):")
        for line in comparison.newer_owed:
            print(f"  {line}")
    if comparison.newer_delivered:
        print(f"note: {comparison.newer_delivered} advices queued and delivered after the backup "
              "are not in the restored database (the switch has them)")
    if comparison.resent:
        print(f"note: {comparison.resent} advices delivered since the backup will be sent again "
              "(the switch answers repeats as duplicates)")
    return 0


# -- migrate --------------------------------------------------------------------------------------


async def _migrate(cfg: AgentConfig) -> Store:
    store = await open_configured(cfg, migrate=True, quick_check=True)
    await store.close()
    return store


def run_migrate(args: argparse.Namespace) -> int:
    """`terminal-agent migrate --config FILE`: bring the schema to this version, after a backup
    (what `forward` and `ui` also do at start)."""
    cfg = _load(args)
    store = asyncio.run(_migrate(cfg))
    record_admin_act(cfg, "database-migrated", f"schema {store.version}",
                     f"from {store.migrated_from}" if store.migrated_from is not None else None)
    if store.migrated_from is None:
        print(f"{store.path}: schema version {store.version}, nothing to migrate")
    else:
        print(f"{store.path}: migrated from schema version {store.migrated_from} to "
              f"{store.version}; backup taken before: {store.pre_migration_backup}")
    return 0
