"""The database over its life, as a technician meets it on the command line (issue 12):
created on purpose only, refused when missing/emptied/foreign/damaged with one sentence, checked,
backed up while in use, restored with a warning about what the backup lacks, migrated only by
the commands that may, and `cashier ... --config FILE` as the README writes it."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from terminal_agent.core.schema import MIGRATIONS

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal_agent.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, input=stdin)


def config(tmp: Path, terminal_id: str = "TILL0001", name: str = "config.toml") -> Path:
    path = tmp / name
    path.write_text(f'[terminal]\nterminal_id = "{terminal_id}"\n'
                    f'[store]\npath = "{tmp / "agent.db"}"\n'
                    '[switch]\nbase_url = "http://127.0.0.1:9"\n'
                    '[logging]\ntarget = "stderr"\n')
    path.chmod(0o600)
    return path


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    """A refusal: exit 2, one line on stderr, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def park_four_advices(db: Path) -> None:
    """Four parked reversals, as the technician's till had."""
    con = sqlite3.connect(db)
    for i in range(4):
        con.execute("INSERT INTO transactions (id, kind, op, state, path, request, amount, "
                    "currency, cashier, reference, created_at, updated_at) VALUES "
                    "(?, 'voucher_sale', 'VOUCHER_PROVISION', 'REVERSING', '/x', x'00', 1000,"
                    " '710', '1001', ?, 1, 1)", (f"t{i}", f"REF{i}"))
        con.execute("INSERT INTO outbox (id, txn_id, seq, kind, op, method, path, state, "
                    "next_attempt_at, created_at) VALUES (?, ?, 1, 'reversal', "
                    "'VOUCHER_REVERSE', 'POST', '/r', 'parked', 1, 1)", (f"a{i}", f"t{i}"))
    con.commit()
    con.close()


# -- finding 1: no silent (re)creation ------------------------------------------------------------


def test_status_and_forward_refuse_a_missing_database_and_init_makes_it(tmp_path):
    cfg = config(tmp_path)
    for command in ("status", "forward", "cashier"):
        args = [command, "--config", str(cfg)] + (["list"] if command == "cashier" else [])
        line = one_sentence(cli(*args))
        assert str(tmp_path / "agent.db") in line and f"terminal-agent init --config {cfg}" in line
    assert not (tmp_path / "agent.db").exists()
    made = cli("init", "--config", str(cfg))
    assert made.returncode == 0 and "for till TILL0001" in made.stdout
    assert stat.S_IMODE((tmp_path / "agent.db").stat().st_mode) == 0o600
    again = one_sentence(cli("init", "--config", str(cfg)))
    assert "already exists" in again
    assert "outbox pending:       0" in cli("status", "--config", str(cfg)).stdout


def test_an_emptied_database_is_not_reported_as_all_delivered(tmp_path):
    cfg = config(tmp_path)
    assert cli("init", "--config", str(cfg)).returncode == 0
    park_four_advices(tmp_path / "agent.db")
    assert "4 advices not yet delivered" in cli("status", "--owed", "--config", str(cfg)).stdout
    (tmp_path / "agent.db").write_bytes(b"")
    (tmp_path / "agent.db-wal").unlink(missing_ok=True)
    line = one_sentence(cli("status", "--config", str(cfg)))
    assert "empty (0 bytes)" in line and "restore" in line  # not "pending: 0, parked: 0"
    one_sentence(cli("forward", "--config", str(cfg)))


def test_another_tills_database_is_refused(tmp_path):
    cfg = config(tmp_path)
    assert cli("init", "--config", str(cfg)).returncode == 0
    other = config(tmp_path, terminal_id="TILL0002", name="other.toml")
    line = one_sentence(cli("status", "--config", str(other)))
    assert "belongs to till TILL0001" in line and "is till TILL0002" in line


def test_a_config_typo_names_the_file_key_and_line(tmp_path):
    cfg = config(tmp_path)
    cfg.write_text(cfg.read_text().replace("path =", "pth ="))
    line = one_sentence(cli("status", "--config", str(cfg)))
    assert f"{cfg}, line" in line and "store.pth" in line


# -- finding 2: integrity ---------------------------------------------------------------------------


