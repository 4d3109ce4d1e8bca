"""One `vqr run` against a reachable target, in four steps: connect, open the run, execute the batch, publish.

`RunSession(...).run()` returns the run's exit code; a target that cannot be reached raises `InternalError`
(exit 3) before anything is written. The run lock is held from the run directory's creation (or, resuming, from
before) to the end; a file that cannot be written marks the run aborted in the journal and propagates as `OSError`.
Network, journal and run-directory I/O; the planning happened before.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from runner.app.boundary import file_error
from runner.app.options import RunOptions
from runner.app.progress import Progress, summary
from runner.app.shards import write_shard_file
from runner.artifact import RUN_FILE, RunDir, RunInfo, RunLock, build_artifact, latest_target, new_run_id
from runner.client import (
    ApiError,
    Budget,
    ClientConfig,
    PollLadder,
    RetryBudget,
    RetryPolicy,
    VezaClient,
)
from runner.errors import InternalError, UsageError, VqrError
from runner.execute import RunContext, run_batch
from runner.model import BatchOutcome, JSONObject, QueryPlan, ResultSink, RunStatus
from runner.model.exceptions import ExceptionRule
from runner.plan import build_groups
from runner.secret import Secret
from runner.settings import Environment, Project
from runner.state import HistoryKey, Journal, QueryRecord, QueryState


@dataclass(frozen=True, kw_only=True)
class Target:
    url: str  # what the client connects to
    shown: str  # what run.json and the journal say was queried: `run_command.target_name(url)`, or `embedded_target`
    key: Secret


@dataclass(frozen=True, kw_only=True)
class Hooks:
    """`published(run_dir)` runs once run.json is written and the journal closed the run (reports, retention);
    `result(results_file)` makes the report each query's rows are fed to as they are written (`ResultSink`)."""

    published: Callable[[Path], None] | None = None
    result: Callable[[Path], ResultSink] | None = None


