"""Inline SVG charts for the HTML report: row counts per query (bars) and one query's rows over its last runs (trend).

Pure functions returning HTML text with every label escaped; no scripts, no external references, so the report
stays one self-contained file that renders the same offline. Layout is fluid (viewBox + CSS), for phones too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape as _html_escape
from itertools import pairwise

from runner.report.figures import run_time_text
from runner.sanitize import terminal_text
from runner.state import HistoryPoint


def escape(value: str) -> str:
    """HTML escaping after the terminal channel's (as `html.e`): labels are names from query files."""
    return _html_escape(terminal_text(value))


@dataclass(frozen=True, kw_only=True)
class Bar:
    label: str
    value: int | None  # None: the query produced no result
    status: str  # succeeded | failed | not_run | interrupted: picks the bar's colour
    anchor: str  # id of the query's section, so a bar links to its details


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bar_chart(bars: Sequence[Bar], *, title: str) -> str:
    """One row per query: its name (HTML text, so long names wrap), a proportional SVG bar, and the count.
    Linear scale against the largest count; a non-zero count always gets a visible sliver."""
    top = max((b.value or 0 for b in bars), default=0)
    rows = []
    for bar in bars:
        share = 0.0 if not bar.value or not top else max(0.6, 100.0 * bar.value / top)
        shown = "—" if bar.value is None else f"{bar.value:,}"
        rows.append(
            f'<li class="bar-row status-{escape(bar.status)}">'
            f'<a class="bar-label" href="#{escape(bar.anchor)}">{escape(bar.label)}</a>'
            f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect class="bar-track" x="0" y="0" width="100" height="10"/>'
            f'<rect class="bar-fill" x="0" y="0" width="{_number(share)}" height="10"/></svg>'
            f'<span class="bar-value">{shown}</span></li>')
    body = "".join(rows) or '<li class="empty">no queries</li>'
    return (f'<figure class="chart bar-chart" aria-label="{escape(title)}">'
            f'<figcaption>{escape(title)}</figcaption><ol class="bars">{body}</ol></figure>')


_W, _H, _PAD_X, _PAD_TOP, _PAD_BOTTOM = 320.0, 90.0, 34.0, 10.0, 18.0


def trend_chart(points: Sequence[HistoryPoint], *, title: str, current_run: str) -> str:
    """Rows per run, oldest to newest: a line through successful runs, a red cross for failed ones, a dashed
    line where the spec changed (counts before and after are not comparable), the current run ringed; a legend
    under the chart explains the dashed line and the cross when the chart has them."""
    if not points:
        return f'<p class="trend-empty">No history yet for {escape(title)}.</p>'
    counts = [p.rows for p in points if p.succeeded and p.rows is not None]
    top = max(counts, default=0) or 1
    span = _W - 2 * _PAD_X
    step = span / max(1, len(points) - 1)
    base = _H - _PAD_BOTTOM

    def x_of(index: int) -> float:
        return _PAD_X + (step * index if len(points) > 1 else span / 2)

    def y_of(rows: int) -> float:
        return base - (base - _PAD_TOP) * rows / top

    parts = [f'<line class="axis" x1="{_PAD_X}" y1="{base}" x2="{_W - _PAD_X}" y2="{base}"/>',
             f'<text class="tick" x="{_PAD_X - 4}" y="{_number(_PAD_TOP + 4)}" text-anchor="end">{top:,}</text>',
             f'<text class="tick" x="{_PAD_X - 4}" y="{_number(base)}" text-anchor="end">0</text>']
    line = [f"{_number(x_of(i))},{_number(y_of(p.rows))}" for i, p in enumerate(points)
            if p.succeeded and p.rows is not None]
    for index in range(1, len(points)):
        if points[index].spec_hash != points[index - 1].spec_hash:
            middle = _number(x_of(index) - step / 2)
            parts.append(f'<line class="spec-change" x1="{middle}" y1="{_PAD_TOP}" x2="{middle}" y2="{base}">'
                         f'<title>spec changed before run {escape(points[index].run_id)}</title></line>')
    if len(line) > 1:
        parts.append(f'<polyline class="trend-line" points="{" ".join(line)}"/>')
    for index, point in enumerate(points):
        x = _number(x_of(index))
        label = escape(f"{point.run_id}: {point.state}" + (f", {point.rows:,} rows" if point.rows is not None
                                                            else ""))
        ring = " current" if point.run_id == current_run else ""
        if point.succeeded and point.rows is not None:
            parts.append(f'<circle class="trend-point{ring}" cx="{x}" cy="{_number(y_of(point.rows))}" r="3">'
                         f"<title>{label}</title></circle>")
        else:
            parts.append(f'<path class="trend-fail{ring}" d="M{x} {base} m-3 -3 l6 6 m0 -6 l-6 6">'
                         f"<title>{label}</title></path>")
    legend = _legend(spec_changed=any(p.spec_hash != q.spec_hash for p, q in pairwise(points)),
                     failed=any(not (p.succeeded and p.rows is not None) for p in points))
    first, last = escape(run_time_text(points[0].run_id)), escape(run_time_text(points[-1].run_id))
    parts.append(f'<text class="tick" x="{_PAD_X}" y="{_H - 4}">{first}</text>')
    parts.append(f'<text class="tick" x="{_W - _PAD_X}" y="{_H - 4}" text-anchor="end">{last}</text>')
    return (f'<figure class="chart trend-chart" aria-label="rows over the last {len(points)} runs of '
            f'{escape(title)}"><svg viewBox="0 0 {_number(_W)} {_number(_H)}" role="img">'
            f"<title>rows over the last {len(points)} runs of {escape(title)}</title>{''.join(parts)}</svg>"
            f"<figcaption>rows over the last {len(points)} runs{legend}</figcaption></figure>")


def _legend(*, spec_changed: bool, failed: bool) -> str:
    """A key for the marks that are not self-explanatory, shown only when the chart has them."""
    keys = []
    if spec_changed:
        keys.append('<li class="key-spec-change"><svg viewBox="0 0 8 12" aria-hidden="true"><line class="spec-change"'
                    ' x1="4" y1="0" x2="4" y2="12"/></svg>spec changed: counts on either side are not comparable</li>')
    if failed:
        keys.append('<li class="key-fail"><svg viewBox="0 0 12 12" aria-hidden="true"><path class="trend-fail" '
                    'd="M3 3 l6 6 m0 -6 l-6 6"/></svg>run failed: no count</li>')
    return f'<ul class="legend">{"".join(keys)}</ul>' if keys else ""
