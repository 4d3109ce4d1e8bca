"""The sandbox's memory across restarts (`--state DIR`; `vqr run` on `url: embedded` uses `.vqr/sandbox/`).

One directory per graph identity (nodes, seed, epoch, OAA apps), holding `identity.json`, `advances.json` (the
`/_sandbox/advance` calls, replayed at start) and one JSON file per result (`results/`) and per job (`jobs/`), each
written atomically, so concurrent sandboxes never corrupt it. Times are stored as wall-clock seconds. Filesystem I/O.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from runner.files import write_atomically
from runner.sandbox.cache import Execution
from runner.sandbox.config import graph_name
from runner.sandbox.store_check import CorruptStore, advances_of, number, text, texts

FORMAT = 1  # bump when a file's shape changes: an older store is then rebuilt, never misread
# Rows are stored materialised (JSON), so a huge result would cost its size on disk and at every start: such a result
# is remembered for this process only, and a later one runs it again.
MAX_STORED_ROWS = 50_000
# Bounds within the ttl, applied at each start so a start costs at most about this much: the newest results are kept
# up to a count and a total of rows (jobs of a dropped result go with it), and at most so many other graphs are kept,
# none unused for longer than the ttl (every result in it has expired by then; only its advances are lost).
MAX_STORED_RESULTS = 500
MAX_STORED_JOBS = 2_000
MAX_STORED_TOTAL_ROWS = 500_000
MAX_OTHER_GRAPHS = 8


@dataclass(frozen=True, kw_only=True)
class StoredOutcome:
    """A result read back from the store: its rows as they were served, fully materialised."""

    result_value_type: str
    total: int
    cost: int
    warnings: tuple[str, ...]
    values: tuple[Any, ...] = field(repr=False)
    path_values: tuple[Any, ...] = field(repr=False)

    def page(self, offset: int, limit: int) -> tuple[list[Any], list[Any]]:
        start, stop = max(0, offset), max(0, offset) + max(0, limit)
        return list(self.values[start:stop]), list(self.path_values[start:stop])


@dataclass(frozen=True, kw_only=True)
class StoredJob:
    query_result_id: str
    cache_id: str
    created_at: float  # on the sandbox's clock
    warnings: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Loaded:
    executions: tuple[Execution, ...] = ()
    jobs: tuple[StoredJob, ...] = ()
    advances: tuple[tuple[int, float, int], ...] = ()


def _read(path: Path) -> dict[str, Any]:
    # Anything but a regular file (a directory, a symlink, a fifo) is damage to rebuild, not a reason to stop.
    if path.is_symlink() or not path.is_file():
        raise CorruptStore(f"{path.name} is not a regular file")
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CorruptStore(f"{path.name} is not valid JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CorruptStore(f"{path.name} is not format {FORMAT}")
    return data


def _entries(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    if folder.is_symlink() or not folder.is_dir():
        raise CorruptStore(f"{folder.name} is not a directory")
    # Only `*.json`: another sandbox's half-written `.name.json.XXXX.tmp` is not this one's to judge.
    return sorted(path for path in folder.iterdir() if path.suffix == ".json")


# What damaged contents can raise while being read (CorruptStore for what the checks above catch).
_DAMAGE = (CorruptStore, KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError)


def _remove(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


T = TypeVar("T")


def _newest(entries: list[tuple[T, Path]], most: int, *, rows: Callable[[T], int],
               created: Callable[[T], float]) -> list[tuple[T, Path]]:
    """The newest `most` entries within MAX_STORED_TOTAL_ROWS (newest first); the files of the others removed."""
    kept: list[tuple[T, Path]] = []
    total = 0
    for entry, path in sorted(entries, key=lambda pair: created(pair[0]), reverse=True):
        total += rows(entry)
        if len(kept) < most and total <= MAX_STORED_TOTAL_ROWS:
            kept.append((entry, path))
        else:
            path.unlink(missing_ok=True)
    return kept


@contextlib.contextmanager
def state_lock(root: Path) -> Iterator[None]:
    """The one lock over everything under a sandbox's state directory (graphs, jobs, saved objects), shared by
    every sandbox process on it."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the flock


