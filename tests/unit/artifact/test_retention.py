"""runner/artifact/retention.py: what a run id says about when its run started (the history's bound for a run the
journal does not know). Pruning itself is tested with `vqr run`'s after-run step in tests/unit/report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runner.artifact.retention import RUN_ID, latest_start
from runner.artifact.rundir import new_run_id


def test_a_run_id_holds_its_start_second() -> None:
    assert latest_start("20250215T030000Z-0000") == datetime(2025, 2, 15, 3, 0, 0, 999_999, tzinfo=UTC)
    moment = datetime(2026, 5, 9, 7, 0, 1, 250_000, tzinfo=UTC)
    run_id = new_run_id(moment)
    assert RUN_ID.match(run_id)
    assert latest_start(run_id) == moment.replace(microsecond=999_999)


@pytest.mark.parametrize("name", [None, "", "latest", "20250215T030000Z", "20250215T030000Z-zzzz",
                                  "20251315T030000Z-0000", "x20250215T030000Z-0000"])
def test_anything_else_gives_no_bound(name: str | None) -> None:
    assert latest_start(name) is None
