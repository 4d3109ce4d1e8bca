"""The HTML report's stylesheet, inlined into every report so the file needs nothing else (no CDN, no fonts).

A constant; no I/O. Mobile first: one column on a phone (tables marked `stack` become labelled rows there), grids
from 700 px, a readable measure at 1280 px; light and dark colour schemes.
"""

from __future__ import annotations

CSS = """
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --ink: #1c2430; --muted: #5b6675; --line: #dde2e8;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --idle: #6e7781; --accent: #0969da; --track: #eef1f4;
  --bad-bg: #ffebe9; --warn-bg: #fff8c5; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --card: #161b22; --ink: #e6edf3; --muted: #9da7b3; --line: #30363d; --ok: #3fb950;
    --bad: #f85149; --warn: #d29922; --idle: #8b949e; --accent: #58a6ff; --track: #21262d; --bad-bg: #3b1218;
    --warn-bg: #3a2d0b; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.45;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 28px 0 10px; }
h3 { font-size: 1.05rem; margin: 0; overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85em; }
a { color: var(--accent); }
.meta { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
.run-header { border-left: 6px solid var(--ok); background: var(--card); border-radius: 6px; margin-top: 12px; }
.run-header.status-bad { border-left-color: var(--bad); }
.run-header.status-interrupted { border-left-color: var(--warn); }
.cards { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; padding: 0; list-style: none; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .figure { display: block; font-size: 1.6rem; font-weight: 650; }
.card .label { color: var(--muted); font-size: 0.85rem; }
.card.bad .figure { color: var(--bad); }
.card.warn .figure { color: var(--warn); }
.card.ok .figure { color: var(--ok); }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.attention li { margin: 4px 0; overflow-wrap: anywhere; }
.attention .error { background: var(--bad-bg); border-left: 4px solid var(--bad); padding: 4px 8px; list-style: none; }
.attention .warn { background: var(--warn-bg); border-left: 4px solid var(--warn); padding: 4px 8px;
  list-style: none; }
.attention ul { padding: 0; }
.chart { margin: 0; }
.chart figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 4px; }
.bars { list-style: none; margin: 0; padding: 0; }
.bar-row { display: grid; grid-template-columns: minmax(0, 1fr) 5.5em; grid-template-areas: "label value"
  "bar bar"; gap: 2px 8px; align-items: center; padding: 4px 0; border-bottom: 1px solid var(--line); }
.bar-label { grid-area: label; overflow-wrap: anywhere; }
.bar-value { grid-area: value; text-align: right; font-variant-numeric: tabular-nums; }
.bar { grid-area: bar; width: 100%; height: 12px; display: block; }
.bar-track { fill: var(--track); }
.bar-fill { fill: var(--accent); }
.status-failed .bar-fill, .status-interrupted .bar-fill { fill: var(--bad); }
.status-not_run .bar-fill { fill: var(--idle); }
.trend-chart svg { width: 100%; max-width: 520px; height: auto; display: block; }
.trend-line { fill: none; stroke: var(--accent); stroke-width: 1.5; }
.trend-point { fill: var(--accent); }
.trend-point.current { stroke: var(--ink); stroke-width: 1.5; }
.trend-fail { stroke: var(--bad); stroke-width: 1.8; fill: none; }
.spec-change { stroke: var(--muted); stroke-dasharray: 3 3; }
.axis { stroke: var(--line); }
.tick { fill: var(--muted); font-size: 9px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top;
  overflow-wrap: break-word; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; overflow-wrap: normal; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.drift-table { table-layout: fixed; }
.drift-table col.count { width: 6em; }
.since { display: block; color: var(--muted); font-size: 0.8rem; }
.legend { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; }
.legend li { display: inline-flex; align-items: center; gap: 6px; }
.legend svg { width: 12px; height: 12px; flex: none; }
.owners { display: grid; grid-template-columns: minmax(0, 1fr); gap: 10px; }
.owner h3 { overflow-wrap: break-word; }
.owner p { margin: 2px 0 6px; overflow-wrap: anywhere; }
.owner ul { margin: 0; padding-left: 18px; }
.owner li { margin: 2px 0; }
.owner.bad { border-left: 5px solid var(--bad); }
.owner.warn { border-left: 5px solid var(--warn); }
tr.failed-error td { background: var(--bad-bg); }
tr.failed-warn td { background: var(--warn-bg); }
.badge { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 0.8rem; font-weight: 600;
  border: 1px solid currentColor; white-space: nowrap; }
.badge.succeeded { color: var(--ok); } .badge.failed { color: var(--bad); }
.badge.not_run { color: var(--idle); } .badge.interrupted { color: var(--warn); }
.badge.hit { color: var(--accent); } .badge.miss, .badge.unknown { color: var(--idle); }
.query { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  margin: 8px 0; }
.query > p { margin: 6px 0; }
.query.has-failure { border-left: 5px solid var(--bad); }
.query.has-warning { border-left: 5px solid var(--warn); }
.query-head { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; }
.facts { display: flex; flex-wrap: wrap; gap: 2px 18px; margin: 8px 0; }
.facts div { display: flex; gap: 6px; align-items: baseline; min-width: 0; max-width: 100%; }
.facts dt { color: var(--muted); font-size: 0.8rem; white-space: nowrap; }
.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.drift-line { margin: 8px 0 0; overflow-wrap: break-word; }
.error-box { background: var(--bad-bg); border-left: 4px solid var(--bad); padding: 6px 10px; margin: 8px 0;
  overflow-wrap: anywhere; }
details { margin-top: 8px; }
.query-body > summary { color: var(--muted); }
summary { cursor: pointer; color: var(--accent); }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow-x: auto;
  max-height: 480px; }
.drift-lists { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px 16px; }
.drift-lists h4 { margin: 6px 0 2px; font-size: 0.9rem; }
.query h4 { margin: 12px 0 4px; font-size: 0.95rem; }
.drift-lists ul { margin: 0; padding-left: 18px; }
.drift-lists li { overflow-wrap: anywhere; }
.added { color: var(--ok); } .removed { color: var(--bad); } .changed { color: var(--warn); }
.muted { color: var(--muted); }
.exceptions ul { margin: 0; padding-left: 18px; } .exceptions li { overflow-wrap: anywhere; }
.exceptions li.accepted::marker { color: var(--ok); } .exceptions li.expired::marker { color: var(--bad); }
footer { color: var(--muted); font-size: 0.8rem; }
@media (max-width: 699.98px) {
  th, td { padding: 5px 4px; }
  th { font-size: 0.75rem; white-space: normal; }
  .drift-table col.count { width: 4.8em; }
  /* A phone stacks a table's rows: each cell on its own line, labelled with its column's name. */
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table.stack, table.stack tbody, table.stack tr { display: block; width: 100%; }
  table.stack tr { border-bottom: 1px solid var(--line); padding: 4px 0; }
  table.stack td { display: grid; grid-template-columns: 6.5em minmax(0, 1fr); gap: 8px; border: 0; padding: 1px 4px;
    text-align: left; }
  table.stack td::before { content: attr(data-label); color: var(--muted); font-size: 0.8rem; }
}
@media (min-width: 700px) {
  .owners { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .cards { grid-template-columns: repeat(4, minmax(0, 1fr)); }
  .drift-lists { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  .bar-row { grid-template-columns: minmax(10em, 28%) minmax(0, 1fr) 6em; grid-template-areas: "label bar value"; }
}
@media (min-width: 1100px) {
  .cards { grid-template-columns: repeat(8, minmax(0, 1fr)); }
  .since { display: inline; margin-left: 10px; }
  .owners { grid-template-columns: repeat(3, minmax(0, 1fr)); }
}
@media print { details { display: block; } .query { break-inside: avoid; } }
"""
