"""One scheduler per SQLite database.

SQLite cannot share the work between schedulers (no ``SKIP LOCKED``), so a second one must
refuse to start. The lock is a POSIX record lock (``fcntl.lockf``) rather than ``flock``:
record locks belong to the process, so worker processes forked by the executor do not
inherit it, and a ``kill -9``'d scheduler whose orphaned workers live on does not keep the
next scheduler out.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class SchedulerAlreadyRunning(Exception):
    """Another scheduler holds the lock of this FLOWSCHED_HOME."""


class SchedulerLock:
    """Held for the life of the scheduler; released by the OS if the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SchedulerAlreadyRunning(
                f"another scheduler (pid {holder}) is running on this SQLite database "
                f"(lock {self.path}); with SQLite only one scheduler may run"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
