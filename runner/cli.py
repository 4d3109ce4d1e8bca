"""The command line: click parsing only. Each command builds options, calls one `runner.app` function, exits once.

Imports nothing of vqr but `runner.app` (an import-linter contract). `main()` runs the whole command inside
`app.guarded`, the single error boundary (`VqrError` → its one-line message and documented exit code, Ctrl-C 130,
anything else 3); click's own usage errors exit 2. `app` loads the commands on first use: `vqr --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from runner import __version__, app

EXIT_CODES = """\b
Exit codes:
  0    lint: clean (warnings allowed)   run: every query succeeded
  1    lint: errors found               run: a query or an error expectation failed
  2    usage error, invalid project file or specs: nothing was sent
  3    internal error; run: could not run at all (auth, API unreachable),
       or a file could not be written (the path and the reason are named)
  130  interrupted

\b
Environment: VQR_ENV (default environment), VEZA_URL, VEZA_API_KEY,
VEZA_API_KEY_FILE, SSL_CERT_FILE, VQR_NO_LINT_CACHE=1, VQR_SANDBOX_LATENCY,
VQR_SANDBOX_NODES, VQR_SANDBOX_SEED, VQR_SANDBOX_RATE_LIMIT, VQR_SANDBOX_BURST,
VQR_SANDBOX_JOB_SLOTS (the embedded sandbox of `vqr run`).
"""

_DEBUG = {"on": False}


def _common(ctx: click.Context, env: str | None = None, vars_files: tuple[Path, ...] = (),
            cli_vars: tuple[str, ...] = (), base: str | None = None, state: Path | None = None) -> Any:
    return app.Common(project_file=ctx.obj.get("project"), env=env, vars_files=vars_files, cli_vars=cli_vars,
                      base=base, state=state)


_SELECT_HELP = ("Name or glob, tag:T, path:DIR, owner:O, state:new|modified|removed|unchanged; "
                "A,B is both (repeatable: any).")


def _selection(command: Any) -> Any:
    """--select/--exclude and the base that `state:` selectors compare with (README: Selecting queries)."""
    for option in reversed([
        click.option("--select", multiple=True, metavar="S", help=_SELECT_HELP),
        click.option("--exclude", multiple=True, metavar="S", help="Same syntax; removes matches (repeatable)."),
        click.option("--base", metavar="REF",
                     help="Compare with the repository at this git ref (for state: selectors)."),
        click.option("--state", "state", type=click.Path(path_type=Path), metavar="DIR",
                     help="Compare with a run directory (or reports/latest): its recorded bodies."),
    ]):
        command = option(command)
    return command


_env_option = click.option("--env", "env", metavar="E",
                           help="Environment from vqr.yaml (default: $VQR_ENV, else sandbox).")
_vars_file_option = click.option("--vars-file", "vars_files", multiple=True, metavar="FILE",
                                 type=click.Path(path_type=Path), help="Extra variables file (repeatable).")
_var_option = click.option("--var", "cli_vars", multiple=True, metavar="K=V",
                           help="Set a template variable; V is parsed as JSON when it can be (repeatable).")


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vqr")
@click.option("--project", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Project file (default: the nearest vqr.yaml from the working directory up).")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.option("-v", "--verbose", count=True, help="Log to stderr: -v info, -vv debug (every HTTP call and wait).")
@click.pass_context
def cli(ctx: click.Context, project: Path | None, debug: bool, verbose: int) -> None:
    """vqr: Veza access-graph queries as code: lint, render, run and report them."""
    ctx.obj = {"project": project}
    _DEBUG["on"] = debug
    if verbose:
        _configure_logging(verbose)


def _configure_logging(verbose: int) -> None:
    """One stderr handler, with the secret filter on the handler itself: a filter on a logger would not see the
    records of its child loggers (httpx, httpcore), and those can carry headers."""
    import logging

    handler = logging.StreamHandler()
    handler.addFilter(app.LOG_FILTER)  # the key redacted and terminal controls escaped
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO, handlers=[handler], force=True)


@cli.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_selection
@click.option("--env", "env", metavar="E",
              help="Check only this environment (default: every environment in vqr.yaml; $VQR_ENV is not used).")
@_vars_file_option
@_var_option
@click.option("--format", "fmt", type=click.Choice(app.LINT_FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), help="Write findings here, not stdout.")
@click.pass_context
def lint(ctx: click.Context, paths: tuple[Path, ...], select: tuple[str, ...], exclude: tuple[str, ...],
         base: str | None, state: Path | None, env: str | None, vars_files: tuple[Path, ...],
         cli_vars: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Check query files offline: YAML safety, schema, templates, meaning rules. No network, no API key."""
    raise SystemExit(app.lint(_common(ctx, env, vars_files, cli_vars, base, state), paths=paths, fmt=fmt,
                              output=output, select=select, exclude=exclude))


