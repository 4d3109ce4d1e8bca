"""`vqr run` after compile: plan the selected queries, reach the API (or start the embedded sandbox), run the batch
with the journal, write `reports/<run-id>/` (run.json last, then `reports/latest`), print a summary, return the exit
code (design.md §4). `run_batch_command(project, units, options)` is what `app.run` calls. Network and file I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import httpx

from runner.app.progress import Progress, summary
from runner.artifact.rundir import RunDir, new_run_id
from runner.artifact.runjson import RunInfo, RunState, build_artifact, exit_code, run_state
from runner.client.api import ClientConfig, VezaClient
from runner.client.errors import ApiError
from runner.client.retry import PollLadder, RetryBudget, RetryPolicy
from runner.errors import ExitCode, UsageError
from runner.execute.batch import run_batch
from runner.execute.task import RunContext
from runner.model.plans import QueryPlan
from runner.model.values import QueryUnit
from runner.plan.batch import CACHE_MODES, build_groups, build_plans
from runner.plan.select import select_units
from runner.sandbox.config import SandboxConfig
from runner.secret import Secret, load_api_key
from runner.settings import EMBEDDED_URL, Environment, Project
from runner.state.journal import Journal, QueryRecord, QueryState, RunStatus, open_journal

JOURNAL = Path(".vqr") / "state.sqlite"
EMBEDDED_KEY = "vqr-embedded-sandbox"  # the in-process sandbox accepts any key; this one is not a secret
_RUN_STATUS = {RunState.COMPLETED: RunStatus.COMPLETED, RunState.INTERRUPTED: RunStatus.INTERRUPTED,
               RunState.ABORTED: RunStatus.ABORTED}


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """Everything `vqr run` accepts. Durations are seconds. `sandbox`, `retry`, `poll_ladder` and `retry_budget`
    tune the embedded sandbox and the client (tests, benchmarks); the defaults suit a real tenant."""

    env: str | None = None
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    concurrency: int | None = None  # default: the project's defaults.concurrency
    cache: str | None = None  # --cache MODE for every query
    snapshot_id: str | None = None
    resume: bool = False
    fail_fast: bool = False
    reports: Path | None = None  # default: the project's reports directory
    page_size: int = 1000
    query_timeout: float | None = None  # default: the query's `timeout`, else the project's defaults.timeout
    run_deadline: float | None = None
    quiet: bool = False
    ca_bundle: Path | None = None  # a private CA, added to the system's and certifi's roots
    heartbeat: float = 15.0
    sandbox: SandboxConfig | None = None
    retry: RetryPolicy | None = None
    poll_ladder: PollLadder | None = None
    retry_budget: float = 100.0


def _check(options: RunOptions, concurrency: int) -> None:
    if not 1 <= concurrency <= 1000:
        raise UsageError(f"--concurrency must be between 1 and 1000, got {concurrency}")
    if options.cache is not None and options.cache not in CACHE_MODES:
        raise UsageError(f"--cache must be one of {', '.join(CACHE_MODES)}, got {options.cache!r}")
    if options.snapshot_id is not None and not options.snapshot_id.isdigit():
        raise UsageError(f"--snapshot-id must be a snapshot number (digits), got {options.snapshot_id!r}")
    if not 1 <= options.page_size <= 100_000:
        raise UsageError(f"the page size must be between 1 and 100000, got {options.page_size}")
    for name, value in (("query timeout", options.query_timeout), ("run deadline", options.run_deadline)):
        if value is not None and value <= 0:
            raise UsageError(f"the {name} must be positive, got {value}")


def _resolve_env(project: Project, options: RunOptions, resumed: str | None) -> Environment:
    if resumed is not None and options.env is not None and options.env != resumed:
        raise UsageError(f"the run to resume used environment '{resumed}', not '{options.env}'")
    return project.environment(resumed or options.env)


@contextlib.contextmanager
def _target(env: Environment, environ: Mapping[str, str], options: RunOptions) -> Iterator[tuple[str, Secret]]:
    """The base URL and key: `VEZA_URL` over the environment's URL; `embedded` starts the sandbox for the run."""
    url = _target_url(env, environ)
    if url != EMBEDDED_URL:
        yield url, load_api_key(environ, env_var=env.api_key_env, key_file=env.api_key_file)
        return
    from runner.sandbox.server import EmbeddedSandbox

    config = options.sandbox or _sandbox_config(environ)
    with EmbeddedSandbox(config) as sandbox:
        yield sandbox.url, Secret(config.api_key or EMBEDDED_KEY)


