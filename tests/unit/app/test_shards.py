"""`app/shards.py`: the durations `--shard-by duration` balances (the last complete run that `reports/latest`
names), the GitHub matrix, and `shard.json`, the identity a resumed shard keeps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.app.shards import matrix, past_durations, read_shard_file, write_shard_file
from runner.artifact.rundir import point_latest
from runner.errors import UsageError
from runner.model import JSONObject, Shard

FIXTURE = Path(__file__).resolve().parents[2] / "golden" / "run-fixture"


def test_durations_come_from_the_run_latest_names(tmp_path: Path) -> None:
    assert past_durations(tmp_path) == {}  # no run yet: equal weights
    shutil.copytree(FIXTURE, tmp_path / "20250301T020000Z-a1b2")
    point_latest(tmp_path, "20250301T020000Z-a1b2")
    durations = past_durations(tmp_path)
    assert durations["stale-access-keys"] == 30.0 and durations["inactive-admins"] == 0.1
    assert "snowflake-roles" not in durations  # it has no duration: it weighs the median


def test_the_matrix_lists_every_shard_zero_based() -> None:
    assert matrix(3) == {"include": [{"shard": "0/3"}, {"shard": "1/3"}, {"shard": "2/3"}]}


def test_a_resumed_shard_keeps_its_identity_and_refuses_another_shards_run(tmp_path: Path) -> None:
    info: JSONObject = {"index": 1, "count": 4, "plan_hash": "0" * 64, "by": "hash"}
    write_shard_file(tmp_path, info)
    assert read_shard_file(tmp_path, Shard(index=1, count=4)) == info
    with pytest.raises(UsageError, match="another shard's"):
        read_shard_file(tmp_path, Shard(index=2, count=4))
    with pytest.raises(UsageError, match="missing or unreadable"):
        read_shard_file(tmp_path / "gone", Shard(index=1, count=4))
