"""A query file's `matrix:` block expanded into its combinations, each of which compiles into its own query.

Pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import cast

from runner.model import JSONValue


def matrix_combinations(matrix: Mapping[str, JSONValue] | None) -> Iterator[dict[str, JSONValue]]:
    """Every combination of a `matrix:` block, in file order; one empty combination without a matrix."""
    if not matrix:
        yield {}
        return
    names = list(matrix)
    columns = [cast(list[JSONValue], matrix[name]) if isinstance(matrix[name], list) else [matrix[name]]
               for name in names]
    for values in itertools.product(*columns):
        yield dict(zip(names, values, strict=True))
