"""The hardened YAML loader: bytes in, plain JSON data with the position of every value and key out.

`load_yaml(data, path=...)` and `load_yaml_file(file, path=..., root=...)` return `(Document | None, findings)`; the
document is None when any error was found. Every check runs on the parser's event stream before anything is built (no
ruamel constructor ever runs), so bombs cost milliseconds. Only `read_source` / `load_yaml_file` do I/O, under the
repository path policy (`runner.repopath`); nothing here raises for any input.
"""

from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml.docinfo import DocInfo
from ruamel.yaml.error import YAMLError
from ruamel.yaml.loader import BaseLoader

from runner.load.events import EventWalker, StopWalk, position_at
from runner.model import Document, Finding, Position, Severity
from runner.repopath import Problem, read_regular_file

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64  # nesting of mappings/sequences

_BOM = b"\xef\xbb\xbf"
# YAML's printable set, less U+0085/U+2028/U+2029: libyaml reads those as line breaks and ruamel's pure parser does
# not, so positions (and even the data) would depend on the parser. Likewise a byte order mark after the start.
_NOT_ALLOWED = re.compile("[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_DISABLE = re.compile(r"#[ \t]*vqr:[ \t]*disable[ \t]*=[ \t]*([\w./*-]+(?:[ \t]*,[ \t]*[\w./*-]+)*)")
_ENTRY = re.compile(r"[\w./*-]+")  # one name of a disable comment's list


class Backend(enum.Enum):
    """Which ruamel.yaml parser produces the events: libyaml in C (fast) or the pure Python one (always there)."""

    C = "c"
    PURE = "pure"


def _find_c_parser() -> Any:
    for module in ("_ruamel_yaml_clibz", "_ruamel_yaml"):  # ruamel.yaml[libyaml], then the older ruamel.yaml.clib
        try:
            return importlib.import_module(module).CParser
        except (ImportError, AttributeError):
            continue
    return None


_C_PARSER = _find_c_parser()
DEFAULT_BACKEND = Backend.C if _C_PARSER is not None else Backend.PURE


def available_backends() -> tuple[Backend, ...]:
    return (Backend.C, Backend.PURE) if _C_PARSER is not None else (Backend.PURE,)


def read_source(file: Path, *, path: str, root: Path | None) -> bytes | Finding:
    """At most MAX_BYTES + 1 bytes of `file` under the repository path policy (`runner.repopath`: a regular file
    that, symlinks resolved, stays inside `root` when one is given), or the finding at 1:1 saying why not. The
    finding never quotes the file: one that breaks the policy is not read at all."""
    data = read_regular_file(file, MAX_BYTES, root=root)
    if isinstance(data, bytes):
        return data
    rule = {Problem.OUTSIDE: "path/outside-project", Problem.NOT_A_FILE: "path/not-a-file"}.get(data.kind,
                                                                                              "yaml/unreadable")
    return _finding(path, Position(line=1, column=1), rule, data.reason)


def load_yaml_file(file: Path, *, path: str, root: Path | None,
                   backend: Backend | None = None) -> tuple[Document | None, list[Finding]]:
    """`read_source` then `load_yaml`: a file that cannot or may not be read is one finding at 1:1."""
    data = read_source(file, path=path, root=root)
    if isinstance(data, Finding):
        return None, [data]
    return load_yaml(data, path=path, backend=backend)


def load_yaml(data: bytes, *, path: str, backend: Backend | None = None) -> tuple[Document | None, list[Finding]]:
    """Load one YAML document made only of JSON types, or say exactly where and why it cannot be used."""
    start = Position(line=1, column=1)
    if len(data) > MAX_BYTES:
        return None, [_finding(path, start, "yaml/too-large",
                               f"the file is larger than 1 MiB; files of at most {MAX_BYTES} bytes are read")]
    text_or_finding = _decode(data, path)
    if isinstance(text_or_finding, Finding):
        return None, [text_or_finding]
    text = text_or_finding
    walker = EventWalker(text=text, path=path, max_depth=MAX_DEPTH, track_spans="vqr:" in text)
    _run(walker, text, backend or DEFAULT_BACKEND, path)
    findings = walker.findings
    if not findings and (walker.documents == 0 or walker.root_is_empty):
        findings.append(_finding(path, start, "yaml/empty", "the file has no content (it is empty or only comments)"))
    disabled = _disabled_rules(text, walker.spans)
    # Only warnings can be silenced in the file itself: an error means there is no usable data to lint further.
    findings = [f for f in findings if f.severity is Severity.ERROR or f.rule not in disabled]
    findings.sort(key=lambda f: f.sort_key)
    if any(f.severity is Severity.ERROR for f in findings):
        return None, findings
    document = Document(path=path, data=walker.root, values=walker.values, keys=walker.keys,
                        disabled_rules=disabled, lines=walker.lines, chars=walker.chars)
    return document, findings


def _decode(data: bytes, path: str) -> str | Finding:
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = body[: exc.start].decode("utf-8")  # everything before the first bad byte is valid
        where = position_at(before, len(before))
        return _finding(path, where, "yaml/encoding",
                        f"the file is not valid UTF-8 (byte 0x{body[exc.start]:02x}); save it as UTF-8")
    bad = _NOT_ALLOWED.search(text)
    if bad is None:
        return text
    char = bad.group()
    if char == "\x00":
        reason = "NUL bytes are not allowed in a YAML file"
    elif char == "\ufeff":
        reason = "a byte order mark (U+FEFF) is only allowed at the very start of the file"
    elif char in "\x85\u2028\u2029":
        reason = (f"U+{ord(char):04X} is a line break to some YAML parsers and not to others; "
                  "remove it or write it as an escape in a double-quoted string")
    else:
        reason = f"the control character U+{ord(char):04X} is not allowed in a YAML file"
    return _finding(path, position_at(text, bad.start()), "yaml/encoding", reason)


def _event_source(text: str, backend: Backend) -> Callable[[], Any]:
    """A function returning the next parser event (None after the stream ends)."""
    if backend is Backend.C and _C_PARSER is not None:
        parser = _C_PARSER(text)
        return parser.get_event  # type: ignore[no-any-return]
    loader: Any = BaseLoader(text)
    # The pure parser records %YAML/%TAG directives into the loader's document info, which BaseLoader lacks.
    loader.doc_infos = [DocInfo()]
    return loader.get_event  # type: ignore[no-any-return]


def _run(walker: EventWalker, text: str, backend: Backend, path: str) -> None:
    """Feed events to the walker until the stream ends or a fatal finding stops it; parser errors become findings.

    Only the parser's own calls are guarded: a bug in the walker must surface in tests, not hide as a finding.
    """
    try:
        next_event = _event_source(text, backend)
    except Exception as exc:  # a third-party parser's failure must not stop lint of the other files
        walker.findings.append(_parser_failure(exc, path))
        return
    while True:
        try:
            event = next_event()
        except Exception as exc:  # as above
            walker.findings.append(_parser_failure(exc, path))
            return
        try:
            if not walker.feed(event):
                return
        except StopWalk:
            return


def _parser_failure(exc: Exception, path: str) -> Finding:
    """A syntax error at the parser's mark, its problem (and context) in one line; any other failure at 1:1."""
    if not isinstance(exc, YAMLError):
        return _finding(path, Position(line=1, column=1), "yaml/syntax",
                        f"the YAML parser failed on this file ({type(exc).__name__}: {exc})")
    problem = getattr(exc, "problem", None) or next(iter(str(exc).splitlines()), "") or "invalid YAML"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = Position(line=mark.line + 1, column=mark.column + 1) if mark is not None else Position(line=1, column=1)
    message = str(problem)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        message += f" ({context} that starts at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return _finding(path, where, "yaml/syntax", " ".join(message.split()))


def disable_comments(data: bytes, *, backend: Backend | None = None) -> list[tuple[str, Position]]:
    """Every entry of the `# vqr: disable=` comments of a loadable file, with where it is written, in file order:
    what `Document.disabled_rules` holds, placed (a second parse, so callers ask only when an entry needs placing)."""
    text = _decode(data, "")
    if isinstance(text, Finding) or "vqr:" not in text:
        return []
    walker = EventWalker(text=text, path="", max_depth=MAX_DEPTH, track_spans=True)
    _run(walker, text, backend or DEFAULT_BACKEND, "")
    return [(name, position_at(text, at)) for name, at in _disable_entries(text, walker.spans)]


def _disabled_rules(text: str, spans: list[tuple[int, int]]) -> frozenset[str]:
    """Rules named in `# vqr: disable=a,b` comments."""
    if "vqr:" not in text:
        return frozenset()
    return frozenset(name for name, _ in _disable_entries(text, spans))


def _disable_entries(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, int]]:
    """Each entry of the `# vqr: disable=` comments with its offset; text inside quoted or block scalars is not a
    comment."""
    entries: list[tuple[str, int]] = []
    for match in _DISABLE.finditer(text):
        at = match.start()
        if at > 0 and text[at - 1] not in " \t\r\n":
            continue
        if any(begin <= at < end for begin, end in spans):
            continue
        for entry in _ENTRY.finditer(match.group(1)):
            entries.append((entry.group(), match.start(1) + entry.start()))
    return entries


def _finding(path: str, where: Position, rule: str, message: str) -> Finding:
    return Finding(path=path, line=where.line, column=where.column, severity=Severity.ERROR, rule=rule,
                   message=message)
