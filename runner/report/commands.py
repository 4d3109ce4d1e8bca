"""`vqr report [RUN_DIR]` and `vqr report history QUERY`: they return what to print, and raise what stops them
(the app's error boundary turns that into one line and the exit code). Reads the run directory and the journal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runner.artifact import LATEST
from runner.errors import InternalError, UsageError
from runner.report.exceptions_view import unmatched_lines
from runner.report.history import TREND_RUNS, history_table, load_history
from runner.report.kinds import REPORT_FORMATS
from runner.report.load import ArtifactError, load_run
from runner.report.publish import history_for, write_format
from runner.state import latest_key


def resolve_run_dir(run_dir: Path | None, reports_dir: Path) -> Path:
    """RUN_DIR as given, else what `reports/latest` names (a symlink, or a text file holding the run id)."""
    if run_dir is not None:
        return run_dir
    latest = reports_dir / LATEST
    if latest.is_symlink() or latest.is_dir():
        return latest.resolve()
    if latest.is_file():
        return reports_dir / latest.read_text(encoding="utf-8").strip()
    raise ArtifactError(f"no run to report on: {latest} does not exist (run `vqr run` first, or name RUN_DIR)")


def report_command(run_dir: Path | None, fmt: str, reports_dir: Path, journal_path: Path, *,
                   warn: Callable[[str], None] | None = None) -> list[Path]:
    """`vqr report [RUN_DIR] --format F`: re-render one format into the run directory; returns the files written.
    `warn` gets one line per accepted exception that matched no row in the run (advice: the exit code stays 0).
    Raises `ArtifactError` (exit 2) for a missing or invalid run directory, `InternalError` when writing fails."""
    if fmt not in REPORT_FORMATS:
        raise UsageError(f"unknown report format {fmt!r} (one of: {', '.join(REPORT_FORMATS)})")
    run = load_run(resolve_run_dir(run_dir, reports_dir))
    if warn is not None:
        for line in unmatched_lines(run):
            warn(line)
    try:
        return write_format(run, fmt, history_for(run, journal_path))
    except (OSError, ValueError) as error:
        raise InternalError(f"cannot write the report: {error}") from None


def history_command(name: str, journal_path: Path, *, env: str | None = None, limit: int = TREND_RUNS) -> str:
    """`vqr report history QUERY [--env E]`: the text table of the query's last `limit` runs from the journal,
    newest first, in one environment and target: those of its latest run (of environment `env`, if given).
    Raises `UsageError` (exit 2) when the journal knows no such run of it."""
    key = latest_key(journal_path, name, env=env)
    points = load_history(journal_path, [name], key=key, until_run=None, limit=limit).of(name) if key else ()
    if key is None or not points:
        where = f" of environment '{env}'" if env else ""
        raise UsageError(f"no run{where} of query '{name}' in the journal {journal_path}")
    return history_table(name, points, key)


