"""Integers the loader cannot (4,301 digits: Python's int() refuses them) or should not (beyond 64 bits: Veza reads
int64) turn into numbers are a finding at the scalar, with either parser backend; the loader never raises."""

from __future__ import annotations

import pytest

from runner.load import load_yaml
from runner.load.document import Backend, available_backends

TOO_BIG = "9" * 4301


@pytest.fixture(params=available_backends(), ids=lambda backend: backend.value)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param  # type: ignore[no-any-return]


@pytest.mark.parametrize("text", [
    f"name: q\nrows: {TOO_BIG}\n",
    f"name: q\nrows: [1, -{TOO_BIG}]\n",
    "name: q\n99999999999999999999: x\n",  # a key (a plain key of 4,301 characters is a syntax error already)
    "name: q\nrows: 9223372036854775808\n",
    "name: q\nrows: -9223372036854775809\n",
    "name: q\nrows: 0x10000000000000000\n",
    f"name: q\nrows: 0o{'7' * 5000}\n",
])
def test_an_integer_beyond_64_bits_is_a_finding_at_its_place(text: str, backend: Backend) -> None:
    doc, findings = load_yaml(text.encode(), path="q.yaml", backend=backend)
    assert doc is None
    assert [(f.line, f.rule) for f in findings] == [(2, "yaml/non-json")]
    assert "does not fit in a 64-bit integer" in findings[0].message
    assert len(findings[0].message) < 200  # the scalar is cut short, the finding stays one line


def test_the_64_bit_bounds_and_leading_zeros_still_load(backend: Backend) -> None:
    text = "a: 9223372036854775807\nb: -9223372036854775808\nc: 0x7fffffffffffffff\nd: " + "0" * 5000 + "1\n"
    doc, findings = load_yaml(text.encode(), path="q.yaml", backend=backend)
    assert findings == [] and doc is not None
    assert doc.data == {"a": 2**63 - 1, "b": -(2**63), "c": 2**63 - 1, "d": 1}
