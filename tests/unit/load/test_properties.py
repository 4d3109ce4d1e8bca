"""Property tests of the hardened loader: JSON-like data dumped as YAML loads back equal, with positions that match
ruamel's own composer node by node, on every parser backend; and no input bytes ever make it raise."""

from __future__ import annotations

import io
import math
import re
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from runner.load.document import MAX_DEPTH, available_backends, load_yaml
from runner.model.values import Document, JSONPath, JSONValue, Position, Severity

# Controls are left in: the dumper escapes them (`"\x01"`), which the loader must accept. NEL and the line and
# paragraph separators are not: the dumper writes them raw, and the loader rejects them raw by design.
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(" \t\n:#-'\"?[]{},&*!|>%@`~.0123456789eE+_xo\\")),
        st.characters(exclude_categories=["Cs"], exclude_characters="\x85\u2028\u2029"),
    ),
    max_size=20,
)
_KEYS = st.one_of(_TEXT, st.sampled_from(["yes", "on", "null", "1", "1.5", "2024-01-31", ".inf", "<<", "-", "?"]))
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),  # the loader refuses integers beyond 64 bits
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_KEYS, children, max_size=4)),
    max_leaves=25,
)
_FLOW_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ ./+-]*")
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _has_escapes(data: JSONValue) -> bool:
    if isinstance(data, str):
        return any(not ch.isprintable() for ch in data)
    if isinstance(data, dict):
        return any(_has_escapes(k) or _has_escapes(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_has_escapes(item) for item in data)
    return False


def _dump(data: JSONValue, *, flow: bool, width: int) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    yaml.allow_unicode = True
    # ruamel's emitter may fold a double-quoted line right after an escape (`\x7F`), where no space was: the
    # parser (rightly) reads the fold as a space. Keep such documents on long lines; both parsers agree on them.
    yaml.width = 4096 if flow and _has_escapes(data) else width
    yaml.representer.sort_base_mapping_type_on_output = False  # keep insertion order, so order is checked too
    if flow:
        # Inside flow collections ruamel's emitter writes plain scalars such as `0:0`, `?A` or `0?` that YAML 1.2
        # allows but libyaml (YAML 1.1 rules) rejects or reads differently, so only word-like strings stay plain there.
        def represent_str(representer: Any, value: str) -> Any:
            style = None if _FLOW_PLAIN.fullmatch(value) else '"'
            return representer.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        yaml.representer.add_representer(str, represent_str)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _expected_positions(node: Node) -> tuple[dict[JSONPath, Position], dict[JSONPath, Position]]:
    """Positions from ruamel's composer, an independent walk of the same text."""
    values: dict[JSONPath, Position] = {}
    keys: dict[JSONPath, Position] = {}
    todo: list[tuple[JSONPath, Node]] = [((), node)]
    while todo:
        path, current = todo.pop()
        values[path] = Position(line=current.start_mark.line + 1, column=current.start_mark.column + 1)
        if isinstance(current, SequenceNode):
            todo.extend(((*path, index), item) for index, item in enumerate(current.value))
        elif isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                child = (*path, key_node.value)
                keys[child] = Position(line=key_node.start_mark.line + 1, column=key_node.start_mark.column + 1)
                todo.append((child, value_node))
    return values, keys


def _line_col(text: str, where: Position) -> str:
    return text.splitlines()[where.line - 1][where.column - 1:]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _has_spaced_key(data: JSONValue) -> bool:
    if isinstance(data, dict):
        return any(any(c.isspace() for c in key) or _has_spaced_key(value) for key, value in data.items())
    return isinstance(data, list) and any(_has_spaced_key(item) for item in data)


def _check_round_trip(data: JSONValue, text: str) -> None:
    results = [load_yaml(text.encode(), path="q.yaml", backend=backend) for backend in available_backends()]
    doc, findings = results[0]
    assert [f.rule for f in findings if f.severity is Severity.ERROR] == [], (text, findings)
    assert {f.rule for f in findings} <= {"yaml/ambiguous-boolean"}
    assert isinstance(doc, Document)
    assert _same(doc.data, data), (text, doc.data)
    values, keys = _expected_positions(YAML(typ="safe", pure=True).compose(text))
    assert dict(doc.values) == values
    assert dict(doc.keys) == keys
    for path, where in doc.keys.items():
        key = path[-1]
        assert isinstance(key, str)
        rest = _line_col(text, where)
        # A plain key is its own rendering; anything else must open with a quote or the complex-key indicator.
        assert rest.startswith(key) or rest[:1] in ("'", '"', "?"), (text, path, rest)
    for other_doc, other_findings in results[1:]:
        assert other_doc == doc
        assert other_findings == findings


@_SETTINGS
@given(_DOCUMENTS, st.sampled_from([20, 80, 4096]))
def test_block_style_round_trips_with_positions(data: JSONValue, width: int) -> None:
    # At a small width ruamel's emitter folds a long plain key over two lines, which is not YAML.
    assume(width > 1000 or not _has_spaced_key(data))
    _check_round_trip(data, _dump(data, flow=False, width=width))


@_SETTINGS
@given(_DOCUMENTS, st.sampled_from([20, 80, 4096]))
def test_flow_style_round_trips_with_positions(data: JSONValue, width: int) -> None:
    _check_round_trip(data, _dump(data, flow=True, width=width))


_YAMLISH = st.lists(
    st.sampled_from(
        ["[", "]", "{", "}", "- ", ": ", ":", ",", "&a ", "*a", "!!str ", "!x ", "%YAML 1.1\n", "%TAG ! !x\n",
         "---\n", "...\n", "\n", "  ", "\t", "'", '"', "# vqr: disable=x\n", "? ", "|\n", ">-\n", "key", "yes",
         "2024-01-31", ".inf", "0x1F", "~", "\\", "\x00", "\xe9", "\u2028", "\r\n", "\ufeff", "@", "`"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), _YAMLISH.map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_never_raises_and_reports_only_yaml_rules(data: bytes) -> None:
    for backend in available_backends():
        doc, findings = load_yaml(data, path="q.yaml", backend=backend)
        assert all(f.rule.startswith("yaml/") and f.path == "q.yaml" for f in findings)
        assert all(f.line >= 1 and f.column >= 1 for f in findings)
        errors = [f for f in findings if f.severity is Severity.ERROR]
        assert (doc is None) == bool(errors)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=MAX_DEPTH + 5), st.sampled_from(["[", "{a: ", "- "]))
def test_depth_limit_is_exact(depth: int, opener: str) -> None:
    if opener == "- ":
        text = "".join("  " * level + "-\n" for level in range(depth - 1)) + "  " * (depth - 1) + "- x\n"
    else:
        text = opener * depth + "x" + ("]" if opener == "[" else "}") * depth
    for backend in available_backends():
        doc, findings = load_yaml(text.encode(), path="q.yaml", backend=backend)
        rules = [f.rule for f in findings]
        assert rules == ([] if depth <= MAX_DEPTH else ["yaml/too-deep"]), (depth, opener, findings)
        assert (doc is None) == (depth > MAX_DEPTH)
