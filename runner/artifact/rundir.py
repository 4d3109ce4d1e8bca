"""The run directory `reports/<run-id>/`: run ids, result files streamed a page at a time, atomic JSON,
`reports/latest`.

`new_run_id()` is sortable (`YYYYMMDDTHHMMSSZ-<4 hex>`). `ResultWriter` streams pages of rows (one write and one hash
update each) into a hidden temp file and renames it into `results/<query>.jsonl` only when complete, so a result file
is either whole or absent. Does file I/O.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, NoReturn

from runner.artifact.jsonstream import RunDocument, document_chunks
from runner.files import atomic_output, naming, write_atomically
from runner.jsontext import canonical_lines, exact_lines, exact_str
from runner.model import JSONObject, JSONValue

LATEST = "latest"
RUN_FILE = "run.json"
RESULTS_DIR = "results"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def new_run_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def result_file_name(query: str) -> str:
    """Query names are linted to be filesystem-safe; anything else is replaced so a name can never leave the run
    directory (`../x`) or hide a file (`.x`)."""
    safe = _UNSAFE.sub("_", query).lstrip(".") or "_"
    return f"{safe}.jsonl"


@dataclass(frozen=True, kw_only=True)
class ResultFile:
    path: Path
    rows: int
    sha256: str


class UnwritableRow(ValueError):
    """A row JSON Lines cannot hold (NaN, Infinity): the query fails rather than write an invalid line."""


class ResultWriter:
    """Rows of one query as JSON lines (sorted keys, so equal rows give equal bytes), hashed as they are written.

    Use as a context manager: `commit()` renames the finished file into place; leaving without it removes the temp.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._temp = path.with_name(f".{path.name}.{os.getpid()}.partial")
        self._handle = open_for_writing(self._temp)
        self._digest = hashlib.sha256()
        self._synced = False
        self.rows = 0

    def write(self, rows: Iterable[JSONValue], *, decoded: bool = False) -> None:
        """Append a page of rows. `decoded=True`: the rows are as `client.decode_json` gave them, which refused NaN
        and infinity already, so orjson may write them (several times faster, the same bytes: runner/jsontext.py;
        it would write NaN as null). Otherwise the json module writes them and a row holding NaN or infinity fails
        the query with `UnwritableRow`, the second line of defence."""
        self._synced = False
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return
        try:
            # A page at a time: one write and one hash update, not a row's.
            data = canonical_lines(rows) if decoded else exact_lines(rows)
        except ValueError:
            self._refuse(rows)
        with naming(self.path):
            self._handle.write(data)
        self._digest.update(data)
        self.rows += len(rows)

    def _refuse(self, rows: list[JSONValue]) -> NoReturn:
        for number, row in enumerate(rows, start=self.rows + 1):
            try:
                exact_str(row)
            except ValueError as error:
                raise UnwritableRow(f"row {number} cannot be written as JSON: {error}") from None
        raise AssertionError("a row that failed to encode encoded the second time")

    def sync(self) -> None:
        """Flush the rows to the disk (fsync): `vqr run` calls this in a worker thread, since it blocks for
        milliseconds per file and nothing else touches this file meanwhile; `commit` then only renames."""
        with naming(self.path, self._temp):
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._synced = True

    def commit(self) -> ResultFile:
        """The file renamed into place, its rows on the disk first (a journal DONE may trust it after a crash)."""
        if not self._synced:
            self.sync()
        with naming(self.path, self._temp):
            self._handle.close()
            self._temp.replace(self.path)
        return ResultFile(path=self.path, rows=self.rows, sha256=self._digest.hexdigest())

    def discard(self) -> None:
        """Remove the temp file, whatever closing it says: on a full disk close() raises ENOSPC again (the
        buffered rows cannot be flushed), and the temp's space must be given back for run.json to fit."""
        try:
            if not self._handle.closed:
                self._handle.close()
        except OSError:
            pass  # the error that stopped the rows is the one reported; the file is removed below
        finally:
            with contextlib.suppress(OSError):
                self._temp.unlink()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.discard()


def open_for_writing(path: Path) -> BinaryIO:
    """The one place result rows reach the disk (the seam tests use to inject a failing device)."""
    return path.open("wb")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, kw_only=True)
class RunDir:
    """`reports/<run-id>/` of one run."""

    reports: Path
    run_id: str

    @property
    def path(self) -> Path:
        return self.reports / self.run_id

    @property
    def run_file(self) -> Path:
        return self.path / RUN_FILE

    def result_path(self, query: str) -> Path:
        return self.path / RESULTS_DIR / result_file_name(query)

    def create(self) -> None:
        (self.path / RESULTS_DIR).mkdir(parents=True, exist_ok=True)

    def remove_partials(self) -> None:
        """Temp files left by a killed run (its pid is gone): they are never complete results."""
        for stale in (self.path / RESULTS_DIR).glob(".*.partial"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()

    def publish(self, artifact: RunDocument | JSONObject) -> None:
        """Write run.json: once every query has ended, atomically; it marks the run complete (the reports are
        rendered from it afterwards). Streamed a query entry at a time (`jsonstream`): never one text in memory."""
        # People `cat` run.json and CI prints it: DEL, C1 and bidi controls as JSON escapes (same values).
        with atomic_output(self.run_file) as handle:
            for chunk in document_chunks(artifact):
                handle.write(chunk.encode())
            handle.write(b"\n")

    def mark_latest(self) -> None:
        """Point `reports/latest` at this run: the very last step, so `latest` always shows a finished run with its
        reports."""
        point_latest(self.reports, self.run_id)


def latest_target(reports: Path) -> str | None:
    """The run id `reports/latest` names (a symlink's target, or the text file's content), or None."""
    link = reports / LATEST
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if link.is_symlink():
            return Path(link.readlink()).name
        if link.is_file():
            named = link.read_text(encoding="utf-8").strip()
            # Only a run id: a text file (perhaps from a downloaded artifact) must not name `..` or another tree.
            return named if named and Path(named).name == named and named not in {".", ".."} else None
    return None


def point_latest(reports: Path, run_id: str) -> None:
    """`reports/latest` -> `<run-id>` as a relative symlink swapped in atomically; where symlinks are not allowed,
    a `latest` text file holding the run id."""
    link = reports / LATEST
    if link.is_dir() and not link.is_symlink():  # something else made it a real directory: never delete that
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(link))
    temp = reports / f".{LATEST}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    try:
        temp.symlink_to(run_id, target_is_directory=True)
        temp.replace(link)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        if link.is_symlink():
            link.unlink()
        write_atomically(link, (run_id + "\n").encode())


def link_verified(source: Path, target: Path, sha256: str) -> bool:
    """Make `target` the same bytes as `source` (a hard link, or a copy across file systems), but only if those
    bytes hash to `sha256`. Result files are never modified once committed, so sharing an inode is safe."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        digest = hashlib.sha256()
        with target.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() == sha256:
            return True
        target.unlink(missing_ok=True)
    except OSError:
        target.unlink(missing_ok=True)
    return False
