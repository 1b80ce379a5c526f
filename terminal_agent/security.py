"""File-permission and transport checks the agent applies before it starts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from terminal_agent.errors import InsecureFile


def check_private_file(path: Path, what: str) -> None:
    """Refuse a secret or database that group or others can read or write.

    systemd credentials live on a private ramfs owned by the service and pass this check.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureFile(
            f"{path}: {what} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}` and start again"
        )


def create_private_file(path: Path) -> None:
    """Create ``path`` (if missing) readable and writable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
