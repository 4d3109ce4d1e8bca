"""`vqr run` after compile: select and plan the queries, open the journal (resuming if asked), find the target (or
start the embedded sandbox), then hand over to a `RunSession`. `run_batch_command(project, units, options)` is what
`app.commands.run` calls; it returns the exit code. `--resume` takes the run's lock before touching anything and
refuses a live run or a stale one (the journal's staleness rule). Network and file I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

import httpx

from runner.app.budget import submit_budget
from runner.app.collector import batch_collector
from runner.app.options import MAX_PAGE_SIZE, RunOptions
from runner.app.session import Hooks, RunSession, Target
from runner.app.shards import read_shard_file, shard_journal, shard_reports, split_batch
from runner.artifact import RunLive, RunLock, holder
from runner.catalog import parse_oaa
from runner.compile.codeowners import read_codeowners
from runner.errors import UsageError
from runner.model import CACHE_MODES, MAX_CONCURRENCY, JSONObject, Query, QueryPlan, Shard
from runner.model.exceptions import ExceptionRule
from runner.model.impact import Change
from runner.plan import SHARD_BY, build_plans, parse_shard, query_body, select_queries
from runner.sandbox.config import SandboxConfig
from runner.sanitize import terminal_line
from runner.secret import Secret, load_api_key
from runner.settings import EMBEDDED_URL, Environment, ProcessEnv, Project, read_env
from runner.state import Journal, QueryRecord, QueryState, RunRecord, open_journal

JOURNAL = Path(".vqr") / "state.sqlite"
SANDBOX_STATE = Path(".vqr") / "sandbox"  # the embedded sandbox's memory: cache, jobs and advances between runs
EMBEDDED_KEY = "vqr-embedded-sandbox"  # the in-process sandbox accepts any key; this one is not a secret


def _check(options: RunOptions, concurrency: int) -> None:
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}, got {concurrency}")
    if options.cache is not None and options.cache not in CACHE_MODES:
        raise UsageError(f"--cache must be one of {', '.join(CACHE_MODES)}, got {options.cache!r}")
    if options.snapshot_id is not None and not options.snapshot_id.isdigit():
        raise UsageError(f"--snapshot-id must be a snapshot number (digits), got {options.snapshot_id!r}")
    if not 1 <= options.tuning.page_size <= MAX_PAGE_SIZE:
        raise UsageError(f"the page size must be between 1 and {MAX_PAGE_SIZE}, got {options.tuning.page_size}")
    for name, value in (("query timeout", options.query_timeout), ("run deadline", options.run_deadline)):
        if value is not None and value <= 0:
            raise UsageError(f"the {name} must be positive, got {value}")
    if options.shard_by not in SHARD_BY:
        raise UsageError(f"--shard-by must be one of {', '.join(SHARD_BY)}, got {options.shard_by!r}")


def _resolve_env(project: Project, process: ProcessEnv, options: RunOptions, resumed: str | None) -> Environment:
    if resumed is not None and options.env is not None and options.env != resumed:
        raise UsageError(f"the run to resume used environment '{resumed}', not '{options.env}'")
    env = project.environment(resumed or options.env, process)
    # A private CA: the command line's, else the environment's in vqr.yaml, else SSL_CERT_FILE.
    return dataclasses.replace(env, ca_bundle=options.ca_bundle or env.ca_bundle or process.ssl_cert_file)


@contextlib.contextmanager
def open_target(env: Environment, process: ProcessEnv, sandbox_config: SandboxConfig | None, *, err: TextIO,
                state: Path, oaa_types: str = "") -> Iterator[Target]:
    """The base URL and key: `VEZA_URL` over the environment's URL; `embedded` starts the sandbox for the command
    (`sandbox_config`, else the VQR_SANDBOX_* settings), generating the project's OAA apps unless the sandbox
    config names its own, and remembering its cache and saved queries in `state` unless the config names its own
    store."""
    url = process.veza_url or env.url
    if url != EMBEDDED_URL:
        key = load_api_key(process.variables, env_var=env.api_key_env, key_file=env.api_key_file)
        yield Target(url=url, shown=target_name(url), key=key)
        return
    from runner.sandbox.server import EmbeddedSandbox

    config = sandbox_config or _sandbox_config(process.sandbox)
    if not config.oaa_types and oaa_types:
        config = dataclasses.replace(config, oaa_types=oaa_types)
    if config.state is None:
        config = dataclasses.replace(config, state=str(state))
    with EmbeddedSandbox(config) as sandbox:
        if sandbox.jobs.store_warning:
            err.write(f"vqr run: warning: {terminal_line(sandbox.jobs.store_warning)}\n")
        yield Target(url=sandbox.url, shown=embedded_target(config), key=Secret(config.api_key or EMBEDDED_KEY))


def embedded_target(config: SandboxConfig) -> str:
    """The embedded sandbox as a history target: `embedded/graph-<digest>`, the digest of the graph it serves (node
    count, seed, epoch, OAA apps), so runs on different generated graphs never compare. It is the name the sandbox's
    own store gives that graph's directory (`SandboxConfig.graph_name`, one function for both)."""
    return f"{EMBEDDED_URL}/{config.graph_name()}"


