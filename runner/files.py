"""Writing files, one helper per concept: `write_atomically` (readers never see half a file, a crash never leaves
one), `naming` (an OSError re-raised naming the file a person can act on) and `append_step_summary` (GitHub's
per-step Markdown summary, within its size limit). Filesystem I/O only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary larger than 1 MiB


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; done once, at import, before any thread starts
    os.umask(mask)
    return mask


# mkstemp creates 0600; a new file gets what open() would have given it, so a tightened umask is honoured.
_DEFAULT_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_output(path: Path, *, durable: bool = True, mode: int | None = None) -> Iterator[IO[bytes]]:
    """A binary stream whose bytes replace `path` only when the block ends without an exception.

    The temp file is a unique sibling (so two writers never share one) and keeps the target's permissions (a new
    file: `mode`, else what the umask allows).
    `durable` flushes it to disk before the rename, which a crash-safe run needs and a cache does not.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = _DEFAULT_MODE if mode is None else mode
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    handle = os.fdopen(fd, "wb")
    try:
        os.fchmod(fd, mode)
        yield handle
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
        handle.close()
        temp.replace(path)
    except BaseException:
        # Cleanup that survives a full disk: close() raises ENOSPC again for the unflushed bytes, and the temp
        # file must still go (its space is what the next write needs).
        with contextlib.suppress(OSError):
            handle.close()
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        with naming(path, temp):
            raise


@contextlib.contextmanager
def naming(path: Path, temp: Path | None = None) -> Iterator[None]:
    """Re-raise an OSError of the block as one that names `path`: write() and close() name no file (ENOSPC), and a
    failed rename names the temp file first, so the one-line message names the file a person can act on."""
    try:
        yield
    except OSError as error:
        if error.filename is not None and (temp is None or error.filename != str(temp)):
            raise
        raise OSError(error.errno, error.strerror or str(error), str(path)) from error


def write_atomically(path: Path, data: bytes | str, *, durable: bool = True, mode: int | None = None) -> None:
    """Write `data` (text is UTF-8) to `path` atomically; see `atomic_output`."""
    with atomic_output(path, durable=durable, mode=mode) as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


def append_step_summary(target: Path, render: Callable[[int], str], *, reserve: int = 0, least: int = 1) -> bool:
    """Append `render(room)` to the step summary file; `room` is what is left of GitHub's limit less `reserve` (kept
    for later steps), and `render` must stay within it. False, writing nothing, when less than `least` is left."""
    try:
        used = target.stat().st_size
    except FileNotFoundError:
        used = 0
    room = STEP_SUMMARY_LIMIT - used - reserve
    if room < least:
        return False
    with target.open("a", encoding="utf-8") as stream:
        stream.write(render(room))
    return True