@dataclass(kw_only=True)
class RunSession:
    project: Project
    env: Environment
    options: RunOptions
    journal: Journal
    plans: Sequence[QueryPlan]
    records: Mapping[str, QueryRecord]  # the interrupted run's journal states (`--resume`), else empty
    resumed_run: str | None
    concurrency: int
    out: TextIO
    err: TextIO
    hooks: Hooks
    lock: RunLock | None = None  # `--resume`: taken before anything of the run was touched
    bodies: Mapping[str, str] | None = None  # every query's body_hash in this environment, for run.json
    shard: JSONObject | None = None  # `--shard I/N`: run.json's `shard` (index, count, plan_hash, by)
    as_of: datetime = field(default_factory=lambda: datetime.now(UTC))  # set once connected: the tenant's clock
    clock: str = "local"  # where `as_of` came from: "server" (the first reply's Date header) or "local"
    exceptions: tuple[ExceptionRule, ...] = ()  # exceptions/*.yaml, linted clean before anything was sent
    submit_budget: Budget | None = None  # vqr.yaml api.budget: awaited before each submit; the client closes it

    async def run(self, target: Target) -> int:
        tuning = self.options.tuning
        config = ClientConfig(base_url=target.url, api_key=target.key, ca_bundle=self.env.ca_bundle,
                              max_connections=self.concurrency + 8, retry=tuning.retry or RetryPolicy(),
                              poll_ladder=tuning.poll_ladder or PollLadder(),
                              max_reply_bytes=tuning.max_reply_bytes or (self.project.defaults.max_reply_mib << 20),
                              protocol=self.project.api)
        async with VezaClient(config, budget=RetryBudget(capacity=tuning.retry_budget),
                              notify=lambda line: print(line, file=self.err, flush=True),
                              submit_budget=self.submit_budget) as client:
            await self._connect(client)
            started = datetime.now(UTC)
            self.as_of, self.clock = (client.server_date, "server") if client.server_date else (started, "local")
            run_id, rundir = self._open_run(started, target.shown)
            try:
                key = HistoryKey(env=self.env.name, target=target.shown)
                outcome = await self._execute(client, run_id, rundir, key)
                return self._publish(outcome, run_id=run_id, rundir=rundir, target=target, started=started)
            except (OSError, VqrError):
                self._abandon(run_id)
                raise
            finally:
                if self.lock is not None:
                    self.lock.release()

    def _abandon(self, run_id: str) -> None:
        """A run stopped by a file it could not write is not left `running` (a ghost for `--resume` and history):
        it is aborted, which `--resume` continues once the disk is fixed."""
        with contextlib.suppress(VqrError, OSError):
            if self.journal.run(run_id).status is RunStatus.RUNNING:
                self.journal.finish_run(run_id, RunStatus.ABORTED)

    async def _connect(self, client: VezaClient) -> None:
        deadline = self.options.run_deadline
        try:
            await client.check_connection(deadline=client.now() + deadline if deadline else None)
        except ApiError as error:
            raise InternalError(f"could not run: {error}") from None  # the message is already redacted

    def _open_run(self, started: datetime, target: str) -> tuple[str, RunDir]:
        """The directory and its lock first, then the journal: a directory that cannot be made (a read-only or
        misplaced reports folder) leaves no `running` run behind, and no other process ever sees the run unlocked.
        A run is resumed only against the target it started on: its history and cache ids belong to that one.
        """
        if self.resumed_run is not None:
            recorded = self.journal.run(self.resumed_run).target
            if recorded is not None and recorded != target:
                raise UsageError(f"the run to resume queried {recorded}, not {target} (run without --resume)")
        run_id = self.resumed_run or new_run_id(started)
        rundir = RunDir(reports=self.options.reports or self.project.reports_dir, run_id=run_id)
        rundir.create()
        if self.lock is None:
            self.lock = RunLock.acquire(rundir.path)  # a fresh id: nobody else can hold it
        if self.shard is not None and self.resumed_run is None:
            write_shard_file(rundir.path, self.shard)
        if self.resumed_run is None:
            self.journal.start_run(run_id, env=self.env.name, target=target)
        else:
            self.journal.resume_run(run_id, target=target)
        rundir.remove_partials()  # under the lock: no live process is writing them
        # Every PENDING record in one commit (nothing has been sent yet: all or none is as good as one by one), not
        # one commit each: a 10,000-query run waited ~3 s for them before its first submit.
        with self.journal.batch():
            for plan in self.plans:
                if plan.name not in self.records:
                    self.journal.record(run_id, plan.name, QueryState.PENDING, spec_hash=plan.spec_hash,
                                        file=plan.file)
        return run_id, rundir

    async def _execute(self, client: VezaClient, run_id: str, rundir: RunDir, key: HistoryKey) -> BatchOutcome:
        journal, options = self.journal, self.options
        groups = build_groups(self.plans, lambda name, spec: journal.previous_cache_id(name, spec, key=key,
                                                                                       exclude_run=run_id))
        typical = journal.pacing.typical_job_seconds(key, {p.name: p.spec_hash for p in self.plans},
                                                     exclude_run=run_id)
        ctx = RunContext(client=client, journal=journal, rundir=rundir, run_id=run_id, key=key,
                         page_size=options.tuning.page_size,
                         run_deadline=client.now() + options.run_deadline if options.run_deadline else None,
                         on_result=self.hooks.result, records=self.records, as_of=self.as_of,
                         exceptions=self.exceptions, typical=typical)
        interrupt = asyncio.Event()
        with _signals(interrupt):
            async with Progress(total=len(self.plans), stream=self.err, quiet=options.quiet,
                                heartbeat=options.tuning.heartbeat) as progress:
                outcome = await run_batch(ctx, groups, concurrency=self.concurrency, fail_fast=options.fail_fast,
                                          interrupt=interrupt, progress=progress,
                                          start=journal.pacing.last_concurrency(key))
        if outcome.concurrency is not None and not outcome.interrupted:
            journal.pacing.record_concurrency(key, run_id, outcome.concurrency.learnt_cap)
        return outcome

    def _publish(self, outcome: BatchOutcome, *, run_id: str, rundir: RunDir, target: Target,
                 started: datetime) -> int:
        """run.json, then the journal's verdict, then the reports (hook), then `latest`; then the summary."""
        options = self.options
        finished = datetime.now(UTC)
        info = RunInfo(run_id=run_id, env=self.env.name, target=target.shown, started_at=started,
                       finished_at=finished, resumed=bool(self.records), as_of=self.as_of, clock=self.clock,
                       options={"concurrency": self.concurrency, "cache": options.cache,
                                "snapshot_id": options.snapshot_id, "fail_fast": options.fail_fast,
                                "page_size": options.tuning.page_size})
        rundir.publish(build_artifact(info, outcome, {plan.name: plan for plan in self.plans}, bodies=self.bodies,
                                     shard=self.shard))
        self.journal.finish_run(run_id, outcome.status)
        if self.hooks.published is not None:
            self.hooks.published(rundir.path)
        notes = [self._point_latest(rundir)]
        if outcome.stopped is not None:
            notes.append(f"stopped early: {outcome.stopped.value.replace('_', ' ')}")
        if outcome.status is RunStatus.INTERRUPTED:
            notes[-1:] = ["interrupted: the journal is saved; `vqr run --resume` continues this run"]
        pacing = outcome.concurrency
        if pacing is not None and pacing.throttled and pacing.converged is not None:
            notes.append(f"throttled: {pacing.throttled} attempts refused for load, {pacing.retry_after_seconds:.1f}s "
                         f"waited on Retry-After; concurrency {pacing.start} -> {pacing.final}, converged "
                         f"{pacing.converged:g}")
        note = "\n".join(n for n in notes if n) or None
        text = summary(outcome.results, run_id=run_id, status=outcome.status.value,
                       seconds=(finished - started).total_seconds(), run_file=str(_report_file(rundir.path)),
                       note=note)
        (self.err if options.quiet else self.out).write(text if not options.quiet else text.splitlines()[-1] + "\n")
        return int(outcome.exit_code)


    def _point_latest(self, rundir: RunDir) -> str | None:
        """Move `reports/latest` here, unless it names a complete run that started after this one (a resumed old
        run, or a slow run overtaken by a newer one, never moves it back). Returns a note, or None. Failing to move
        it is a warning, like a report that cannot be written: the run's own files are complete."""
        current = latest_target(rundir.reports)
        if current and current != rundir.run_id and (rundir.reports / current / RUN_FILE).is_file():
            try:
                newer = self.journal.run(current).started_at > self.journal.run(rundir.run_id).started_at
            except VqrError:  # a run this journal does not know: its id says when it started
                newer = current[:16] > rundir.run_id[:16]
            if newer:
                return f"reports/latest stays at the newer run {current}"
        try:
            rundir.mark_latest()
        except OSError as error:
            self.err.write(f"vqr run: warning: reports/latest not updated: {file_error(error)}\n")
        return None


def _report_file(run_dir: Path) -> Path:
    """What a person opens: the HTML report when the reports were written, else the run artifact itself."""
    html = run_dir / "report.html"
    return html if html.is_file() else run_dir / "run.json"


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