def _sandbox_config(settings: Mapping[str, str]) -> SandboxConfig:
    """The embedded sandbox's defaults, tunable with VQR_SANDBOX_LATENCY / _NODES / _SEED, and made a rate-limited
    tenant with _RATE_LIMIT (20/s) / _BURST / _JOB_SLOTS (no CLI options: the sandbox is the default target, not
    something to configure per run)."""
    values: dict[str, float | int | str] = {}
    kinds: tuple[tuple[str, type[float] | type[int] | type[str]], ...] = (
        ("latency", float), ("nodes", int), ("seed", int), ("rate_limit", str), ("burst", int), ("job_slots", int))
    try:
        for name, kind in kinds:
            raw = settings.get(f"VQR_SANDBOX_{name.upper()}")
            if raw:
                values[name] = kind(raw)
    except ValueError as error:
        raise UsageError(f"invalid VQR_SANDBOX_* setting: {error}") from None
    return SandboxConfig(**values)  # type: ignore[arg-type]


def declared_oaa(project: Project) -> str:
    """The well-formed OAA types of vqr.yaml's node_types, for the embedded sandbox's --oaa-types (sorted)."""
    return ",".join(sorted(name for name in project.node_types if parse_oaa(name) is not None))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def target_name(url: str) -> str:
    """What run.json and the journal call a target: scheme, host, port (unless the scheme's default) and path,
    without a trailing slash, credentials, query or fragment. With the environment it keys every history lookup,
    so `HTTPS://Veza.example.com:443/` and `https://veza.example.com` are one target. (The embedded sandbox is
    `embedded_target(config)`, whatever port it listens on this run.)"""
    parsed = httpx.URL(url)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = "" if parsed.port in (None, _DEFAULT_PORTS.get(parsed.scheme)) else f":{parsed.port}"
    return f"{parsed.scheme}://{host}{port}{parsed.path.rstrip('/')}"


def run_batch_command(project: Project, queries: Sequence[Query], options: RunOptions, *,
                      process: ProcessEnv | None = None, out: TextIO | None = None, err: TextIO | None = None,
                      hooks: Hooks | None = None, states: Mapping[str, Change] | None = None,
                      journal_path: Path | None = None, exceptions: Sequence[ExceptionRule] = ()) -> int:
    """The whole `vqr run` after a clean compile (`queries` are the whole repository's; selection happens here,
    `states` answering `state:` selectors). `journal_path`: the journal (default the project's; `vqr diff --run`
    keeps its own, so a preview never becomes the nightly's history). `exceptions`: the accepted exceptions, linted
    clean."""
    process = read_env() if process is None else process
    out, err = out or sys.stdout, err or sys.stderr
    concurrency = project.defaults.concurrency if options.concurrency is None else options.concurrency
    _check(options, concurrency)
    shard = parse_shard(options.shard) if options.shard is not None else None
    if shard is not None:  # its own journal and reports directory: shards on one machine share no file
        journal_path = journal_path or shard_journal(project.root, shard)
        options = dataclasses.replace(options, reports=options.reports or shard_reports(project.reports_dir, shard))
    with open_journal(journal_path or project.root / JOURNAL) as journal:
        resumed = journal.last_unfinished_run() if options.resume else None
        if options.resume and resumed is None:
            raise UsageError("nothing to resume: the last run finished (run without --resume)")
        lock = _lock_resumed(journal, options.reports or project.reports_dir, resumed.run_id) if resumed else None
        try:
            return _run_locked(project, queries, options, process=process, out=out, err=err, hooks=hooks,
                               journal=journal, resumed=resumed, lock=lock, concurrency=concurrency, states=states,
                               shard=shard, exceptions=tuple(exceptions))
        finally:
            if lock is not None:
                lock.release()


_LIVE_HINT = "(wait for it, or stop it; --resume continues a stopped run)"