@cli.command(epilog=EXIT_CODES)
@click.argument("query", required=False)
@_selection
@_env_option
@_vars_file_option
@_var_option
@click.pass_context
def render(ctx: click.Context, query: str | None, select: tuple[str, ...], exclude: tuple[str, ...],
           base: str | None, state: Path | None, env: str | None, vars_files: tuple[Path, ...],
           cli_vars: tuple[str, ...]) -> None:
    """Print the exact create-request body(ies) for QUERY (a name, glob or file), or for the --select'ed
    queries, as JSON; nothing is sent."""
    raise SystemExit(app.render(_common(ctx, env, vars_files, cli_vars, base, state), query=query, select=select,
                                exclude=exclude))


@cli.command(name="ls")
@_selection
@_env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def ls_command(ctx: click.Context, select: tuple[str, ...], exclude: tuple[str, ...], base: str | None,
               state: Path | None, env: str | None, fmt: str) -> None:
    """List the queries of the repository (after matrix expansion); with --base or --state, each one's state."""
    raise SystemExit(app.ls(_common(ctx, env, base=base, state=state), select=select, exclude=exclude, fmt=fmt))


@cli.command(epilog=EXIT_CODES)
@_selection
@_env_option
@_vars_file_option
@_var_option
@click.option("--concurrency", type=click.IntRange(1, app.MAX_CONCURRENCY),
              help="Queries in flight at once (default: vqr.yaml).")
@click.option("--cache", type=click.Choice(app.CACHE_MODES),
              help="Override every query's cache mode for this run.")
@click.option("--snapshot-id", metavar="ID", help="Pin every spec of the batch to one Veza snapshot.")
@click.option("--resume", is_flag=True, help="Continue the last unfinished run; nothing done is sent again.")
@click.option("--fail-fast", is_flag=True, help="Start no new query after the first failure.")
@click.option("--reports", type=click.Path(path_type=Path, file_okay=False), help="Run directories go here.")
@click.option("--quiet", is_flag=True, help="No progress display; the summary only.")
@click.option("--deadline", metavar="DURATION",
              help="Stop starting queries, and end those still running, after this long (e.g. 2h, 90m).")
