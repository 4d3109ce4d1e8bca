"""What a plan read from a file may ask of the tenant: only what `make_plan` itself could have planned.

A plan file is an artifact: made on a pull request, kept by CI, applied after the merge, so a step in between could
have changed it. Its tenant fingerprint says the tenant is as it was; `file_plan_problems(plan, listed, reports,
settings, prune=)` says whether each change keeps vqr's rules against that same tenant: an update, drift or delete
names a saved query that carries this project's marker for that very name, a body carries exactly its own marker,
a create takes a free name, a delete comes with `--prune` given to apply itself, and a report change touches a
report of this project's (or a free name) with managed queries only. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.model import JSONObject, JSONValue
from runner.model.publish import MARKER_PREFIX, PublishSettings
from runner.publish.planner import BUILTIN, Action, Change, PublishPlan, marker_name
from runner.publish.reports import ReportAction, ReportChange, is_marked


def file_plan_problems(plan: PublishPlan, listed: Sequence[Mapping[str, JSONValue]],
                       reports: Sequence[Mapping[str, JSONValue]], settings: PublishSettings, *,
                       prune: bool) -> list[str]:
    """Every rule the plan's pending changes break, one line each (none: it may be applied)."""
    saved = [q for q in listed if q.get("query_type") != BUILTIN]
    managed = {(marker_name(q, settings.marker_prefix), str(q.get("id"))) for q in saved}
    taken = {str(q.get("name")) for q in saved}
    problems: list[str] = []
    for change in plan.pending:
        problems += _query_problems(change, managed, taken, settings)
        if change.action is Action.DELETE and not prune:
            problems.append(f"delete {change.name}: the plan deletes, and apply was not given --prune")
    # A report may hold the managed saved queries and the ones this plan creates.
    holdable = {name for name, _ in managed if name is not None} | {
        c.name for c in plan.pending if c.action is Action.CREATE}
    declared = {report.name for report in settings.reports}
    for report in plan.pending_reports:
        if report.name not in declared:
            problems.append(f"report {report.action.value} {report.name}: vqr.yaml declares no report of that name")
            continue
        problems += _report_problems(report, reports, holdable, settings)
    return problems


def _query_problems(change: Change, managed: set[tuple[str | None, str]], taken: set[str],
                    settings: PublishSettings) -> list[str]:
    what = f"{change.action.value} {change.name}"
    if change.action is Action.CREATE:
        if change.name in taken:
            return [f"{what}: the tenant has a saved query of that name already"]
    elif (change.name, str(change.saved_id)) not in managed:
        return [f"{what}: saved query {change.saved_id} is not the one this project's marker names {change.name}"]
    if change.action is Action.DELETE:
        return []
    return _body_problems(what, change.name, change.body, settings)


def _body_problems(what: str, name: str, body: JSONObject | None, settings: PublishSettings) -> list[str]:
    if body is None or body.get("name") != name:
        return [f"{what}: its body does not name the saved query {name}"]
    labels = body.get("labels")
    markers = [label for label in (labels if isinstance(labels, list) else [])
               if isinstance(label, str) and label.startswith(MARKER_PREFIX)]
    if markers != [settings.marker(name)]:
        return [f"{what}: its body must carry the one marker {settings.marker(name)}"]
    return []


def _report_problems(report: ReportChange, listed: Sequence[Mapping[str, JSONValue]], holdable: set[str],
                     settings: PublishSettings) -> list[str]:
    what = f"report {report.action.value} {report.name}"
    named = [r for r in listed if r.get("name") == report.name]
    problems = [f"{what}: {query} is neither a managed saved query nor created by this plan"
                for query in report.queries if query not in holdable]
    marker = settings.marker(report.name)
    if report.action is ReportAction.CREATE:
        if named:
            problems.append(f"{what}: the tenant has a report of that name already")
        if not report.description.endswith(marker):
            problems.append(f"{what}: its description must end with its marker {marker}")
    elif not any(str(r.get("id")) == report.report_id and is_marked(r, marker) for r in named):
        problems.append(f"{what}: report {report.report_id} is not the one this project's marker names")
    return problems
