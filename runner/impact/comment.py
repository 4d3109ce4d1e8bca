"""The pull-request comment of `vqr diff --format md`: a summary table of the changed queries, then each query's
details folded, never longer than `limit` characters (what GitHub counts of a comment body).

`format_markdown(report, limit=65_536) -> str` is pure. Its first line is COMMENT_MARKER, which a workflow looks for
to update its one sticky comment. Every string from specs, files or results goes through `markdown_inline`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from runner.impact.formats import ABSENT, expectations_word, paths_changed, rows_text, shown_path, value_text
from runner.model.assessment import EntityRef, Outcome
from runner.model.impact import ImpactReport, Missing, PathChange, ResultDelta, SpecDiff
from runner.model.values import JSONValue
from runner.sanitize import markdown_inline

COMMENT_MARKER = "<!-- vqr:pr-impact -->"
GITHUB_LIMIT = 65_536
VALUE_CHARS = 80  # a value longer than this (as compact JSON) is cut, with an ellipsis: the full one is in `json`
PATH_CHARS = 160  # a longer path keeps its last characters: the leaf is what changed
TEXT_CHARS = 300  # likewise a base or head name, a note, an error message
PATHS_SHOWN = 20  # per group of environments: one query's details stay a screen or two
SAMPLE_SHOWN = 5
_ESCAPED = re.compile(r"\\(.)")


def md(text: object, chars: int = TEXT_CHARS) -> str:
    """Untrusted text for Markdown, cut to `chars` characters first (so an escape is never cut in half)."""
    return markdown_inline(_cut(str(text), chars))


def html(text: object) -> str:
    """Untrusted text inside raw HTML (a `<summary>`), where a backslash escape would show as a backslash:
    `markdown_inline`'s output with each `\\X` as the entity `&#N;`, inert whether or not Markdown is parsed there."""
    return _ESCAPED.sub(lambda match: f"&#{ord(match.group(1))};", md(text))


def code(value: JSONValue | Missing) -> str:
    """A value as inline code. `<code>` rather than backticks: inside it `markdown_inline`'s escapes still apply,
    so no backtick, `|`, newline or `</details>` in the value can end the code, the table cell or the fold."""
    if isinstance(value, Missing):
        return f"_{ABSENT}_"
    return f"<code>{md(value_text(value), VALUE_CHARS)}</code>"


def _tail(text: str, chars: int) -> str:
    """A long path keeps its end, where the changed field is named."""
    return text if len(text) <= chars else "…" + text[-(chars - 1):]


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _plural(count: int, word: str, words: str = "") -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {words or word + 's'}"


def _envs(diff: SpecDiff) -> str:
    return ", ".join(env for group in diff.envs for env in group.envs)


def _header(report: ImpactReport) -> list[str]:
    counts = report.counts()
    return [COMMENT_MARKER, "## vqr diff: the queries this change affects", "",
            f"Base **{md(report.base)}** → head **{md(report.head)}**; environments: "
            f"{md(', '.join(report.envs)) or 'none'}.", "",
            f"{_plural(len(report.diffs), 'query', 'queries')} changed: {counts['new']} new, "
            f"{counts['modified']} modified, {counts['removed']} removed."]


def _columns(with_run: bool) -> list[str]:
    basic = ["query", "change", "environments", "paths"]
    return [*basic, "rows", "+added / −removed", "expectations"] if with_run else basic


def _table_head(with_run: bool) -> list[str]:
    columns = _columns(with_run)
    align = ["---:" if c in {"paths", "rows"} else "---" for c in columns]
    return ["", "| " + " | ".join(columns) + " |", "| " + " | ".join(align) + " |"]


def _row(diff: SpecDiff, delta: ResultDelta | None, with_run: bool) -> str:
    cells = [md(diff.name), diff.change.value, md(_envs(diff)), str(paths_changed(diff))]
    if with_run:
        cells += ["–", "–", "–"] if delta is None else [
            md(f"{rows_text(delta.before)} → {rows_text(delta.after)}"), f"+{delta.added:,} / −{delta.removed:,}",
            f"{expectations_word(delta.before)} → {expectations_word(delta.after)}"]
    return "| " + " | ".join(cells) + " |"


def _details(diff: SpecDiff, delta: ResultDelta | None) -> list[str]:
    summary = f"<b>{html(diff.name)}</b>: {diff.change.value}, {_plural(paths_changed(diff), 'path')} changed"
    moved = f" (was {md(diff.base_file)})" if diff.base_file and diff.base_file != diff.file else ""
    lines = ["", f"<details><summary>{summary}</summary>", "", f"File: {md(diff.file)}{moved}"]
    for group in diff.envs:
        lines += ["", f"**{md(', '.join(group.envs))}**", "", *_changes(group.changes)]
    if delta is not None:
        lines += _delta(delta)
    return [*lines, "", "</details>"]


def _changes(changes: Sequence[PathChange]) -> list[str]:
    lines = [f"- <code>{md(_tail(shown_path(c.path), PATH_CHARS))}</code>: {code(c.old)} → {code(c.new)}"
             for c in changes[:PATHS_SHOWN]]
    if len(changes) > PATHS_SHOWN:
        lines.append(f"- …and {_plural(len(changes) - PATHS_SHOWN, 'more path')} (see the full report)")
    return lines


