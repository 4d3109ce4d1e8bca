"""`report.html`: one self-contained page (inline CSS and SVG, no script, no network) for a person to read.

`render_html(run, history) -> str` is pure. Sections: summary cards, what needs attention (failed expectations,
failed queries), a bar chart of rows per query, drift (entities added, removed, changed), then each query with its
facts, expectations, trend over its last runs and its rendered spec folded in `<details>`. All data is escaped.
"""

from __future__ import annotations

import json
import re
from html import escape

from runner.report.charts import Bar, bar_chart, trend_chart
from runner.report.figures import (
    STATUS_WORDS,
    age_text,
    bounds_text,
    drifted,
    expectation_summary,
    failed_queries,
    headline,
    queries_in_order,
    rows_text,
    seconds_text,
    when_text,
)
from runner.report.html_assets import CSS
from runner.report.lifecycle_view import lifecycle_html
from runner.report.load import DriftFigures, Entity, QueryRun, RunArtifact
from runner.sanitize import terminal_text
from runner.state import History

# No script, no remote anything: the browser enforces what the renderer promises.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def e(value: object) -> str:
    # The terminal channel's escaping first: a saved page is also read with `cat`/`less`, and raw ESC/BEL would
    # drive that terminal; then HTML escaping.
    return escape(terminal_text(value), quote=True)


def anchor(index: int, name: str) -> str:
    return f"q{index}-{_UNSAFE_ID.sub('-', name)[:60]}"


def _card(figure: object, label: str, tone: str = "") -> str:
    return f'<li class="card {tone}"><span class="figure">{e(figure)}</span><span class="label">{e(label)}</span></li>'


def _summary(run: RunArtifact) -> str:
    errors, warns = len(run.failed_expectations("error")), len(run.failed_expectations("warn"))
    moved = [q.drift for q in drifted(run) if q.drift is not None]
    added, removed = sum(d.added for d in moved), sum(d.removed for d in moved)
    problems = run.count("failed") + run.count("interrupted")
    cards = [
        _card(len(run.queries), "queries"),
        _card(run.count("succeeded"), "succeeded", "ok"),
        _card(problems, "failed or interrupted", "bad" if problems else ""),
        _card(run.count("not_run"), "not run", "warn" if run.count("not_run") else ""),
        _card(errors, "failed expectations", "bad" if errors else ""),
        _card(warns, "expectation warnings", "warn" if warns else ""),
        _card(f"{run.cache_hits}/{len(run.queries)}", "from cache"),
        _card(f"+{added} −{removed}", "drift (entities)"),
    ]
    return (f'<section id="summary" aria-label="summary"><ul class="cards">{"".join(cards)}</ul>'
            f'<p class="meta">{e(headline(run))}</p></section>')


def _attention(run: RunArtifact, anchors: dict[str, str]) -> str:
    items = []
    for severity in ("error", "warn"):
        for query, outcome in run.failed_expectations(severity):
            items.append(f'<li class="{severity}"><a href="#{anchors[query.name]}">{e(query.name)}</a>: '
                         f"<strong>{e(outcome.metric)} {e(bounds_text(outcome.bounds))}</strong> ({severity}): "
                         f"{e(outcome.message)}</li>")
    for query in failed_queries(run):
        detail = f": {e(query.error.category)}: {e(query.error.message)}" if query.error else ""
        if query.error and query.error.request_id:
            detail += f" (request id <code>{e(query.error.request_id)}</code>)"
        items.append(f'<li class="error"><a href="#{anchors[query.name]}">{e(query.name)}</a> '
                     f"{e(STATUS_WORDS.get(query.status, query.status))}{detail}</li>")
    body = f'<ul>{"".join(items)}</ul>' if items else '<p class="muted">Nothing: every query succeeded and every ' \
                                                      "expectation held.</p>"
    return f'<section id="attention"><h2>Needs attention</h2><div class="panel attention">{body}</div></section>'


