"""The commands of a run and what follows it: `run`, `plan`, `report` (and `report history`, `report merge`),
`notify`. Each builds its options and calls one `runner.app` function; click parsing only.
"""

from __future__ import annotations

from pathlib import Path

import click

from runner import app
from runner.cli.group import EXIT_CODES, _common, _env_option, _selection, _var_option, _vars_file_option, cli


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
