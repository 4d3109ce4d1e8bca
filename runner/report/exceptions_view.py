"""A query's accepted exceptions in the reports, placed through `slots.py` in its section: what is accepted until
when, by whom and why, with the rows each matched, and the expired ones, whose rows count again (the report's answer
to "why is it red again?"). The run's unmatched exceptions are listed by `unmatched_lines` (`vqr report` prints them
as warnings).

`exceptions_markdown(query) -> list[str]`, `exceptions_html(query) -> str`, `unmatched_lines(run) -> list[str]`:
pure functions of the loaded run artifact; every text from run.json is escaped for its channel.
"""

from __future__ import annotations

from runner.report.html_escape import e
from runner.report.load import QueryRun, RunArtifact
from runner.report.load_exceptions import AppliedException
from runner.sanitize import markdown_inline, terminal_line

_SAMPLE = 3  # matched entity names shown per exception


def _who(rule: AppliedException) -> str:
    return rule.owner + (f", {rule.ticket}" if rule.ticket else "")


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _names(rule: AppliedException) -> str:
    shown = ", ".join(rule.sample[:_SAMPLE])
    more = rule.matched - min(len(rule.sample), _SAMPLE)
    return shown + (f" and {more:,} more" if shown and more > 0 else "")


def _lines(query: QueryRun) -> list[tuple[str, AppliedException]]:
    """(the headline, the rule), active ones first: what both renderings say, in the same order."""
    figures = query.exceptions
    if figures is None:
        return []
    out = [(f"accepted until {rule.expires}: {_rows(rule.matched)}", rule) for rule in figures.active]
    out += [(f"expired on {rule.expires}" + (f": its {_rows(rule.matched)} "
                                             f"{'counts' if rule.matched == 1 else 'count'} again"
                                             if rule.matched else ""), rule) for rule in figures.expired]
    return out


def exceptions_markdown(query: QueryRun) -> list[str]:
    lines = _lines(query)
    if not lines:
        return []
    accepted = query.exceptions.excepted_rows if query.exceptions else 0
    out = ["", f"Accepted exceptions ({_rows(accepted)} accepted, not counted by the expectations):", ""]
    for headline, rule in lines:
        names = _names(rule)
        out.append(f"- {'⌛' if headline.startswith('expired') else '✅'} **{markdown_inline(headline)}**"
                   f"{' (' + markdown_inline(names) + ')' if names else ''}: {markdown_inline(rule.reason)} "
                   f"({markdown_inline(_who(rule))}; {markdown_inline(rule.entity)}; {markdown_inline(rule.id)})")
    return out


def exceptions_html(query: QueryRun) -> str:
    lines = _lines(query)
    if not lines:
        return ""
    items = []
    for headline, rule in lines:
        expired = headline.startswith("expired")
        names = _names(rule)
        items.append(f'<li class="{"expired" if expired else "accepted"}"><strong>{e(headline)}</strong>'
                     f"{' (' + e(names) + ')' if names else ''}: {e(rule.reason)} "
                     f'<span class="muted">{e(_who(rule))} · {e(rule.entity)} · <code>{e(rule.id)}</code></span>'
                     "</li>")
    accepted = query.exceptions.excepted_rows if query.exceptions else 0
    return (f'<div class="exceptions"><h4>Accepted exceptions</h4><p class="muted">{_rows(accepted)} accepted, not '
            f'counted by the expectations.</p><ul>{"".join(items)}</ul></div>')


def unmatched_lines(run: RunArtifact) -> list[str]:
    """One terminal-safe line per active exception that matched no row in this run."""
    return [terminal_line(f"exception {rule.id} ({rule.owner}, for {rule.query}: {rule.entity}) matched no row in "
                          f"run {run.run_id}: the finding may be fixed (remove it) or the entity is misspelt")
            for rule in run.exceptions_unmatched]
