"""Shards end to end (issue 15): four `vqr run --shard I/4` processes of the real CLI against one sandbox, then
`vqr report merge`, give the run an unsharded `vqr run` of the same batch gives (rows, drift against the same
previous run, expectations, order), with every distinct body executed exactly once; and a bad merge (mixed plans,
a missing shard, a duplicate shard, a run that is no shard) is refused with one line and exit 2. One sandbox and
one batch serve every check: each CLI process costs about a second of start-up."""

from __future__ import annotations

import errno
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.artifact import RunDir
from runner.cli import main
from tests.acceptance.run_project import (
    _python_env,
    batch_queries,
    check_run_json,
    external_sandbox,
    fixed_sandbox,
    make_project,
    query_yaml,
    remote,
    start_run_process,
    stats,
)

RUN = ("run", "--env", "remote", "--cache", "immediate", "--quiet")
SHARDS = 4


def vqr(root: Path, *args: str, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "runner", *args], cwd=root, env=_python_env(remote(url)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def done(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def latest(reports: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((reports / "latest" / "run.json").read_text())
    return check_run_json(data)


def comparable(run: dict[str, Any]) -> list[Any]:
    """What a merged run must share with an unsharded one: every query's outcome, in order, timings aside."""
    keep = ("name", "status", "rows", "sha256", "results_file", "drift", "expectations", "lifecycle", "body_hash",
            "shared_submit", "cache", "mode", "exceptions")
    return [{k: q.get(k) for k in keep} for q in run["queries"]] + [run.get("exceptions_unmatched")]


def accept_one_row(root: Path, run: dict[str, Any]) -> None:
    """An accepted exception for one row of q01, and one that matches nothing."""
    (entry,) = [q for q in run["queries"] if q["name"] == "q01"]
    first = json.loads((root / "reports" / run["run_id"] / entry["results_file"]).read_text().splitlines()[0])
    expires = (date.fromisoformat(run["as_of"][:10]) + timedelta(days=200)).isoformat()
    (root / "exceptions").mkdir()
    (root / "exceptions" / "accepted.yaml").write_text(
        "# yaml-language-server: $schema=../schemas/exceptions.schema.json\nexceptions:\n"
        f"  - query: q01\n    entity: {{id: {json.dumps(first['id'])}}}\n    reason: a known one\n"
        f"    owner: test\n    expires: '{expires}'\n"
        f"  - query: q02\n    entity: {{id: nobody-has-this-id}}\n    reason: stale\n    owner: test\n"
        f"    expires: '{expires}'\n")


def test_four_shards_merge_into_the_unsharded_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    queries = batch_queries(8)
    # Three queries with one body: one submit in an unsharded run, so they must share a shard.
    for name in ("twin-a", "twin-b"):
        queries[name] = query_yaml(name, "OktaUser", expect="- {new_rows: {max: 0}, severity: warn}")
    sharded = tmp_path / "sharded"
    make_project(sharded, queries)
    unsharded = tmp_path / "unsharded"
    at = {side: ("--project", str(side / "vqr.yaml")) for side in (sharded, unsharded)}
    with fixed_sandbox() as box:
        for name, value in remote(box.url).items():  # the in-process commands (the shards are processes)
            monkeypatch.setenv(name, value)
        assert cli(capsys, *at[sharded], *RUN)[0] == 0  # the previous run both sides compare with
        previous = latest(sharded / "reports")["run_id"]
        httpx.post(f"{box.url}/_sandbox/advance", json={"seed": 3, "fraction": 0.2},
                   headers={"authorization": "Bearer test-key"}, timeout=10).raise_for_status()
        accept_one_row(sharded, latest(sharded / "reports"))  # the merge applies exceptions as the run does
        shutil.copytree(sharded, unsharded, symlinks=True)
        code, out, err = cli(capsys, *at[sharded], "plan", "--env", "remote", "--cache", "immediate", "--shards",
                             str(SHARDS))
        assert code == 0, err
        plan = json.loads(out)

        before = stats(box.url)["executions"]
        for process in [vqr(sharded, *RUN, "--shard", f"{i}/{SHARDS}", url=box.url) for i in range(SHARDS)]:
            done(process)
        executed = stats(box.url)["executions"] - before
        shard_dirs = [sharded / "reports" / f"shard-{i}-of-{SHARDS}" for i in range(SHARDS)]
        # Side by side: the merge, a shard 3/4 of another plan (another selection), and the unsharded run.
        other = tmp_path / "other"
        processes = [vqr(sharded, "report", "merge", *map(str, shard_dirs), url=box.url),
                     vqr(sharded, *RUN, "--shard", f"3/{SHARDS}", "--select", "q0[12]", "--reports", str(other),
                         url=box.url)]
        assert cli(capsys, *at[unsharded], *RUN)[0] == 0
        for process in processes:
            done(process)

    assert executed == 8  # 10 queries, 8 distinct bodies: each executed once, by exactly one shard
    parts = [latest(d) for d in shard_dirs]
    assert [p["shard"]["index"] for p in parts] == list(range(SHARDS))
    assert {p["shard"]["plan_hash"] for p in parts} == {plan["plan_hash"]}
    assert [sorted(q["name"] for q in p["queries"]) for p in parts] == [s["queries"] for s in plan["shards"]]
    twins = {i for i, p in enumerate(parts) for q in p["queries"] if q["name"] in ("q00", "twin-a", "twin-b")}
    assert len(twins) == 1

    merged, alone = latest(sharded / "reports"), latest(unsharded / "reports")
    assert merged["shards"]["merged"] == [{"index": p["shard"]["index"], "run_id": p["run_id"], "status": "completed",
                                          "queries": len(p["queries"])} for p in parts]
    assert merged["shards"]["partial"] is False and merged["shards"]["missing"] == []
    assert comparable(merged) == comparable(alone)
    assert [e["id"] for e in merged["exceptions_unmatched"]] == ["exceptions/accepted.yaml#1"]
    assert next(q for q in merged["queries"] if q["name"] == "q01")["exceptions"]["excepted_rows"] == 1
    assert all(q["drift"]["previous_run"] == previous for q in merged["queries"])
    assert sum(q["drift"]["added"] + q["drift"]["removed"] + q["drift"]["changed"] for q in merged["queries"]) > 0
    assert merged["summary"] == alone["summary"] and merged["exit_code"] == alone["exit_code"]
    for q in merged["queries"]:
        assert (sharded / "reports" / merged["run_id"] / q["results_file"]).read_bytes() == \
            (unsharded / "reports" / alone["run_id"] / q["results_file"]).read_bytes()
    shard_csvs = {f.name: f for d in shard_dirs for f in (d / "latest" / "results").glob("*.csv")}
    for q in merged["queries"]:  # the CSVs too: each the shard's own file, linked beside its rows, not made again
        merged_csv = (sharded / "reports" / merged["run_id"] / q["results_file"]).with_suffix(".csv")
        assert merged_csv.read_bytes() == \
            (unsharded / "reports" / alone["run_id"] / q["results_file"]).with_suffix(".csv").read_bytes()
        assert merged_csv.samefile(shard_csvs[merged_csv.name])
    for report in ("report.md", "report.html", "junit.xml"):
        assert (sharded / "reports" / merged["run_id"] / report).is_file()

    # One history entry per query for the merge: the shards' runs live in their own journals.
    code, out, err = cli(capsys, "--project", str(sharded / "vqr.yaml"), "report", "history", "q01")
    assert code == 0, err
    assert merged["run_id"] in out and previous in out and not any(p["run_id"] in out for p in parts)

    # Bad merges: refused before anything is written, with one line and exit 2.
    project = ("--project", str(sharded / "vqr.yaml"), "report", "merge")
    runs_before = sorted(p.name for p in (sharded / "reports").iterdir())
    # A downloaded shard whose result file was swapped for a link (to the very same bytes, so only the link shows).
    tampered = [tmp_path / "tampered" / d.name for d in shard_dirs]
    for source, copy in zip(shard_dirs, tampered, strict=True):
        shutil.copytree(source, copy, symlinks=True)
    victim = next(f for d in tampered for f in (d / "latest" / "results").glob("*.jsonl"))
    shutil.move(victim, tmp_path / "elsewhere.jsonl")
    victim.symlink_to(tmp_path / "elsewhere.jsonl")
    # A shard whose run.json says what no vqr writes (in a part the merge reads).
    invalid = tmp_path / "invalid" / shard_dirs[3].name
    shutil.copytree(shard_dirs[3], invalid, symlinks=True)
    document = json.loads((invalid / "latest" / "run.json").read_text("utf-8"))
    document["queries"][0]["status"] = "fine"
    (invalid / "latest" / "run.json").write_text(json.dumps(document), "utf-8")
    for dirs, says in (([*shard_dirs[:3]], "missing shard 3/4"),
                       ([*shard_dirs[:3], invalid], "does not match run.schema.json: at /queries/0/status"),
                       (tampered, f"the results of '{victim.stem}' in "),
                       ([*shard_dirs, shard_dirs[1]], "duplicate shard 1/4"),
                       ([*shard_dirs[:3], unsharded / "reports"], "is not a shard run"),
                       ([*shard_dirs[:3], other], "shards of different plans")):
        code, out, err = cli(capsys, *project, *map(str, dirs))
        assert (code, err.count("\n")) == (2, 1) and says in err, err
    assert sorted(p.name for p in (sharded / "reports").iterdir()) == runs_before
    # A merge that fails while writing run.json (a full disk) leaves neither a run directory nor a journal run.
    journal_runs = _runs(sharded / ".vqr" / "state.sqlite")

    def full_disk(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(RunDir, "publish", full_disk)
        code, _, err = cli(capsys, *project, *map(str, shard_dirs))
    assert code == 3 and "No space left on device" in err, err
    assert sorted(p.name for p in (sharded / "reports").iterdir()) == runs_before
    assert _runs(sharded / ".vqr" / "state.sqlite") == journal_runs
    partial_code, out, _ = cli(capsys, *project, *map(str, shard_dirs[:3]), "--allow-partial")
    assert partial_code == 1 and latest(sharded / "reports")["shards"]["missing"] == [3]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The real command line in-process (click parsing and the error boundary included)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    captured = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def test_a_killed_shard_resumes_on_its_own_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project_file = make_project(tmp_path / "p", batch_queries(8))
    root = project_file.parent
    journal = root / ".vqr" / "state-shard-0-of-2.sqlite"
    with external_sandbox(latency=0.3) as url:
        process = start_run_process(project_file, url, concurrency=1, shard="0/2")
        deadline = time.monotonic() + 30
        while not (journal.is_file() and _done(journal) >= 1):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=20)
        (run_dir,) = [p for p in (root / "reports" / "shard-0-of-2").iterdir() if p.is_dir()]
        started = json.loads((run_dir / "shard.json").read_text())
        resumed = start_run_process(project_file, url, concurrency=2, shard="0/2", resume=True)
        out, err = resumed.communicate(timeout=60)
        assert resumed.returncode == 0, out + err
        executed = stats(url)["executions"]
    run = check_run_json(json.loads((run_dir / "run.json").read_text()))
    assert run["resumed"] and run["shard"] == started and started["index"] == 0 and started["count"] == 2
    assert executed == len(run["queries"]) and any(q["kept_from_earlier_attempt"] for q in run["queries"])
    assert not (root / ".vqr" / "state.sqlite").exists()  # the project's journal is the merge's, never a shard's
    # The other shard has nothing to resume: its journal is its own.
    code, _, err = cli(capsys, "--project", str(project_file), "run", "--env", "remote", "--shard", "1/2", "--resume")
    assert code == 2 and "nothing to resume" in err, err


def _runs(journal: Path) -> list[str]:
    db = sqlite3.connect(journal)
    try:
        return [row[0] for row in db.execute("SELECT run_id FROM runs ORDER BY run_id")]
    finally:
        db.close()


def _done(journal: Path) -> int:
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM queries WHERE state = 'done'").fetchone()[0])
    except sqlite3.Error:
        return 0  # the writer may be creating the file or holding it for a moment
