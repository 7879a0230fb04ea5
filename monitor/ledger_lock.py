"""One daemon per ledger: an exclusive `flock` on a sidecar file `<ledger>.lock` holding the pid.

The kernel drops the lock when the process dies, however it dies (SIGKILL included), so a stale
lock file never blocks a restart. Readers (`pantau report`, `pantau outages`) take no lock: only
a second daemon, which would write a second row for every event, is refused.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class LedgerBusy(Exception):
    """Another live process holds the ledger's lock; `pid` is its process id (None if unknown)."""

    def __init__(self, lock_path: Path, pid: int | None) -> None:
        self.lock_path = lock_path
        self.pid = pid
        super().__init__(f"{lock_path} is held by pid {pid}")


class LedgerLock:
    """Hold `<ledger>.lock` for as long as this object lives; `release()` gives it back."""

    def __init__(self, ledger_path: str | Path) -> None:
        self.path = Path(f"{ledger_path}.lock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise LedgerBusy(self.path, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        # The file stays: unlinking it would let a third process lock a fresh inode while a
        # second one still waits on the old one, and two daemons would run.
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
