"""How a cached `FileResult` is stored: units, findings and positions as compact JSON, positions decoded lazily.

Pure functions, no I/O. `encode_result` / `decode_result` are the only entry points; a document that does not decode
raises ValueError/KeyError/TypeError, which the cache treats as a miss.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from runner.model import Document, Finding, JSONObject, JSONPath, JSONValue, Position, QueryUnit, Severity

FORMAT = 1  # bump when the stored layout changes: older packs then simply miss


@dataclass(frozen=True, kw_only=True)
class FileResult:
    """What compiling one query file produced: its units, its findings, its `# vqr: disable=` list (None when the
    file did not load)."""

    units: tuple[QueryUnit, ...]
    findings: tuple[Finding, ...]
    disabled_rules: frozenset[str] | None


def _document_order(data: JSONValue) -> tuple[list[JSONPath], list[JSONPath]]:
    """Paths of every value (root first, depth first) and of every mapping entry, in the order the loader meets
    them: when a document's positions follow this order, their paths need not be stored."""
    values: list[JSONPath] = []
    keys: list[JSONPath] = []
    stack: list[tuple[JSONPath, JSONValue, bool]] = [((), data, False)]
    while stack:
        path, value, is_entry = stack.pop()
        values.append(path)
        if is_entry:
            keys.append(path)
        if isinstance(value, dict):
            stack.extend(((*path, key), item, True) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, index), item, False) for index, item in reversed(list(enumerate(value))))
    return values, keys


def _encode_positions(positions: Mapping[JSONPath, Position], order: list[JSONPath]) -> list[Any]:
    if list(positions) == order:
        return [number for where in positions.values() for number in (where.line, where.column)]
    return [[where.line, where.column, *path] for path, where in positions.items()]


class LazyPositions(Mapping[JSONPath, Position]):
    """Positions decoded on first lookup: on a cache hit, a clean file's positions are usually never read."""

    def __init__(self, raw: Sequence[Any], data: JSONValue, *, keys: bool) -> None:
        self._raw = raw
        self._data = data
        self._keys = keys
        self._built: dict[JSONPath, Position] | None = None

    def _table(self) -> dict[JSONPath, Position]:
        if self._built is None:
            raw = self._raw
            if raw and isinstance(raw[0], int):
                values, keys = _document_order(self._data)
                paths = keys if self._keys else values
                self._built = {path: Position(line=raw[2 * i], column=raw[2 * i + 1]) for i, path in enumerate(paths)}
            else:
                self._built = {tuple(item[2:]): Position(line=item[0], column=item[1]) for item in raw}
        return self._built

    def __getitem__(self, path: JSONPath) -> Position:
        return self._table()[path]

    def __contains__(self, path: object) -> bool:
        return path in self._table()

    def __iter__(self) -> Iterator[JSONPath]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


def encode_result(result: FileResult, *, key: str, path: str) -> dict[str, Any]:
    docs: dict[int, int] = {}  # id(Document) -> index: units of one file share their Document
    doc_list: list[dict[str, Any]] = []
    units = []
    for unit in result.units:
        index = docs.get(id(unit.doc))
        if index is None:
            index = docs[id(unit.doc)] = len(doc_list)
            values, keys = _document_order(unit.doc.data)
            doc_list.append({"path": unit.doc.path, "data": unit.doc.data,
                             "values": _encode_positions(unit.doc.values, values),
                             "keys": _encode_positions(unit.doc.keys, keys),
                             "disabled": sorted(unit.doc.disabled_rules)})
        data = unit.doc.data if isinstance(unit.doc.data, dict) else {}
        # Most of a body is its file's data as written (only templated values differ): store just the rest.
        own = {key: value for key, value in unit.body.items() if key not in data or data[key] != value}
        units.append({"doc": index, "name": unit.name, "matrix": dict(unit.matrix), "order": list(unit.body),
                      "own": own})
    findings = [[f.path, f.line, f.column, f.severity.value, f.rule, f.message] for f in result.findings]
    disabled = None if result.disabled_rules is None else sorted(result.disabled_rules)
    return {"format": FORMAT, "key": key, "path": path, "docs": doc_list, "units": units, "findings": findings,
            "disabled": disabled}


def decode_result(document: Any, *, key: str, path: str) -> FileResult:
    if document.get("format") != FORMAT or document.get("key") != key or document.get("path") != path:
        raise ValueError("not this entry")
    docs = [Document(path=raw["path"], data=raw["data"], values=LazyPositions(raw["values"], raw["data"], keys=False),
                     keys=LazyPositions(raw["keys"], raw["data"], keys=True), disabled_rules=frozenset(raw["disabled"]))
            for raw in document["docs"]]
    units = tuple(QueryUnit(doc=docs[raw["doc"]], name=raw["name"], matrix=_object(raw["matrix"]),
                            body=_body(raw["order"], _object(raw["own"]), docs[raw["doc"]].data))
                  for raw in document["units"])
    findings = tuple(Finding(path=str(p), line=int(line), column=int(column), severity=Severity(severity),
                             rule=str(rule), message=str(message))
                     for p, line, column, severity, rule, message in document["findings"])
    disabled = document["disabled"]
    return FileResult(units=units, findings=findings,
                      disabled_rules=None if disabled is None else frozenset(str(rule) for rule in disabled))


def _body(order: list[str], own: JSONObject, data: JSONValue) -> JSONObject:
    # Values shared with `data` are the same objects, as the uncached compile shares unrendered ones: read-only.
    written = data if isinstance(data, dict) else {}
    return {key: own[key] if key in own else written[key] for key in order}


def _object(value: object) -> JSONObject:
    if not isinstance(value, dict):
        raise ValueError("expected an object")
    return cast(JSONObject, value)
