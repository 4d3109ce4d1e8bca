"""Reports of a finished run, rendered from its run directory (run.json + result files) and the journal's history.

`render_report(run_dir, fmt, history=...)` returns one format's text (pure apart from reading run.json);
`write_reports(run_dir, history)` writes report.md, report.html, junit.xml and results/*.csv atomically;
`report_command`/`history_command` are `vqr report` and `vqr report history`; `after_run` is what `vqr run` calls
once run.json is published (reports, `$GITHUB_STEP_SUMMARY`, retention). Reads and writes files only.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from runner.artifact.rundir import LATEST
from runner.errors import ExitCode
from runner.files import append_step_summary, write_atomically
from runner.report.csv_export import write_csv
from runner.report.html import render_html
from runner.report.junit import render_junit
from runner.report.load import ArtifactError, RunArtifact, load_run
from runner.report.markdown import render_markdown
from runner.state.history import EMPTY_HISTORY, TREND_RUNS, History, history_table, load_history, prune_runs

__all__ = ["FORMATS", "ArtifactError", "after_run", "history_command", "render_report", "report_command",
           "resolve_run_dir", "write_reports", "write_result_csv", "write_step_summary"]

FORMATS = ("md", "html", "junit", "csv")
FILES = {"md": "report.md", "html": "report.html", "junit": "junit.xml"}


def _render(run: RunArtifact, fmt: str, history: History) -> str:
    if fmt == "md":
        return render_markdown(run)
    if fmt == "html":
        return render_html(run, history)
    if fmt == "junit":
        return render_junit(run)
    raise ValueError(f"no text rendering for format {fmt!r} (one of: md, html, junit)")


def render_report(run_dir: Path, fmt: str, *, history: History = EMPTY_HISTORY) -> str:
    """One report as text: `md`, `html` or `junit`. The same run.json and history always give the same bytes."""
    return _render(load_run(run_dir), fmt, history)


def write_result_csv(jsonl: Path) -> None:
    """The CSV beside one results file, written while the run goes on (`vqr run` calls this as each query's rows
    are committed). Best effort: after the run, `after_run` writes whatever is missing or stale."""
    with contextlib.suppress(OSError, ValueError):
        write_csv(jsonl, jsonl.with_suffix(".csv"))


def _fresh(csv_file: Path, jsonl: Path) -> bool:
    try:
        return csv_file.stat().st_mtime_ns >= jsonl.stat().st_mtime_ns
    except OSError:
        return False


def _write_csvs(run: RunArtifact, *, keep_fresh: bool = False) -> list[Path]:
    written: list[Path] = []
    for query in run.queries:
        if query.status != "succeeded" or not query.results_file:
            continue
        jsonl = run.path / query.results_file
        if jsonl.suffix != ".jsonl" or not jsonl.is_file():
            continue
        target = jsonl.with_suffix(".csv")
        if keep_fresh and _fresh(target, jsonl):
            written.append(target)
            continue
        previous_run = query.drift.previous_run if query.drift is not None else None
        if previous_run is None or not _link_previous_csv(run.path.parent / previous_run / query.results_file,
                                                          jsonl, target):
            write_csv(jsonl, target)
        written.append(target)
    return written


def _link_previous_csv(earlier: Path, jsonl: Path, target: Path) -> bool:
    """A result reused from the previous run is that run's very file (a hard link): its CSV is then the same too."""
    earlier_csv = earlier.with_suffix(".csv")
    try:
        if not (earlier_csv.is_file() and earlier.samefile(jsonl)):
            return False
        target.unlink(missing_ok=True)
        os.link(earlier_csv, target)
    except OSError:
        return False
    return True


def _write(run: RunArtifact, fmt: str, history: History) -> list[Path]:
    if fmt == "csv":
        return _write_csvs(run)
    target = run.path / FILES[fmt]
    write_atomically(target, _render(run, fmt, history).encode())
    return [target]


def write_reports(run_dir: Path, history: History = EMPTY_HISTORY) -> list[Path]:
    """Every format into the run directory; returns the files written."""
    run = load_run(run_dir)
    return [path for fmt in ("md", "html", "junit", "csv") for path in _write(run, fmt, history)]


def write_step_summary(run_dir: Path, *, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append the Markdown summary to `$GITHUB_STEP_SUMMARY` when it is set, cut to fit what is left of GitHub's
    1 MiB per step; returns the file, or None outside GitHub Actions."""
    target = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    run = load_run(run_dir)
    return path if append_step_summary(path, lambda room: render_markdown(run, limit=room)) else None


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


def _history_for(run: RunArtifact, journal_path: Path) -> History:
    return load_history(journal_path, [q.name for q in run.queries], until_run=run.run_id)


def report_command(run_dir: Path | None, fmt: str, reports_dir: Path, journal_path: Path, *,
                   out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`vqr report [RUN_DIR] --format F`: re-render one format into the run directory; print the files written."""
    out, err = out or sys.stdout, err or sys.stderr
    if fmt not in FORMATS:
        err.write(f"vqr report: unknown format {fmt!r} (one of: {', '.join(FORMATS)})\n")
        return int(ExitCode.USAGE)
    try:
        run = load_run(resolve_run_dir(run_dir, reports_dir))
        written = _write(run, fmt, _history_for(run, journal_path))
    except ArtifactError as error:
        err.write(f"vqr report: {error}\n")
        return int(ExitCode.USAGE)
    except (OSError, ValueError) as error:
        err.write(f"vqr report: cannot write the report: {error}\n")
        return int(ExitCode.INTERNAL)
    for path in written:
        out.write(f"{path}\n")
    return int(ExitCode.OK)


def history_command(name: str, journal_path: Path, *, limit: int = TREND_RUNS, out: TextIO | None = None,
                    err: TextIO | None = None) -> int:
    """`vqr report history QUERY`: the query's last `limit` runs from the journal, newest first."""
    out, err = out or sys.stdout, err or sys.stderr
    points = load_history(journal_path, [name], until_run=None, limit=limit).of(name)
    if not points:
        err.write(f"vqr report history: no run of query '{name}' in the journal {journal_path}\n")
        return int(ExitCode.USAGE)
    out.write(history_table(name, points))
    return int(ExitCode.OK)


def after_run(run_dir: Path, *, journal_path: Path, reports_dir: Path, retention: int,
              environ: Mapping[str, str] | None = None, err: TextIO | None = None) -> list[Path]:
    """What `vqr run` does once run.json is published: every report, the step summary, then pruning old runs.
    A report that cannot be written is a warning, never a change of the run's exit code."""
    err = err or sys.stderr
    written: list[Path] = []
    try:
        run = load_run(run_dir, validate=False)
        history = _history_for(run, journal_path)
        for fmt in ("md", "html", "junit"):
            written += _write(run, fmt, history)
        written += _write_csvs(run, keep_fresh=True)  # most were written during the run (write_result_csv)
        summary = write_step_summary(run_dir, environ=environ)
        if summary is not None:
            written.append(summary)
    except (ArtifactError, OSError, ValueError) as error:
        err.write(f"vqr run: warning: the reports could not be written: {error}\n")
    try:
        prune_runs(reports_dir, retention)
    except OSError as error:
        err.write(f"vqr run: warning: old runs could not be pruned: {error}\n")
    return written