class StateStore:
    """The files of one graph identity under `root`. `clock` is the sandbox's (monotonic) clock: stored times are
    wall-clock, shifted by the difference at open, so a later process reads the same ages."""

    def __init__(self, root: Path, identity: dict[str, Any], *, ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self.dir = root / graph_name(identity)
        self._identity = identity
        self._ttl = ttl
        self._offset = time.time() - clock()  # wall = clock + offset

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        # Loading and rebuilding hold the lock, so one sandbox never deletes files another is reading.
        return state_lock(self.root)

    def load(self) -> tuple[Loaded, str | None]:
        """What the store holds, unexpired, and a one-line warning when it was corrupt and has been rebuilt (or
        cannot be used at all: then the sandbox runs from memory, as without a store)."""
        try:
            with self._locked():
                try:
                    return self._load(), None
                except _DAMAGE as error:
                    _remove(self.dir)
                    self._write_identity()
                    return Loaded(), f"the sandbox store {self.dir} was unreadable ({error}); it was rebuilt empty"
        except OSError as error:
            return Loaded(), f"the sandbox store {self.root} cannot be used ({error.strerror or error}); " \
                             "nothing is remembered"

    def _write_identity(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomically(self.dir / "identity.json",
                         json.dumps({"format": FORMAT, "identity": self._identity}), durable=False)

    def _load(self) -> Loaded:
        if self.dir.is_symlink() or (self.dir.exists() and not self.dir.is_dir()):
            raise CorruptStore(f"{self.dir.name} is not a directory")
        ident = self.dir / "identity.json"
        if not ident.exists() and not ident.is_symlink():
            self._write_identity()
            return Loaded()
        if _read(ident).get("identity") != self._identity:
            raise CorruptStore("identity.json names another graph")
        advances: tuple[tuple[int, float, int], ...] = ()
        if (self.dir / "advances.json").exists() or (self.dir / "advances.json").is_symlink():
            advances = advances_of(_read(self.dir / "advances.json"))
        now = time.time()
        results: list[tuple[Execution, Path]] = []
        for path in _entries(self.dir / "results"):
            data = _read(path)
            if number(data["created_at"], "created_at") + self._ttl <= now:
                path.unlink(missing_ok=True)  # expired: Veza would have forgotten it too
                continue
            results.append((self._execution(data), path))
        executions = {execution.cache_id: execution for execution, _ in _newest(
            results, MAX_STORED_RESULTS, rows=lambda e: e.outcome.total, created=lambda e: e.created_at)}
        jobs: list[tuple[StoredJob, Path]] = []
        for path in _entries(self.dir / "jobs"):
            data = _read(path)
            created = number(data["created_at"], "created_at")
            cache_id = text(data["cache_id"], "cache_id")
            if created + self._ttl <= now or cache_id not in executions:
                path.unlink(missing_ok=True)
                continue
            jobs.append((StoredJob(query_result_id=text(data["query_result_id"], "query_result_id"),
                                   cache_id=cache_id, created_at=created - self._offset,
                                   warnings=texts(data["warnings"], "warnings")), path))
        kept_jobs = _newest(jobs, MAX_STORED_JOBS, rows=lambda _: 0, created=lambda j: j.created_at)
        self._prune_other_graphs(now)
        with contextlib.suppress(OSError):
            os.utime(self.dir)  # this graph's last use, by which other sandboxes prune it
        return Loaded(executions=tuple(sorted(executions.values(), key=lambda e: e.created_at)),
                      jobs=tuple(job for job, _ in reversed(kept_jobs)), advances=advances)

    def _prune_other_graphs(self, now: float) -> None:
        others: list[tuple[float, Path]] = []
        for path in self.root.glob("graph-*"):
            if path != self.dir:
                with contextlib.suppress(OSError):
                    others.append((path.lstat().st_mtime, path))
        others.sort(reverse=True)
        for rank, (used, path) in enumerate(others):
            if rank >= MAX_OTHER_GRAPHS or used + self._ttl <= now:
                _remove(path)

    def _execution(self, data: dict[str, Any]) -> Execution:
        values, path_values = data["values"], data["path_values"]
        if not isinstance(values, list) or not isinstance(path_values, list):
            raise CorruptStore("a result's rows are not lists")
        outcome = StoredOutcome(result_value_type=text(data["result_value_type"], "result_value_type"),
                                total=int(number(data["total"], "total", integral=True)),
                                cost=int(number(data["cost"], "cost", integral=True, most=2**63 - 1)),
                                warnings=texts(data["warnings"], "warnings"),
                                values=tuple(values), path_values=tuple(path_values))
        cache_id = text(data["cache_id"], "cache_id")
        if outcome.total != max(len(outcome.values), len(outcome.path_values)):
            raise CorruptStore(f"result {cache_id} holds fewer rows than it counts")
        created = number(data["created_at"], "created_at")
        finished = number(data["finished_at"], "finished_at")
        if finished < created or not isinstance(data["failed"], bool):
            raise CorruptStore(f"result {cache_id} has an impossible lifecycle")
        error = data["error"]
        return Execution(cache_id=cache_id, key=text(data["key"], "key"),
                         graph_version=int(number(data["graph_version"], "graph_version", integral=True)),
                         created_at=created - self._offset, finished_at=finished - self._offset,
                         failed=data["failed"], outcome=outcome,
                         error=None if error is None else text(error, "error"))

    def _put(self, folder: str, name: str, data: dict[str, Any]) -> None:
        # Best effort: a full disk or a store removed under a running sandbox loses memory, never a reply.
        with contextlib.suppress(OSError):
            (self.dir / folder).mkdir(parents=True, exist_ok=True)
            write_atomically(self.dir / folder / f"{name}.json",
                             json.dumps({"format": FORMAT, **data}, separators=(",", ":")), durable=False)
            os.utime(self.dir)  # in use: a long-lived sandbox's graph is not pruned by another as unused

    def save_execution(self, execution: Execution) -> None:
        outcome = execution.outcome
        if outcome.total > MAX_STORED_ROWS:
            return
        values, path_values = outcome.page(0, outcome.total)
        self._put("results", execution.cache_id, {
            "cache_id": execution.cache_id, "key": execution.key, "graph_version": execution.graph_version,
            "created_at": execution.created_at + self._offset, "finished_at": execution.finished_at + self._offset,
            "failed": execution.failed, "error": execution.error, "result_value_type": outcome.result_value_type,
            "total": outcome.total, "cost": outcome.cost, "warnings": list(outcome.warnings),
            "values": values, "path_values": path_values})

    def save_job(self, job: StoredJob) -> None:
        self._put("jobs", job.query_result_id, {
            "query_result_id": job.query_result_id, "cache_id": job.cache_id,
            "created_at": job.created_at + self._offset, "warnings": list(job.warnings)})

    def save_advances(self, advances: tuple[tuple[int, float, int], ...]) -> None:
        self._put(".", "advances", {"advances": [list(step) for step in advances]})

    def clear(self) -> None:
        """Forget everything of this graph (`/_sandbox/reset`)."""
        with contextlib.suppress(OSError), self._locked():
            shutil.rmtree(self.dir, ignore_errors=True)
            self._write_identity()


def reset_store(root: Path) -> int:
    """Empty a store directory (`vqr sandbox reset`): its graphs, saved objects and lock, nothing else, so a
    mistaken `--state` never deletes a user's files. Returns how many graphs were removed."""
    if not root.is_dir():
        return 0
    graphs: list[Path] = []
    with contextlib.suppress(FileNotFoundError):
        graphs = [path for path in root.iterdir() if path.name.startswith("graph-") and path.is_dir()
                  and not path.is_symlink()]
    for path in graphs:
        shutil.rmtree(path)
    for name in ("saved.json", "saved.json.damaged", ".lock"):  # the saved queries and reports (`saved_store`)
        (root / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        root.rmdir()  # only when nothing else is left in it
    return len(graphs)
