"""The bounded decoder (runner/client/decode.py): its linear depth scan agrees with the real nesting of any JSON
value, strings full of brackets, quotes and backslashes included, and each refusal names its reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.client.decode import MAX_DEPTH, decode_json, nesting_depth_exceeds


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


tricky_text = st.text(alphabet='[]{}"\\ab\n\u00e9', max_size=8)
values = st.recursive(st.none() | st.integers() | tricky_text,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
                      max_leaves=30)


@given(values, st.integers(min_value=0, max_value=8), st.booleans())
def test_the_scan_agrees_with_the_real_depth(value: Any, limit: int, ascii_only: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nesting_depth_exceeds(data, limit) == (depth_of(value) > limit)


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100_000])
def test_the_limit_is_exact(depth: int) -> None:
    data = b"[" * depth + b"]" * depth
    if depth <= MAX_DEPTH:
        assert depth_of(decode_json(data)) == depth
    else:
        with pytest.raises(ValueError, match=f"nests deeper than {MAX_DEPTH} levels"):
            decode_json(data)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 5000, "b": '\\"' + "{" * 5000, "c": ["\\", "[[["]})
    assert decode_json(text.encode())["c"] == ["\\", "[[["]  # type: ignore[index,call-overload]


@pytest.mark.parametrize(("data", "reason"), [
    (b'{"a": "\xc3("}', "is not valid UTF-8 (byte 0xc3 at offset 7)"),
    (b"[NaN]", "holds NaN, which JSON does not allow"),
    (b'{"x": -Infinity}', "holds -Infinity, which JSON does not allow"),
    (b"[1e400]", "holds the number 1e400, too large for a double"),
    (b"[1,]", "is not JSON (Expecting value at line 1 column 4)"),
    (b"[" + b"9" * 5000 + b"]", "cannot be read as JSON: Exceeds the limit (4300 digits)"),
])
def test_each_refusal_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        decode_json(data)
    assert str(caught.value).startswith(reason)


def test_a_byte_order_mark_is_ignored() -> None:
    assert decode_json(b'\xef\xbb\xbf{"a": 1.5}') == {"a": 1.5}


def test_the_scan_answers_for_large_hostile_replies() -> None:
    """Its speed on these inputs is a benchmark row (bench/bench_decode.py, `hostile-reply-scan`), not a timer."""
    assert nesting_depth_exceeds(b"[" * (8 << 20))  # 8 MiB of openers
    assert not nesting_depth_exceeds((b"[" * 200 + b"1" + b"]" * 200 + b",") * 20_000)
