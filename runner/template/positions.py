"""Where a template problem is reported: a `Violation` (template line, maybe the failing name) in a string value of a
`Document` → a `Finding` at the file's line and column, through the loader's per-style line map (`Document.lines`)
and per-character map (`Document.chars`). Pure; never a line computed as if every scalar were a block scalar.
"""

from __future__ import annotations

import re

from runner.model import CharMap, Document, Finding, JSONPath, Position, Severity
from runner.template.survey import Violation

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as Jinja counts template lines
_TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def finding_at(doc: Document, path: JSONPath, text: str, problem: Violation) -> Finding:
    """At the value; in a value of several lines, at the start of the template's own line as the loader mapped it
    for the scalar's style (`Document.lines`), else at the value's start, and the message says which template line:
    never at a line computed as if every style were a block scalar. A template line that YAML folded from several
    lines of the file (plain, quoted, `\\` continuations) is placed by character (`Document.chars`): at the `{{` of
    the failing expression when it can be told, else at the value's start."""
    where = doc.position(path)
    message = problem.message
    lines = doc.lines.get(tuple(path))
    if lines is not None and 1 <= problem.line <= len(lines):
        where = _line_spot(text, problem, lines[problem.line - 1], doc.chars.get(tuple(path))) or where
    if "\n" in text or "\r" in text:
        message = f"{message} (template line {problem.line})"
    return Finding(path=doc.path, line=where.line, column=where.column, severity=Severity.ERROR, rule=problem.rule,
                   message=message)


def _line_spot(text: str, problem: Violation, start: Position, chars: CharMap | None) -> Position | None:
    """Where on template line `problem.line` the finding goes: that line's start when it lies on one file line;
    else the failing expression, found by character offset; None when that cannot be told."""
    begin, end = 0, len(text)
    for number, found in enumerate(_LINE_BREAK.finditer(text), start=2):
        if number == problem.line:
            begin = found.end()
        elif number == problem.line + 1:
            end = found.start()
            break
    if chars is None or len(chars.file_lines(begin, end)) <= 1:
        return start
    tags = list(_TAGS.finditer(text, begin, end))
    if problem.name is not None:
        name = re.compile(rf"(?<!\w){re.escape(problem.name)}(?!\w)")
        named = [tag for tag in tags if name.search(tag.group())]
        if named:
            return chars.at(named[0].start())
    return chars.at(tags[0].start()) if len(tags) == 1 else None
