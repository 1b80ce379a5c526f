"""Upgrades that can be undone (issue 12, finding 3, 4 and 5): a newer version migrates a
database holding pending advices (after an automatic backup); the previous version refuses the
newer schema with the way back; going back = the previous version + the pre-migration backup,
and it delivers every advice. The same through `install.sh --rollback` on a throw-away root, and
`uninstall.sh --purge` refusing while something is owed."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from terminal_agent.core.schema import MIGRATIONS
from terminal_agent.sim import SimOptions, SimServer

from .conftest import make_config
from .test_failures import queue_reversals, states, wait_for, write_config

ROOT = Path(__file__).resolve().parents[1]
N = len(MIGRATIONS)
# The next version: this code plus one more migration (what an upgrade brings).
NEWER = ("import sys; from terminal_agent.core import schema; "
         "schema.MIGRATIONS.append('CREATE TABLE upgrade_probe (x INTEGER)'); "
         "from terminal_agent import cli; sys.exit(cli.main(sys.argv[1:]))")


def old(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal_agent.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def new(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", NEWER, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def forward_until_delivered(config: Path, db: Path, n: int, log: Path,
                            command: list[str] | None = None) -> None:
    cmd = command or [sys.executable, "-m", "terminal_agent.cli"]
    with log.open("w") as out:
        proc = subprocess.Popen([*cmd, "forward", "--config", str(config)], cwd=ROOT,
                                stdout=out, stderr=out)
        try:
            assert wait_for(lambda: states(db) == ["REVERSED"] * n, 90), log.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    assert proc.returncode == 0, log.read_text()


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions()) as server:
        yield server


async def test_migrate_with_pending_advices_then_roll_back_from_the_automatic_backup(
        tmp_path, sim):
    sim.reset()
    cfg = make_config(tmp_path, sim.url)           # the till, made by `init`
    await queue_reversals(cfg, sim, 3)              # 3 advices owed to the switch
    config = write_config(tmp_path / "till.toml", Path(cfg.store.path), sim.url)

    up = new("migrate", "--config", str(config))    # the upgrade
    assert up.returncode == 0, up.stderr
    assert f"migrated from schema version {N} to {N + 1}" in up.stdout
    backup = next((tmp_path / "backups").glob(f"agent-*-pre-migration-v{N}.db"))

    refused = old("forward", "--config", str(config))      # the previous version
    assert refused.returncode == 2 and "newer than this agent" in refused.stderr
    assert "terminal-agent restore" in refused.stderr and "Traceback" not in refused.stderr

    back = old("restore", str(backup), "--config", str(config))  # the way back
    assert back.returncode == 0, back.stderr
    assert "queued after this backup" not in back.stdout  # nothing newer was lost
    con = sqlite3.connect(cfg.store.path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == N
    assert con.execute("SELECT COUNT(*) FROM outbox WHERE state='pending'").fetchone()[0] == 3
    con.close()

    forward_until_delivered(config, Path(cfg.store.path), 3, tmp_path / "forward.log")
    assert [o["final"] for o in sim.ledger()["originals"]] == ["reversed"] * 3


# -- the installer's versions, rollback and purge on a throw-away root ------------------------------

INSTALL = ROOT / "systemd" / "install.sh"
UNINSTALL = ROOT / "systemd" / "uninstall.sh"
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("systemd-sysusers") is None,
    reason="install.sh sets owners: needs root and systemd-sysusers")


def sh(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(script), *args], capture_output=True, text=True,
                          timeout=180, env={**os.environ, "DESTDIR": ""})


def fake_version(root: Path, name: str, newer: bool) -> Path:
    """``versions/NAME`` whose terminal-agent runs this source tree (plus one migration if
    ``newer``): what a real venv of that version would run."""
    bin_dir = root / "opt/terminal-agent/versions" / name / "bin"
    bin_dir.mkdir(parents=True)
    cli = bin_dir / "terminal-agent"
    run = f'-c "{NEWER}"' if newer else "-m terminal_agent.cli"
    cli.write_text(f'#!/bin/sh\ncd "{ROOT}" && exec "{sys.executable}" {run} "$@"\n')
    cli.chmod(0o755)
    return cli


def till_root(tmp_path: Path, url: str) -> tuple[Path, Path, Path]:
    root = tmp_path / "till"
    done = sh(INSTALL, "--root", str(root), "--no-enable", "--skip-pip")
    assert done.returncode == 0, done.stderr
    config = root / "etc/terminal-agent/config.toml"
    db = root / "var/lib/terminal-agent/agent.db"
    text = config.read_text().replace('path = "/var/lib/terminal-agent/agent.db"',
                                      f'path = "{db}"')
    text = text.replace('base_url = "https://switch.example.invalid"', f'base_url = "{url}"')
    text = text.replace('password_credential = "switch-password"', 'password_credential = ""')
    text = text.replace('key_credential = "till-key"', 'key_credential = ""')  # till.key beside
    text = text.replace('key_file = "/etc/terminal-agent/till-key"', 'key_file = ""')
    config.write_text(text.replace('target = "auto"', 'target = "stderr"'))
    return root, config, db


@needs_root
async def test_install_rollback_switches_back_and_restores_the_pre_migration_backup(
        tmp_path, sim):
    sim.reset()
    root, config, db = till_root(tmp_path, sim.url)
    opt = root / "opt/terminal-agent"
    fake_version(root, "0.1.0-A", newer=False)
    newer_cli = fake_version(root, "0.2.0-B", newer=True)
    os.symlink("versions/0.1.0-A", opt / "current")
    assert old("init", "--config", str(config)).returncode == 0
    from terminal_agent import config as config_mod

    await queue_reversals(config_mod.load(config), sim, 2)
    # the upgrade: B becomes current (what install.sh does), and B's forwarder migrates
    os.remove(opt / "current")
    os.symlink("versions/0.2.0-B", opt / "current")
    os.symlink("versions/0.1.0-A", opt / "previous")
    up = subprocess.run([str(newer_cli), "migrate", "--config", str(config)],
                        capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr

    back = sh(INSTALL, "--rollback", "--root", str(root))
    assert back.returncode == 0, back.stdout + back.stderr
    assert os.readlink(opt / "current") == "versions/0.1.0-A"
    assert os.readlink(opt / "previous") == "versions/0.2.0-B"
    assert "restoring" in back.stdout and "pre-migration" in back.stdout
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == N
    forward_until_delivered(config, db, 2, tmp_path / "forward.log",
                            command=[str(opt / "current/bin/terminal-agent")])


@needs_root
async def test_uninstall_purge_refuses_while_advices_are_owed(tmp_path, sim):
    from .test_db_lifecycle import park_four_advices

    root, config, db = till_root(tmp_path, sim.url)
    fake_version(root, "0.1.0-A", newer=False)
    os.symlink("versions/0.1.0-A", root / "opt/terminal-agent/current")
    assert old("init", "--config", str(config)).returncode == 0
    park_four_advices(db)

    refused = sh(UNINSTALL, "--root", str(root), "--purge")
    assert refused.returncode != 0
    assert "4 advices not yet delivered to the switch" in refused.stderr
    assert "--force" in refused.stderr
    assert db.exists() and (root / "opt/terminal-agent").exists()  # nothing removed

    forced = sh(UNINSTALL, "--root", str(root), "--purge", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "purging anyway" in forced.stderr
    assert not db.exists() and not (root / "opt/terminal-agent").exists()
