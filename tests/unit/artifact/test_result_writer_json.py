"""The result writer's second line of defence (issue 10, point 15): a row holding NaN or Infinity is refused with
`UnwritableRow`, never written as a line that is not JSON, and the temporary file goes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from runner.artifact import ResultWriter, UnwritableRow


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_row_holding_nan_or_infinity_is_refused(tmp_path: Path, number: float) -> None:
    path = tmp_path / "results" / "q.jsonl"
    with pytest.raises(UnwritableRow, match="row 2 cannot be written as JSON"), ResultWriter(path) as writer:
        writer.write([{"id": "a"}, {"id": "b", "score": number}])
    assert not path.exists() and list(path.parent.iterdir()) == []
