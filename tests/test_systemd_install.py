"""systemd/install.sh and uninstall.sh in a throw-away root: user, files, modes, idempotence,
enable symlinks, and a clean removal. Never touches the real system."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "systemd" / "install.sh"
UNINSTALL = ROOT / "systemd" / "uninstall.sh"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="install.sh sets owners: needs root"),
    pytest.mark.skipif(shutil.which("systemd-sysusers") is None or shutil.which("systemctl") is None,
                       reason="needs systemd-sysusers and systemctl"),
]


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["sh", str(script), *args], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "DESTDIR": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def info(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return f"{stat.S_IMODE(st.st_mode):04o}", st.st_uid, st.st_gid


def ids(root: Path) -> tuple[int, int]:
    for line in (root / "etc" / "passwd").read_text().splitlines():
        name, _, uid, gid, *_ = line.split(":")
        if name == "terminal-agent":
            return int(uid), int(gid)
    raise AssertionError("terminal-agent user missing")


def test_install_into_a_throwaway_root(tmp_path: Path) -> None:
    root = tmp_path / "till"
    run(INSTALL, "--root", str(root), "--no-enable", "--skip-pip")
    uid, gid = ids(root)
    assert uid != 0 and "nologin" in (root / "etc/passwd").read_text()

    etc = root / "etc/terminal-agent"
    assert info(etc) == ("0750", 0, gid)
    assert info(etc / "config.toml") == ("0600", uid, gid)
    assert info(etc / "switch-password") == ("0600", 0, 0)
    assert (etc / "switch-password").read_text() == ""
    assert info(root / "var/lib/terminal-agent") == ("0750", uid, gid)
    config = (etc / "config.toml").read_text()
    assert 'password_credential = "switch-password"' in config
    assert 'key_credential = "till-key"' in config
    assert 'key_file = "/etc/terminal-agent/till-key"' in config
    assert info(etc / "till-key") == ("0600", 0, 0)
    key = (etc / "till-key").read_text()
    assert len(base64.b64decode(key.strip(), validate=True)) == 32
    for unit in ("terminal-agent.service", "terminal-agent-ui.service"):
        installed = root / "etc/systemd/system" / unit
        assert info(installed)[0] == "0644"
        assert installed.read_text() == (ROOT / "systemd" / unit).read_text()
    assert os.access(root / "opt/terminal-agent/uninstall.sh", os.X_OK)
    assert (root / "opt/terminal-agent/DEPLOY.md").is_file()
    assert not (root / "etc/systemd/system/multi-user.target.wants").exists()  # --no-enable

    # Again, after the technician edited the config and set the password: nothing is lost,
    # wrong modes are put right, and this time the units are enabled.
    (etc / "config.toml").write_text(config + "\n# edited\n")
    (etc / "config.toml").chmod(0o644)
    (etc / "switch-password").write_text("s3cret")
    run(INSTALL, "--root", str(root), "--skip-pip")
    assert (etc / "config.toml").read_text().endswith("# edited\n")
    assert info(etc / "config.toml") == ("0600", uid, gid)
    assert (etc / "switch-password").read_text() == "s3cret"
    assert (etc / "till-key").read_text() == key  # never replaced: it opens what it sealed
    assert ids(root) == (uid, gid)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert os.readlink(wants / "terminal-agent.service") == \
        "/etc/systemd/system/terminal-agent.service"
    assert (wants / "terminal-agent-ui.service").is_symlink()
    for getty in ("getty@tty1.service", "autovt@tty1.service"):  # tty1 is the cashier's
        assert os.readlink(root / "etc/systemd/system" / getty) == "/dev/null"

    run(UNINSTALL, "--root", str(root))
    assert not (root / "opt/terminal-agent").exists()
    assert not (root / "etc/systemd/system/terminal-agent.service").exists()
    assert not (root / "etc/systemd/system/getty@tty1.service").exists()
    assert (etc / "config.toml").exists()  # kept without --purge

    run(UNINSTALL, "--root", str(root), "--purge")
    assert not etc.exists() and not (root / "var/lib/terminal-agent").exists()
    assert "terminal-agent" not in (root / "etc/passwd").read_text()


def test_install_refuses_unknown_options(tmp_path: Path) -> None:
    result = subprocess.run(["sh", str(INSTALL), "--root", str(tmp_path), "--bogus"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "unknown option --bogus" in result.stderr
    assert not (tmp_path / "etc").exists()


@pytest.mark.skipif(not os.environ.get("TERMINAL_AGENT_SLOW_INSTALL"),
                    reason="set TERMINAL_AGENT_SLOW_INSTALL=1 to build real venvs too (~1 min)")
def test_install_with_the_venv(tmp_path: Path) -> None:
    """Two installs = two venvs from the lock file (hashes checked), `current` switched to the
    second and `previous` kept; a rollback switches back."""
    import time

    root = tmp_path / "till"
    run(INSTALL, "--root", str(root), "--no-enable")
    opt = root / "opt/terminal-agent"
    first = os.readlink(opt / "current")
    cli = opt / "current/bin/terminal-agent"
    result = subprocess.run([str(cli), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "backup" in result.stdout
    time.sleep(1.1)  # a new version name
    run(INSTALL, "--root", str(root), "--no-enable")
    second = os.readlink(opt / "current")
    assert second != first and os.readlink(opt / "previous") == first
    assert (opt / first / "bin/terminal-agent").exists()  # the old venv is kept, whole

    # A tampered dependency (its hash no longer matches): refused, the running version stays.
    tampered = tmp_path / "tree"
    shutil.copytree(ROOT, tampered, ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info"))
    lock = tampered / "systemd/requirements.lock"
    text = lock.read_text()
    digest = text.split("--hash=sha256:", 1)[1][:64]
    lock.write_text(text.replace(digest, "0" * 64, 1))
    time.sleep(1.1)
    failed = subprocess.run(["sh", str(tampered / "systemd/install.sh"), "--root", str(root),
                             "--no-enable", "--project", str(tampered)], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "DESTDIR": ""})
    assert failed.returncode != 0 and "running version is unchanged" in failed.stderr
    assert os.readlink(opt / "current") == second
    assert sorted(p.name for p in (opt / "versions").iterdir()) == sorted(
        [first.split("/")[-1], second.split("/")[-1]])

    run(INSTALL, "--root", str(root), "--rollback")
    assert os.readlink(opt / "current") == first and os.readlink(opt / "previous") == second
