"""The tool commands: `sandbox serve|reset`, `schema build`, `init`. Click parsing only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from runner import app
from runner.cli.group import EXIT_CODES, _common, cli


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
