"""`report.md`: a one-screen summary of a run, then a table of every query (GitHub-flavoured Markdown).

`render_markdown(run, limit=None) -> str` is pure; so is `render_owner_markdown(run, part)`, one owner's part
(`owners/<owner>.md`) in the same layout. A line per owner follows what needs attention. Data (query names,
messages, entity names, owners) is escaped so it can never become markup, a link, a mention or HTML in a
pull-request comment or `$GITHUB_STEP_SUMMARY`. With `limit` (bytes), the per-query detail and then table rows are
dropped until the text fits, with a note saying so.
"""

from __future__ import annotations

from runner.report.figures import (
    STATUS_WORDS,
    age_text,
    bounds_text,
    drift_text,
    drifted,
    expectation_summary,
    failed_queries,
    headline,
    queries_in_order,
    request_message,
    result_age_text,
    rows_text,
    seconds_text,
    slowest,
    when_text,
)
from runner.report.load import QueryRun, RunArtifact
from runner.report.owners import Part, part_run, parts
from runner.report.pacing_view import pacing_sentence
from runner.report.slots import exceptions_markdown, lifecycle_markdown
from runner.sanitize import markdown_inline

ICONS = {"succeeded": "✅", "failed": "❌", "not_run": "⏭️", "interrupted": "⏸️"}
DRIFT_SHOWN = 10
OWNER_NAMES_SHOWN = 5


