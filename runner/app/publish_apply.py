"""Executing an approved publish plan: each pending change one API call, journalled before it is sent and again
when it is answered (`state/publishlog.py`).

`execute(saved, log, plan, ...)` sends creates first, then updates and drift put back, then deletes (a delete last,
so an apply stopped half-way never leaves the tenant with fewer queries than either side). It returns whether any
call failed. A call the tenant refuses (a taken name, an invalid spec, an id gone) is reported and the others still
go out; a tenant that stops answering (auth refused, unreachable once the client's retries are spent) stops the
apply with the error, and the journal keeps it as interrupted. Nothing is sent twice on a rerun: the next apply
plans again from the tenant's listing, where a create that landed is found by its marker label, and the client
looks a create whose answer was lost up by its marker before resending it. Network and journal I/O.
"""

from __future__ import annotations

import uuid
from typing import TextIO

from runner.client import ApiError, AuthError, DeadlineExceeded, TransientError
from runner.client.saved import SavedApi
from runner.model.publish import PublishSettings
from runner.publish import Action, Change, PublishPlan
from runner.sanitize import terminal_line
from runner.state.publishlog import PublishLog

_ORDER = {Action.CREATE: 0, Action.UPDATE: 1, Action.DRIFT: 1, Action.DELETE: 2}
_DONE = {Action.CREATE: "created", Action.UPDATE: "updated", Action.DRIFT: "put back", Action.DELETE: "deleted"}
# The tenant itself is gone or refuses us: every later call would fail the same way.
_STOPS_THE_APPLY = (AuthError, TransientError, DeadlineExceeded)


async def execute(saved: SavedApi, log: PublishLog, plan: PublishPlan, *, settings: PublishSettings, target: str,
                  digest: str, out: TextIO, err: TextIO) -> bool:
    apply_id = uuid.uuid4().hex
    log.start(apply_id, env=plan.env, target=target, project=plan.project, plan_digest=digest)
    failed = 0
    done: dict[str, int] = {}
    for seq, change in enumerate(sorted(plan.pending, key=lambda c: _ORDER[c.action])):
        log.sending(apply_id, seq, action=change.action.value, name=change.name, saved_id=change.saved_id)
        try:
            result_id = await _send(saved, change, settings)
        except _STOPS_THE_APPLY:
            raise  # the apply stays `running` in the journal: the next one reports it as interrupted
        except ApiError as error:
            log.answered(apply_id, seq, error=str(error))
            err.write(terminal_line(f"vqr publish: {change.action.value} {change.name} failed: {error}") + "\n")
            failed += 1
            continue
        log.answered(apply_id, seq, result_id=result_id)
        done[_DONE[change.action]] = done.get(_DONE[change.action], 0) + 1
        out.write(terminal_line(f"  {_DONE[change.action]} {change.name}"
                                f"{f' (id {result_id})' if result_id else ''}") + "\n")
    log.finish(apply_id, "failed" if failed else "done")
    summary = ", ".join(f"{count} {verb}" for verb, count in done.items()) or "nothing changed"
    out.write(f"Applied: {summary}" + (f"; {failed} call(s) failed (see above)" if failed else "") + ".\n")
    return failed > 0


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
