"""A publish plan as people and programs read it: `text` (a terminal or CI log), `md` (a pull-request comment) and
`json` (the plan file `vqr publish apply --plan` takes, and what scripts parse).

`render(plan, fmt)` returns the document. Names, labels and values come from the tenant or from pull requests, so
they are escaped for where they go: `terminal_line` for text, `markdown_inline` for Markdown (no HTML, no mention,
no link); the JSON is `json_text` (valid JSON with every control character escaped). A long value is shortened in
text and Markdown only: the JSON plan keeps every byte, because apply sends its bodies. Pure, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from runner.model import JSONObject, JSONValue
from runner.model.impact import MISSING, Missing
from runner.model.publish import PLAN_FORMATS
from runner.publish.planner import Action, Change, PublishPlan
from runner.publish.reports import ReportAction, ReportChange
from runner.sanitize import json_text, markdown_inline, terminal_line

FORMATS = PLAN_FORMATS
PLAN_VERSION = 1  # the plan file's layout; apply refuses another
SHOWN_VALUE = 160  # characters of one diff value in text and Markdown

_SIGN = {Action.CREATE: "+", Action.UPDATE: "~", Action.DRIFT: "~", Action.DELETE: "-", Action.ORPHAN: "?",
         Action.CLASH: "!", Action.NOOP: "="}
_WHY = {
    Action.CREATE: "new in the repository",
    Action.UPDATE: "changed in the repository",
    Action.DRIFT: "edited in Veza since vqr applied it: apply puts the repository's version back",
    Action.DELETE: "its query file is gone (--prune)",
    Action.ORPHAN: "its query file is gone: left alone (deleted only with --prune)",
    Action.CLASH: "an unmanaged saved query has this name: left alone (rename one of them)",
    Action.NOOP: "unchanged",
}


def render(plan: PublishPlan, fmt: str, *, target: str) -> str:
    if fmt == "json":
        return json_text(json.dumps(plan_document(plan, target=target), indent=2, ensure_ascii=False)) + "\n"
    return (_markdown if fmt == "md" else _text)(plan, target)


def plan_document(plan: PublishPlan, *, target: str) -> JSONObject:
    """The plan file: everything apply needs to refuse a stale plan (tenant fingerprint, target, environment,
    project) and to execute it (each change's body)."""
    return {"version": PLAN_VERSION, "project": plan.project, "env": plan.env, "target": target,
            "prune": plan.prune, "tenant": plan.tenant, "summary": summary_counts(plan),
            "changes": [change.to_json() for change in plan.changes],
            "reports": [report.to_json() for report in plan.reports]}


def read_plan(document: JSONValue) -> tuple[PublishPlan, str]:
    """A plan file's plan and target; `ValueError` with one line when it is not a plan file of this version."""
    if not isinstance(document, dict) or document.get("version") != PLAN_VERSION:
        raise ValueError(f"not a vqr publish plan file of version {PLAN_VERSION}")
    try:
        changes = tuple(_change(raw) for raw in document["changes"])  # type: ignore[union-attr]
        reports = tuple(ReportChange.from_json(raw) for raw in document.get("reports") or []  # type: ignore[union-attr]
                        if isinstance(raw, dict))
        plan = PublishPlan(project=str(document["project"]), env=str(document["env"]),
                           prune=document["prune"] is True, tenant=str(document["tenant"]), changes=changes,
                           reports=reports)
        return plan, str(document["target"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"a damaged vqr publish plan file ({type(error).__name__}: {error})") from None


def _change(raw: JSONValue) -> Change:
    if not isinstance(raw, dict):
        raise TypeError("a change is not an object")
    body, diff = raw.get("body"), raw.get("diff")
    return Change(action=Action(str(raw["action"])), name=str(raw["name"]),
                  saved_id=None if raw.get("id") is None else str(raw["id"]),
                  body=body if isinstance(body, dict) else None,
                  diff=tuple((str(d["path"]), d.get("old", MISSING), d.get("new", MISSING))
                             for d in (diff if isinstance(diff, list) else []) if isinstance(d, dict)))


def summary_counts(plan: PublishPlan) -> JSONObject:
    counts: dict[str, int] = {action.value: 0 for action in Action}
    for change in plan.changes:
        counts[change.action.value] += 1
    counts["reports"] = len(plan.pending_reports)
    counts["report_clash"] = sum(r.action is ReportAction.CLASH for r in plan.reports)
    return {**counts}


def summary_line(plan: PublishPlan) -> str:
    counts = summary_counts(plan)
    pending = (f"{counts['create']} to create, {counts['update']} to update, {counts['drift']} drifted to put back, "
               f"{counts['delete']} to delete" + (f", {counts['reports']} report(s) to change" if plan.reports else ""))
    alone = [f"{counts[a]} {a.replace('_', ' ')}" for a in ("clash", "orphan", "report_clash") if counts[a]]
    return f"{pending}; " + ", ".join([*alone, f"{counts['noop']} unchanged"]) + "."


def _text(plan: PublishPlan, target: str) -> str:
    lines = [terminal_line(f"vqr publish plan: project {plan.project}, environment {plan.env}, {target}")]
    for change in plan.changes:
        if change.action is Action.NOOP:
            continue
        lines.append(terminal_line(f"  {_SIGN[change.action]} {change.action.value:<6} {change.name}"
                                   f"{_id_note(change)}: {_WHY[change.action]}"))
        lines += [terminal_line(f"      {path}: {_shown(old)} -> {_shown(new)}") for path, old, new in change.diff]
    lines += [terminal_line(f"  {_REPORT_SIGN[r.action]} report {r.name}{_id_note_of(r.report_id)}: {_report_why(r)}")
              for r in _shown_reports(plan)]
    lines.append(_verdict(plan))
    return "\n".join(lines) + "\n"


def _verdict(plan: PublishPlan) -> str:
    if plan.calls:
        return f"Plan: {summary_line(plan)}"
    if all(change.action is Action.NOOP for change in plan.changes) and not any(
            r.foreign or r.unpublished or r.action is ReportAction.CLASH for r in plan.reports):
        return "No changes: the tenant matches the repository."
    return f"Nothing to apply: {summary_line(plan)}"


def _markdown(plan: PublishPlan, target: str) -> str:
    md: Callable[[object], str] = markdown_inline
    out = [f"### vqr publish plan: {md(plan.project)}, environment {md(plan.env)}", "",
           f"Target {md(target)}. **{md(_verdict(plan))}**", ""]
    shown = [c for c in plan.changes if c.action is not Action.NOOP]
    if not shown and not _shown_reports(plan):
        return "\n".join(out)
    out += ["| | action | saved query | why |", "|---|---|---|---|"]
    out += [f"| {_SIGN[c.action]} | {c.action.value} | {md(c.name + _id_note(c))} | {md(_WHY[c.action])} |"
            for c in shown]
    out += [f"| {_REPORT_SIGN[r.action]} | report {r.action.value} | {md(r.name + _id_note_of(r.report_id))} | "
            f"{md(_report_why(r))} |" for r in _shown_reports(plan)]
    diffs = [c for c in shown if c.diff]
    for change in diffs:
        out += ["", f"<details><summary>{md(change.action.value)} {md(change.name)}: "
                    f"{len(change.diff)} field(s)</summary>", "", "| field | in Veza | in the repository |",
                "|---|---|---|"]
        out += [f"| {md(path)} | {md(_shown(old))} | {md(_shown(new))} |" for path, old, new in change.diff]
        out += ["", "</details>"]
    return "\n".join([*out, ""])


def _id_note(change: Change) -> str:
    return _id_note_of(change.saved_id)


def _id_note_of(object_id: str | None) -> str:
    return f" (id {object_id})" if object_id else ""


def _shown_reports(plan: PublishPlan) -> list[ReportChange]:
    return [r for r in plan.reports if r.action is not ReportAction.NOOP or r.foreign or r.unpublished]


_REPORT_SIGN = {ReportAction.CREATE: "+", ReportAction.ADD: "~", ReportAction.NOOP: "=", ReportAction.CLASH: "!"}


def _report_why(report: ReportChange) -> str:
    count = len(report.queries)
    said = {ReportAction.CREATE: f"new, with {count} saved quer{'y' if count == 1 else 'ies'}",
            ReportAction.ADD: f"add {', '.join(report.queries)}",
            ReportAction.NOOP: "holds every query it selects",
            ReportAction.CLASH: "a report vqr did not create has this name: left alone (rename one of them)",
            }[report.action]
    if report.foreign:
        said += f"; {len(report.foreign)} other quer{'y' if len(report.foreign) == 1 else 'ies'} in it left alone"
    if report.unpublished:
        said += f"; selected but not published, left out: {', '.join(report.unpublished)}"
    return said


def _shown(value: JSONValue | Missing) -> str:
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= SHOWN_VALUE else text[:SHOWN_VALUE - 1] + "…"