@click.option("--ca-bundle", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A private CA (PEM) to trust in addition to the system's (also: SSL_CERT_FILE).")
@click.option("--shard", metavar="I/N",
              help="Run only shard I of N (0-based), with its own journal and reports/shard-I-of-N/.")
@click.option("--shard-by", type=click.Choice(app.SHARD_BY), default="hash", show_default=True,
              help="hash: stable as queries change; duration: balanced by the last run's durations.")
@click.pass_context
def run(ctx: click.Context, select: tuple[str, ...], exclude: tuple[str, ...], base: str | None,
        state: Path | None, env: str | None,
        vars_files: tuple[Path, ...], cli_vars: tuple[str, ...], concurrency: int | None, cache: str | None,
        snapshot_id: str | None, resume: bool, fail_fast: bool, reports: Path | None, quiet: bool,
        deadline: str | None, ca_bundle: Path | None, shard: str | None, shard_by: str) -> None:
    """Run queries in batches against Veza or the embedded sandbox, each with its own cache policy."""
    run_deadline = app.parse_duration(deadline) if deadline else None
    if deadline and not run_deadline:
        raise click.BadParameter(f"not a duration: {deadline!r} (use 90s, 15m, 2h, 1d)", param_hint="--deadline")
    options = app.RunOptions(env=env, select=select, exclude=exclude, concurrency=concurrency, cache=cache,
                         snapshot_id=snapshot_id, resume=resume, fail_fast=fail_fast, reports=reports, quiet=quiet,
                         ca_bundle=ca_bundle, run_deadline=run_deadline, shard=shard, shard_by=shard_by)
    raise SystemExit(app.run(_common(ctx, env, vars_files, cli_vars, base, state), options=options))


@cli.command(name="plan", epilog=EXIT_CODES)
@_selection
@_env_option
@_vars_file_option
@_var_option
@click.option("--shards", type=click.IntRange(1, app.MAX_SHARDS), required=True, metavar="N",
              help="Split the selected batch into N shards.")
@click.option("--shard-by", type=click.Choice(app.SHARD_BY), default="hash", show_default=True,
              help="As `vqr run --shard-by`.")
@click.option("--cache", type=click.Choice(app.CACHE_MODES), help="As `vqr run --cache` (part of the plan).")
@click.option("--snapshot-id", metavar="ID", help="As `vqr run --snapshot-id` (part of the plan).")
@click.option("--format", "fmt", type=click.Choice(["json", "github-matrix"]), default="json", show_default=True,
              help='github-matrix: {"include":[{"shard":"0/N"},...]} for fromJSON.')
@click.pass_context
def plan_command(ctx: click.Context, select: tuple[str, ...], exclude: tuple[str, ...], base: str | None,
                 state: Path | None, env: str | None, vars_files: tuple[Path, ...], cli_vars: tuple[str, ...],
                 shards: int, shard_by: str, cache: str | None, snapshot_id: str | None, fmt: str) -> None:
    """Print how `vqr run --shard I/N` splits the selected batch: each shard's queries and the plan's hash, or a
    GitHub Actions matrix. Nothing is sent."""
    options = app.RunOptions(env=env, select=select, exclude=exclude, cache=cache, snapshot_id=snapshot_id,
                             shard_by=shard_by)
    raise SystemExit(app.plan(_common(ctx, env, vars_files, cli_vars, base, state), options=options,
                              shards=shards, fmt=fmt))


@cli.command(epilog=EXIT_CODES)
@_selection
@_env_option
@_vars_file_option
@_var_option
@click.option("--run", "run_queries", is_flag=True,
              help="Also run the base and head versions of the changed queries and compare their results.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True,
              help="md: one pull-request comment body (at most 65,536 characters).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), help="Write the report here, not stdout.")
@click.option("--reports", type=click.Path(path_type=Path, file_okay=False),
              help="--run: the two sides' run directories go here (default: <reports>/diff).")
@click.pass_context
def diff(ctx: click.Context, select: tuple[str, ...], exclude: tuple[str, ...], base: str | None,
         state: Path | None, env: str | None, vars_files: tuple[Path, ...], cli_vars: tuple[str, ...],
         run_queries: bool, fmt: str, output: Path | None, reports: Path | None) -> None:
    """Show what a change does to the queries: each changed, new and removed query's rendered body as JSON-path
    differences against --base REF or --state DIR; with --run, also the rows and entities it adds and removes."""
    raise SystemExit(app.diff(_common(ctx, env, vars_files, cli_vars, base, state), fmt=fmt, output=output,
                              run=run_queries, reports=reports, select=select, exclude=exclude))


@cli.command(epilog=EXIT_CODES)
@click.argument("target", nargs=-1, metavar="[RUN_DIR] | history QUERY | merge DIR...")
@click.option("--format", "fmt", type=click.Choice(app.REPORT_FORMATS), default="html",
              show_default=True, help="Which report to write into the run directory.")
@click.option("--limit", type=click.IntRange(1, 1000), default=30, show_default=True,
              help="With `history`: how many runs to show.")
@click.option("--env", "env", metavar="E",
              help="With `history`: that environment's runs (default: the environment of the query's last run).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="With `merge`: the merged run directory goes here (default: the project's reports/).")
@click.option("--allow-partial", is_flag=True, help="With `merge`: merge even if shards are missing (marked partial).")
@click.pass_context
def report(ctx: click.Context, target: tuple[str, ...], fmt: str, limit: int, env: str | None, out: Path | None,
           allow_partial: bool) -> None:
    """Re-render a run's report from its run.json (default RUN_DIR: reports/latest), show a query's history, or
    merge the shard runs of `vqr run --shard` (each DIR a shard's run directory or reports directory) into one run.
    A merge refuses shards of different plans, duplicates and missing shards with exit 2."""
    if target and target[0] == "merge":
        raise SystemExit(app.merge(_common(ctx, env), dirs=[Path(t) for t in target[1:]], out=out,
                                   allow_partial=allow_partial))
    raise SystemExit(app.report(_common(ctx, env), target=target, fmt=fmt, limit=limit))


@cli.command(epilog="""\b
Exit codes:
  0    every message sent (or, with --dry-run, printed)
  1    a target failed (each is named on stdout and in RUN_DIR/notifications.json)
  2    usage error: no run.json in RUN_DIR, no notify: targets in vqr.yaml
""")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False), metavar="RUN_DIR")
@click.option("--dry-run", is_flag=True, help="Print what would be sent (webhook URLs redacted); send nothing.")
@click.pass_context
def notify(ctx: click.Context, run_dir: Path, dry_run: bool) -> None:
    """Send vqr.yaml's notifications for the run in RUN_DIR, as `vqr run` does after its reports."""
    raise SystemExit(app.notify(_common(ctx), run_dir=run_dir, dry_run=dry_run))


@cli.group()
def sandbox() -> None:
    """The embedded Veza-compatible sandbox: real HTTP, async jobs, cache, generated graph, faults."""


def _sandbox_options(command: Any) -> Any:
    for spec in reversed(app.sandbox_option_specs()):
        command = click.option(spec.flag, spec.field_name, type=spec.type, default=spec.default,
                               show_default=spec.default is not None, help=spec.help)(command)
    return command


@sandbox.command(name="serve", epilog=EXIT_CODES)
@_sandbox_options
def sandbox_serve(**options: Any) -> None:
    """Serve the sandbox until interrupted; the first line of stdout is its URL."""
    raise SystemExit(app.sandbox_serve(options))


@sandbox.command(name="reset", epilog=EXIT_CODES)
@click.option("--state", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The store to empty (default: the project's .vqr/sandbox/, what `vqr run` on url: embedded uses).")
@click.pass_context
def sandbox_reset(ctx: click.Context, state: Path | None) -> None:
    """Forget the embedded sandbox's cache, jobs and graph advances, so the next run starts afresh."""
    raise SystemExit(app.sandbox_reset(_common(ctx), state=state))


@cli.group()
def schema() -> None:
    """JSON Schemas built from Veza's OpenAPI request shape."""


@schema.command(name="build", epilog=EXIT_CODES)
@click.option("--openapi", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="An OpenAPI 3.0/3.1 document (default: schemas/openapi/veza-query-api.yaml).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a committed schema file is stale.")
@click.pass_context
def schema_build(ctx: click.Context, openapi: Path | None, check: bool) -> None:
    """Generate schemas/*.schema.json (and draft-07 copies for editors), byte-for-byte deterministic."""
    raise SystemExit(app.schema_build(project_file=ctx.find_root().obj.get("project"), openapi=openapi, check=check,
                                      out=sys.stdout))


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def init(directory: Path) -> None:
    """Scaffold a working query repository in DIRECTORY."""
    raise SystemExit(app.init(directory, out=sys.stdout))


@cli.command(name="import", epilog=EXIT_CODES)
@click.argument("sources", nargs=-1, required=True, metavar="FILE...")
@click.option("--into", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Write the query files here, under queries/ (default: queries/).")
@click.option("--owner", metavar="O", help="The `owner:` of every imported query.")
@click.option("--tag", "tags", multiple=True, metavar="T", help="Add this tag to every imported query (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print the files that would be written; write nothing.")
@click.option("--modernize", is_flag=True, help="Rewrite legacy spec forms where the mapping is certain.")
@_env_option
@click.pass_context
def import_command(ctx: click.Context, sources: tuple[str, ...], into: Path | None, owner: str | None,
                   tags: tuple[str, ...], dry_run: bool, modernize: bool, env: str | None) -> None:
    """Write query files from Veza's JSON: a spec (Save > View Query Spec API), a create request, a saved query
    or a report file. FILE `-` reads standard input. JSON only; nothing is written unless every query is clean."""
    raise SystemExit(app.import_queries(_common(ctx, env), sources=sources, into=into, owner=owner, tags=tags,
                                        dry_run=dry_run, modernize=modernize, stdin=sys.stdin.buffer))


def main(argv: list[str] | None = None) -> NoReturn:
    def invoke() -> int:
        try:
            cli.main(args=argv, prog_name="vqr", standalone_mode=False)
        except SystemExit as done:
            return done.code if isinstance(done.code, int) else int(app.ExitCode.OK if done.code is None else 1)
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
        except click.ClickException as problem:
            problem.show()
            return int(app.ExitCode.USAGE)
        return int(app.ExitCode.OK)

    sys.exit(app.guarded(invoke, err=sys.stderr, debug=lambda: _DEBUG["on"]))
