"""Who owns a transaction in flight: every process that sends requests holds an OS lock of its own.

Rules:
1. A process that may send a financial request (the UI, the service, a command) takes an
   ``OwnerLock`` when it opens the database: an exclusive ``flock`` on
   ``<db>.owners/<owner id>.lock``, held for the life of the process. The kernel drops it when
   the process dies, however it dies (SIGKILL, power cut: the file outlives it, the lock not).
2. The owner id (``<role>-<pid>-<random>``, never reused) is written on every transaction the
   process commits write-ahead (``transactions.owner``).
3. A transaction is *in flight* while its owner's lock is held and *orphaned* once it is free
   (or the file is gone, or the row has no owner: written before owners existed). Recovery acts
   on orphaned transactions only; a live till's request is never touched (``Owners.alive``).
4. Probing takes a shared lock for an instant and never creates a file, so any number of
   processes may ask at once; only the owner ever takes the exclusive lock. A dead owner's file
   is removed by whoever recovered its work (``Owners.forget``).
"""

from __future__ import annotations

import fcntl
import os
import uuid
from pathlib import Path
from typing import IO

from terminal_agent.errors import AgentError
from terminal_agent.security import give_to_folder_owner, open_state_file


def owners_dir(db_path: str | Path) -> Path:
    return Path(str(db_path) + ".owners")


class OwnerLock:
    """This process's identity on the rows it sends (rule 1)."""

    def __init__(self, db_path: str | Path, role: str) -> None:
        self.folder = owners_dir(db_path)
        self.id = f"{role}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._fh: IO[bytes] | None = None

    @property
    def path(self) -> Path:
        return self.folder / f"{self.id}.lock"

    def acquire(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(mode=0o700, exist_ok=True)
            give_to_folder_owner(self.folder)  # made under sudo: still the services' folder
        fd = open_state_file(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR, "owner lock file")
        fh = os.fdopen(fd, "r+b")
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh file: nobody else has it
        self._fh = fh

    @property
    def held(self) -> bool:
        return self._fh is not None

    def release(self) -> None:
        """Clean exit: nothing this process sent is in flight any more."""
        if self._fh is None:
            return
        self.path.unlink(missing_ok=True)
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None


class Owners:
    """Answers "is the process that sent this still alive?" for any owner id (rules 3, 4)."""

    def __init__(self, db_path: str | Path, me: OwnerLock | None = None) -> None:
        self.folder = owners_dir(db_path)
        self.me = me

    def _path(self, owner: str) -> Path | None:
        if not owner or "/" in owner or owner.startswith("."):
            return None
        return self.folder / f"{owner}.lock"

    def alive(self, owner: str | None) -> bool:
        if not owner:
            return False
        if self.me is not None and owner == self.me.id:
            return self.me.held
        path = self._path(owner)
        return path is not None and locked_elsewhere(path)

    def forget(self, owner: str | None) -> None:
        """Remove a dead owner's lock file (its work has been recovered)."""
        path = self._path(owner or "")
        if path is None or self.alive(owner):
            return
        path.unlink(missing_ok=True)


def locked_elsewhere(path: Path) -> bool:
    """Does another process hold a lock on ``path``? A shared, non-blocking probe that never
    creates the file (rule 4); a missing file is a free lock."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # missing (a free lock), or a planted link: never a live process's lock
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's shared lock
    return False


# -- the forwarder's lock (core/forwarder.py, rule 1): here, beside the owners' locks, so a
# process can look at it without loading the forwarder (the UI before its login screen)

NOTE_BYTES = 512  # the lock file's fixed-size record: rewritten in place, even on a full disk


class ForwarderBusy(AgentError):
    """Another forwarder already serves this database."""


class ForwarderLock:
    """Exactly one forwarder per database (rule 1): an exclusive ``flock`` on
    ``<db>.forward.lock`` holding ``<pid> <role>`` and a note; a service waiting for its turn holds
    ``<db>.forward.wait`` so a UI that forwards hands over to it (core/runtime.py)."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(str(db_path) + ".forward.lock")
        self.wait_path = Path(str(db_path) + ".forward.wait")
        self._fh: IO[str] | None = None
        self._wait: IO[str] | None = None
        self.role = ""

    def acquire(self, role: str = "") -> bool:
        fh = _try_lock(self.path)
        if fh is None:
            return False
        self._fh = fh
        self.role = role
        self.note("")
        return True

    def note(self, text: str) -> None:
        """Say what the forwarder is waiting for ("" = all well), for `status` in another
        process. The record keeps its size, so no new disk block is needed to rewrite it."""
        if self._fh is None:
            return
        who = f"{os.getpid()} {self.role}".strip()
        record = f"{who}\n{' '.join(text.split())}".encode()[:NOTE_BYTES - 1]
        try:
            os.pwrite(self._fh.fileno(), record.ljust(NOTE_BYTES - 1) + b"\n", 0)
        except OSError:
            pass

    def read_note(self) -> str:
        """The running forwarder's note ("" when none or all well)."""
        try:
            lines = self.path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return lines[1].strip() if len(lines) > 1 else ""

    @property
    def held(self) -> bool:
        """True if this process holds the lock (it is the forwarder)."""
        return self._fh is not None

    def held_elsewhere(self) -> bool:
        """True if some other process holds the lock (a forwarder is running)."""
        return self._fh is None and locked_elsewhere(self.path)

    def holder_role(self) -> str | None:
        """The role (``service``, ``ui``) of the process forwarding now, if another one does."""
        if not self.held_elsewhere():
            return None
        try:
            parts = self.path.read_text(errors="replace").splitlines()[0].split()
        except (OSError, IndexError):
            return None
        return parts[1] if len(parts) > 1 else None

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    # -- a service waiting for its turn --------------------------------------------------------

    def wait_for_turn(self) -> None:
        if self._wait is None:
            self._wait = _try_lock(self.wait_path)

    def stop_waiting(self) -> None:
        if self._wait is not None:
            fcntl.flock(self._wait, fcntl.LOCK_UN)
            self._wait.close()
            self._wait = None

    def someone_waiting(self) -> bool:
        return self._wait is None and locked_elsewhere(self.wait_path)


def _try_lock(path: Path) -> IO[str] | None:
    """An exclusive ``flock`` on ``path`` (created 0600), or None if another process has it."""
    fd = open_state_file(path, os.O_CREAT | os.O_RDWR, "forwarder lock file")
    fh = os.fdopen(fd, "r+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh
