"""The terminal and JSON forms of an `ImpactReport` (`vqr diff --format text|json`), and the figures both share with
the Markdown comment (`runner.impact.comment`).

`format_text(report) -> str`: every untrusted string through `terminal_line`. `format_json(report) -> str`: the
document `schemas/diff.schema.json` describes (version 1), safe to print (`json_text`). Pure, no I/O.
"""

from __future__ import annotations

import json
import re

from runner.model.assessment import EntityRef, ExpectSeverity, Verdict
from runner.model.impact import EnvDiff, ImpactReport, Missing, PathChange, ResultDelta, SideResult, SpecDiff
from runner.model.values import JSONObject, JSONValue
from runner.sanitize import json_text, terminal_line

FORMAT_VERSION = 1
ABSENT = "(absent)"  # a path one side does not have (MISSING), distinct from JSON `null`


def value_text(value: JSONValue | Missing) -> str:
    """One value as compact JSON (`"a"`, `3`, `["x","y"]`), or ABSENT. Not yet escaped for any channel."""
    if isinstance(value, Missing):
        return ABSENT
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_SPEC_PREFIX = re.compile(r"^\$\.(?:(?:immediate_run|cached_result_if_available)\.request\.body|spec)(?=[.\[]|$)")


def shown_path(path: str) -> str:
    """A body path as people read it: `spec.…` for the spec inside the create body (whichever cache mode wraps
    it), the full JSONPath otherwise (`$.cached_result_if_available.max_staleness`). JSON output keeps full paths."""
    return _SPEC_PREFIX.sub("spec", path)


def paths_changed(diff: SpecDiff) -> int:
    """How many distinct paths differ in some environment."""
    return len({change.path for group in diff.envs for change in group.changes})


def rows_text(side: SideResult | None) -> str:
    """A side's row count, its status when it has none (`failed`, `not_run`), or `–` for a side without the query."""
    if side is None:
        return "–"
    if side.rows is None or side.status != "succeeded":
        return side.status.replace("_", " ")
    return f"{side.rows:,}"


def expectations_word(side: SideResult | None) -> str:
    """The outcome of a side's expectations in one word: failed, warned, passed, skipped; `–` when it has none."""
    if side is None or not side.expectations:
        return "–"
    failed = [o for o in side.expectations if o.verdict is Verdict.FAILED]
    if any(o.severity is ExpectSeverity.ERROR for o in failed):
        return "failed"
    if failed:
        return "warned"
    return "passed" if any(o.verdict is Verdict.PASSED for o in side.expectations) else "skipped"


def format_text(report: ImpactReport) -> str:
    """The report for a terminal: a headline, then each changed query's path changes and result delta."""
    counts = report.counts()
    lines = [f"vqr diff: {terminal_line(report.base)} → {terminal_line(report.head)}"
             f" (environments: {terminal_line(', '.join(report.envs)) or 'none'})"]
    if not report.diffs:
        lines.append("no query's rendered create body changes")
    else:
        queries = "query" if len(report.diffs) == 1 else "queries"
        lines.append(f"{len(report.diffs)} {queries} changed: {counts['new']} new, {counts['modified']} modified, "
                     f"{counts['removed']} removed")
    for diff in report.diffs:
        lines += ["", *_text_query(diff, report.deltas.get(diff.name))]
    lines += ["", *(f"note: {terminal_line(note)}" for note in report.notes)] if report.notes else []
    return "\n".join(lines) + "\n"


def _text_query(diff: SpecDiff, delta: ResultDelta | None) -> list[str]:
    moved = f" (was {terminal_line(diff.base_file)})" if diff.base_file and diff.base_file != diff.file else ""
    lines = [f"{diff.change.value} {terminal_line(diff.name)}: {terminal_line(diff.file)}{moved}"]
    for group in diff.envs:
        lines.append(f"  {terminal_line(', '.join(group.envs))}:")
        lines += [f"    {terminal_line(f'{shown_path(c.path)}: {value_text(c.old)} → {value_text(c.new)}')}"
                  for c in group.changes]
    if delta is not None:
        lines += _text_delta(delta)
    return lines


def _text_delta(delta: ResultDelta) -> list[str]:
    lines = [f"  result in {terminal_line(delta.env)}: rows {rows_text(delta.before)} → {rows_text(delta.after)}"
             f" (+{delta.added:,} −{delta.removed:,}, {delta.changed:,} changed), expectations "
             f"{expectations_word(delta.before)} → {expectations_word(delta.after)}"]
    for label, side in (("before", delta.before), ("after", delta.after)):
        if side is not None and side.error:
            lines.append(f"    {label}: error: {terminal_line(side.error)}")
    for mark, sample in (("+", delta.added_sample), ("-", delta.removed_sample), ("~", delta.changed_sample)):
        lines += [f"    {mark} {terminal_line(entity.key)} {terminal_line(entity.name or '')}".rstrip()
                  for entity in sample]
    return lines


def format_json(report: ImpactReport) -> str:
    """The report as `schemas/diff.schema.json` describes it, indented, with a trailing newline."""
    document: JSONObject = {
        "version": FORMAT_VERSION, "base": report.base, "head": report.head, "envs": list(report.envs),
        "counts": report.counts(),
        "queries": [_json_query(diff, report.deltas.get(diff.name)) for diff in report.diffs],
        "notes": list(report.notes),
    }
    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _json_query(diff: SpecDiff, delta: ResultDelta | None) -> JSONObject:
    return {"name": diff.name, "change": diff.change.value, "file": diff.file, "base_file": diff.base_file,
            "envs": [_json_group(group) for group in diff.envs],
            "delta": None if delta is None else _json_delta(delta)}


def _json_group(group: EnvDiff) -> JSONObject:
    return {"envs": list(group.envs), "changes": [_json_change(change) for change in group.changes]}


def _json_change(change: PathChange) -> JSONObject:
    """MISSING is told by the key's absence: `"old": null` is a JSON null that was there."""
    out: JSONObject = {"path": change.path}
    if not isinstance(change.old, Missing):
        out["old"] = change.old
    if not isinstance(change.new, Missing):
        out["new"] = change.new
    return out


def _json_delta(delta: ResultDelta) -> JSONObject:
    out: JSONObject = {"env": delta.env, "added": delta.added, "removed": delta.removed, "changed": delta.changed,
                       "added_sample": _entities(delta.added_sample),
                       "removed_sample": _entities(delta.removed_sample),
                       "changed_sample": _entities(delta.changed_sample)}
    for label, side in (("before", delta.before), ("after", delta.after)):
        out[f"rows_{label}"] = None if side is None else side.rows
        out[f"status_{label}"] = None if side is None else side.status
        out[f"source_{label}"] = None if side is None else side.source
        out[f"error_{label}"] = None if side is None else side.error
        out[f"expectations_{label}"] = [] if side is None else [o.to_json() for o in side.expectations]
    return out


def _entities(sample: tuple[EntityRef, ...]) -> list[JSONValue]:
    return [entity.to_json() for entity in sample]