def md(text: object) -> str:
    """Inline-safe text (the Markdown channel's sanitiser): one line, control characters escaped, Markdown
    punctuation backslash-escaped, HTML metacharacters as entities, mentions and bare links broken, key redacted."""
    return markdown_inline(text)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---:" if h.endswith("#") or h in {"rows", "time", "age", "added", "removed", "changed"} else "---"
             for h in header]
    out = ["| " + " | ".join(h.rstrip("#") for h in header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _summary(run: RunArtifact) -> list[str]:
    icon = "✅" if run.exit_code == 0 else ("⏸️" if run.status == "interrupted" else "❌")
    lines = [f"## {icon} vqr run {md(run.run_id)}: {md(run.status)}, exit code {run.exit_code}", "",
             f"Environment **{md(run.env)}** ({md(run.target)}), started {md(when_text(run.started_at))}, "
             f"{md(headline(run))}."]
    if run.stopped_because:
        lines += ["", f"The run stopped early: {md(run.stopped_because.replace('_', ' '))}."]
    counts = [f"{ICONS[s]} {run.count(s)} {STATUS_WORDS[s]}" for s in ICONS if run.count(s) or s == "succeeded"]
    lines += ["", " · ".join([*counts, f"💾 {run.cache_hits} cache hits", f"{run.total_rows:,} rows"])]
    return lines


def _attention(run: RunArtifact) -> list[str]:
    """By severity: queries that did not succeed, then failed error expectations, then warnings."""
    lines: list[str] = []
    broken = failed_queries(run)
    if broken:
        lines += ["", "### Queries that did not succeed", ""]
        for query in broken:
            detail = f": {md(query.error.category)}: {md(request_message(query.error))}" if query.error else ""
            request = f" (request id {md(query.error.request_id)})" if query.error and query.error.request_id else ""
            word = md(STATUS_WORDS.get(query.status, query.status))
            lines.append(f"- {ICONS.get(query.status, '')} **{md(query.name)}** {word}{detail}{request}")
    failures = run.failed_expectations("error") + run.failed_expectations("warn")
    if failures:
        lines += ["", "### Failed expectations", ""]
        lines += [f"- {'❌' if e.severity == 'error' else '⚠️'} **{md(q.name)}** ({e.severity}) "
                  f"{md(e.metric)} {md(bounds_text(e.bounds))}: {md(e.message)}" for q, e in failures]
    return lines


def _owners(run: RunArtifact) -> list[str]:
    """A line per owner: what is theirs, what of it needs attention, and the file holding their part."""
    found = parts(run)
    if not found:
        return []
    lines = ["", "### By owner", ""]
    for part in found:
        problems = [q for q in part.queries if q.status != "succeeded" or q.failed_expectations]
        named = ", ".join(md(q.name) for q in problems[:OWNER_NAMES_SHOWN])
        more = f" and {len(problems) - OWNER_NAMES_SHOWN} more" if len(problems) > OWNER_NAMES_SHOWN else ""
        attention = f"; needs attention: {named}{more}" if problems else ""
        lines.append(f"- **{md(part.title)}** ({md(part.counts_text())}{attention}): `{part.file}`")
    return lines


def _cache(run: RunArtifact) -> list[str]:
    """One line: how many results came from Veza's cache and how old the oldest was (ages per query are in the
    table below)."""
    cached = [q for q in run.queries if q.cache == "hit"]
    if not cached:
        return ["", f"**Cache:** no result came from Veza's cache ({len(run.queries)} queries)."]
    aged = [q for q in cached if q.result_age_seconds is not None]
    line = f"**Cache:** {len(cached)} of {len(run.queries)} results came from Veza's cache"
    if aged:
        oldest = max(aged, key=lambda q: (q.result_age_seconds or 0.0, q.name))
        line += f"; the oldest, {md(oldest.name)}, was {age_text(oldest.result_age_seconds)} old"
    return ["", line + "."]


def _pacing(run: RunArtifact) -> list[str]:
    if run.pacing is None:
        return []
    return ["", f"**Pacing:** {md(pacing_sentence(run.pacing, len(run.queries)))}"]


def _drift(run: RunArtifact) -> list[str]:
    queries = drifted(run)
    if not queries:
        return ["", "No drift figures: no query has an earlier successful run with the same spec."]
    moved = [q for q in queries if q.drift and (q.drift.added or q.drift.removed or q.drift.changed)]
    rows = []
    for q in moved[:DRIFT_SHOWN]:
        assert q.drift is not None
        changed = "—" if q.drift.changed is None else str(q.drift.changed)
        env = f" ({md(q.drift.previous_env)})" if q.drift.previous_env else ""
        rows.append([md(q.name), md(q.drift.previous_run) + env, str(q.drift.added), str(q.drift.removed),
                     changed])
    lines = ["", f"### Drift since the previous run ({len(moved)} of {len(queries)} compared queries changed)"]
    keys = sorted({(q.drift.previous_env, q.drift.previous_target) for q in queries
                   if q.drift is not None and q.drift.previous_env})
    if keys:  # history is keyed by environment and target, so this is the run's own environment
        where = "; ".join(f"environment **{md(env)}** ({md(target)})" for env, target in keys)
        lines += ["", f"Each query is compared with its previous successful run in {where}."]
    if rows:
        lines += ["", *_table(["query", "previous run (environment)", "added", "removed", "changed"], rows)]
    if len(moved) > DRIFT_SHOWN:
        lines += ["", f"…and {len(moved) - DRIFT_SHOWN} more (see report.html)."]
    return lines


def _slowest(run: RunArtifact) -> list[str]:
    top = slowest(run)
    if not top:
        return []
    rows = [[md(q.name), seconds_text(q.seconds), rows_text(q.rows), q.cache] for q in top]
    return ["", "### Slowest queries", "", *_table(["query", "time", "rows", "cache"], rows)]


def _query_row(query: QueryRun) -> list[str]:
    status = f"{ICONS.get(query.status, '')} {md(STATUS_WORDS.get(query.status, query.status))}"
    return [md(query.name), status, rows_text(query.rows), query.cache, result_age_text(query),
            seconds_text(query.seconds), md(expectation_summary(query)), md(drift_text(query))]


def _queries(queries: list[QueryRun], shown: int) -> list[str]:
    header = ["query", "status", "rows", "cache", "age", "time", "expectations", "drift (+ − ~)"]
    lines = ["", "### Queries", "", *_table(header, [_query_row(q) for q in queries[:shown]])]
    if shown < len(queries):
        lines += ["", f"…{len(queries) - shown} more queries left out to fit; the full report is report.md in the "
                      "run directory."]
    return lines


def _details(queries: list[QueryRun]) -> list[str]:
    lines: list[str] = []
    for query in queries:
        marks = exceptions_markdown(query)
        if not query.expectations and not marks:
            continue
        rows = [[md(e.metric), md(bounds_text(e.bounds)), e.severity, e.outcome,
                 "—" if e.actual is None else str(e.actual), md(e.message)] for e in query.expectations]
        table = _table(["expectation", "bounds", "severity", "outcome", "actual#", "message"], rows) if rows else []
        lines += ["", f"<details><summary>{md(query.name)}: {md(expectation_summary(query))}</summary>", "",
                  *table, *marks, "", "</details>"]
    return lines


def render_markdown(run: RunArtifact, *, limit: int | None = None) -> str:
    head = [*_summary(run), *lifecycle_markdown(run), *_attention(run), *_owners(run), *_cache(run), *_pacing(run),
            *_drift(run),
            *_slowest(run)]
    return _fit(run, head, limit)


def render_owner_markdown(run: RunArtifact, part: Part) -> str:
    """`owners/<owner>.md`: the report cut down to one owner's queries (or to the unowned ones)."""
    mine = part_run(run, part)
    head = [f"## 👤 {md(part.title)}: their part of vqr run {md(run.run_id)}", "",
            f"{md(part.counts_text())}. The run: {md(run.status)}, exit code {run.exit_code}, environment "
            f"**{md(run.env)}** ({md(run.target)}), started {md(when_text(run.started_at))}; the whole run is "
            "report.md beside this directory.",
            *lifecycle_markdown(mine), *_attention(mine), *_drift(mine)]
    return _fit(mine, head, None)


def _fit(run: RunArtifact, head: list[str], limit: int | None) -> str:
    queries = queries_in_order(run.queries)
    shown = len(queries)
    with_details = True
    while True:
        body = head + _queries(queries, shown) + (_details(queries) if with_details else [])
        text = "\n".join(body) + "\n"
        if limit is None or len(text.encode()) <= limit:
            return text
        if with_details:
            with_details = False
        elif shown > 0:
            shown = shown // 2
        else:
            cut = text.encode()[: max(0, limit - 64)].decode(errors="ignore")
            return cut[: cut.rfind("\n") + 1] + "\n…truncated to fit; see report.md in the run directory.\n"
