"""The commands that read the query repository without running anything: `lint`, `render`, `ls`, `diff`, `import`.

Each builds its options and calls one `runner.app` function; click parsing only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from runner import app
from runner.cli.group import EXIT_CODES, _common, _env_option, _selection, _var_option, _vars_file_option, cli


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