def _rows_chart(run: RunArtifact, anchors: dict[str, str]) -> str:
    bars = [Bar(label=q.name, value=q.rows, status=q.status, anchor=anchors[q.name]) for q in run.queries]
    chart = bar_chart(bars, title=f"rows per query ({run.total_rows:,} in total)")
    return f'<section id="rows"><h2>Rows per query</h2><div class="panel">{chart}</div></section>'


def _entities(kind: str, total: int, sample: tuple[Entity, ...]) -> str:
    items = []
    for entity in sample:
        name = f" <span class=\"muted\">{e(entity.name)}</span>" if entity.name else ""
        fields = f" <span class=\"muted\">({e(', '.join(entity.fields))})</span>" if entity.fields else ""
        items.append(f"<li><code>{e(entity.id)}</code>{name}{fields}</li>")
    more = f'<li class="muted">…and {total - len(sample):,} more</li>' if total > len(sample) else ""
    return (f'<div><h4 class="{kind}">{e(kind)}: {total:,}</h4>'
            f'<ul>{"".join(items)}{more}</ul></div>') if total else f'<div><h4 class="{kind}">{e(kind)}: 0</h4></div>'


def _drift_block(drift: DriftFigures) -> str:
    lists = [_entities("added", drift.added, drift.added_sample), _entities("removed", drift.removed,
                                                                           drift.removed_sample)]
    if drift.changed is not None:
        lists.append(_entities("changed", drift.changed, drift.changed_sample))
    ignored = f" Ignored fields: {e(', '.join(drift.ignored))}." if drift.ignored else ""
    where = (f" of environment <strong>{e(drift.previous_env)}</strong> (<code>{e(drift.previous_target)}</code>)"
             if drift.previous_env else "")
    return (f'<p class="muted">Compared with run <code>{e(drift.previous_run)}</code>{where}.{ignored}</p>'
            f'<div class="drift-lists">{"".join(lists)}</div>')


def _drift(run: RunArtifact, anchors: dict[str, str]) -> str:
    queries = drifted(run)
    if not queries:
        body = ('<p class="muted">No drift figures: no query has an earlier successful run with the same spec.'
                "</p>")
    else:
        rows = []
        for query in queries:
            drift = query.drift
            assert drift is not None
            changed = "—" if drift.changed is None else f"{drift.changed:,}"
            env = f" ({e(drift.previous_env)})" if drift.previous_env else ""
            rows.append(f'<tr><td><a href="#{anchors[query.name]}">{e(query.name)}</a></td>'
                        f"<td><code>{e(drift.previous_run)}</code>{env}</td>"
                        f'<td class="num added">+{drift.added:,}</td>'
                        f'<td class="num removed">−{drift.removed:,}</td><td class="num changed">{changed}</td></tr>')
        body = ('<div class="table-wrap"><table><thead><tr><th>query</th><th>previous run (environment)</th>'
                '<th class="num">added</th><th class="num">removed</th><th class="num">changed</th></tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table></div>')
    return f'<section id="drift"><h2>Drift since the previous run</h2><div class="panel">{body}</div></section>'


def _facts(query: QueryRun) -> str:
    facts = [("rows", rows_text(query.rows)), ("time", seconds_text(query.seconds)),
             ("result age", age_text(query.result_age_seconds)), ("request mode", query.mode or "—"),
             ("polls", str(query.polls)), ("file", query.file or "—"), ("spec hash", query.spec_hash[:16]),
             ("query result id", query.query_result_id or "—")]
    if query.owner:
        facts.append(("owner", query.owner))
    cells = "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in facts)
    return f'<dl class="facts">{cells}</dl>'


