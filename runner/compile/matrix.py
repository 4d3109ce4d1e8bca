"""A query file's `matrix:` block expanded into its combinations, each of which compiles into its own query.

`matrix_size` counts the combinations arithmetically, so a caller can refuse a matrix before expanding any of it;
`matrix_combinations` yields them lazily, one at a time. Pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

from runner.model import JSONValue

MATRIX_RULE = "template/matrix-too-large"  # a template family id: it can be disabled by no comment, as its queries
#                                           would then silently never be checked
_COUNT_CEILING = 10**18  # past this, the count is only "more than": multiplying on would cost time for nothing


def _columns(matrix: Mapping[str, JSONValue]) -> list[list[JSONValue]]:
    return [value if isinstance(value, list) else [value] for value in matrix.values()]


def matrix_size(matrix: Mapping[str, JSONValue] | None) -> int:
    """How many combinations `matrix_combinations` yields, without building one; at most just over 10**18."""
    count = 1
    for column in _columns(matrix or {}):
        count *= len(column)
        if count > _COUNT_CEILING:
            return _COUNT_CEILING + 1
    return count


def describe_size(count: int) -> str:
    return f"more than {_COUNT_CEILING:,}" if count > _COUNT_CEILING else f"{count:,}"


def matrix_combinations(matrix: Mapping[str, JSONValue] | None) -> Iterator[dict[str, JSONValue]]:
    """Every combination of a `matrix:` block, in file order; one empty combination without a matrix."""
    if not matrix:
        yield {}
        return
    names = list(matrix)
    for values in itertools.product(*_columns(matrix)):
        yield dict(zip(names, values, strict=True))
