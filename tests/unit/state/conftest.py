"""Shared by the journal tests: a clock that ticks one second per reading, and where the journal file lives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 9, 7, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".vqr" / "state.sqlite"
