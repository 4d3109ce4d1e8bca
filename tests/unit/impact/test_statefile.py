"""Hostile `--state` run directories (run.json may come from a downloaded CI artifact): every one is a one-line
`UsageError` or a safe None, never a traceback, a hang or a read outside the run directory."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from runner.errors import UsageError
from runner.impact.statefile import StateRun, read_state, recorded_results, state_renderings

HASH = "ab" * 32


def artifact(**changes: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "run_id": "20260101T000000Z-abcd", "env": "sandbox", "target": "https://veza.invalid",
        "bodies": {"q1": HASH, "q2": "cd" * 32},
        "queries": [{"name": "q1", "file": "queries/q1.yaml", "status": "succeeded", "rows": 2,
                     "results_file": "results/q1.jsonl", "body": {"immediate_run": {}}, "body_hash": HASH}]}
    run.update(changes)
    return {k: v for k, v in run.items() if v is not None}


def run_dir(root: Path, run: dict[str, Any] | str | bytes, name: str = "20260101T000000Z-abcd") -> Path:
    directory = root / "reports" / name
    (directory / "results").mkdir(parents=True)
    data = run if isinstance(run, (str, bytes)) else json.dumps(run)
    (directory / "run.json").write_bytes(data.encode() if isinstance(data, str) else data)
    (directory / "results" / "q1.jsonl").write_text('{"id": "u1"}\n{"id": "u2"}\n')
    return directory


def refused(directory: Path) -> str:
    with pytest.raises(UsageError) as error:
        read_state(directory)
    message = str(error.value)
    assert "\n" not in message and message.startswith("--state ")
    return message


def test_a_well_formed_run_directory_reads(tmp_path: Path) -> None:
    state = read_state(run_dir(tmp_path, artifact()))
    assert (state.env, dict(state.bodies), set(state.entries)) == ("sandbox", {"q1": HASH, "q2": "cd" * 32}, {"q1"})
    assert state.results_file("q1") == state.directory / "results" / "q1.jsonl"
    side = state_renderings(state)["sandbox"]
    assert side["q1"].body == {"immediate_run": {}} and side["q2"].body == {}  # q2: known by its hash only


@pytest.mark.parametrize(("data", "says"), [
    ("{not json", "not JSON"), (b"\xff\xfe{}", "not JSON"), ("", "not JSON"), ("[1, 2]", "not a vqr run artifact"),
    ("[" * 200_000 + "]" * 200_000, "not JSON"), ('{"a":' * 100_000 + "1" + "}" * 100_000, "not JSON"),
    ('{"run_id": 1, "env": "sandbox", "target": "t", "bodies": {}}', "not a vqr run artifact"),
    ("9" * 5000, "not JSON"),  # Python refuses to parse an integer this long: a ValueError, caught
])
def test_a_run_json_that_is_not_a_run_artifact_is_refused(tmp_path: Path, data: str | bytes, says: str) -> None:
    assert says in refused(run_dir(tmp_path, data))


def test_no_bodies_says_to_rerun_or_use_base(tmp_path: Path) -> None:
    message = refused(run_dir(tmp_path, artifact(bodies=None)))
    assert "run the batch again" in message and "--base REF" in message


@pytest.mark.parametrize("bodies", [
    [HASH], "q1", {"q1": "ab" * 31}, {"q1": HASH + "0"}, {"q1": 42}, {"q1": None},
    {"q1": "zz" * 32}, {"q1": "AB" * 32}, {"q1": " " + HASH[1:]}, {"q1": "é" * 64},
])
def test_malformed_bodies_are_refused(tmp_path: Path, bodies: object) -> None:
    assert "bodies are malformed" in refused(run_dir(tmp_path, artifact(bodies=bodies)))


def test_a_missing_directory_or_a_fifo_run_json_is_refused_without_hanging(tmp_path: Path) -> None:
    assert "no readable run.json" in refused(tmp_path / "nowhere")
    directory = tmp_path / "fifo-run"
    directory.mkdir()
    os.mkfifo(directory / "run.json")  # a blocking open would wait forever for a writer
    assert "FIFO" in refused(directory)


def test_a_run_json_symlinked_outside_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(artifact()))
    directory = tmp_path / "run"
    directory.mkdir()
    (directory / "run.json").symlink_to(outside)
    assert "no readable run.json" in refused(directory)


def entry(results_file: object, status: str = "succeeded") -> dict[str, Any]:
    return {"name": "q1", "status": status, "results_file": results_file}


@pytest.mark.parametrize("results_file", [
    "../../etc/passwd", "/etc/passwd", "results/../../../etc/passwd", "results/../run.json", "results/..",
    "results/a/b.jsonl", "q1.jsonl", "results", "", "results/\0q1.jsonl", 7, None, ["results/q1.jsonl"],
    "results/missing.jsonl",
])
def test_a_results_file_outside_results_is_none(tmp_path: Path, results_file: object) -> None:
    directory = run_dir(tmp_path, artifact())
    assert recorded_results(directory, entry(results_file)) is None
    assert recorded_results(directory, entry("results/q1.jsonl", status="failed")) is None
    assert recorded_results(None, entry("results/q1.jsonl")) is None
    assert recorded_results(directory, entry("results/q1.jsonl")) == directory / "results" / "q1.jsonl"


def test_a_results_symlink_pointing_outside_is_none(tmp_path: Path) -> None:
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"id": "secret"}\n')
    directory = run_dir(tmp_path, artifact())
    (directory / "results" / "q2.jsonl").symlink_to(secret)
    assert recorded_results(directory, entry("results/q2.jsonl")) is None


def test_a_results_directory_symlinked_outside_is_none(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "q1.jsonl").write_text('{"id": "secret"}\n')
    directory = run_dir(tmp_path, artifact())
    for file in (directory / "results").iterdir():
        file.unlink()
    (directory / "results").rmdir()
    (directory / "results").symlink_to(elsewhere, target_is_directory=True)
    assert recorded_results(directory, entry("results/q1.jsonl")) is None
    assert read_state(directory).results_file("q1") is None


def test_latest_as_a_text_file_names_the_run(tmp_path: Path) -> None:
    directory = run_dir(tmp_path, artifact())
    latest = tmp_path / "reports" / "latest"
    latest.write_text(directory.name + "\n")  # what point_latest writes where symlinks are not allowed
    state = read_state(latest)
    assert state.directory == directory and state.results_file("q1") == directory / "results" / "q1.jsonl"


@pytest.mark.parametrize("named", ["../../outside", "../outside", "/tmp", "..", ".", "sub/run", ""])
def test_latest_as_a_text_file_never_names_a_directory_outside_reports(tmp_path: Path, named: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "run.json").write_text(json.dumps(artifact()))
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "run.json").write_text(json.dumps(artifact()))
    latest = tmp_path / "reports" / "latest"
    latest.write_text(named.replace("/tmp", str(outside)))
    assert "no readable run.json" in refused(latest)


def test_hostile_entries_are_ignored_not_trusted(tmp_path: Path) -> None:
    queries: list[Any] = [7, "q1", None, {"name": 3}, {"name": "q1", "body": [1], "body_hash": HASH, "file": 9},
                          {"name": "q2", "body": {"immediate_run": {}}, "body_hash": "ff" * 32}]
    state = read_state(run_dir(tmp_path, artifact(queries=queries)))
    assert isinstance(state, StateRun) and set(state.entries) == {"q1", "q2"}
    side = state_renderings(state)["sandbox"]
    assert side["q1"].body == {} and side["q1"].file == ""  # a list is no body, a number no file
    assert side["q2"].body == {}  # its recorded hash is not the one in `bodies`: the body is not that version
    assert read_state(run_dir(tmp_path, artifact(queries={"q1": {}}), name="other")).entries == {}
