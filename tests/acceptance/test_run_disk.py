"""Full and unwritable disks on `vqr run`: real ENOSPC from /dev/full at the result-file seam, a reports folder that is
a file, `reports/latest` as a real directory, run.json blocked by a directory. Each gives one line naming the path,
a documented exit code, no temp file left, and no ghost `running` run in the journal. (Tests run as root, where
chmod does not stop writes, so the tricks are real files where directories belong, and a device that is full.)"""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from runner.app.boundary import guarded
from runner.app.run_command import run_batch_command
from runner.app.session import Hooks
from runner.artifact import rundir
from runner.model import JSONValue
from runner.settings import read_env
from tests.acceptance.run_project import (
    REPO,
    batch_queries,
    by_name,
    compile_units,
    make_project,
    run_options,
    run_vqr,
)
from tests.support import forked_cli


def statuses(root: Path) -> list[str]:
    with sqlite3.connect(f"file:{root / '.vqr' / 'state.sqlite'}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT status FROM runs ORDER BY started_at")]


def cli(root: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_"))}
    env.update(PYTHONPATH=str(REPO), HOME=str(root.parent), VQR_NO_LINT_CACHE="1", VQR_SANDBOX_NODES="400")
    done = forked_cli.run(["run", "--quiet", *args], cwd=root, env=env, text=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def test_a_full_disk_fails_each_query_removes_its_partial_and_still_writes_run_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_device(path: Path) -> Any:
        path.touch()  # the temp file exists on disk, as it would; its bytes go to a device that is always full
        return open("/dev/full", "wb")

    monkeypatch.setattr(rundir, "open_for_writing", full_device)
    project_file = make_project(tmp_path / "repo", batch_queries(3))
    ran = run_vqr(project_file, run_options(quiet=False))
    assert ran.code == 1 and ran.run is not None and ran.run_dir is not None, ran.err
    assert "completed: 0 succeeded, 3 failed" in ran.out  # the summary is printed
    for name, query in by_name(ran.run).items():
        assert query["status"] == "failed" and query["error"]["category"] == "io"
        assert f"results/{name}.jsonl" in query["error"]["message"]
        assert "No space left on device" in query["error"]["message"]
    assert [p.name for p in (ran.run_dir / "results").iterdir() if p.name.startswith(".")] == []
    assert statuses(project_file.parent) == ["completed"]


def test_a_reports_folder_that_is_a_file_is_one_line_and_leaves_no_running_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", batch_queries(2)).parent
    (root / "reports").write_text("not a directory")
    code, _out, err = cli(root)
    assert code == 3 and "Traceback" not in err and "internal error" not in err, err
    assert err.strip().splitlines() == [f"vqr: cannot use {root / 'reports'}/"
                                        + err.split(f"{root / 'reports'}/")[1].split(":")[0]
                                        + ": Not a directory (ENOTDIR)"]
    assert "running" not in statuses(root)


def test_latest_as_a_real_directory_is_a_warning_and_the_run_completes(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", batch_queries(2)).parent
    (root / "reports" / "latest").mkdir(parents=True)
    (root / "reports" / "latest" / "keep.txt").write_text("mine")
    code, _out, err = cli(root)
    assert code == 0 and "Traceback" not in err, err
    assert f"vqr run: warning: reports/latest not updated: cannot use {root / 'reports' / 'latest'}: " \
           "Is a directory (EISDIR)" in err
    assert (root / "reports" / "latest" / "keep.txt").read_text() == "mine"
    assert statuses(root) == ["completed"]


def test_run_json_that_cannot_be_written_aborts_the_run_in_one_line_and_resume_finishes_it(tmp_path: Path) -> None:
    project_file = make_project(tmp_path / "repo", batch_queries(2))
    project, queries = compile_units(project_file)

    class BlockRunJson:  # a result report that makes a directory where run.json must go
        def __init__(self, results_file: Path) -> None:
            self.run_json = results_file.parent.parent / "run.json"

        def feed(self, rows: Sequence[JSONValue]) -> None:
            pass

        def prepare(self) -> None:
            pass

        def save(self) -> None:
            self.run_json.mkdir(exist_ok=True)

    err = io.StringIO()
    code = guarded(lambda: run_batch_command(project, queries, run_options(), process=read_env({}),
                                             out=io.StringIO(), err=err, hooks=Hooks(result=BlockRunJson)),
                   err=err)
    (run_dir,) = (project.reports_dir).glob("2*")
    assert code == 3 and err.getvalue().splitlines()[-1] == (
        f"vqr: cannot use {run_dir / 'run.json'}: Is a directory (EISDIR)"), err.getvalue()
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock", "results", "run.json"]  # no temp file left
    assert statuses(project_file.parent) == ["aborted"]  # not a ghost `running` run
    (run_dir / "run.json").rmdir()
    ran = run_vqr(project_file, run_options(resume=True))
    assert ran.code == 0 and ran.run is not None and ran.run["run_id"] == run_dir.name, ran.err
    assert statuses(project_file.parent) == ["completed"]
