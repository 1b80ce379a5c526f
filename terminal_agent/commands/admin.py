"""The database's life as operator commands: `init`, `check`, `backup`, `restore`, `migrate`
(the work itself is core/admin.py). Each prints one short report and exits 0 when all is well;
problems are `AgentError`s whose one sentence `terminal-agent` prints (never a traceback). Every
run is an audit row naming the operator (core/audit.py ``record_admin_act``)."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from terminal_agent import config as config_mod
from terminal_agent.config import AgentConfig
from terminal_agent.core import (
    Comparison,
    backup_database,
    backup_folder,
    check_database,
    create_database,
    migrate_database,
    newest_backup,
    record_admin_act,
    restore_database,
)
from terminal_agent.errors import AgentError
from terminal_agent.security import give_to_folder_owner


def _load(args: argparse.Namespace) -> AgentConfig:
    from terminal_agent.security import check_state_files

    cfg = config_mod.load(args.config)
    check_state_files(cfg.store.path, args.config)
    return cfg


def run_init(args: argparse.Namespace) -> int:
    """`terminal-agent init --config FILE`: the till's database, made on purpose, once."""
    cfg = _load(args)
    path = create_database(cfg.store.path, cfg.terminal.terminal_id)
    give_to_folder_owner(path)
    record_admin_act(cfg, "database-created", cfg.terminal.terminal_id)
    print(f"created {path} for till {cfg.terminal.terminal_id}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """`terminal-agent check --config FILE`: SQLite's full integrity check, foreign keys,
    identity and schema; exit 1 when the file is damaged."""
    cfg = _load(args)
    report = asyncio.run(check_database(cfg))
    print(f"database:     {report.path}")
    print(f"till:         {report.terminal_id or '(not recorded yet)'}")
    print(f"schema:       version {report.version}")
    print(f"last backup:  {_age(report.last_backup_at) if report.last_backup_at else 'never'}")
    problems = report.problems
    print(f"integrity:    {'ok' if not problems else f'{len(problems)} problems'}")
    for problem in problems[:20]:
        print(f"  {problem}")
    if problems:
        newest = newest_backup(backup_folder(cfg))
        print(f"The database is damaged: stop the till's services and restore a backup: "
              f"terminal-agent restore {newest or 'BACKUP'} --config {args.config}")
        return 1
    record_admin_act(cfg, "database-checked", None, "whole")
    return 0


def _age(at: float) -> str:
    seconds = max(0.0, time.time() - at)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
    return f"{when} ({seconds / 3600:.1f} h ago)"


def run_backup(args: argparse.Namespace) -> int:
    """`terminal-agent backup DIR --config FILE [--keep N]`: a consistent copy while the
    services run (SQLite online backup), checked, 0600, the newest N kept."""
    cfg = _load(args)
    keep = args.keep if args.keep is not None else cfg.store.backup_keep
    if keep < 1:
        raise AgentError("--keep must be at least 1")
    made = asyncio.run(backup_database(cfg, Path(args.dir), keep))
    give_to_folder_owner(made)
    record_admin_act(cfg, "database-backup", made.name)
    print(f"backup {made} ({made.stat().st_size} bytes, checked)")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """`terminal-agent restore FILE --config FILE`."""
    cfg = _load(args)
    backup = Path(args.file)
    aside, comparison = restore_database(cfg, backup)
    record_admin_act(cfg, "database-restored", backup.name,
                     f"previous kept as {aside.name}" if aside is not None else None)
    print(f"restored {cfg.store.path} from {backup}")
    if aside is not None:
        print(f"the previous database is kept as {aside}")
    for line in _comparison_lines(comparison):
        print(line)
    return 0


def _comparison_lines(comparison: Comparison | None) -> list[str]:
    if comparison is None:
        return []
    lines = []
    if not comparison.readable:
        lines.append("WARNING: the previous database could not be read to compare it with the "
                     "backup; advices queued after the backup may be missing")
    if comparison.newer_owed:
        lines.append(f"WARNING: {len(comparison.newer_owed)} advices were queued after this "
                     "backup and were not yet delivered; they are NOT in the restored database "
                     "(settle them with the switch by hand, from the kept file):")
        lines += [f"  {line}" for line in comparison.newer_owed]
    if comparison.newer_delivered:
        lines.append(f"note: {comparison.newer_delivered} advices queued and delivered after the "
                     "backup are not in the restored database (the switch has them)")
    if comparison.resent:
        lines.append(f"note: {comparison.resent} advices delivered since the backup will be sent "
                     "again (the switch answers repeats as duplicates)")
    return lines


def run_migrate(args: argparse.Namespace) -> int:
    """`terminal-agent migrate --config FILE`: bring the schema to this version, after a backup
    (what `forward` and `ui` also do at start)."""
    cfg = _load(args)
    store = asyncio.run(migrate_database(cfg))
    record_admin_act(cfg, "database-migrated", f"schema {store.version}",
                     f"from {store.migrated_from}" if store.migrated_from is not None else None)
    if store.migrated_from is None:
        print(f"{store.path}: schema version {store.version}, nothing to migrate")
    else:
        print(f"{store.path}: migrated from schema version {store.migrated_from} to "
              f"{store.version}; backup taken before: {store.pre_migration_backup}")
    return 0
