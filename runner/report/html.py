"""`report.html`: one self-contained page (inline CSS and SVG, no script, no network) for a person to read.

`render_html(run, history) -> str` is pure. Sections: summary cards, the lifecycle slot (slots.py), what needs
attention (by severity: queries that did not succeed, failed error expectations, warnings), a panel per owner, a bar
chart of rows per query, drift (entities added, removed, changed), then each query (html_query.py). All data is
escaped; at 390 px no table scrolls sideways and names wrap only after their separators.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from runner.report.charts import Bar, bar_chart
from runner.report.figures import (
    STATUS_WORDS,
    attention,
    bounds_text,
    drifted,
    expectation_summary,
    headline,
    queries_in_order,
    request_message,
    run_time_text,
    seconds_text,
    signed,
    when_text,
)
from runner.report.html_assets import CSS
from runner.report.html_escape import e
from runner.report.html_query import cell, name, query_section
from runner.report.load import RunArtifact
from runner.report.owners import parts, status_word
from runner.report.pacing_view import pacing_chart, pacing_sentence
from runner.report.slots import lifecycle_html
from runner.state import History

# No script, no remote anything: the browser enforces what the renderer promises.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")

__all__ = ["CSP", "anchor", "e", "render_html"]


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
        _card(f"{signed(added, '+')} {signed(removed, '−')}", "drift (entities)"),
    ]
    pacing = (f'<p class="meta pacing">Pacing: {e(pacing_sentence(run.pacing, len(run.queries)))}</p>'
              f"{pacing_chart(run.pacing, run.seconds)}" if run.pacing is not None else "")
    return (f'<section id="summary" aria-label="summary"><ul class="cards">{"".join(cards)}</ul>'
            f'<p class="meta">{e(headline(run))}</p>{pacing}</section>')


def _attention(run: RunArtifact, anchors: dict[str, str]) -> str:
    """The worst first. A failed query's request id is in its own section (once), not repeated here."""
    items = []
    for query, outcome in attention(run):
        link = f'<a href="#{anchors[query.name]}">{name(query.name)}</a>'
        if outcome is None:
            detail = f": {e(query.error.category)}: {e(request_message(query.error))}" if query.error else ""
            items.append(f'<li class="error">{link} <strong>{e(STATUS_WORDS.get(query.status, query.status))}'
                         f"</strong>{detail}</li>")
        else:
            items.append(f'<li class="{outcome.severity}">{link}: <strong>{e(outcome.metric)} '
                         f"{e(bounds_text(outcome.bounds))}</strong> ({outcome.severity}): {e(outcome.message)}</li>")
    body = f'<ul>{"".join(items)}</ul>' if items else '<p class="muted">Nothing: every query succeeded and every ' \
                                                      "expectation held.</p>"
    return f'<section id="attention"><h2>Needs attention</h2><div class="panel attention">{body}</div></section>'


def _owners(run: RunArtifact, anchors: dict[str, str]) -> str:
    """A panel per owner: their queries that need attention, linked to their sections, how many are all clear, and
    their part's file."""
    panels = []
    for part in parts(run):
        worst = queries_in_order(part.needing_attention())
        items = "".join(
            f'<li><a href="#{anchors[q.name]}">{name(q.name)}</a> <span class="muted">'
            f"{e(status_word(q) if q.status != 'succeeded' else expectation_summary(q))}</span></li>" for q in worst)
        rest = len(part.queries) - len(worst)
        if rest:
            items += f'<li class="muted">{"and " if worst else ""}{rest} all clear</li>'
        tone = " bad" if part.failed() or part.errors() else (" warn" if part.warnings() else "")
        panels.append(f'<div class="panel owner{tone}"><h3>{name(part.title)}</h3><p class="muted">'
                      f"{e(part.counts_text())} · <code>{e(part.file)}</code></p><ul>{items}</ul></div>")
    if not panels:
        return ""
    return f'<section id="owners"><h2>By owner</h2><div class="owners">{"".join(panels)}</div></section>'