def _delta(delta: ResultDelta) -> list[str]:
    rows = md(f"{rows_text(delta.before)} → {rows_text(delta.after)}")
    lines = ["", f"**Result in {md(delta.env)}:** rows {rows}, "
                 f"{delta.added:,} added, {delta.removed:,} removed, {delta.changed:,} changed; expectations "
                 f"{expectations_word(delta.before)} → {expectations_word(delta.after)}", ""]
    for label, side in (("before", delta.before), ("after", delta.after)):
        if side is not None and side.error:
            lines.append(f"- error {label}: {md(side.error)}")
    for label, sample, total in (("added", delta.added_sample, delta.added),
                                 ("removed", delta.removed_sample, delta.removed),
                                 ("changed", delta.changed_sample, delta.changed)):
        lines += [f"- {label}: {_entity(entity)}" for entity in sample[:SAMPLE_SHOWN]]
        if total > min(len(sample), SAMPLE_SHOWN):
            lines.append(f"- …{total - min(len(sample), SAMPLE_SHOWN):,} more {label} (see the full report)")
    for label, side in (("before", delta.before), ("after", delta.after)):
        lines += [f"- expectation {label}: {_outcome(outcome)}" for outcome in (side.expectations if side else ())]
    return lines if lines[-1] else lines[:-1]


def _entity(entity: EntityRef) -> str:
    name = f" {md(entity.name)}" if entity.name else ""
    fields = f" ({md(', '.join(entity.fields))})" if entity.fields else ""
    return f"<code>{md(entity.key, VALUE_CHARS)}</code>{name}{fields}"


def _outcome(outcome: Outcome) -> str:
    bounds = ", ".join(f"{key} {value}" for key, value in sorted(outcome.bounds.items()))
    actual = "" if outcome.actual is None else f", actual {outcome.actual:,}"
    return (f"{md(outcome.metric)} {md(bounds)} ({outcome.severity.value}): **{outcome.verdict.value}**{actual}"
            f"{': ' + md(outcome.message) if outcome.message else ''}")


def _left_out(limit: int, rows: int, details: int, notes: int) -> str:
    parts = [text for count, text in ((rows, f"{_plural(rows, 'row')} of the summary table"),
                                      (details, f"details of {_plural(details, 'query', 'queries')}"),
                                      (notes, _plural(notes, "note"))) if count]
    return (f"_{' and '.join(parts)} left out: the comment limit is {limit:,} characters; run `vqr diff` locally "
            "or see the job's artifact for the full report._")


def format_markdown(report: ImpactReport, *, limit: int = GITHUB_LIMIT) -> str:
    """One comment body of at most `limit` characters: header, notes (warnings the reader must see first), summary
    table, then as many query details as fit (in table order); a closing note says exactly what was left out."""
    if limit < len(COMMENT_MARKER) + 1:
        raise ValueError(f"a comment limit of {limit} characters cannot hold the marker {COMMENT_MARKER!r}")
    header = _header(report)
    notes = [f"- ⚠️ {md(note)}" for note in report.notes]
    if not report.diffs:
        text = "\n".join([*header[:-1], "This change touches no query's rendered create body.",
                          *_blocks_of(notes)]) + "\n"
        return text if len(text) <= limit else _fallback(limit, 0, 0, len(notes))
    with_run = bool(report.deltas)
    rows = [_row(d, report.deltas.get(d.name), with_run) for d in report.diffs]
    details = [_details(d, report.deltas.get(d.name)) for d in report.diffs]
    whole = "\n".join([*header, *_blocks_of(notes), *_table_head(with_run), *rows,
                       *(line for d in details for line in d)]) + "\n"
    return whole if len(whole) <= limit else _budgeted(limit, header, _table_head(with_run), rows, notes, details)


def _blocks_of(notes: list[str]) -> list[str]:
    return ["", *notes] if notes else []


@dataclass
class _Budget:
    """What is left of the limit, and the lines taken so far (each costs its length and a line break)."""

    room: int
    lines: list[str] = field(default_factory=list)

    def take(self, block: Sequence[str]) -> bool:
        cost = sum(len(line) + 1 for line in block)
        if cost > self.room:
            return False
        self.lines += block
        self.room -= cost
        return True

    def take_while(self, blocks: Iterable[Sequence[str]]) -> int:
        """Blocks in order until one does not fit; how many were taken."""
        taken = 0
        for block in blocks:
            if not self.take(block):
                break
            taken += 1
        return taken


def _budgeted(limit: int, header: list[str], table_head: list[str], rows: list[str], notes: list[str],
              details: list[list[str]]) -> str:
    """Notes first (warnings), then rows, then details, each in order while it fits beside the closing note, whose
    room is reserved at its longest (every count at its maximum) so that the total never exceeds `limit`."""
    longest = _left_out(limit, len(rows), len(details), len(notes))
    budget = _Budget(room=limit - len(longest) - 2)  # the closing note, a blank line before it, a line break after
    if not budget.take(header):
        return _fallback(limit, len(rows), len(details), len(notes))
    shown_notes = budget.take_while(["", note] if not index else [note] for index, note in enumerate(notes))
    shown_rows = shown_details = 0
    if shown_notes == len(notes) and budget.take(table_head):
        shown_rows = budget.take_while([row] for row in rows)
    if shown_rows == len(rows) and shown_notes == len(notes):
        shown_details = budget.take_while(details)
    closing = _left_out(limit, len(rows) - shown_rows, len(details) - shown_details, len(notes) - shown_notes)
    return "\n".join([*budget.lines, "", closing]) + "\n"


def _fallback(limit: int, rows: int, details: int, notes: int) -> str:
    """The marker and the closing note alone, the note cut to what is left (a limit too small for the table)."""
    room = limit - len(COMMENT_MARKER) - 2  # the two line breaks
    if room < 2:
        return COMMENT_MARKER + "\n"
    return f"{COMMENT_MARKER}\n{_cut(_left_out(limit, rows, details, notes), room)}\n"
