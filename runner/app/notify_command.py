"""`vqr notify RUN_DIR [--dry-run]`, and the notifications `vqr run` sends once its reports are written.

`notify(common, run_dir=..., dry_run=...)` → exit code (0 sent or printed, 1 a target failed, 2 usage);
`notify_after_run(run_dir, project, process, err)` never raises and never changes the run's exit code: a failure is
one warning line on `err` and an entry in the run's notifications.json. Network and that one file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from runner.app.common import Common
from runner.errors import ExitCode, UsageError
from runner.model.notify import NotifySettings
from runner.sanitize import json_text, terminal_line
from runner.settings import ProcessEnv, Project, find_project_file, load_project


def notify(common: Common, *, run_dir: Path, dry_run: bool) -> int:
    from runner.notify import FAILED, Message, deliver, plan_messages, read_facts, write_outcomes

    project = load_project(common.project_file or find_project_file(Path.cwd()))
    settings = project.notify
    if not settings.targets:
        raise UsageError("vqr.yaml has no notify: targets (README: Notifications)")
    run = read_facts(run_dir, expiring_within_days=settings.expiring_within_days)
    plan = plan_messages(settings, run)
    if dry_run:
        for item in plan:
            if isinstance(item, Message):
                _print_message(common.out, item, common.process)
            else:
                common.out.write(f"--- {item.line()}\n")
        sent = sum(1 for item in plan if isinstance(item, Message))
        common.out.write(f"{sent} message(s) would be sent (dry run: nothing was sent)\n")
        return ExitCode.OK
    outcomes = deliver(plan, common.process.variables, deadline_seconds=settings.deadline_seconds)
    for outcome in outcomes:
        common.out.write(outcome.line() + "\n")
    write_outcomes(run_dir, run.run_id, outcomes)
    return ExitCode.FINDINGS if any(o.outcome == FAILED for o in outcomes) else ExitCode.OK


def _print_message(out: TextIO, item: object, process: ProcessEnv) -> None:
    from runner.notify import Message, UrlError, webhook_url

    assert isinstance(item, Message)
    target = item.target
    try:
        webhook_url(target, process.variables)  # registered for redaction; checked, so the dry run says if it is bad
        where = f"*** (from {target.url_source})"
    except UrlError as error:
        where = f"no URL: {error}"
    scope = item.scope
    whom = f" for {scope.owner}" if scope.owner else " (queries without an owner)" if scope.per_owner else ""
    reasons = ", ".join(str(r) for r in scope.reasons)
    out.write(terminal_line(f"--- {target.name} ({target.kind}){whom} → {where}; because: {reasons}") + "\n")
    out.write(json_text(json.dumps(item.payload, indent=2, ensure_ascii=False)) + "\n")


def notify_after_run(run_dir: Path, project: Project, process: ProcessEnv, err: TextIO) -> None:
    """What `vqr run` calls after the reports: send, record, and warn; nothing here may fail the run."""
    settings: NotifySettings = project.notify
    if not settings.targets:
        return
    from runner.notify import FAILED, deliver, plan_messages, read_facts, write_outcomes

    try:
        run = read_facts(run_dir, expiring_within_days=settings.expiring_within_days)
        outcomes = deliver(plan_messages(settings, run), process.variables, deadline_seconds=settings.deadline_seconds)
    except Exception as error:  # the run's results are written: a bug here must not lose them
        err.write(terminal_line(f"vqr run: warning: notifications were not sent: {type(error).__name__}: {error}")
                  + "\n")
        return
    for outcome in outcomes:
        if outcome.outcome == FAILED:
            err.write(f"vqr run: warning: notification {outcome.line()}\n")
    try:
        write_outcomes(run_dir, run.run_id, outcomes)
    except OSError as error:
        err.write(terminal_line(f"vqr run: warning: notifications.json could not be written: "
                                f"{error.strerror or type(error).__name__}") + "\n")
