"""Reports of a finished run, written into its run directory from run.json, the result files and the journal.

`render_report(run_dir, fmt, history=...)` returns one format's text; `write_reports(run_dir, history)` writes
report.md (with each owner's part, owners/<owner>.md), report.html, junit.xml and results/*.csv atomically;
`after_run` is what `vqr run` calls once run.json is published (reports, findings.ocsf.jsonl when vqr.yaml enables
it, the GitHub step summary, retention). Reads and writes files only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from runner.artifact import prune_runs
from runner.files import append_step_summary, atomic_output, write_atomically
from runner.report.csv_export import CsvSink, write_csv
from runner.report.history import load_history
from runner.report.html import html_chunks, render_html
from runner.report.junit import render_junit
from runner.report.kinds import REPORT_FILES
from runner.report.load import ArtifactError, RunArtifact, load_run
from runner.report.markdown import render_markdown, render_owner_markdown
from runner.report.ocsf import write_ocsf
from runner.report.owners import OWNERS_DIR, parts
from runner.sanitize import terminal_line
from runner.state import EMPTY_HISTORY, History, HistoryKey


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


def result_csv(jsonl: Path) -> CsvSink:
    """The CSV beside one results file, made while the run goes on from the rows it writes (`vqr run` feeds it
    each query's pages). Best effort: after the run, `after_run` writes whatever is missing or stale."""
    return CsvSink(jsonl)


def csv_is_fresh(csv_file: Path, jsonl: Path) -> bool:
    """Whether the CSV beside a results file was written after its rows (so it holds them): what `after_run`
    keeps rather than writes again, and what `vqr report merge` may link from a shard."""
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
        if keep_fresh and csv_is_fresh(target, jsonl):
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


def write_format(run: RunArtifact, fmt: str, history: History) -> list[Path]:
    """One format (csv: one file per query) into the run directory; returns the files written."""
    if fmt == "csv":
        return _write_csvs(run)
    if fmt == "ocsf":  # streamed row by row: never one text in memory
        write_ocsf(run, run.path / REPORT_FILES[fmt])
        return [run.path / REPORT_FILES[fmt]]
    target = run.path / REPORT_FILES[fmt]
    if fmt == "html":  # a section at a time: 10,000 queries' page is never one text in memory
        with atomic_output(target) as handle:
            for chunk in html_chunks(run, history):
                handle.write(chunk.encode())
        return [target]
    write_atomically(target, _render(run, fmt, history).encode())
    return [target, *(write_owner_parts(run) if fmt == "md" else [])]


def write_owner_parts(run: RunArtifact) -> list[Path]:
    """`owners/<owner>.md` for each owner (and `unowned.md`), with the report.md they belong to; a part left from
    an earlier rendering that no longer has an owner is removed, so the directory always matches run.json."""
    directory = run.path / OWNERS_DIR
    written = []
    for part in parts(run):
        target = run.path / part.file
        directory.mkdir(exist_ok=True)
        write_atomically(target, render_owner_markdown(run, part).encode())
        written.append(target)
    if directory.is_dir():
        for stale in set(directory.glob("*.md")) - set(written):
            stale.unlink(missing_ok=True)
    return written


def write_reports(run_dir: Path, history: History = EMPTY_HISTORY) -> list[Path]:
    """Every format into the run directory; returns the files written."""
    run = load_run(run_dir)
    return [path for fmt in ("md", "html", "junit", "csv") for path in write_format(run, fmt, history)]


def write_step_summary(run_dir: Path, target: Path | None) -> Path | None:
    """Append the Markdown summary to `target` (`$GITHUB_STEP_SUMMARY`, from `ProcessEnv.step_summary`), cut to fit
    what is left of GitHub's 1 MiB per step; returns the file, or None outside GitHub Actions (no target)."""
    if target is None:
        return None
    return _step_summary(load_run(run_dir), target)


def _step_summary(run: RunArtifact, target: Path) -> Path | None:
    return target if append_step_summary(target, lambda room: render_markdown(run, limit=room), reserve=1024) else None


def history_for(run: RunArtifact, journal_path: Path) -> History:
    """The trends of a run's report: its queries' runs in its own environment against its own target."""
    return load_history(journal_path, [q.name for q in run.queries], key=HistoryKey(env=run.env, target=run.target),
                        until_run=run.run_id)


def after_run(run_dir: Path, *, journal_path: Path, reports_dir: Path, retention: int,
              step_summary: Path | None = None, err: TextIO | None = None, ocsf: bool = False) -> list[Path]:
    """What `vqr run` does once run.json is published: every report (and the OCSF findings when `ocsf`), the step
    summary, then pruning old runs. A report that cannot be written is a warning, never a change of the run's exit
    code."""
    err = err or sys.stderr
    written: list[Path] = []
    try:
        run = load_run(run_dir, validate=False)
        history = history_for(run, journal_path)
        for fmt in ("md", "html", "junit"):
            written += write_format(run, fmt, history)
        written += _write_csvs(run, keep_fresh=True)  # most were written during the run (result_csv)
        if ocsf:
            written += write_format(run, "ocsf", history)
        # From the run loaded above, like every other report of the run.json this process has just written: read
        # back and validated once more for the summary, it cost every CI run ~0.4 s of CPU per 200 queries.
        summary = _step_summary(run, step_summary) if step_summary is not None else None
        if summary is not None:
            written.append(summary)
    except (ArtifactError, OSError, ValueError) as error:
        err.write(f"vqr run: warning: the reports could not be written: {terminal_line(error)}\n")
    try:
        prune_runs(reports_dir, retention, journal_path=journal_path)
    except OSError as error:
        err.write(f"vqr run: warning: old runs could not be pruned: {terminal_line(error)}\n")
    return written
