"""The `vqr` command group, the options several commands share, and `main()`, the single error boundary.

`main()` runs the whole command inside `app.guarded` (`VqrError` → its one-line message and documented exit code,
Ctrl-C 130, anything else 3); click's own usage errors exit 2. The commands themselves live in the sibling modules,
which `runner/cli/__init__.py` imports so that they register on `cli`. Parsing only: no I/O of its own.
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
       publish apply: a call failed, or the apply was not approved
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


def main(argv: list[str] | None = None) -> NoReturn:
    # httpx's package imports its own command-line tool (`httpx._main`: rich's consoles and tables, pygments'
    # lexers, ~30 ms of every start-up) whenever click and rich are installed, as they are here; vqr never runs that
    # tool. A None in sys.modules makes that one import fail as if the extras were missing, and httpx then defines a
    # stub `main` instead (httpx/__init__.py); the rest of httpx is unchanged. Set here, in the vqr process only and
    # before any command loads httpx; where httpx was imported already, its `_main` stays.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not importable", by design

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
