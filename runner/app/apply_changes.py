"""Executing an approved publish plan: each pending change one API call, journalled before it is sent and again
when it is answered (`state/publishlog.py`).

`execute(saved, log, plan, ...)` sends creates first, then updates and drift put back, then the reports' calls
(a new report with its queries, or each missing query added), then deletes (last, so an apply stopped half-way
never leaves the tenant with fewer queries than either side). It returns whether any
call failed. A call the tenant refuses (a taken name, an invalid spec, an id gone) is reported and the others still
go out; a tenant that stops answering (auth refused, unreachable once the client's retries are spent) stops the
apply with the error, and the journal keeps it as interrupted. Nothing is sent twice on a rerun: the next apply
plans again from the tenant's listing, where a create that landed is found by its marker label, and the client
looks a create whose answer was lost up by its marker before resending it. Network and journal I/O.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from runner.client import ApiError, AuthError, DeadlineExceeded, TransientError
from runner.client.saved import SavedApi
from runner.model.publish import PublishSettings
from runner.publish import Action, Change, PublishPlan
from runner.publish.reports import ReportAction, ReportChange
from runner.sanitize import terminal_line
from runner.state.publishlog import PublishLog

_ORDER = {Action.CREATE: 0, Action.UPDATE: 1, Action.DRIFT: 1, Action.DELETE: 2}
_DONE = {Action.CREATE: "created", Action.UPDATE: "updated", Action.DRIFT: "put back", Action.DELETE: "deleted"}
# The tenant itself is gone or refuses us: every later call would fail the same way.
_STOPS_THE_APPLY = (AuthError, TransientError, DeadlineExceeded)


@dataclass(kw_only=True)
class _Apply:
    saved: SavedApi
    log: PublishLog
    apply_id: str
    out: TextIO
    err: TextIO
    seq: int = 0
    failed: int = 0
    done: dict[str, int] = field(default_factory=dict)

    async def call(self, action: str, name: str, object_id: str | None, send: Callable[[], Awaitable[str | None]],
                   verb: str, counted: str | None = None) -> str | None:
        """One journalled call: recorded as sending, sent, then recorded with its answer. A refusal is reported
        and counted (None returned); a tenant that stops answering raises, leaving the apply `running`."""
        seq, self.seq = self.seq, self.seq + 1
        self.log.sending(self.apply_id, seq, action=action, name=name, saved_id=object_id)
        try:
            result_id = await send()
        except _STOPS_THE_APPLY:
            raise  # the apply stays `running` in the journal: the next one reports it as interrupted
        except ApiError as error:
            self.log.answered(self.apply_id, seq, error=str(error))
            self.err.write(terminal_line(f"vqr publish: {action} {name} failed: {error}") + "\n")
            self.failed += 1
            return None
        self.log.answered(self.apply_id, seq, result_id=result_id)
        self.done[counted or verb] = self.done.get(counted or verb, 0) + 1
        self.out.write(terminal_line(f"  {verb} {name}{f' (id {result_id})' if result_id else ''}") + "\n")
        return result_id


async def execute(saved: SavedApi, log: PublishLog, plan: PublishPlan, *, settings: PublishSettings, target: str,
                  ids: Mapping[str, str], digest: str, out: TextIO, err: TextIO) -> bool:
    """Apply `plan`; `ids`: the tenant's id of each managed saved query, by name (a report's queries)."""
    run = _Apply(saved=saved, log=log, apply_id=uuid.uuid4().hex, out=out, err=err)
    log.start(run.apply_id, env=plan.env, target=target, project=plan.project, plan_digest=digest)
    known = dict(ids)
    ordered = sorted(plan.pending, key=lambda c: _ORDER[c.action])
    for change in [c for c in ordered if c.action is not Action.DELETE]:
        result_id = await run.call(change.action.value, change.name, change.saved_id,
                                   functools.partial(_send, saved, change, settings), _DONE[change.action])
        if result_id is not None:
            known[change.name] = result_id
    for report in plan.pending_reports:
        await _report(run, report, known)
    for change in [c for c in ordered if c.action is Action.DELETE]:
        await run.call(change.action.value, change.name, change.saved_id,
                       functools.partial(_send, saved, change, settings), _DONE[change.action])
    log.finish(run.apply_id, "failed" if run.failed else "done")
    summary = ", ".join(f"{count} {verb}" for verb, count in run.done.items()) or "nothing changed"
    out.write(f"Applied: {summary}" + (f"; {run.failed} call(s) failed (see above)" if run.failed else "") + ".\n")
    return run.failed > 0


async def _report(run: _Apply, report: ReportChange, known: Mapping[str, str]) -> None:
    absent = [name for name in report.queries if name not in known]  # its create failed above
    if absent:
        run.err.write(terminal_line(f"vqr publish: report {report.name}: left out, as they could not be created: "
                                    f"{', '.join(absent)}") + "\n")
    wanted = [known[name] for name in report.queries if name in known]
    if report.action is ReportAction.CREATE:
        if not wanted:  # every one of its queries failed above: an empty report would only be noise
            return
        async def create() -> str | None:
            created = await run.saved.create_report(report.name, report.description, wanted)
            return str(created.get("id", "")) or None

        await run.call("report-create", report.name, None, create, "created report", "report(s) created")
        return
    assert report.report_id is not None
    for name, query_id in zip([n for n in report.queries if n in known], wanted, strict=True):
        async def add(query_id: str = query_id) -> str | None:
            await run.saved.add_report_query(str(report.report_id), query_id)
            return query_id

        await run.call("report-add", f"{name} to report {report.name}", report.report_id, add, "added",
                       "added to a report")


async def _send(saved: SavedApi, change: Change, settings: PublishSettings) -> str | None:
    if change.action is Action.DELETE:
        assert change.saved_id is not None
        await saved.delete_query(change.saved_id, force=True)  # a report using it loses it, as the file did
        return change.saved_id
    assert change.body is not None
    if change.action is Action.CREATE:
        created = await saved.create_query(change.body, marker=settings.marker(change.name))
    else:
        assert change.saved_id is not None
        created = await saved.update_query(change.saved_id, change.body)
    found = created.get("id")
    return str(found) if found is not None else change.saved_id