def _lock_resumed(journal: Journal, reports: Path, run_id: str) -> RunLock:
    """The run to resume, locked: refused (exit 2) when another process is executing it, when a newer run has
    superseded it (the staleness rule in `state/readonly.py`), or when its directory is gone."""
    run_dir = reports / run_id
    live = holder(run_dir)
    if live is not None:
        raise UsageError(f"{RunLive(run_dir, live)} {_LIVE_HINT}")
    later = journal.superseding_run(run_id)
    if later is not None:  # its directory may be pruned already: retention applies the same rule
        raise UsageError(f"cannot resume run {run_id}: run {later.run_id} of environment '{later.env}' started "
                         "after it and completed, so its results are stale (run without --resume)")
    if not run_dir.is_dir():
        raise UsageError(f"cannot resume run {run_id}: its directory {run_dir} is gone (run without --resume)")
    try:
        lock = RunLock.acquire(run_dir)
    except RunLive as taken:  # started between the check above and now
        raise UsageError(f"{taken} {_LIVE_HINT}") from None
    return lock


def _run_locked(project: Project, queries: Sequence[Query], options: RunOptions, *, process: ProcessEnv,
                out: TextIO, err: TextIO, hooks: Hooks | None, journal: Journal, resumed: RunRecord | None,
                lock: RunLock | None, concurrency: int, states: Mapping[str, Change] | None,
                exceptions: tuple[ExceptionRule, ...], shard: Shard | None = None) -> int:
    env = _resolve_env(project, process, options, resumed.env if resumed else None)
    records = journal.query_states(resumed.run_id) if resumed else {}
    chosen = _resumed_queries(queries, records, err) if resumed else select_queries(
        queries, select=options.select, exclude=options.exclude, state=states)
    plans = build_plans(project, chosen, cache_override=options.cache, snapshot_id=options.snapshot_id,
                        query_timeout=options.query_timeout, codeowners=read_codeowners(project.root).owners_of)
    if not plans:
        raise UsageError("no query selected (see `vqr ls --select ...`)")
    _check_resumable(plans, records)
    plans, shard_info = _shard_of(project, options, plans, shard, resumed)
    session = RunSession(project=project, env=env, options=options, journal=journal, plans=plans,
                         records=records, resumed_run=resumed.run_id if resumed else None,
                         concurrency=concurrency, out=out, err=err, hooks=hooks or Hooks(), lock=lock,
                         bodies=_bodies(queries), shard=shard_info, exceptions=exceptions)
    with open_target(env, process, options.tuning.sandbox, err=err, state=project.root / SANDBOX_STATE,
                     oaa_types=declared_oaa(project)) as target:
        session.submit_budget = submit_budget(project.budget, process, target=target.shown, api_key=target.key,
                                              err=err, shards=shard.count if shard else 1)
        with batch_collector():
            return asyncio.run(session.run(target))


def _shard_of(project: Project, options: RunOptions, plans: list[QueryPlan], shard: Shard | None,
              resumed: RunRecord | None) -> tuple[list[QueryPlan], JSONObject | None]:
    """This shard's plans and run.json's `shard`. The split is of the whole selected batch, so every shard computes
    the same one; a resumed shard already holds only its own queries and keeps the identity it started with."""
    if shard is None:
        return plans, None
    if resumed is not None:
        return plans, read_shard_file((options.reports or project.reports_dir) / resumed.run_id, shard)
    split = split_batch(plans, shard.count, by=options.shard_by, reports=project.reports_dir)
    return [p for p in plans if split.assignment[p.name] == shard.index], split.info(shard.index)


def _bodies(queries: Sequence[Query]) -> dict[str, str]:
    """The body_hash of every query of the repository in this environment (run.json's `bodies`)."""
    return {q.name: query_body(q)[1] for q in queries}


def _resumed_queries(queries: Sequence[Query], records: Mapping[str, QueryRecord], err: TextIO) -> list[Query]:
    chosen = [q for q in queries if q.name in records]
    gone = sorted(set(records) - {q.name for q in chosen})
    if gone:
        err.write(f"vqr run: {len(gone)} queries of the interrupted run are no longer in the repository: "
                  f"{terminal_line(', '.join(gone[:5]))}\n")
    return chosen


def _check_resumable(plans: Sequence[QueryPlan], records: Mapping[str, QueryRecord]) -> None:
    for plan in plans:
        record = records.get(plan.name)
        if record is not None and record.spec_hash != plan.spec_hash and record.state is not QueryState.DONE:
            raise UsageError(f"the spec of '{plan.name}' changed since the interrupted run; resuming would mix "
                             "results (run without --resume)")


