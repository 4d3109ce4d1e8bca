"""The run directory on real files: sortable run ids, whole-or-absent result files, run.json then `latest`."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runner.artifact.rundir import ResultWriter, RunDir, file_sha256, new_run_id, result_file_name


def test_run_ids_sort_by_time() -> None:
    early = new_run_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    late = new_run_id(datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC))
    assert re.fullmatch(r"20260102T030405Z-[0-9a-f]{4}", early)
    assert sorted([late, early]) == [early, late]


@pytest.mark.parametrize(("name", "file"), [("okta-users", "okta-users.jsonl"), ("../etc/x", "_etc_x.jsonl"),
                                            (".hidden", "hidden.jsonl"), ("a b/c", "a_b_c.jsonl")])
def test_result_file_names_never_leave_the_directory(name: str, file: str) -> None:
    assert result_file_name(name) == file


def test_a_result_file_appears_only_when_committed_with_its_hash(tmp_path: Path) -> None:
    target = tmp_path / "results" / "q.jsonl"
    with ResultWriter(target) as writer:
        writer.write([{"b": 1, "a": "é"}, {"id": 2}])
        assert not target.exists()
        done = writer.commit()
    data = target.read_bytes()
    assert data == '{"a":"é","b":1}\n{"id":2}\n'.encode()
    assert done.rows == 2 and done.sha256 == hashlib.sha256(data).hexdigest() == file_sha256(target)
    assert [p.name for p in target.parent.iterdir()] == ["q.jsonl"]



@pytest.mark.parametrize("rows_after_sync", [False, True])
def test_every_row_is_synced_before_the_file_is_renamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        rows_after_sync: bool) -> None:
    synced: list[int] = []  # the file's size on disk at each fsync
    real_fsync = os.fsync
    target = tmp_path / "results" / "q.jsonl"

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_size)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with ResultWriter(target) as writer:
        writer.write([{"id": 1}])
        writer.sync()  # what `vqr run` does in a worker thread
        if rows_after_sync:
            writer.write([{"id": 2}])
        writer.commit()
    assert synced[-1] == target.stat().st_size
    assert len(synced) == (2 if rows_after_sync else 1)

def test_an_abandoned_result_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "results" / "q.jsonl"
    with pytest.raises(RuntimeError), ResultWriter(target) as writer:
        writer.write([{"id": 1}])
        raise RuntimeError("the query failed mid-way")
    assert list(target.parent.iterdir()) == []


def test_publish_writes_run_json_then_latest_points_at_the_run(tmp_path: Path) -> None:
    first, second = RunDir(reports=tmp_path, run_id="20260101T000000Z-aaaa"), RunDir(reports=tmp_path,
                                                                                     run_id="20260102T000000Z-bbbb")
    for run in (first, second):
        run.create()
        run.publish({"version": 1, "run_id": run.run_id})
        assert (tmp_path / "latest").resolve() != run.path.resolve()  # not before the reports are rendered
        run.mark_latest()
    latest = tmp_path / "latest"
    assert latest.is_symlink() and latest.resolve() == second.path.resolve()
    assert json.loads((latest / "run.json").read_text())["run_id"] == second.run_id
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20260101T000000Z-aaaa", "20260102T000000Z-bbbb", "latest"]



def full_device(path: Path) -> Any:
    """The file is created as usual, but its bytes go to /dev/full: every flush fails with a real ENOSPC, and so
    does close() while unflushed rows remain (what a full disk does to a buffered writer)."""
    path.touch()
    return open("/dev/full", "wb")


def test_a_full_disk_names_the_result_file_and_leaves_no_partial(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from runner.artifact import rundir

    monkeypatch.setattr(rundir, "open_for_writing", full_device)
    target = tmp_path / "results" / "q.jsonl"
    with pytest.raises(OSError) as caught, rundir.ResultWriter(target) as writer:
        writer.write({"id": i, "pad": "x" * 100} for i in range(10))  # below the buffer: close() must flush
        writer.commit()
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert list((tmp_path / "results").iterdir()) == []  # the temp's space is given back


def test_an_atomic_write_that_fails_names_its_target_and_leaves_no_temp(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    from runner import files

    real_fdopen = os.fdopen

    def to_full(fd: int, *args: Any, **kwargs: Any) -> Any:
        os.close(fd)
        return real_fdopen(os.open("/dev/full", os.O_WRONLY), *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", to_full)
    with pytest.raises(OSError) as caught:
        files.write_atomically(tmp_path / "run.json", "{}" * 10)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "run.json")
    assert list(tmp_path.iterdir()) == []


def test_latest_as_a_real_directory_is_refused_with_its_path_and_left_alone(tmp_path: Path) -> None:
    from runner.artifact.rundir import point_latest

    (tmp_path / "latest" / "mine").mkdir(parents=True)
    with pytest.raises(IsADirectoryError) as caught:
        point_latest(tmp_path, "20260101T000000Z-abcd")
    assert caught.value.filename == str(tmp_path / "latest")
    assert (tmp_path / "latest" / "mine").is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["latest"]
