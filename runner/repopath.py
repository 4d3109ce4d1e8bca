"""The one path policy for the files vqr reads for a repository: after resolving symlinks a file stays inside the
project root (the directory of vqr.yaml) and is a regular file. `outside_root` checks a reference, `check_file` a
file; `read_regular_file` reads one (at most `limit` + 1 bytes) or returns the `PathProblem`. Never raises `OSError`,
never blocks on a FIFO or a device, and a reason never quotes a byte of the file (a link to `~/.ssh/id_rsa`).
"""

from __future__ import annotations

import enum
import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path


class Problem(enum.Enum):
    OUTSIDE = "outside"  # resolves outside the project root
    NOT_A_FILE = "not-a-file"  # a FIFO, a device, a socket or a directory
    UNREADABLE = "unreadable"  # missing, no permission, a symlink loop...


@dataclass(frozen=True, slots=True)
class PathProblem:
    kind: Problem
    reason: str  # one line; names the kind of file at most, never its target's content


_OUTSIDE = ("leads outside the project directory (through a symbolic link); vqr reads only files inside the "
            "directory of vqr.yaml")
_OUTSIDE_PLAIN = "is outside the project directory; vqr reads only files inside the directory of vqr.yaml"
# O_NONBLOCK: opening a FIFO must not wait for a writer (the fstat below then refuses it). O_NOFOLLOW: the path opened
# is the resolved one, so a symlink swapped in after resolving fails instead of being followed.
_OPEN_FLAGS = (os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_NOFOLLOW", 0))


@functools.lru_cache(maxsize=4096)
def _real_directory(directory: str) -> str:
    """A directory's realpath, remembered: a lint resolves thousands of files in a few directories, and realpath
    (one lstat per component, in Python) cost 50 µs a file. Directories do not change during one command."""
    return os.path.realpath(directory)


def _resolve(path: Path) -> str | PathProblem:
    """`path` with every symlink and `..` resolved (as a string: pathlib's objects cost more than the syscalls)."""
    try:
        if not path.is_absolute() or ".." in path.parts:  # `link/..` must be resolved in order: no shortcut
            return os.path.realpath(path)
        directory = _real_directory(str(path.parent))
        candidate = f"{directory.rstrip(os.sep)}{os.sep}{path.name}"
        try:
            is_link = stat.S_ISLNK(os.lstat(candidate).st_mode)
        except OSError:
            is_link = False  # missing: the open says so
        return os.path.realpath(candidate) if is_link else candidate
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop on some Python versions, NUL in a name
        return PathProblem(Problem.UNREADABLE, f"cannot resolve the path: {_strerror(exc)}")


def is_within(root: Path, resolved: Path | str) -> bool:
    """Whether `resolved` (already free of symlinks and `..`) is `root` or below it; `root` is resolved too."""
    top, below = str(root), str(resolved)
    return below == top or below.startswith(top.rstrip(os.sep) + os.sep)


def lexically_within(root: Path, path: Path) -> bool:
    """Whether `path`, made absolute and `..` folded but symlinks not followed, is `root` or below it."""
    return is_within(root, os.path.normpath(path.absolute()))


def outside_root(root: Path, path: Path) -> PathProblem | None:
    """None when `path`, symlinks resolved, stays inside `root` (which must be resolved); else why not."""
    resolved = _resolve(path)
    if isinstance(resolved, PathProblem):
        return resolved
    return _outside(root, path, resolved)


def _outside(root: Path, path: Path, resolved: str) -> PathProblem | None:
    if is_within(root, resolved):
        return None
    through_link = lexically_within(root, path)  # the path itself is in the project, its target is not
    return PathProblem(Problem.OUTSIDE, _OUTSIDE if through_link else _OUTSIDE_PLAIN)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_regular(mode: int) -> PathProblem:
    return PathProblem(Problem.NOT_A_FILE, f"is {_kind(mode)}, not a regular file; vqr reads only regular files")


def _strerror(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__


def _located(path: Path, root: Path | None) -> str | PathProblem:
    """`path` resolved, or why it is refused before anything is opened: it cannot be resolved, or leads outside."""
    resolved = _resolve(path)
    if isinstance(resolved, PathProblem) or root is None:
        return resolved
    return _outside(root, path, resolved) or resolved


def check_file(path: Path, *, root: Path | None) -> PathProblem | None:
    """None when `path` is a regular file that (with `root`) resolves inside `root`; nothing is opened, for a check
    ahead of a reader that cannot take the policy itself (jsonschema's compile of a project's schemas)."""
    resolved = _located(path, root)
    if isinstance(resolved, PathProblem):
        return resolved
    try:
        mode = os.stat(resolved).st_mode  # noqa: PTH116 (a string on purpose, see _resolve)
    except OSError as exc:
        return PathProblem(Problem.UNREADABLE, f"cannot read the file: {_strerror(exc)}")
    return None if stat.S_ISREG(mode) else _not_regular(mode)


def read_regular_file(path: Path, limit: int, *, root: Path | None) -> bytes | PathProblem:
    """At most `limit` + 1 bytes of `path` (so an oversized file is still recognised), read only if it is a regular
    file and, when `root` (resolved) is given, resolves inside it. Checked before the open and again on the open
    descriptor, so a file swapped for a FIFO in between is still refused without blocking."""
    resolved = _located(path, root)
    if isinstance(resolved, PathProblem):
        return resolved
    try:
        before = os.stat(resolved)  # noqa: PTH116 (as above)
        if not stat.S_ISREG(before.st_mode):
            return _not_regular(before.st_mode)
        fd = os.open(resolved, _OPEN_FLAGS)
    except OSError as exc:
        return PathProblem(Problem.UNREADABLE, f"cannot read the file: {_strerror(exc)}")
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return _not_regular(mode)
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        return PathProblem(Problem.UNREADABLE, f"cannot read the file: {_strerror(exc)}")
    finally:
        os.close(fd)
