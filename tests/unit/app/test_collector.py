"""The batch's collector settings (runner/app/collector.py): what exists when the loop starts is frozen out of the
scans and the young threshold is raised for the run; cyclic garbage made meanwhile is still collected; both
settings are given back on the way out, also after an exception."""

from __future__ import annotations

import gc
import weakref

import pytest

from runner.app.collector import YOUNG_THRESHOLD, batch_collector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_the_run_is_frozen_raised_and_given_back() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with batch_collector():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_cycles_made_during_the_run_are_still_collected() -> None:
    with batch_collector():
        ref = weakref.ref(_Node())
        assert ref() is not None
        gc.collect()
        assert ref() is None


def test_an_exception_gives_the_settings_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), batch_collector():
        raise RuntimeError("the run stopped")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