def _target_url(env: Environment, environ: Mapping[str, str]) -> str:
    return environ.get("VEZA_URL") or env.url


def _sandbox_config(environ: Mapping[str, str]) -> SandboxConfig:
    """The embedded sandbox's defaults, tunable with VQR_SANDBOX_LATENCY / _NODES / _SEED (no CLI options: the
    sandbox is the default target, not something to configure per run)."""
    values: dict[str, float | int] = {}
    try:
        for name, kind in (("latency", float), ("nodes", int), ("seed", int)):
            raw = environ.get(f"VQR_SANDBOX_{name.upper()}")
            if raw:
                values[name] = kind(raw)
    except ValueError as error:
        raise UsageError(f"invalid VQR_SANDBOX_* setting: {error}") from None
    return SandboxConfig(**values)  # type: ignore[arg-type]


def _shown_url(url: str) -> str:
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None, query=None, fragment=None))


def run_batch_command(project: Project, units: Sequence[QueryUnit], options: RunOptions, *,
                      environ: Mapping[str, str] | None = None, out: TextIO | None = None,
                      err: TextIO | None = None, on_published: Callable[[Path], None] | None = None,
                      on_result: Callable[[Path], None] | None = None) -> int:
    """The whole `vqr run` after a clean compile (`units` are the rendered queries; selection happens here).
    `on_published(run_dir)` runs once run.json is written and the journal closed the run (reports, retention);
    `on_result(results_file)` runs in a worker thread as each query's rows are committed (derived files such as the
    CSV are then made while other queries still wait on the API)."""
    environ = os.environ if environ is None else environ
    out, err = out or sys.stdout, err or sys.stderr
    concurrency = project.defaults.concurrency if options.concurrency is None else options.concurrency
    _check(options, concurrency)
    with open_journal(project.root / JOURNAL) as journal:
        resumed = journal.last_unfinished_run() if options.resume else None
        if options.resume and resumed is None:
            raise UsageError("nothing to resume: the last run finished (run without --resume)")
        env = _resolve_env(project, options, resumed.env if resumed else None)
        ca_file = options.ca_bundle or env.ca_bundle or (Path(environ["SSL_CERT_FILE"])
                                                          if environ.get("SSL_CERT_FILE") else None)
        env = dataclasses.replace(env, ca_bundle=ca_file)
        records = journal.query_states(resumed.run_id) if resumed else {}
        chosen = _resumed_units(units, records, err) if resumed else select_units(
            units, select=options.select, exclude=options.exclude)
        plans = build_plans(project, chosen, cache_override=options.cache, snapshot_id=options.snapshot_id,
                            query_timeout=options.query_timeout)
        if not plans:
            raise UsageError("no query selected (see `vqr ls --select ...`)")
        _check_resumable(plans, records)
        shown = _target_url(env, environ)
        shown = shown if shown == EMBEDDED_URL else _shown_url(shown)  # what run.json says was queried
        with _target(env, environ, options) as (url, key):
            return asyncio.run(_run(project, env, options, journal, plans, records,
                                    url=url, shown=shown, key=key, concurrency=concurrency,
                                    run_id=resumed.run_id if resumed else None, out=out, err=err,
                                    on_published=on_published, on_result=on_result))


def _report_file(run_dir: Path) -> Path:
    """What a person opens: the HTML report when the reports were written, else the run artifact itself."""
    html = run_dir / "report.html"
    return html if html.is_file() else run_dir / "run.json"


def _resumed_units(units: Sequence[QueryUnit], records: Mapping[str, QueryRecord], err: TextIO) -> list[QueryUnit]:
    chosen = [u for u in units if u.name in records]
    gone = sorted(set(records) - {u.name for u in chosen})
    if gone:
        err.write(f"vqr run: {len(gone)} queries of the interrupted run are no longer in the repository: "
                  f"{', '.join(gone[:5])}\n")
    return chosen