def test_check_finds_a_damaged_database_and_forward_refuses_it(tmp_path):
    from tests.test_store import damage

    cfg = config(tmp_path)
    assert cli("init", "--config", str(cfg)).returncode == 0
    con = sqlite3.connect(tmp_path / "agent.db")
    con.executemany("INSERT INTO kv VALUES (?, ?)", [(f"k{i}", "x" * 300) for i in range(300)])
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    good = cli("check", "--config", str(cfg))
    assert good.returncode == 0 and "integrity:    ok" in good.stdout
    damage(tmp_path / "agent.db")
    bad = cli("check", "--config", str(cfg))
    assert bad.returncode in (1, 2) and "Traceback" not in bad.stderr
    assert "restore" in bad.stdout + bad.stderr
    line = one_sentence(cli("forward", "--config", str(cfg)))
    assert "damaged" in line and "terminal-agent restore" in line


# -- finding 3: backups, restore, migrate only on purpose -------------------------------------------


def test_backup_restore_round_trip_warns_about_newer_advices(tmp_path):
    cfg = config(tmp_path)
    assert cli("init", "--config", str(cfg)).returncode == 0
    folder = tmp_path / "backups"
    for _ in range(3):
        made = cli("backup", str(folder), "--keep", "2", "--config", str(cfg))
        assert made.returncode == 0, made.stderr
    kept = sorted(folder.glob("agent-*-daily.db"))
    assert len(kept) == 2  # rotated
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
    con = sqlite3.connect(tmp_path / "agent.db")
    last = con.execute("SELECT value FROM kv WHERE key='backup.last_at'").fetchone()
    con.close()
    assert last is not None and float(last[0]) > 0  # for status and metrics
    park_four_advices(tmp_path / "agent.db")        # queued after the backup

    back = cli("restore", str(kept[-1]), "--config", str(cfg))
    assert back.returncode == 0, back.stderr
    assert "4 advices were queued after this backup" in back.stdout
    aside = [p for p in tmp_path.iterdir() if ".before-restore-" in p.name and
             not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1
    assert sqlite3.connect(aside[0]).execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 4
    status = json.loads(cli("status", "--json", "--config", str(cfg)).stdout)
    assert status["outbox"]["parked"] == 0

    other = config(tmp_path, terminal_id="TILL0009", name="other.toml")
    refused = one_sentence(cli("restore", str(kept[-1]), "--config", str(other)))
    assert "backup of till TILL0001" in refused


def test_restore_refuses_a_damaged_backup(tmp_path):
    cfg = config(tmp_path)
    assert cli("init", "--config", str(cfg)).returncode == 0
    broken = tmp_path / "agent-broken.db"
    broken.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))
    line = one_sentence(cli("restore", str(broken), "--config", str(cfg)))
    assert "choose another backup" in line


def test_status_never_migrates_and_migrate_backs_up_first(tmp_path):
    cfg = config(tmp_path)
    db = tmp_path / "agent.db"
    con = sqlite3.connect(db)  # as the previous version left it: one migration behind
    for number, script in enumerate(MIGRATIONS[:-1], start=1):
        con.executescript(script)
        con.execute(f"PRAGMA user_version={number}")
    con.close()
    db.chmod(0o600)
    assert cli("status", "--config", str(cfg)).returncode == 0
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) - 1
    out = cli("migrate", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert f"migrated from schema version {len(MIGRATIONS) - 1} to {len(MIGRATIONS)}" in out.stdout
    backups = list((tmp_path / "backups").glob(f"agent-*-pre-migration-v{len(MIGRATIONS) - 1}.db"))
    assert len(backups) == 1
    assert sqlite3.connect(backups[0]).execute("PRAGMA user_version").fetchone()[0] == \
        len(MIGRATIONS) - 1


# -- finding 9: the README's cashier syntax ---------------------------------------------------------


@pytest.mark.parametrize("where", ["after", "before"])
def test_cashier_commands_take_config_after_the_action_too(tmp_path, where):
    cfg = config(tmp_path)
    assert cli("init", "--config", str(cfg)).returncode == 0

    def cashier(action: str, *rest: str, stdin: str | None = None) -> str:
        args = (["cashier", action, *rest, "--config", str(cfg)] if where == "after"
                else ["cashier", "--config", str(cfg), action, *rest])
        out = cli(*args, stdin=stdin)
        assert out.returncode == 0, out.stderr
        return out.stdout

    assert "added" in cashier("add", "2002", "--pin-stdin", stdin="4937\n")
    assert "2002" in cashier("list")
    assert "disabled" in cashier("disable", "2002")
