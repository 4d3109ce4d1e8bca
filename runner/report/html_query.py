"""One query's section of report.html: its head and badges, error, facts, expectations, drift, trend, links and
rendered spec; and the escaping and name-wrapping the whole page shares.

`query_section(query, ident, history, run_id) -> str` is pure. The drift entities are folded in `<details>` and
capped at SAMPLE_SHOWN per kind (run.json keeps up to 50 of each), and a query that needs no attention shows only
its head and a one-line glance, the rest folded: unfolded, a 15-query page was 29,000 px tall. Tables stack into
labelled rows on a phone (`table.stack` in html_assets), so none scrolls sideways.
"""

from __future__ import annotations

import json
import re
from html import escape

from runner.report.charts import trend_chart
from runner.report.figures import (
    STATUS_WORDS,
    bounds_text,
    drift_text,
    expectation_summary,
    request_message,
    result_age_text,
    rows_text,
    seconds_text,
    signed,
)
from runner.report.html_escape import e
from runner.report.load import DriftFigures, Entity, QueryRun
from runner.report.owners import owners_of
from runner.report.slots import exceptions_html
from runner.sanitize import terminal_text
from runner.state import History

SAMPLE_SHOWN = 10
_BREAK_AFTER = re.compile(r"([-_./:@]+)")


def name(value: object) -> str:
    """An escaped name that may wrap after its separators (`aws-iam-roles` at the hyphens), never inside a word."""
    # Split after the terminal channel's escaping (and key redaction) of the whole value, so neither runs twice.
    return "".join(escape(piece, quote=True) + ("<wbr>" if _BREAK_AFTER.fullmatch(piece) else "")
                   for piece in _BREAK_AFTER.split(terminal_text(value)) if piece)


def cell(label: str, content: str, css: str = "") -> str:
    """A table cell that carries its column's name, shown beside the value when the table stacks on a phone."""
    classes = f' class="{css}"' if css else ""
    return f'<td{classes} data-label="{e(label)}">{content}</td>'


def _facts(query: QueryRun) -> str:
    facts = [("rows", rows_text(query.rows)), ("time", seconds_text(query.seconds)),
             ("result age", result_age_text(query)), ("request mode", query.mode or "—"),
             ("polls", str(query.polls)), ("file", query.file or "—"), ("spec hash", query.spec_hash[:16]),
             ("query result id", query.query_result_id or "—")]
    owners = owners_of(query)
    facts.append(("owner" if len(owners) == 1 else "owners", ", ".join(owners) or "nobody (unowned)"))
    cells = "".join(f"<div><dt>{e(k)}</dt><dd>{name(v)}</dd></div>" for k, v in facts)
    return f'<dl class="facts">{cells}</dl>'