def _check_resumable(plans: Sequence[QueryPlan], records: Mapping[str, QueryRecord]) -> None:
    for plan in plans:
        record = records.get(plan.name)
        if record is not None and record.spec_hash != plan.spec_hash and record.state is not QueryState.DONE:
            raise UsageError(f"the spec of '{plan.name}' changed since the interrupted run; resuming would mix "
                             "results (run without --resume)")


async def _run(project: Project, env: Environment, options: RunOptions, journal: Journal, plans: Sequence[QueryPlan],
               records: Mapping[str, QueryRecord], *, url: str, shown: str, key: Secret, concurrency: int,
               run_id: str | None,
               out: TextIO, err: TextIO, on_published: Callable[[Path], None] | None = None,
               on_result: Callable[[Path], None] | None = None) -> int:
    config = ClientConfig(base_url=url, api_key=key, ca_bundle=env.ca_bundle, max_connections=concurrency + 8,
                          retry=options.retry or RetryPolicy(), poll_ladder=options.poll_ladder or PollLadder())
    async with VezaClient(config, budget=RetryBudget(capacity=options.retry_budget)) as client:
        try:
            await client.check_connection(
                deadline=client.now() + options.run_deadline if options.run_deadline else None)
        except ApiError as error:
            err.write(f"vqr: could not run: {error}\n")
            return int(ExitCode.INTERNAL)
        started = datetime.now(UTC)
        if run_id is None:
            run_id = new_run_id(started)
            journal.start_run(run_id, env=env.name)
        else:
            journal.resume_run(run_id)
        rundir = RunDir(reports=options.reports or project.reports_dir, run_id=run_id)
        rundir.create()
        rundir.remove_partials()
        for plan in plans:
            if plan.name not in records:
                journal.record(run_id, plan.name, QueryState.PENDING, spec_hash=plan.spec_hash, file=plan.file)
        groups = build_groups(plans, lambda name, spec: journal.previous_cache_id(name, spec, exclude_run=run_id))
        ctx = RunContext(client=client, journal=journal, rundir=rundir, run_id=run_id, page_size=options.page_size,
                         run_deadline=client.now() + options.run_deadline if options.run_deadline else None,
                         on_result=on_result, records=records)
        interrupt = asyncio.Event()
        with _signals(interrupt):
            async with Progress(total=len(plans), stream=err, quiet=options.quiet,
                                heartbeat=options.heartbeat) as progress:
                outcome = await run_batch(ctx, groups, concurrency=concurrency, fail_fast=options.fail_fast,
                                          interrupt=interrupt, progress=progress)
        finished = datetime.now(UTC)
        info = RunInfo(run_id=run_id, env=env.name, target=shown, started_at=started, finished_at=finished,
                       resumed=bool(records),
                       options={"concurrency": concurrency, "cache": options.cache,
                                "snapshot_id": options.snapshot_id, "fail_fast": options.fail_fast,
                                "page_size": options.page_size})
        rundir.publish(build_artifact(info, outcome, {plan.name: plan for plan in plans}))
        state = run_state(outcome)
        journal.finish_run(run_id, _RUN_STATUS[state])
        if on_published is not None:
            on_published(rundir.path)
        rundir.mark_latest()
        note = None
        if outcome.stopped is not None:
            note = f"stopped early: {outcome.stopped.value.replace('_', ' ')}"
        if state == RunState.INTERRUPTED:
            note = "interrupted: the journal is saved; `vqr run --resume` continues this run"
        text = summary(outcome.results, run_id=run_id, status=state, seconds=(finished - started).total_seconds(),
                       run_file=str(_report_file(rundir.path)), note=note)
        (err if options.quiet else out).write(text if not options.quiet else text.splitlines()[-1] + "\n")
        return int(exit_code(outcome))


@contextlib.contextmanager
def _signals(interrupt: asyncio.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set `interrupt` (the engine then stops cleanly) instead of killing the loop mid-write."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, interrupt.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or a platform without signal handlers: Ctrl-C stays KeyboardInterrupt
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
