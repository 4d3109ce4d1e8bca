"""run.json written a query at a time: the bytes `json.dumps(document, indent=2, ensure_ascii=False)` would give,
without the whole document (or its text) ever in memory.

`RunDocument` is the artifact as its top-level fields in order, one of them (`queries`) a list whose entries are
built only as they are written; `document_chunks(doc)` yields its text piece by piece (each piece through `json_text`,
the terminal-safe escaping). At 10,000 queries the one-string way held ~600 MiB at its peak. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from runner.jsontext import indented
from runner.model import JSONObject, JSONValue
from runner.sanitize import json_text

_KEY_ENCODER = json.JSONEncoder(ensure_ascii=False)


@dataclass(frozen=True)
class RunDocument:
    """`fields` in their order; the value of `streamed` among them is a placeholder, its list made by `entries()`
    (called once per writing), each entry already redacted."""

    fields: JSONObject
    streamed: str
    entries: Callable[[], Iterable[JSONObject]]

    def to_json(self) -> JSONObject:
        """The whole document as one value (for tests and small runs)."""
        return {key: (list(self.entries()) if key == self.streamed else value) for key, value in self.fields.items()}


def _nested(value: JSONValue, level: int) -> str:
    # JSON text never holds a raw line break (json escapes it in strings), so every "\n" starts a line to indent.
    return indented(value).replace("\n", "\n" + "  " * level)  # orjson, where its text is the json module's


def document_chunks(document: RunDocument | JSONObject) -> Iterator[str]:
    """The indented JSON text of `document` (no final newline), a top-level field or a streamed entry a piece."""
    fields = document.fields if isinstance(document, RunDocument) else document
    streamed = document.streamed if isinstance(document, RunDocument) else None
    if not fields:
        yield "{}"
        return
    opening = "{"
    for key, value in fields.items():
        head = f"{opening}\n  {_KEY_ENCODER.encode(key)}: "
        opening = ","
        if key != streamed:
            yield json_text(head + _nested(value, 1))
            continue
        assert isinstance(document, RunDocument)
        separator = "["
        for entry in document.entries():
            yield json_text(f"{head}{separator}\n    {_nested(entry, 2)}")
            head, separator = "", ","
        yield f"{head}[]" if separator == "[" else "\n  ]"
    yield "\n}"
