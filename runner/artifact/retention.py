"""Which directories under `reports/` are runs, how old they are, and retention: deleting the oldest beyond `keep`
of each history key (environment, target), as history is kept per key.

`run_directories(reports_dir)` lists run directories oldest first; `prune_runs(reports_dir, keep, journal_path=...)`
deletes the old ones and returns them, never a live run (its run lock is held), a resumable one (the journal's
staleness rule), nor the result files a later run of its key compares with; `latest_start(run_id)` reads a run id's
start time. Lists, stats, reads run.json and deletes directories.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from runner.artifact.jsonread import read_streamed
from runner.artifact.rundir import RUN_FILE, latest_target
from runner.artifact.runlock import holder
from runner.model import JSONValue
from runner.state import read_resumable

DEFAULT_RETENTION = 30
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")  # what `rundir.new_run_id` makes


def latest_start(run_id: str | None) -> datetime | None:
    """The last moment the run `run_id` can have started (its id holds its start second), or None when `run_id`
    is not a run id."""
    if run_id is None or not RUN_ID.match(run_id):
        return None
    try:
        second = datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return second.replace(microsecond=999_999)


def run_directories(reports_dir: Path) -> list[Path]:
    """Run directories under `reports_dir`, oldest first (run ids sort by time). Symlinks (`latest`) and
    anything not named like a run id are never included, so pruning cannot reach outside what vqr wrote."""
    if not reports_dir.is_dir():
        return []
    found = [p for p in reports_dir.iterdir() if RUN_ID.match(p.name) and p.is_dir() and not p.is_symlink()]
    return sorted(found, key=_age_key)


def _age_key(path: Path) -> tuple[str, int, str]:
    """Run ids sort by their start second; within one second (tests, quick re-runs) the random suffix says nothing,
    so the time run.json (or the directory) was last written breaks the tie."""
    marker = path / RUN_FILE
    try:
        written = (marker if marker.is_file() else path).stat().st_mtime_ns
    except OSError:
        written = 0
    return path.name[:16], written, path.name


def _key_and_successes(run_dir: Path) -> tuple[tuple[str, str] | None, set[str]]:
    """The run's (env, target) from its run.json and the queries that succeeded in it. An unreadable run.json (or one
    without both fields) gives the key None: such runs are counted together, as one more key."""
    try:  # a query entry at a time: a 10,000-query run.json parsed whole is ~300 MiB of objects
        data, queries = read_streamed(run_dir / RUN_FILE, "queries", _succeeded)
    except (OSError, ValueError):
        return None, set()
    env, target = data.get("env"), data.get("target")
    succeeded = {name for name in queries or () if name is not None}
    return ((env, target) if isinstance(env, str) and isinstance(target, str) else None), succeeded


def _succeeded(query: JSONValue) -> str | None:
    name = query.get("name") if isinstance(query, dict) and query.get("status") == "succeeded" else None
    return name if isinstance(name, str) else None


def _kept(complete: list[Path], keep: int) -> set[Path]:
    """The newest `keep` complete runs of each key, and of each key the newest run in which each query succeeded:
    a later run of that key reads those result files for drift and `new_rows`, however many failed runs came since."""
    by_key: dict[tuple[str, str] | None, list[tuple[Path, set[str]]]] = {}
    for path in complete:
        key, succeeded = _key_and_successes(path)
        by_key.setdefault(key, []).append((path, succeeded))
    kept: set[Path] = set()
    for runs in by_key.values():
        kept.update(path for path, _ in runs[-max(1, keep):])
        seen: set[str] = set()
        for path, succeeded in reversed(runs):
            if succeeded - seen:
                kept.add(path)
                seen |= succeeded
    return kept


def prune_runs(reports_dir: Path, keep: int, *, journal_path: Path | None = None) -> list[Path]:
    """Delete run directories beyond the newest `keep` complete ones (those with run.json) of each (environment,
    target), keeping each key's last successful run of every query; returns what was deleted, oldest first. Always
    kept: a directory without run.json newer than the oldest kept run, the one `reports/latest` names, a live run
    (another process holds its run lock), and a run the journal at `journal_path` says can still be resumed. Without
    a readable journal, a directory without run.json (a killed run) is kept too. `keep` below 1 is treated as 1."""
    runs = run_directories(reports_dir)
    kept = _kept([p for p in runs if (p / RUN_FILE).is_file()], keep)
    if not kept:
        return []
    oldest_kept = min(runs.index(path) for path in kept)
    protected = {latest_target(reports_dir)}
    resumable = read_resumable(journal_path) if journal_path is not None else None
    deleted: list[Path] = []
    for index, path in enumerate(runs):
        complete = (path / RUN_FILE).is_file()
        if path in kept or (index > oldest_kept and not complete):
            continue  # an unfinished run newer than a kept one may be waiting for --resume; its key is unknown
        if path.name in protected or holder(path) is not None:
            continue
        if (path.name in resumable) if resumable is not None else not complete:
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            deleted.append(path)
    return deleted