def _expectations(query: QueryRun) -> str:
    if not query.expectations:
        return ""
    rows = []
    for outcome in query.expectations:
        tone = f' class="failed-{outcome.severity}"' if outcome.failed else ""
        actual = "—" if outcome.actual is None else str(outcome.actual)
        rows.append(f"<tr{tone}>{cell('expectation', e(outcome.metric))}"
                    f"{cell('bounds', e(bounds_text(outcome.bounds)))}{cell('severity', e(outcome.severity))}"
                    f"{cell('outcome', e(outcome.outcome))}{cell('actual', actual, 'num')}"
                    f"{cell('message', e(outcome.message))}</tr>")
    return ('<div class="table-wrap"><table class="expectations stack"><thead><tr><th>expectation</th><th>bounds'
            '</th><th>severity</th><th>outcome</th><th class="num">actual</th><th>message</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _entities(kind: str, total: int, sample: tuple[Entity, ...]) -> str:
    items = []
    for entity in sample[:SAMPLE_SHOWN]:
        label = f" <span class=\"muted\">{e(entity.name)}</span>" if entity.name else ""
        fields = f" <span class=\"muted\">({e(', '.join(entity.fields))})</span>" if entity.fields else ""
        items.append(f"<li><code>{name(entity.id)}</code>{label}{fields}</li>")
    shown = min(len(sample), SAMPLE_SHOWN)
    more = f'<li class="muted">…and {total - shown:,} more</li>' if total > shown else ""
    return (f'<div><h4 class="{kind}">{e(kind)}: {total:,}</h4>'
            f'<ul>{"".join(items)}{more}</ul></div>') if total else f'<div><h4 class="{kind}">{e(kind)}: 0</h4></div>'


def _drift_block(drift: DriftFigures) -> str:
    lists = [_entities("added", drift.added, drift.added_sample), _entities("removed", drift.removed,
                                                                           drift.removed_sample)]
    if drift.changed is not None:
        lists.append(_entities("changed", drift.changed, drift.changed_sample))
    ignored = f" Ignored fields: {e(', '.join(drift.ignored))}." if drift.ignored else ""
    where = (f" of environment <strong>{e(drift.previous_env)}</strong> (<code>{name(drift.previous_target)}</code>)"
             if drift.previous_env else "")
    figures = f"{signed(drift.added, '+')} {signed(drift.removed, '−')}" + (
        f" {signed(drift.changed, '~')}" if drift.changed is not None else "")
    compared = (f'<p class="drift-line"><strong>Drift {e(figures)}</strong> <span class="muted">against run '
                f"<code>{name(drift.previous_run)}</code>{where}.{ignored}</span></p>")
    if not (drift.added or drift.removed or drift.changed):
        return compared
    return (f'{compared}<details class="drift-details"><summary>the entities (up to {SAMPLE_SHOWN} of each)'
            f'</summary><div class="drift-lists">{"".join(lists)}</div></details>')


def _links(query: QueryRun) -> str:
    if not query.results_file:
        return ""
    csv = query.results_file.removesuffix(".jsonl") + ".csv"
    return (f'<p class="muted">Results: <a href="{e(query.results_file)}">{name(query.results_file)}</a> · '
            f'<a href="{e(csv)}">CSV</a></p>')


def _error(query: QueryRun) -> str:
    if query.error is None:
        return ""
    request = f" Request id: <code>{name(query.error.request_id)}</code>." if query.error.request_id else ""
    return (f'<div class="error-box"><strong>{e(query.error.category)}</strong>: '
            f"{e(request_message(query.error))}{request}</div>")


def query_section(query: QueryRun, ident: str, history: History, run_id: str) -> str:
    """The query's head, error and exception marks always show; the rest is folded unless the query needs
    attention (it did not succeed, or an expectation failed): fifteen open sections made the page 11,000 px tall."""
    errors = any(o.severity == "error" for o in query.failed_expectations)
    needs_attention = query.status != "succeeded" or bool(query.failed_expectations)
    tone = " has-failure" if query.status != "succeeded" or errors else (
        " has-warning" if query.failed_expectations else "")
    description = f'<p class="muted">{e(query.description)}</p>' if query.description else ""
    drift = _drift_block(query.drift) if query.drift is not None else ""
    points = history.of(query.name)
    trend = f"<h4>Trend</h4>{trend_chart(points, title=query.name, current_run=run_id)}" if points else ""
    spec = (f"<details><summary>Rendered spec</summary><pre>{e(json.dumps(query.spec, indent=2, sort_keys=True))}"
            "</pre></details>") if query.spec is not None else \
        '<p class="muted">This run artifact does not record the rendered spec.</p>'
    glance = f"{rows_text(query.rows)} rows · {seconds_text(query.seconds)} · drift {drift_text(query)}"
    return (f'<article class="query{tone}" id="{ident}"><div class="query-head"><h3>{name(query.name)}</h3>'
            f'<span class="badge {e(query.status)}">{e(STATUS_WORDS.get(query.status, query.status))}</span>'
            f'<span class="badge {e(query.cache)}">cache {e(query.cache)}</span>'
            f'<span class="muted">{e(expectation_summary(query))}</span></div>{description}{_error(query)}'
            f"{exceptions_html(query)}"
            f'<details class="query-body"{" open" if needs_attention else ""}><summary>{e(glance)}</summary>'
            f"{_facts(query)}{_expectations(query)}{drift}{trend}{_links(query)}{spec}</details>"
            "</article>")
