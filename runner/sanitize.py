"""One sanitiser per output channel: text from servers and repositories in, text safe for that channel out.

`terminal_line` / `terminal_text` (a terminal or a CI log), `json_text`, `workflow_data` / `workflow_property`
(GitHub workflow commands), `markdown_inline` (Markdown and HTML viewers), `csv_cell` / `csv_cells` (spreadsheets),
`LOG_FILTER`
(log handlers). Each also redacts the loaded API key (`redact`): redaction happens here, at the output, never on
stored data. Pure string functions, no I/O.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from itertools import compress, repeat
from operator import not_, or_

from runner.secret import SECRET_FILTER

# C0 controls, DEL and C1 controls (ESC, BEL, CSI 0x9b, OSC 0x9d...) drive terminals; the bidirectional overrides
# and isolates reorder what a reader sees (Trojan Source). Each is shown as a visible `\xNN` / `\uNNNN` escape.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_CR_LF = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_JSON_UNESCAPED = re.compile("[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\t\v\f\x85\u2028\u2029]")
# Inline Markdown that data could trigger mid-line (data never starts a line in vqr's Markdown): emphasis, code,
# links and images, tables, strikethrough, mentions and references. `<` and `>` become entities.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~!@#])")
# After `@` (mentions, which notify people), `#` (issue references) and inside bare URLs (GitHub autolinks them):
# a WORD JOINER, invisible, breaks the pattern without changing what a reader sees.
_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(://|www\.)")
# GitHub runs a log line starting with `::` as a workflow command: a line of data starting so gets `\x3a:`.
_COMMAND_START = re.compile(r"(?m)^([ \t]*):(?=:)")
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def redact(text: str) -> str:
    """`text` with every loaded API key replaced by `***` (see `runner.secret.Secret.redact` for which keys)."""
    return SECRET_FILTER.redact(text)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_line(text: object) -> str:
    """One line for a terminal or a CI log: line breaks become spaces (so data can never start a line, e.g. a
    `::error::` workflow command), every other control character a visible escape; the key redacted."""
    value = redact(str(text))
    if value.isprintable():  # the common case, in C: no control, format or line-break character to escape
        return value
    return _CONTROL_OR_BREAK.sub(_visible, _LINE_BREAKS.sub(" ", value))


def terminal_text(text: object) -> str:
    """Several lines for a terminal or a file people `cat`: newlines and tabs kept, every other control character
    escaped, and no line may start a workflow command (its first `:` shown as `\\x3a`); the key redacted."""
    value = redact(str(text))
    # Printable text holds none of the characters escaped here, and a command needs "::": the common case, which
    # is a fifth of report.html's own time at 10,000 queries when it goes through both expressions.
    if value.isprintable() and "::" not in value:
        return value
    return _COMMAND_START.sub(r"\1\\x3a", _CONTROL.sub(_visible, value.replace("\r\n", "\n")))


def json_text(document: str) -> str:
    """A JSON document for a terminal: `json.dumps` escapes C0 controls itself, but with `ensure_ascii=False` not
    DEL, C1 or the bidi controls; they can only sit inside strings, where `\\uNNNN` is the same value."""
    return _JSON_UNESCAPED.sub(lambda match: f"\\u{ord(match.group()):04x}", redact(document))


def workflow_data(text: object) -> str:
    """A GitHub workflow command's message (the toolkit's `escapeData`: `%`, CR and LF encoded, so the message
    stays on its command's line), every other control character shown as a visible escape; the key redacted."""
    safe = _CONTROL_BUT_CR_LF.sub(_visible, redact(str(text)))
    return safe.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: object) -> str:
    """A workflow command's property value (`escapeProperty`): `workflow_data` plus `:` and `,`."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown_inline(text: object) -> str:
    """Inline-safe Markdown: one line, controls escaped, HTML metacharacters as entities, Markdown punctuation
    backslash-escaped, @mentions, #references and bare URLs broken by an invisible word joiner."""
    value = " ".join(terminal_line(text).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    value = _AUTOLINK.sub(lambda match: match.group()[0] + _JOINER + match.group()[1:], value)
    value = _MARKDOWN.sub(r"\\\1", value)
    return value.replace("@", "@" + _JOINER).replace("#", "#" + _JOINER)


def csv_cell(text: str) -> str:
    """A CSV cell or header: `terminal_text`'s escaping (people `cat` CSV files; a cell's lines are kept), then a
    leading `'` when a spreadsheet would run it as a formula (OWASP's advice)."""
    # Nearly every cell is printable text: only the key is looked for then (a substring test).
    safe = terminal_text(text) if not text.isprintable() or text.lstrip(" ").startswith("::") else redact(text)
    return "'" + safe if safe.startswith(CSV_FORMULA_PREFIXES) else safe


# A text that starts with none of these and is printable is its own cell, unless it holds the key: a formula prefix,
# or spaces or `:` that may start a workflow command, send it through `csv_cell`.
_CELL_CARE = (*CSV_FORMULA_PREFIXES, " ", ":")


def csv_cells(texts: Collection[str]) -> dict[str, str]:
    """`csv_cell` of each of `texts` (distinct), by text: the same cells, with the common case found in C.

    Why: a CSV has a cell per row and field, and most are plain text; called one by one, `csv_cell` was a third of
    the CSV worker's time. Here the printable texts with no leading prefix are found by `map` over C methods, and
    the key is looked for once in all the texts joined (an occurrence in one text is one in the join; a match that
    spans two texts only sends them all through `csv_cell`). Every other text goes through `csv_cell` itself."""
    ordered = list(texts)
    cells = dict(zip(ordered, ordered, strict=True))
    if SECRET_FILTER.found_in("\n".join(ordered)):
        care = ordered
    else:
        unprintable = map(not_, map(str.isprintable, ordered))
        care = list(compress(ordered, map(or_, unprintable, map(str.startswith, ordered, repeat(_CELL_CARE)))))
    for text in care:
        cells[text] = csv_cell(text)
    return cells


class LogFilter(logging.Filter):
    """For log handlers: the secret filter, then `terminal_text` on the message and traceback (httpx and httpcore
    log server headers and reasons verbatim)."""

    def filter(self, record: logging.LogRecord) -> bool:
        SECRET_FILTER.filter(record)
        message = record.getMessage()
        safe = terminal_text(message)
        if safe != message:
            record.msg, record.args = safe, None
        if record.exc_text:
            record.exc_text = terminal_text(record.exc_text)
        return True


LOG_FILTER = LogFilter()
