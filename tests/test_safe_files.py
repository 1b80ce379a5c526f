"""Safe files under root (findings: commands run as root followed links planted in the state
folder -- the lock file truncated its target, a dangling `agent.db` link created a file where it
pointed --, the advice "run chmod 600 ..." would chmod a link's target, and files made by root
commands were unreadable to the service account, which then restart-looped). Real files, real
links, real ownership (the suite runs as root in CI; the tests that need it skip otherwise)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal_agent.cli import main
from terminal_agent.core.forwarder import ForwarderLock
from terminal_agent.core.store import Store, create_database
from terminal_agent.errors import InsecureFile
from terminal_agent.security import check_private_file, check_state_files, create_private_file

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CI runs as root)")


def test_the_lock_file_is_never_opened_through_a_link(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    (tmp_path / "agent.db.forward.lock").symlink_to(victim)
    with pytest.raises(InsecureFile, match="symbolic link"):
        ForwarderLock(tmp_path / "agent.db").acquire()
    assert victim.read_text() == "keep me"


def test_a_dangling_database_link_is_refused_and_nothing_is_created(tmp_path):
    elsewhere = tmp_path / "elsewhere" / "planted.db"
    elsewhere.parent.mkdir()
    (tmp_path / "agent.db").symlink_to(elsewhere)
    with pytest.raises(InsecureFile, match="symbolic link"):
        create_database(tmp_path / "agent.db", "TILL0001")
    assert not elsewhere.exists()


async def test_a_linked_database_wal_or_shm_is_refused(tmp_path):
    create_database(tmp_path / "agent.db", "TILL0001")
    target = tmp_path / "other-wal"
    target.write_bytes(b"")
    (tmp_path / "agent.db-wal").symlink_to(target)
    with pytest.raises(InsecureFile, match="database journal"):
        await Store.open(tmp_path / "agent.db")
    with pytest.raises(InsecureFile, match="symbolic link"):
        check_state_files(tmp_path / "agent.db", None)


def test_chmod_advice_never_goes_through_a_link(tmp_path):
    real = tmp_path / "real" / "config.toml"
    real.parent.mkdir()
    real.write_text("")
    real.chmod(0o644)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    with pytest.raises(InsecureFile) as err:
        check_private_file(link, "configuration file")
    assert f"run `chmod 600 {real}`" in str(err.value)
    assert f"chmod 600 {link}`" not in str(err.value)
    with pytest.raises(InsecureFile, match="never follows links") as err:
        check_private_file(link, "database", links=False)
    assert "run `chmod" not in str(err.value)


def test_create_private_file_refuses_a_planted_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("x")
    victim.chmod(0o644)
    (tmp_path / "till.key").symlink_to(victim)
    with pytest.raises(InsecureFile):
        create_private_file(tmp_path / "till.key")
    assert oct(victim.stat().st_mode & 0o777) == "0o644"


@pytest.fixture
def service_folder() -> Iterator[Path]:
    """A state folder owned by another account (nobody), as /var/lib/terminal-agent is owned by
    terminal-agent, reachable by that account."""
    base = Path(tempfile.mkdtemp(prefix="ta-safe-"))
    base.chmod(0o755)
    folder = base / "state"
    folder.mkdir(mode=0o750)
    os.chown(folder, NOBODY, NOBODY)
    yield folder
    shutil.rmtree(base)


@needs_root
async def test_files_root_creates_in_the_service_folder_belong_to_the_service(service_folder):
    create_database(service_folder / "agent.db", "TILL0001")  # as `sudo terminal-agent init`
    lock = ForwarderLock(service_folder / "agent.db")
    assert lock.acquire()
    lock.release()
    store = await Store.open(service_folder / "agent.db")
    await store.step(lambda db: db.execute("INSERT INTO kv VALUES ('x', 'y')"))
    made = sorted(p.name for p in service_folder.iterdir())
    owners = {p.name: (p.stat().st_uid, oct(p.stat().st_mode & 0o777)) for p in service_folder.iterdir()}
    await store.close()
    assert {"agent.db", "agent.db.forward.lock"} <= set(made)
    assert all(uid == NOBODY and mode == "0o600" for uid, mode in owners.values()), owners


def test_the_service_account_refuses_a_folder_someone_else_owns(tmp_path, monkeypatch, capsys):
    """`terminal-agent status` as an account that does not own the state folder (here: the
    process says it is uid 65534 while the folder is ours): one sentence, exit 2."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "agent.db"}"\n')
    cfg.chmod(0o600)
    create_database(tmp_path / "agent.db", "TILL0001")
    monkeypatch.setattr(os, "geteuid", lambda: NOBODY)
    assert main(["status", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "the database folder belongs to" in err and "not to nobody" in err
