"""The composition root: one function per command, each returning its exit code.

The CLI parses options into these calls and exits once with what they return; everything else (finding the project,
wiring stages, writing output) happens here. Output goes to the given streams; files are written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from runner import __version__
from runner.app.common import Common, compile_all_environments, compile_queries, project_of
from runner.app.options import RunOptions
from runner.compile import (
    LintScope,
    lint_scope,
    scoped_findings,
)
from runner.errors import ExitCode, UsageError
from runner.files import write_atomically
from runner.model import Severity
from runner.plan.select import select_queries, uses_state
from runner.sanitize import terminal_line, terminal_text
from runner.settings import find_project_file, resolve_variables
from runner.validate import load_schema_set


def lint(common: Common, *, paths: Sequence[Path], fmt: str, output: Path | None, select: Sequence[str] = (),
         exclude: Sequence[str] = ()) -> int:
    from runner.findings import format_findings, write_github_step_summary

    project = project_of(common)
    if select or exclude:  # `--select state:modified --base main`: the files of the selected queries
        from runner.app.listing import lint_paths

        if paths:
            raise UsageError("give PATHS or --select/--exclude, not both")
        paths = lint_paths(common, project, select=select or ["*"], exclude=exclude)
        if not paths:
            common.err.write("no query selected: nothing to lint\n")
    # PATHS (pre-commit passes the staged files): cross-file rules still see the whole repository, findings are
    # those of PATHS, so an untracked draft neither fails the commit nor hides a name collision with it.
    nothing = LintScope(files=[], shown=frozenset(), checked=0)
    scope = lint_scope(project, paths) if paths or not (select or exclude) else nothing
    compiled = (compile_all_environments(common, project, files=scope.files)
                if scope.shown != frozenset() or scope.exceptions else None)
    findings = scoped_findings(scope, compiled) if compiled is not None and scope.shown != frozenset() else ()
    if compiled is not None and scope.exceptions:  # each exception must name a query of some environment
        from runner.app.exceptions import lint_exceptions

        findings = (*findings, *lint_exceptions(project, {u.name for u in compiled.units}, files=scope.exceptions)[1])
    text = format_findings(findings, fmt=fmt, root=project.root, files_checked=scope.checked,
                           tool_version=__version__)
    if output is not None:
        write_atomically(output, text)
    else:
        common.out.write(text)
    if fmt == "github" and common.process.step_summary is not None:
        write_github_step_summary(findings, common.process.step_summary, files_checked=scope.checked)
    return ExitCode.FINDINGS if any(f.severity is Severity.ERROR for f in findings) else ExitCode.OK


def schema_build(*, project_file: Path | None, openapi: Path | None, check: bool, out: TextIO) -> int:
    from runner.schemagen.build import build_schema_files, stale_schema_files, write_schema_files

    root = (project_file or find_project_file(Path.cwd())).resolve().parent
    schemas_dir = root / "schemas"
    files = build_schema_files(openapi, schemas_dir)
    if check:
        stale = stale_schema_files(schemas_dir, files)
        for name in stale:
            out.write(f"stale: schemas/{name} (run `vqr schema build`)\n")
        return ExitCode.FINDINGS if stale else ExitCode.OK
    for name in write_schema_files(schemas_dir, files):
        out.write(f"wrote schemas/{name}\n")
    return ExitCode.OK


def init(directory: Path, *, out: TextIO) -> int:
    from runner.scaffold import scaffold_project

    outcomes = scaffold_project(directory)
    for outcome, path, detail in outcomes:
        out.write(f"{outcome} {path}{' ' + detail if detail else ''}\n")
    from runner.scaffold import CREATED, REFUSED

    kept = sum(1 for outcome, _, _ in outcomes if outcome not in (CREATED, REFUSED))
    refused = sum(1 for outcome, _, _ in outcomes if outcome == REFUSED)
    if kept:
        out.write(f"{kept} existing file(s) kept as they were: nothing was overwritten\n")
    if refused:
        out.write(f"{refused} file(s) not written: a folder of the project is a link to somewhere outside it\n")
    out.write(f"next: cd {directory} && vqr lint\n")
    return ExitCode.OK


def sandbox_serve(options: dict[str, object]) -> int:
    from runner.sandbox.config import SandboxConfig
    from runner.sandbox.server import serve

    return serve(SandboxConfig(**options))  # type: ignore[arg-type]


def sandbox_reset(common: Common, *, state: Path | None) -> int:
    """Forget what the embedded sandbox remembers (`state`, default the project's `.vqr/sandbox/`)."""
    from runner.app.run_command import SANDBOX_STATE
    from runner.sandbox.store import reset_store

    root = state if state is not None else project_of(common).root / SANDBOX_STATE
    removed = reset_store(root)
    common.out.write(f"{terminal_line(str(root))}: {removed} sandbox graph(s) forgotten\n" if removed
                     else f"{terminal_line(str(root))}: nothing to forget\n")
    return ExitCode.OK


def run(common: Common, *, options: RunOptions) -> int:
    """Compile the whole repository, refuse to send anything if it has errors, then run the selected batch; once
    its run.json is written, render every report into the run directory, prune runs beyond `retention:`, then send
    vqr.yaml's notifications (a failed one is a warning)."""
    from runner.app.clean import compile_clean
    from runner.app.csv_workers import result_sinks
    from runner.app.run_command import JOURNAL, run_batch_command
    from runner.app.session import Hooks
    from runner.report import after_run, result_csv

    clean = compile_clean(common, show_warnings=True)
    if clean is None:
        return ExitCode.USAGE
    project, compiled, exceptions = clean.project, clean.compiled, clean.exceptions

    states = None
    if common.base is not None or common.state is not None or uses_state([*options.select, *options.exclude]):
        from runner.app.listing import wanted_baseline

        found = wanted_baseline(common, project, [*options.select, *options.exclude])
        states = found.states if found is not None else None
        picked = select_queries(compiled.queries, select=options.select, exclude=options.exclude, state=states)
        if uses_state(options.select) and not options.resume and not any(q.enabled for q in picked):
            # A pull request that changes no (enabled) query is not a usage error: there is nothing to run.
            common.err.write("no enabled query selected against the base: nothing to run\n")
            return ExitCode.OK

    def reports(run_dir: Path) -> None:
        after_run(run_dir, journal_path=project.root / JOURNAL, reports_dir=run_dir.parent,
                  retention=project.retention, step_summary=common.process.step_summary, err=common.err,
                  ocsf=project.ocsf)
        # After the reports (a message never goes out about a run without its files); a shard is a part of a run:
        # its merge (`vqr report merge`) notifies, once.
        if project.notify.targets and options.shard is None:
            from runner.app.notify_command import notify_after_run

            notify_after_run(run_dir, project, common.process, common.err)

    queries = compiled.queries
    del clean, compiled  # the units and their YAML documents (~8 KiB a query) are not needed while the batch runs
    with result_sinks(result_csv, environment=common.process.variables) as csv_sink:  # the CSVs: a worker process
        return run_batch_command(project, queries, options, process=common.process, out=common.out,
                                 err=common.err, hooks=Hooks(published=reports, result=csv_sink),
                                 states=states, exceptions=exceptions)


def report(common: Common, *, target: Sequence[str], fmt: str, limit: int) -> int:
    """`vqr report [RUN_DIR]` re-renders one format from a run's run.json; `vqr report history QUERY` prints the
    query's last runs from the journal."""
    from runner.app.run_command import JOURNAL
    from runner.report import history_command, report_command

    project = project_of(common)
    journal = project.root / JOURNAL
    if target and target[0] == "history":
        if len(target) != 2:
            raise UsageError("usage: vqr report history QUERY")
        common.out.write(terminal_text(history_command(target[1], journal, env=common.env, limit=limit)))
        return ExitCode.OK
    if len(target) > 1:
        raise UsageError("vqr report takes at most one RUN_DIR (or: vqr report history QUERY)")
    run_dir = Path(target[0]) if target else None
    def warn(line: str) -> None:
        common.err.write(f"vqr report: warning: {line}\n")

    for path in report_command(run_dir, fmt, project.reports_dir, journal, warn=warn):
        common.out.write(f"{path}\n")
    return ExitCode.OK


# --- vqr import (issue 11) ----------------------------------------------------------------------------------------

def import_queries(common: Common, *, sources: Sequence[str], into: Path | None, owner: str | None,
                   tags: Sequence[str], dry_run: bool, modernize: bool, stdin: BinaryIO) -> int:
    """Write a query file per query found in SOURCES (Veza's JSON); with `dry_run`, print them and write nothing.
    Every refusal is exit 2 with one line, and nothing written: all files are checked before the first is written."""
    from runner.app.boundary import file_error
    from runner.errors import InternalError
    from runner.importer import ImportOptions, ImportRefused, plan_import, read_inputs, write_planned

    project = project_of(common)
    env = project.environment(common.env, common.process)
    variables = resolve_variables(project, env, vars_files=common.vars_files, cli_vars=common.cli_vars)
    existing = compile_queries(common, project)
    options = ImportOptions(into=into, owner=owner, tags=tuple(tags), modernize=modernize)
    try:
        planned = plan_import(project, read_inputs(list(sources), stdin), options,
                              schemas=load_schema_set(project.schemas_dir), variables=variables,
                              existing=existing.queries)
        if not dry_run:
            write_planned(planned)
    except ImportRefused as refused:
        raise UsageError(terminal_line(f"{refused}; nothing was written")) from None  # one line, whatever it quotes
    except OSError as error:
        if error.filename is None:
            raise
        # A disk error is exit 3 (README, exit codes); write_planned has removed what this import had written.
        raise InternalError(terminal_line(f"{file_error(error)}; nothing was written")) from None
    for item in planned:
        verb = "would write" if dry_run else "wrote"
        common.out.write(terminal_line(f"{verb} {item.display} ({item.candidate.shape} from {item.candidate.source})")
                         + "\n")
        if dry_run:
            common.out.write(terminal_text(item.text))
        for note in item.notes:
            common.out.write(terminal_line(f"  note: {note}") + "\n")
        if item.warnings:
            common.out.write(f"  {item.warnings} lint warning(s): see `vqr lint {terminal_line(item.display)}`\n")
    done = "would be written (dry run: nothing was written)" if dry_run else "written"
    common.out.write(f"{len(planned)} query file(s) {done}\n")
    return ExitCode.OK