def _expectations(query: QueryRun) -> str:
    if not query.expectations:
        return ""
    rows = []
    for outcome in query.expectations:
        tone = f' class="failed-{outcome.severity}"' if outcome.failed else ""
        actual = "—" if outcome.actual is None else str(outcome.actual)
        rows.append(f"<tr{tone}><td>{e(outcome.metric)}</td><td>{e(bounds_text(outcome.bounds))}</td>"
                    f"<td>{e(outcome.severity)}</td><td>{e(outcome.outcome)}</td><td class=\"num\">{actual}</td>"
                    f"<td>{e(outcome.message)}</td></tr>")
    return ('<div class="table-wrap"><table class="expectations"><thead><tr><th>expectation</th><th>bounds</th>'
            '<th>severity</th><th>outcome</th><th class="num">actual</th><th>message</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _links(query: QueryRun) -> str:
    if not query.results_file:
        return ""
    csv = query.results_file.removesuffix(".jsonl") + ".csv"
    return (f'<p class="muted">Results: <a href="{e(query.results_file)}">{e(query.results_file)}</a> · '
            f'<a href="{e(csv)}">CSV</a></p>')


def _query(query: QueryRun, ident: str, history: History, run_id: str) -> str:
    errors = any(o.severity == "error" for o in query.failed_expectations)
    tone = " has-failure" if query.status != "succeeded" or errors else (
        " has-warning" if query.failed_expectations else "")
    error = ""
    if query.error is not None:
        request = f" Request id: <code>{e(query.error.request_id)}</code>." if query.error.request_id else ""
        error = f'<div class="error-box"><strong>{e(query.error.category)}</strong>: {e(query.error.message)}' \
                f"{request}</div>"
    description = f'<p class="muted">{e(query.description)}</p>' if query.description else ""
    drift = f"<h4>Drift</h4>{_drift_block(query.drift)}" if query.drift is not None else ""
    points = history.of(query.name)
    trend = f"<h4>Trend</h4>{trend_chart(points, title=query.name, current_run=run_id)}" if points else ""
    spec = (f"<details><summary>Rendered spec</summary><pre>{e(json.dumps(query.spec, indent=2, sort_keys=True))}"
            "</pre></details>") if query.spec is not None else \
        '<p class="muted">This run artifact does not record the rendered spec.</p>'
    return (f'<article class="query{tone}" id="{ident}"><div class="query-head"><h3>{e(query.name)}</h3>'
            f'<span class="badge {e(query.status)}">{e(STATUS_WORDS.get(query.status, query.status))}</span>'
            f'<span class="badge {e(query.cache)}">cache {e(query.cache)}</span>'
            f'<span class="muted">{e(expectation_summary(query))}</span></div>{description}{error}'
            f"{_facts(query)}{_expectations(query)}{drift}"
            f"{trend}{_links(query)}{spec}"
            "</article>")


def render_html(run: RunArtifact, history: History) -> str:
    anchors = {q.name: anchor(i, q.name) for i, q in enumerate(run.queries)}
    tone = "status-interrupted" if run.status == "interrupted" else ("status-bad" if run.exit_code else "")
    queries = "".join(_query(q, anchors[q.name], history, run.run_id) for q in queries_in_order(run.queries))
    stopped = f" · stopped early: {e(run.stopped_because.replace('_', ' '))}" if run.stopped_because else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>vqr run {e(run.run_id)}: {e(run.status)}</title><style>{CSS}</style></head>\n<body>"
        f'<header class="run-header {tone}"><h1>vqr run <code>{e(run.run_id)}</code></h1>'
        f'<p class="meta">{e(run.status)}, exit code {run.exit_code}{stopped} · environment <strong>{e(run.env)}'
        f"</strong> ({e(run.target)}) · {e(when_text(run.started_at))} → {e(when_text(run.finished_at))} · "
        f"{e(seconds_text(run.seconds))}{' · resumed' if run.resumed else ''}</p></header>\n<main>"
        f"{_summary(run)}\n{lifecycle_html(run)}\n"
        f"{_attention(run, anchors)}\n{_rows_chart(run, anchors)}\n{_drift(run, anchors)}\n"
        f'<section id="queries"><h2>Queries</h2>{queries}</section></main>\n'
        f"<footer>Generated by vqr {e(run.vqr_version)} from run.json of run {e(run.run_id)}.</footer>"
        "</body></html>\n")
