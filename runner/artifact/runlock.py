"""The run lock: `reports/<run-id>/.lock`, held with `fcntl.flock` by the one process executing that run.

`RunLock.acquire(run_dir)` takes it (or raises `RunLive` naming the holder's pid, host and start); `holder(run_dir)`
says who holds it, without taking it. The kernel drops a flock when its process dies, so a SIGKILLed run's lock is
stale by itself; the pid/host/start written into the file are only for messages, never trusted for liveness.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

LOCK_FILE = ".lock"


@dataclass(frozen=True, kw_only=True)
class Holder:
    pid: int | None
    host: str | None
    since: str | None  # when the holder took the lock, RFC 3339

    def describe(self) -> str:
        where = f"process {self.pid if self.pid is not None else '?'}"
        if self.host and self.host != socket.gethostname():
            where += f" on {self.host}"
        return where + (f" (since {self.since})" if self.since else "")


class RunLive(Exception):
    """Another process holds the lock; the caller turns this into its own one-line message."""

    def __init__(self, run_dir: Path, holder: Holder) -> None:
        super().__init__(f"run {run_dir.name} is live in {holder.describe()}")
        self.run_dir = run_dir
        self.holder = holder


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        return Holder(pid=None, host=None, since=None)
    pid, host, since = data.get("pid"), data.get("host"), data.get("since")
    return Holder(pid=pid if isinstance(pid, int) else None, host=host if isinstance(host, str) else None,
                  since=since if isinstance(since, str) else None)


def holder(run_dir: Path) -> Holder | None:
    """Who holds `run_dir`'s lock, or None (no lock file, or nobody holds it: a finished or killed run).

    Probing takes the lock for an instant on a fresh descriptor; flock locks belong to open file descriptions,
    so this sees a lock held by this very process too."""
    path = run_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if _try_lock(fd):
            return None  # closing the descriptor below releases the probe's lock
        return _read_holder(path)
    finally:
        os.close(fd)


class RunLock:
    """A held run lock; `release()` (or leaving the `with` block, or the process ending) lets it go."""

    def __init__(self, run_dir: Path, fd: int) -> None:
        self.run_dir = run_dir
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, run_dir: Path) -> RunLock:
        """Take `run_dir`'s lock (the directory must exist); `RunLive` when another process holds it."""
        path = run_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            if not _try_lock(fd):
                raise RunLive(run_dir, _read_holder(path))
            # Overwritten in place, under the lock: a reader probing never sees another holder's details.
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            data = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": stamp}).encode()
            with contextlib.suppress(OSError):  # a full disk must not stop the run: the details are for messages
                os.ftruncate(fd, 0)
                os.pwrite(fd, data, 0)
        except BaseException:
            os.close(fd)
            raise
        return cls(run_dir, fd)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
