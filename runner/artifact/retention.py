"""Which directories under `reports/` are runs, how old they are, and retention: deleting the oldest beyond `keep`.

`run_directories(reports_dir)` lists run directories oldest first; `prune_runs(reports_dir, keep, journal_path=...)`
deletes the old ones and returns them, never a live run (its run lock is held) nor a resumable one (the journal's
staleness rule); `latest_start(run_id)` reads a run id's start time. Lists, stats and deletes directories.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from runner.artifact.rundir import RUN_FILE, latest_target
from runner.artifact.runlock import holder
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


def prune_runs(reports_dir: Path, keep: int, *, journal_path: Path | None = None) -> list[Path]:
    """Delete run directories older than the newest `keep` complete ones (those with run.json); returns what was
    deleted, oldest first. Always kept: a directory newer than the oldest kept run, the one `reports/latest` names,
    a live run (another process holds its run lock), and a run the journal at `journal_path` says can still be
    resumed. Without a readable journal, a directory without run.json (a killed run) is kept too. `keep` below 1 is
    treated as 1."""
    runs = run_directories(reports_dir)
    complete = [p for p in runs if (p / RUN_FILE).is_file()]
    kept = complete[-max(1, keep):]
    if not kept:
        return []
    oldest_kept = runs.index(kept[0])
    protected = {latest_target(reports_dir)}
    resumable = read_resumable(journal_path) if journal_path is not None else None
    deleted: list[Path] = []
    for path in runs[:oldest_kept]:
        if path.name in protected or holder(path) is not None:
            continue
        if (path.name in resumable) if resumable is not None else not (path / RUN_FILE).is_file():
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            deleted.append(path)
    return deleted
