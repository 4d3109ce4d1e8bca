"""`vqr diff --run` reads a `--state` run's entries (untrusted: a downloaded artifact) into the base side of a
delta: a malformed expectation is left out, never a traceback, and nothing in the entry is trusted as a type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.app.diff_run import SideRun, _side
from runner.model import ExpectSeverity, Verdict


def side(entry: dict[str, Any]) -> SideRun:
    return SideRun(directory=Path("/nonexistent"), entries={"q1": entry}, source="state")


GOOD = {"metric": "rows", "bounds": {"min": 1}, "severity": "warn", "outcome": "failed", "actual": 0, "message": "m"}


@pytest.mark.parametrize("hostile", [
    {**GOOD, "severity": "fatal"}, {**GOOD, "outcome": "exploded"}, {**GOOD, "severity": ["error"]},
    {**GOOD, "outcome": None}, 7, "rows", None,
])
def test_a_malformed_expectation_in_a_state_entry_is_left_out(hostile: Any) -> None:
    result = _side(side({"status": "succeeded", "rows": 3, "expectations": [hostile, GOOD]}), "q1")
    assert result is not None and result.rows == 3 and result.source == "state"
    (kept,) = result.expectations
    assert (kept.severity, kept.verdict, kept.actual) == (ExpectSeverity.WARN, Verdict.FAILED, 0)


def test_hostile_scalars_in_a_state_entry_are_not_trusted() -> None:
    result = _side(side({"status": 3, "rows": "many", "error": "boom", "expectations": {"x": 1}}), "q1")
    assert result is not None and (result.status, result.rows, result.error, result.expectations) == (
        "3", None, None, ())
    assert _side(side({}), "other") is None