def _rows_chart(run: RunArtifact, anchors: dict[str, str]) -> str:
    bars = [Bar(label=q.name, value=q.rows, status=q.status, anchor=anchors[q.name]) for q in run.queries]
    chart = bar_chart(bars, title=f"rows per query ({run.total_rows:,} in total)")
    return f'<section id="rows"><h2>Rows per query</h2><div class="panel">{chart}</div></section>'


def _drift(run: RunArtifact, anchors: dict[str, str]) -> str:
    queries = drifted(run)
    if not queries:
        body = ('<p class="muted">No drift figures: no query has an earlier successful run with the same spec.'
                "</p>")
    else:
        rows = []
        still = [q for q in queries if q.drift and not (q.drift.added or q.drift.removed or q.drift.changed)]
        # By name, which is unique in a run: `query in still` compared whole dataclasses, O(n²) deep comparisons
        # that took 16% of merging 2,000 queries.
        unmoved = {q.name for q in still}
        for query in queries:
            drift = query.drift
            assert drift is not None
            if query.name in unmoved:
                continue
            changed = "—" if drift.changed is None else f"{drift.changed:,}"
            env = f" · {e(drift.previous_env)}" if drift.previous_env else ""
            # The previous run goes under the name, as a time: its own column pushed "changed" off a phone's screen.
            since = (f'<span class="since" title="{e(drift.previous_run)}">vs {e(run_time_text(drift.previous_run))}'
                     f"{env}</span>")
            link = f'<a href="#{anchors[query.name]}">{name(query.name)}</a>'
            rows.append(f'<tr>{cell("query", link + since)}{cell("added", signed(drift.added, "+"), "num added")}'
                        f'{cell("removed", signed(drift.removed, "−"), "num removed")}'
                        f'{cell("changed", changed, "num changed")}</tr>')
        body = ('<div class="table-wrap"><table class="drift-table"><colgroup><col><col class="count"><col '
                'class="count"><col class="count"></colgroup><thead><tr><th>query (previous run)</th>'
                '<th class="num">added</th><th class="num">removed</th><th class="num">changed</th></tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table></div>') if rows else ""
        if still:  # one line for the queries that did not move: a table row each made the page long for nothing
            body += (f'<p class="muted">No entity added, removed or changed in {len(still)} of {len(queries)} '
                     "compared queries: " + ", ".join(f'<a href="#{anchors[q.name]}">{name(q.name)}</a>'
                                                      for q in still) + ".</p>")
    return f'<section id="drift"><h2>Drift since the previous run</h2><div class="panel">{body}</div></section>'


def render_html(run: RunArtifact, history: History) -> str:
    return "".join(html_chunks(run, history))


def html_chunks(run: RunArtifact, history: History) -> Iterator[str]:
    """report.html a piece at a time (one per query section), so writing it never holds the whole page."""
    anchors = {q.name: anchor(i, q.name) for i, q in enumerate(run.queries)}
    tone = "status-interrupted" if run.status == "interrupted" else ("status-bad" if run.exit_code else "")
    stopped = f" · stopped early: {e(run.stopped_because.replace('_', ' '))}" if run.stopped_because else ""
    yield (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>vqr run {e(run.run_id)}: {e(run.status)}</title><style>{CSS}</style></head>\n<body>"
        f'<header class="run-header {tone}"><h1>vqr run <code>{e(run.run_id)}</code></h1>'
        f'<p class="meta">{e(run.status)}, exit code {run.exit_code}{stopped} · environment <strong>{e(run.env)}'
        f"</strong> ({e(run.target)}) · {e(when_text(run.started_at))} → {e(when_text(run.finished_at))} · "
        f"{e(seconds_text(run.seconds))}{' · resumed' if run.resumed else ''}</p></header>\n<main>"
        f"{_summary(run)}\n{lifecycle_html(run)}{_attention(run, anchors)}\n{_owners(run, anchors)}\n"
        f"{_rows_chart(run, anchors)}\n{_drift(run, anchors)}\n"
        '<section id="queries"><h2>Queries</h2>')
    for q in queries_in_order(run.queries):
        yield query_section(q, anchors[q.name], history, run.run_id)
    yield ('</section></main>\n'
           f"<footer>Generated by vqr {e(run.vqr_version)} from run.json of run {e(run.run_id)}.</footer>"
           "</body></html>\n")
