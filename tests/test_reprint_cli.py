"""`terminal-agent reprint` as a process (finding: `reprint REF --supervisor nobody` reprinted a
voucher PIN: any non-empty name passed, no PIN, no role check, no audit row, no log)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from devices.printers import open_printer
from terminal_agent import config as config_mod
from terminal_agent.core.cashiers import Cashiers
from terminal_agent.core.printing import PrintQueue
from terminal_agent.core.store import Store
from terminal_agent.core.vault import open_vault

REF = "AB12CD34"


@pytest.fixture
async def till(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "agent.db"}"\n[printer]\nurl = "dummy://"\n'
                   '[logging]\ntarget = "stderr"\n')
    cfg.chmod(0o600)
    async with await Store.create(tmp_path / "agent.db", "TILL0001") as store:
        await open_vault(config_mod.load(cfg), store)  # the PIN receipt is stored sealed
        accounts = Cashiers(store)
        await accounts.add("1001", "5284")
        await accounts.add("9001", "7391", role="supervisor")
        queue = PrintQueue(store, open_printer("dummy://", 42))
        await queue.submit(None, REF, "voucher_sale", b"PIN 7319 0466 8221 5509\n",
                           "PIN 7319 0466 8221 5509", contains_pin=True)
    return cfg


def reprint(cfg: Path, stdin: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal_agent.cli", "reprint", REF,
                           "--config", str(cfg), *extra], input=stdin, capture_output=True,
                          text=True, timeout=60)


def copies(cfg: Path) -> list[tuple[str | None]]:
    db = sqlite3.connect(cfg.parent / "agent.db")
    return db.execute("SELECT authorised_by FROM print_jobs WHERE copy_of IS NOT NULL").fetchall()


def audit(cfg: Path) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(cfg.parent / "agent.db")
    return db.execute("SELECT actor, action, note FROM audit WHERE id > 2 ORDER BY id").fetchall()


async def test_any_name_no_longer_reprints_a_pin(till):
    out = reprint(till, "0000\n", "--supervisor", "nobody")
    assert out.returncode == 2 and "not authorised: Wrong cashier number or PIN." in out.stderr
    assert copies(till) == []
    assert audit(till) == [("nobody", "override-failed", "unknown id")]


async def test_a_cashier_is_not_a_supervisor(till):
    out = reprint(till, "1001\n5284\n")
    assert out.returncode == 2 and "not a supervisor" in out.stderr
    assert copies(till) == []


async def test_a_supervisor_reprints_and_both_people_are_audited(till):
    out = reprint(till, "9001\n7391\n")
    assert out.returncode == 0, out.stderr
    assert f"reprinted {REF}" in out.stdout and "7391" not in out.stdout + out.stderr
    assert copies(till) == [("9001",)]
    (sup, override, note), (operator, action, detail) = audit(till)
    assert (sup, override) == ("9001", "override") and "reprint in the session of cli:" in note
    assert operator.startswith("cli:") and action == "reprint"
    assert "authorised by supervisor 9001" in (detail or "")
