"""`vqr publish plan` and `vqr publish apply`: the repository's published queries as the tenant's saved queries.

`publish_plan(common, prune=, fmt=, out_file=)` compiles the environment, lists the tenant's saved queries and
prints what apply would do (exit 0 whether or not changes are pending); `--out` also writes the JSON plan file.
`publish_apply(common, prune=, auto_approve=, plan_file=, confirm=)` makes the same plan (or reads the plan file,
refused when the tenant changed since, unless only this plan's own interrupted apply changed it, and when it asks
for what vqr would not plan: `publish/confine.py`; its deletes need `--prune` again), asks for approval
(`confirm`, None when stdin is no terminal: then only `--auto-approve` applies) and hands over to
`apply_changes.execute`. Network (through the client's retries and budget), journal and file I/O.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from runner.app.apply_changes import execute
from runner.app.budget import submit_budget
from runner.app.common import Common, compile_queries, project_of, report_invalid
from runner.app.run_command import JOURNAL, SANDBOX_STATE, declared_oaa, open_target
from runner.app.session import Target
from runner.client import ApiError, ClientConfig, RetryBudget, RetryPolicy, VezaClient
from runner.client.decode import decode_json
from runner.client.saved import SavedApi
from runner.errors import ExitCode, InternalError, UsageError
from runner.files import write_atomically
from runner.model import JSONObject, Query
from runner.publish import PublishPlan, desired_bodies, make_plan
from runner.publish.confine import file_plan_problems
from runner.publish.planner import managed_ids, with_reports
from runner.publish.render import plan_document, read_plan, render
from runner.publish.reports import desired_reports
from runner.sanitize import terminal_line
from runner.settings import Environment, Project
from runner.state import open_journal

Confirm = Callable[[str], bool]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Desired:
    project: Project
    env: Environment
    bodies: dict[str, JSONObject]
    queries: tuple[Query, ...]  # every compiled query of the environment (a report's `select` picks among them)


def publish_plan(common: Common, *, prune: bool, fmt: str, out_file: Path | None) -> int:
    desired = _desired(common)
    if desired is None:
        return ExitCode.USAGE

    async def go(saved: SavedApi, target: Target) -> int:
        plan, _ = await _planned(saved, desired, prune=prune)
        common.out.write(render(plan, fmt, target=target.shown))
        if out_file is not None:
            document = plan_document(plan, target=target.shown)
            write_atomically(out_file, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return ExitCode.OK

    return _with_tenant(common, desired, go)


def publish_apply(common: Common, *, prune: bool, auto_approve: bool, plan_file: Path | None,
                  confirm: Confirm | None) -> int:
    desired = _desired(common)
    if desired is None:
        return ExitCode.USAGE
    from_file = _read_plan_file(plan_file) if plan_file is not None else None

    async def go(saved: SavedApi, target: Target) -> int:
        settings = desired.project.publish
        assert settings.project is not None
        fresh, tenant = await _planned(saved, desired, prune=from_file[0].prune if from_file is not None else prune)
        with open_journal(desired.project.root / JOURNAL) as journal:
            log = journal.publish
            stopped = log.interrupted(env=fresh.env, target=target.shown, project=settings.project)
            plan, digest = fresh, plan_digest(fresh)
            if from_file is not None:
                plan = _checked_file_plan(*from_file, fresh, target.shown, stopped.plan_digest if stopped else None)
                if problems := file_plan_problems(plan, tenant.listed, tenant.reports, settings, prune=prune):
                    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                    raise UsageError(terminal_line(f"the plan file asks for what vqr would not plan: {problems[0]}"
                                                   f"{more}"))
                digest = plan_digest(from_file[0])  # the file's own: an apply of it interrupted again resumes too
            if stopped is not None:
                common.err.write(terminal_line(
                    f"vqr publish: the apply started at {stopped.started_at} was interrupted with "
                    f"{len(stopped.calls)} call(s) sent, {stopped.done} of them answered; this apply continues "
                    "from what the tenant holds now, so nothing is sent twice") + "\n")
            common.out.write(render(plan, "text", target=target.shown))
            count = plan.calls
            if not count:
                if stopped is not None:  # the tenant matches already: nothing is left of it to resume
                    log.abandon(stopped.apply_id)
                return ExitCode.OK
            if not auto_approve:
                if confirm is None:
                    raise UsageError(f"refusing to apply {count} change(s) without --auto-approve: stdin is not a "
                                     "terminal to ask on")
                if not confirm(f"Apply these {count} change(s) to {target.shown}?"):
                    common.err.write("vqr publish: apply cancelled: nothing was changed\n")
                    return ExitCode.FINDINGS
            if stopped is not None:  # only now: an apply cancelled at the prompt leaves it to resume later
                log.abandon(stopped.apply_id)
            failed = await execute(saved, log, plan, settings=settings, target=target.shown, ids=tenant.ids,
                                   digest=digest, out=common.out, err=common.err)
        return ExitCode.FINDINGS if failed else ExitCode.OK

    return _with_tenant(common, desired, go)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Tenant:
    """The tenant as a plan was made from it: its saved queries and reports as listed, and the id of each managed
    saved query by name."""

    listed: list[JSONObject]
    reports: list[JSONObject]
    ids: dict[str, str]


async def _planned(saved: SavedApi, desired: _Desired, *, prune: bool) -> tuple[PublishPlan, _Tenant]:
    """The plan from the tenant as it is now, and what it was made from."""
    settings = desired.project.publish
    listed = await saved.list_queries()
    plan = make_plan(desired.bodies, listed, settings, env=desired.env.name, prune=prune)
    reports: list[JSONObject] = []
    if settings.reports:  # the report API is a preview one [SDK]: not called by a project that declares none
        wanted = desired_reports(settings, desired.queries, desired.bodies)
        reports = await saved.list_reports()
        plan = with_reports(plan, wanted, listed, reports, settings)
    return plan, _Tenant(listed=listed, reports=reports, ids=managed_ids(listed, settings.marker_prefix))


def plan_digest(plan: PublishPlan) -> str:
    """What identifies a plan in the journal: its pending changes (the tenant fingerprint aside, which its own
    apply moves)."""
    text = json.dumps([*(c.to_json() for c in plan.pending), *(r.to_json() for r in plan.pending_reports)],
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _checked_file_plan(planned: PublishPlan, planned_target: str, fresh: PublishPlan, target: str,
                       interrupted: str | None) -> PublishPlan:
    if (planned.project, planned.env, planned_target) != (fresh.project, fresh.env, target):
        raise UsageError(terminal_line(
            f"the plan file is for project {planned.project}, environment {planned.env} at {planned_target}, not "
            f"{fresh.project}, {fresh.env} at {target}"))
    if planned.tenant == fresh.tenant:
        return planned
    # Its own interrupted apply moved the tenant: what is still pending must be what the file still has to do.
    still = {json.dumps(c.to_json(), sort_keys=True) for c in planned.pending}
    if interrupted == plan_digest(planned) and all(
            json.dumps(c.to_json(), sort_keys=True) in still for c in fresh.pending) and {
            r.name for r in fresh.pending_reports} <= {r.name for r in planned.pending_reports}:
        return fresh
    raise UsageError("the tenant's saved queries changed since this plan was made: run `vqr publish plan` again")


def _read_plan_file(path: Path) -> tuple[PublishPlan, str]:
    try:
        # The client's own reader: bounded nesting, no NaN or Infinity. And what it gives must be sendable again
        # (a lone surrogate is valid JSON text but no UTF-8): refused here, before anything is journalled.
        document = decode_json(path.read_bytes())
        json.dumps(document, ensure_ascii=False).encode("utf-8")
        return read_plan(document)
    except OSError as error:
        raise UsageError(f"cannot read the plan file {path}: {error.strerror or error}") from None
    except ValueError as error:  # JSONDecodeError and UnicodeEncodeError included
        raise UsageError(terminal_line(f"{path}: not a plan file: {error}")) from None


def _desired(common: Common) -> _Desired | None:
    project = project_of(common)
    if project.publish.project is None:
        raise UsageError("vqr.yaml has no `publish: project:`, the id that marks the saved queries vqr manages "
                         "(see the README, \"Publishing queries to Veza\")")
    compiled = compile_queries(common, project, use_cache=True)
    if compiled.errors:
        report_invalid(common, compiled.errors)
        return None
    env = project.environment(common.env, common.process)
    env = dataclasses.replace(env, ca_bundle=env.ca_bundle or common.process.ssl_cert_file)
    return _Desired(project=project, env=env, bodies=desired_bodies(compiled.queries, project.publish),
                    queries=tuple(compiled.queries))


def _with_tenant(common: Common, desired: _Desired, work: Callable[[SavedApi, Target], Awaitable[int]]) -> int:
    with open_target(desired.env, common.process, None, err=common.err, state=desired.project.root / SANDBOX_STATE,
                     oaa_types=declared_oaa(desired.project)) as target:
        async def main() -> int:
            async with _saved_api(common, desired, target) as saved:
                return await work(saved, target)

        return asyncio.run(main())


@asynccontextmanager
async def _saved_api(common: Common, desired: _Desired, target: Target) -> AsyncIterator[SavedApi]:
    config = ClientConfig(base_url=target.url, api_key=target.key, ca_bundle=desired.env.ca_bundle,
                          retry=RetryPolicy(), protocol=desired.project.api)
    budget = submit_budget(desired.project.budget, common.process, target=target.shown, api_key=target.key,
                           err=common.err)
    try:
        async with VezaClient(config, budget=RetryBudget(), submit_budget=budget,
                              notify=lambda line: print(line, file=common.err, flush=True)) as client:
            await client.check_connection()
            yield SavedApi(client)
    except ApiError as error:
        raise InternalError(f"vqr publish: {error}") from None
