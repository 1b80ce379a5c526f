"""The audit trail as a hash chain: edits, deletions and insertions are found and named
(finding: "Audit rows can be edited or deleted without detection"), `terminal-agent audit verify`,
the status line, and rows from before the chain existed."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from terminal_agent.core.audit import GENESIS, AuditTrail, link_hash, verify_chain
from terminal_agent.core.schema import MIGRATIONS
from terminal_agent.core.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.5
        return self.now


async def trail_with(tmp_path: Path, n: int = 5) -> Path:
    async with await Store.create(tmp_path / "agent.db", "TILL0001") as store:
        trail = AuditTrail(store, Clock())
        for i in range(n):
            await trail.record(f"900{i}", "override", f"REF{i}", f"reprint number {i}")
    return tmp_path / "agent.db"


def check(path: Path):
    db = sqlite3.connect(path)
    try:
        return verify_chain(db)
    finally:
        db.close()


async def test_an_untouched_chain_is_intact(tmp_path):
    path = await trail_with(tmp_path)
    report = check(path)
    assert report.intact and report.rows == 5 and report.describe() == "intact (5 rows)"
    rows = sqlite3.connect(path).execute("SELECT id, prev_hash, hash FROM audit ORDER BY id").fetchall()
    assert rows[0][1] == GENESIS
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, 5))


@pytest.mark.parametrize("tamper, bad_id, words", [
    ("UPDATE audit SET note='nothing happened' WHERE id=3", 3, "edited"),
    ("UPDATE audit SET actor='1001' WHERE id=5", 5, "edited"),
    ("UPDATE audit SET at=at-3600 WHERE id=1", 1, "edited"),
    ("DELETE FROM audit WHERE id=2", 2, "row 2 is missing"),
    ("DELETE FROM audit WHERE id IN (2, 3)", 2, "rows 2 to 3 are missing"),
    ("DELETE FROM audit WHERE id=1", 1, "row 1 is missing"),
])
async def test_edits_and_deletions_are_named(tmp_path, tamper, bad_id, words):
    path = await trail_with(tmp_path)
    db = sqlite3.connect(path)
    db.execute(tamper)
    db.commit()
    report = check(path)
    assert not report.intact and report.first_bad_id == bad_id and words in report.problem


async def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link(tmp_path):
    path = await trail_with(tmp_path)
    db = sqlite3.connect(path)
    prev = db.execute("SELECT hash FROM audit WHERE id=2").fetchone()[0]
    forged = link_hash(prev, 3, 1.0, "1001", "override", "REF2", "forged")
    db.execute("UPDATE audit SET at=1.0, actor='1001', note='forged', hash=? WHERE id=3", (forged,))
    db.commit()
    report = check(path)
    assert report.first_bad_id == 4 and "link to the previous row" in report.problem


async def test_a_row_slipped_in_between_is_found(tmp_path):
    path = await trail_with(tmp_path)
    db = sqlite3.connect(path)
    for row_id in (5, 4, 3):  # make room, then insert a forged row 3
        db.execute("UPDATE audit SET id=id+1 WHERE id=?", (row_id,))
    db.execute("INSERT INTO audit VALUES (3, 1.0, '9001', 'override', 'X', NULL, 'x', 'y')")
    db.commit()
    report = check(path)
    assert report.first_bad_id == 3 and not report.intact


async def test_rows_from_before_the_chain_are_chained_by_the_next_entry(tmp_path):
    """An upgraded till: audit rows written by the previous version carry no hash."""
    path = tmp_path / "agent.db"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        db.executescript(script)
    db.execute("PRAGMA user_version=3")
    db.executemany("INSERT INTO audit (at, actor, action, subject, note) VALUES (?,?,?,?,?)",
                   [(1.0, "admin", "cashier-added", "1001", None), (2.0, "1001", "login", None, None)])
    db.commit()
    db.close()
    path.chmod(0o600)
    async with await Store.open(path, migrate=True) as store:
        trail = AuditTrail(store)
        before = await trail.verify()
        assert before.intact and before.unsealed and "not chained yet" in before.describe()
        await trail.record("9001", "override", "REF", None)
        after = await trail.verify()
    assert after.intact and after.rows == 3 and not after.unsealed


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal_agent.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def config(tmp_path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "agent.db"}"\n[logging]\ntarget = "stderr"\n'
                   '[switch]\nbase_url = "http://127.0.0.1:9"\n')
    cfg.chmod(0o600)
    return cfg


async def test_audit_verify_command_and_status_line(tmp_path, config):
    path = await trail_with(tmp_path)
    ok = cli("audit", "verify", "--config", str(config))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "audit chain: intact (5 rows)"
    status = cli("status", "--config", str(config))
    assert "audit chain:          intact (6 rows)" in status.stdout  # the verify is a row too
    db = sqlite3.connect(path)
    assert db.execute("SELECT actor, action, note FROM audit WHERE id=6").fetchone()[1:] == (
        "audit-verify", "intact (5 rows)")
    assert db.execute("SELECT actor FROM audit WHERE id=6").fetchone()[0].startswith("cli:")
    db.execute("DELETE FROM audit WHERE id=4")
    db.commit()
    db.close()
    broken = cli("audit", "verify", "--config", str(config))
    assert broken.returncode == 1
    assert broken.stdout.strip() == "audit chain: BROKEN at row 4: row 4 is missing (deleted)"
    status = cli("status", "--config", str(config), "--json")
    chain = json.loads(status.stdout)["audit_chain"]
    assert chain["intact"] is False and "row 4 is missing" in chain["detail"]


async def test_each_row_reaches_the_journal_with_its_hash(tmp_path, caplog):
    caplog.set_level("INFO")
    async with await Store.create(tmp_path / "agent.db", "TILL0001") as store:
        entry = await AuditTrail(store).record("9001", "refund-given", "AB12CD34", "cash back")
    fields = [r.journal_fields for r in caplog.records if hasattr(r, "journal_fields")]
    last = {k: str(v) for k, v in fields[-1].items()}  # a masking handler may have made them text
    assert last["AUDIT"] == "1" and last["AUDIT_HASH"] == entry.hash
    assert last["ACTOR"] == "9001" and last["AUDIT_ID"] == "1"


def test_admin_commands_are_audited_with_the_operator(tmp_path, config):
    assert cli("init", "--config", str(config)).returncode == 0
    made = cli("backup", str(tmp_path / "backups"), "--config", str(config))
    assert made.returncode == 0, made.stderr
    assert cli("check", "--config", str(config)).returncode == 0
    rows = sqlite3.connect(tmp_path / "agent.db").execute(
        "SELECT actor, action FROM audit ORDER BY id").fetchall()
    assert [a for _, a in rows] == ["database-created", "database-backup", "database-checked"]
    assert all(actor.startswith("cli:") for actor, _ in rows)
    assert cli("audit", "verify", "--config", str(config)).stdout.strip() == \
        "audit chain: intact (3 rows)"
