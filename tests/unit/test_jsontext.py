"""orjson where it agrees with the json module, the json module where it may not (runner/jsontext.py): encoded bytes
and decoded values equal the json module's for any JSON value, floats, big integers, escapes and astral text
included; every input the fast path declines still decodes, or fails, exactly as before; orjson's depth limits are
what the depth bound assumes."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.client.decode import MAX_DEPTH, decode_json, decode_json_exactly
from runner.jsontext import (
    WRITER_DEPTH,
    _may_differ,
    canonical,
    canonical_lines,
    canonical_str,
    fast_loads,
    indented,
    nests_within,
    parse_line,
)


class Mode(enum.StrEnum):
    FAST = "fast"


def reference(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# Floats across the whole range (the shapes orjson and repr disagree on are below 1e-4), integers beyond 64 bits,
# text with escapes, controls, astral characters and the keys they sort by.
floats = st.floats(allow_nan=False, allow_infinity=False) | st.floats(min_value=-1e-3, max_value=1e-3) \
    | st.sampled_from([1e-7, 7.974042475543028e-05, 0.0001, 1e16, 1e-05, -0.0, 5e-324, 1.7976931348623157e308])
integers = st.integers() | st.integers(min_value=2**62, max_value=2**70) | st.integers(min_value=-(2**70),
                                                                                         max_value=-(2**62))
texts = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\x00\x1f\x7f\u2028\"\\é😀.0e-"),
                max_size=12)
scalars = st.none() | st.booleans() | integers | floats | texts
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                      max_leaves=40)


@settings(max_examples=400)
@given(values)
def test_encoding_is_the_json_modules_byte_for_byte(value: Any) -> None:
    assert canonical(value) == reference(value).encode()
    assert canonical_str(value) == reference(value)


@settings(max_examples=400)
@given(values)
def test_indented_text_is_the_json_modules(value: Any) -> None:
    assert indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_what_the_json_module_cannot_write_it_still_refuses() -> None:
    @dataclasses.dataclass
    class Entry:
        name: str

    for value in ({"when": datetime.now(UTC)}, [Entry("x")]):
        with pytest.raises(TypeError):
            indented(value)  # type: ignore[arg-type]
    assert indented({"mode": Mode.FAST}) == json.dumps({"mode": Mode.FAST}, indent=2)  # a str subclass, as json has it


@settings(max_examples=200)
@given(st.lists(values, max_size=6))
def test_a_page_of_lines_is_the_json_modules(rows: list[Any]) -> None:
    expected = "".join(reference(row) + "\n" for row in rows).encode()
    assert canonical_lines(rows) == expected


@settings(max_examples=400)
@given(values, st.sampled_from([None, 1, 2]), st.booleans())
def test_decoding_agrees_with_the_exact_path(value: Any, indent: int | None, ascii_only: bool) -> None:
    data = json.dumps(value, indent=indent, ensure_ascii=ascii_only).encode()
    fast = fast_loads(data)
    exact = decode_json_exactly(data)
    assert decode_json(data) == exact
    if fast is not None:
        assert fast == exact and repr(fast) == repr(exact)  # repr: 1 is not 1.0, and key order is kept


@pytest.mark.parametrize("data", [
    b"18446744073709551616", b"-9223372036854775809", b'{"n": 123456789012345678901234567890}',  # beyond 64 bits
    b'\xef\xbb\xbf{"a": 1}',  # a byte order mark
    b'"\\ud800"', b'["\\udfff", 1]',  # lone surrogates the json module keeps
    b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1), b"[" * MAX_DEPTH + b"]" * MAX_DEPTH,  # past orjson's writer
])
def test_what_orjson_cannot_say_is_decoded_exactly(data: bytes) -> None:
    assert repr(decode_json(data)) == repr(decode_json_exactly(data))


@pytest.mark.parametrize("data", [
    b"[NaN]", b"[1e400]", b'{"a": "\xc3("}', b"[1,]", b"", b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    b"[" * 1025 + b"]" * 1025,
])
def test_every_refusal_is_the_exact_paths_message(data: bytes) -> None:
    with pytest.raises(ValueError) as fast:
        decode_json(data)
    with pytest.raises(ValueError) as exact:
        decode_json_exactly(data)
    assert str(fast.value) == str(exact.value)


def test_integers_beyond_64_bits_stay_exact() -> None:
    assert decode_json(b"[18446744073709551617, -9223372036854775809]") == [2**64 + 1, -(2**63) - 1]
    assert canonical([2**64 + 1]) == b"[18446744073709551617]"


def test_the_fast_path_declines_long_digit_runs_even_inside_strings() -> None:
    assert fast_loads(b'["1234567890123456789"]') is None  # 19 digits: only the json module answers
    assert fast_loads(b'["123456789012345678"]') == ["123456789012345678"]


def test_orjsons_depth_limits_are_the_ones_relied_on() -> None:
    deepest = json.loads("[" * WRITER_DEPTH + "]" * WRITER_DEPTH)
    assert nests_within(deepest, MAX_DEPTH)
    assert not nests_within([deepest], MAX_DEPTH)  # orjson refuses to write 255 levels
    assert not nests_within([], WRITER_DEPTH - 1)  # a tighter limit than orjson's is never vouched for
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b"[" * 1025 + b"]" * 1025)  # its parser stops, so no reply recurses it without bound


def test_nan_is_the_callers_to_refuse() -> None:
    # The precondition, pinned: orjson writes NaN as null, which is why rows come from decode_json (which refuses
    # it) or through the json module (ResultWriter without decoded=True).
    assert canonical([math.nan]) == b"[null]"
    with pytest.raises(ValueError, match="NaN"):
        decode_json(b"[NaN]")


@pytest.mark.parametrize(("text", "slow"), [
    (b'{"id":"0859573f-0001-4ce3-ad9e-000000000233","name":"acme-analytics"}', False),  # a UUID, a hyphenated word
    (b'{"v":"12e-5"}', False),  # inside a string: after a quote, not where a number starts
    (b'{"v":1e-7}', True), (b"[1,-4.5e-9]", True), (b"2e-8", True), (b"null\n3e-6\n", True), (b"[0.00001]", True),
])
def test_only_what_may_be_a_small_float_takes_the_slow_path(text: bytes, slow: bool) -> None:
    # UUIDs are most of Veza's ids: if "9e-0" sent their pages to the json module, half the speed would be lost.
    assert _may_differ(text) is slow


@pytest.mark.parametrize("data", [
    b"\x0c1", b"[1,\x0c2]", b"'a'", b"[1] x", b"[01]", b"[.5]", b"[1.]", b"[+1]", b"[0x10]", b'{"a" 1}', b"[true1]",
    b"tru", b"[1e]", b'["\\x41"]', b'["\\u12"]', b"[1,,2]", b"\xa0[1]", b"[\xc2\xa01]", b'{"a":1}}', b"[1]\x00",
    b'["\x1f"]', b"{1:2}", b"[1 2]", b"NULL",
])
def test_orjson_accepts_nothing_the_json_module_refuses(data: bytes) -> None:
    # The fast path may only ever decline: text the json module refuses must stay refused, with its message.
    assert fast_loads(data) is None
    with pytest.raises(ValueError) as fast:
        decode_json(data)
    with pytest.raises(ValueError) as exact:
        decode_json_exactly(data)
    assert str(fast.value) == str(exact.value)


@settings(max_examples=300)
@given(values)
def test_a_results_line_parses_to_the_json_modules_value(value: Any) -> None:
    line = json.dumps(value, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    assert repr(parse_line(line)) == repr(json.loads(line))


@pytest.mark.parametrize("line", [b"null\n", b"18446744073709551616\n", b'"\\ud800"\n', b"[1e-7]\n",
                                  b'\xef\xbb\xbf{"a": 1}\n', b"[NaN]\n"])
def test_a_line_orjson_cannot_say_is_the_json_modules(line: bytes) -> None:
    assert repr(parse_line(line)) == repr(json.loads(line))


@pytest.mark.parametrize("line", [b"{oops\n", b'{"a": "\xc3("}\n', b"[1,]\n"])
def test_a_line_that_is_not_json_is_the_json_modules_error(line: bytes) -> None:
    with pytest.raises(ValueError) as fast:
        parse_line(line)
    with pytest.raises(ValueError) as exact:
        json.loads(line)
    assert str(fast.value) == str(exact.value)
