"""`vqr publish plan|apply`: the repository's queries as the tenant's saved queries, and `vqr export --report`:
a declared report as the SDK's report file. Click parsing only; the approval prompt is click's, offered only when
stdin is a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from runner import app
from runner.cli.group import EXIT_CODES, _common, _env_option, _var_option, _vars_file_option, cli

_prune_option = click.option("--prune", is_flag=True,
                             help="Also delete managed saved queries whose query file is gone (else listed only).")


@cli.group()
def publish() -> None:
    """Veza saved queries from the repository: plan, then apply, like infrastructure."""


@publish.command(name="plan", epilog=EXIT_CODES)
@_env_option
@_vars_file_option
@_var_option
@_prune_option
@click.option("--format", "fmt", type=click.Choice(app.PUBLISH_FORMATS), default="text", show_default=True,
              help="text for a terminal, md for a pull-request comment, json for scripts.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the plan file that `vqr publish apply --plan` executes.")
@click.pass_context
def publish_plan(ctx: click.Context, env: str | None, vars_files: tuple[Path, ...], cli_vars: tuple[str, ...],
                 prune: bool, fmt: str, out_file: Path | None) -> None:
    """What apply would create, update, put back (drift) or delete; exit 0 whether or not changes are pending."""
    raise SystemExit(app.publish_plan(_common(ctx, env, vars_files, cli_vars), prune=prune, fmt=fmt,
                                      out_file=out_file))


@publish.command(name="apply", epilog=EXIT_CODES)
@_env_option
@_vars_file_option
@_var_option
@_prune_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking (needed when stdin is not a terminal).")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Execute this plan file (from `plan --out`); refused if the tenant changed since.")
@click.pass_context
def publish_apply(ctx: click.Context, env: str | None, vars_files: tuple[Path, ...], cli_vars: tuple[str, ...],
                  prune: bool, auto_approve: bool, plan_file: Path | None) -> None:
    """Make the tenant's saved queries the repository's; a second apply changes nothing."""
    def confirm(question: str) -> bool:
        return click.confirm(question, default=False, err=True)

    raise SystemExit(app.publish_apply(_common(ctx, env, vars_files, cli_vars), prune=prune,
                                       auto_approve=auto_approve, plan_file=plan_file,
                                       confirm=confirm if sys.stdin.isatty() else None))


@cli.command(name="export", epilog=EXIT_CODES)
@_env_option
@_vars_file_option
@_var_option
@click.option("--report", "report", metavar="NAME", required=True,
              help="A report of vqr.yaml's publish.reports, as the report file oaaclient-report-builder reads.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the file here (default: stdout).")
@click.pass_context
def export(ctx: click.Context, env: str | None, vars_files: tuple[Path, ...], cli_vars: tuple[str, ...], report: str,
           out_file: Path | None) -> None:
    """Write a declared report and its queries, rendered for --env, in the format of Veza's SDK."""
    raise SystemExit(app.export_report(_common(ctx, env, vars_files, cli_vars), report=report, out_file=out_file))
