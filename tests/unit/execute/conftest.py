"""The `rig` fixture: a scripted Veza, a fresh SQLite journal with one started run, and a temporary run directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.artifact.rundir import RunDir
from runner.state.journal import open_journal
from tests.unit.execute.fake_veza import KEY, RUN_ID, Rig, WallClock


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    wall = WallClock()
    with open_journal(tmp_path / ".vqr" / "state.sqlite", clock=wall) as journal:
        journal.start_run(RUN_ID, env=KEY.env, target=KEY.target)
        rundir = RunDir(reports=tmp_path / "reports", run_id=RUN_ID)
        rundir.create()
        yield Rig(journal=journal, rundir=rundir, wall=wall)
