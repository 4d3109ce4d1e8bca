"""One imported query → the text of its query file: the modeline, its own fields, the spec, as block YAML.

Pure. `slug` makes a file-name-safe name. `query_file_text` writes only JSON types, quotes every string a YAML
reader (1.1 or 1.2) could take for anything else, and writes template delimiters as string literals, so each string
renders back to exactly what Veza wrote (`vqr import` checks this by compiling the text before writing it).
"""

from __future__ import annotations

import json
import re
from typing import Final

from runner.model import JSONObject, JSONValue

MAX_NAME = 80  # a file name well below every filesystem's limit, with room for "-NN" and ".yaml"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Plain only what reads as a string to every YAML reader, in block and flow context alike: starts with a letter, no
# colon at all (`[s3:PutBucketAcl]` is a syntax error to ruamel's flow scanner), no " #".
_PLAIN_STRING = re.compile(r"[A-Za-z_][A-Za-z0-9_./@$-]*(?: [A-Za-z0-9_./@$-]+)*")
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})
# Characters a double-quoted scalar gets as escapes: what json.dumps(ensure_ascii=False) leaves raw but a terminal,
# an editor or the hardened loader treats specially (DEL, C1, line separators, bidi controls, BOM, lone surrogates).
_ESCAPE: Final = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_TEMPLATE_START = re.compile(r"\{[{%#]")
FLOW_WIDTH = 100  # a mapping or list of scalars goes on one line when it fits


def slug(text: str) -> str:
    """A name made of `a-z0-9-`, at most MAX_NAME long; "query" when nothing is left."""
    out = _NOT_SLUG.sub("-", text.lower()).strip("-")[:MAX_NAME].rstrip("-")
    return out or "query"


def _literal_char(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029):
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def escape_template(text: str) -> str:
    """`text` as a template that renders to `text` itself. Text without `{{`, `{%` or `{#` is not a template and
    stays as it is; any other becomes one expression, a string literal: inside it, backslashes, quotes and line
    breaks are escapes (the template lexer would otherwise fold `\\r\\n` and drop a final newline)."""
    if not _TEMPLATE_START.search(text):
        return text
    return "{{ '" + "".join(_literal_char(char) for char in text) + "' }}"


def _string(text: str) -> str:
    if _PLAIN_STRING.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    quoted = json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    return _ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) and key.lower() not in _RESERVED else _string(key)


def _scalar(value: JSONValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return _string(escape_template(value))
    if value == [] or value == {}:
        return "[]" if isinstance(value, list) else "{}"
    raise TypeError(type(value))


def _is_scalar(value: JSONValue) -> bool:
    return not isinstance(value, list | dict) or not value


def _flow(value: JSONValue) -> str | None:
    """A mapping or list of scalars on one line, else None."""
    if isinstance(value, dict) and value and all(_is_scalar(v) for v in value.values()):
        return "{" + ", ".join(f"{_key(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list) and value and all(_is_scalar(v) for v in value):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return None


def _block(value: JSONValue, indent: int, out: list[str], *, first_prefix: str | None = None) -> None:
    """Lines of a non-empty mapping or list at `indent`; `first_prefix` replaces the first line's indent ("- ")."""
    pad = " " * indent
    items = list(value.items()) if isinstance(value, dict) else [(None, item) for item in value]  # type: ignore[union-attr]
    for index, (key, item) in enumerate(items):
        lead = first_prefix if index == 0 and first_prefix is not None else pad
        if key is None:  # a list item: a nested mapping continues on the dash's line
            inline = _one_line(item, indent + 2)
            if inline is not None:
                out.append(f"{lead}- {inline}")
            elif isinstance(item, dict):
                _block(item, indent + 2, out, first_prefix=lead + "- ")
            else:
                out.append(f"{lead}-")
                _block(item, indent + 2, out)
            continue
        head = f"{lead}{_key(key)}:"
        inline = _one_line(item, indent + len(_key(key)) + 2)
        if inline is not None:
            out.append(f"{head} {inline}")
        else:
            out.append(head)
            _block(item, indent + 2, out)


def _one_line(value: JSONValue, column: int) -> str | None:
    if _is_scalar(value):
        return _scalar(value)
    flow = _flow(value)
    return flow if flow is not None and column + len(flow) <= FLOW_WIDTH else None


def query_file_text(fields: JSONObject, *, schema_path: str, shape: str) -> str:
    """The query file: the modeline, a line saying where it came from (never the untrusted source name: a comment
    may not carry a `vqr: disable=`), then `fields` (name, description, owner, tags, cache, spec) in order."""
    lines = [f"# yaml-language-server: $schema={schema_path}", f"# Imported from a Veza {shape} by `vqr import`."]
    _block(fields, 0, lines)
    return "\n".join(lines) + "\n"
