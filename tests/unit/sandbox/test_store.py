"""The sandbox store on real files: a result saved by one `StateStore` is read back by another with the same age,
another graph's store never sees it, and `reset_store` removes graphs only, never a user's other files."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.sandbox import store as store_module
from runner.sandbox.cache import Execution
from runner.sandbox.config import SandboxConfig
from runner.sandbox.engine import evaluate
from runner.sandbox.generate import generate_graph
from runner.sandbox.store import StateStore, StoredJob, reset_store

SPEC = {"query_type": "SOURCE_TO_DESTINATION", "result_value_type": "SOURCE_NODES",
        "source_node_types": {"nodes": [{"node_type": "OktaGroup"}]}}


def saved(root: Path, identity: dict[str, object]) -> Execution:
    graph = generate_graph(nodes=300, seed=7)
    outcome = evaluate(graph, SPEC)
    store = StateStore(root, identity, ttl=60.0)
    store.load()
    now = time.monotonic()
    execution = Execution(cache_id="cache-1", key="k", graph_version=0, created_at=now - 5.0, finished_at=now - 4.0,
                          failed=False, outcome=outcome)
    store.save_execution(execution)
    store.save_job(StoredJob(query_result_id="qr-1", cache_id="cache-1", created_at=now - 5.0, warnings=("w",)))
    return execution


def test_a_saved_result_reads_back_with_its_rows_and_age(tmp_path: Path) -> None:
    identity = SandboxConfig(nodes=300).graph_identity()
    original = saved(tmp_path, identity)
    loaded, warning = StateStore(tmp_path, identity, ttl=60.0).load()
    assert warning is None and [e.cache_id for e in loaded.executions] == ["cache-1"]
    back = loaded.executions[0]
    assert back.outcome.total == original.outcome.total > 0
    assert back.outcome.page(2, 3) == original.outcome.page(2, 3)
    assert abs(back.age(time.monotonic()) - 5.0) < 1.0
    assert [(j.query_result_id, j.warnings) for j in loaded.jobs] == [("qr-1", ("w",))]
    other, _ = StateStore(tmp_path, SandboxConfig(nodes=300, seed=8).graph_identity(), ttl=60.0).load()
    assert other.executions == ()  # another graph: its own directory, nothing shared


def test_expired_entries_are_not_loaded(tmp_path: Path) -> None:
    identity = SandboxConfig().graph_identity()
    saved(tmp_path, identity)
    loaded, warning = StateStore(tmp_path, identity, ttl=5.0).load()  # created 5 s ago: expired at ttl 5 s
    assert warning is None and loaded.executions == () and loaded.jobs == ()
    assert not list(tmp_path.glob("graph-*/results/*.json"))


def test_reset_removes_graphs_and_nothing_else(tmp_path: Path) -> None:
    saved(tmp_path, SandboxConfig().graph_identity())
    (tmp_path / "notes.txt").write_text("mine")
    assert reset_store(tmp_path) == 1
    assert (tmp_path / "notes.txt").read_text() == "mine" and not list(tmp_path.glob("graph-*"))
    assert reset_store(tmp_path / "absent") == 0


def test_a_store_that_cannot_be_created_warns_and_remembers_nothing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    loaded, warning = StateStore(tmp_path / "file" / "store", SandboxConfig().graph_identity(), ttl=60.0).load()
    assert loaded.executions == () and warning is not None and "cannot be used" in warning


def test_a_result_too_big_to_store_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "MAX_STORED_ROWS", 1)  # the limit, not the transport: no stub of any part
    saved(tmp_path, SandboxConfig().graph_identity())
    assert not list(tmp_path.glob("graph-*/results/*.json")) and list(tmp_path.glob("graph-*/jobs/*.json"))


def _edit_result(**fields: object) -> Callable[[Path], None]:
    def edit(graph: Path) -> None:
        path = next(graph.glob("results/*.json"))
        path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))
    return edit


def _advances(text: str) -> Callable[[Path], None]:
    def edit(graph: Path) -> None:
        (graph / "advances.json").write_text(text)
    return edit


def _results_a_file(graph: Path) -> None:
    shutil.rmtree(graph / "results")
    (graph / "results").write_text("x")


DAMAGE = {
    "created-negative": _edit_result(created_at=-1.0),
    "created-nan": _edit_result(created_at=float("nan")),  # json.dumps writes NaN, json.loads reads it back
    "finished-before-created": _edit_result(finished_at=0.0),
    "version-float": _edit_result(graph_version=1.5),
    "cost-bool": _edit_result(cost=True),
    "failed-string": _edit_result(failed="no"),
    "warnings-not-list": _edit_result(warnings="w"),
    "fraction-too-big": _advances('{"format":1,"advances":[[1,5]]}'),
    "fraction-zero": _advances('{"format":1,"advances":[[1,0]]}'),
    "seed-bool": _advances('{"format":1,"advances":[[true,0.1]]}'),
    "seed-huge": _advances('{"format":1,"advances":[[' + "9" * 30 + ',0.1]]}'),
    "step-short": _advances('{"format":1,"advances":[[1]]}'),
    "advances-directory": lambda graph: (graph / "advances.json").mkdir(),
    "job-symlink": lambda graph: (graph / "jobs" / "zz.json").symlink_to(next(graph.glob("results/*.json"))),
    "results-a-file": _results_a_file,
}


@pytest.mark.parametrize("damage", list(DAMAGE.values()), ids=list(DAMAGE))
def test_damaged_contents_are_one_warning_and_a_rebuild(tmp_path: Path, damage: Callable[[Path], None]) -> None:
    identity = SandboxConfig().graph_identity()
    saved(tmp_path, identity)
    damage(next(tmp_path.glob("graph-*")))
    loaded, warning = StateStore(tmp_path, identity, ttl=60.0).load()
    assert loaded == store_module.Loaded() and warning is not None and "rebuilt empty" in warning, warning
    assert [p.name for p in next(tmp_path.glob("graph-*")).iterdir()] == ["identity.json"]
    assert StateStore(tmp_path, identity, ttl=60.0).load() == (store_module.Loaded(), None)


def test_the_store_keeps_the_newest_results_and_jobs_within_its_bounds(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    identity = SandboxConfig().graph_identity()
    original = saved(tmp_path, identity)  # cache-1, created 5 s ago, with job qr-1
    store = StateStore(tmp_path, identity, ttl=60.0)
    now = time.monotonic()
    for n in (2, 3, 4):
        store.save_execution(Execution(cache_id=f"cache-{n}", key="k", graph_version=0, created_at=now - 5.0 + n,
                                       finished_at=now - 4.0 + n, failed=False, outcome=original.outcome))
        for m in range(2):
            store.save_job(StoredJob(query_result_id=f"qr-{n}-{m}", cache_id=f"cache-{n}",
                                     created_at=now - 5 + n + m / 2, warnings=()))
    monkeypatch.setattr(store_module, "MAX_STORED_RESULTS", 3)
    monkeypatch.setattr(store_module, "MAX_STORED_JOBS", 4)
    loaded, warning = StateStore(tmp_path, identity, ttl=60.0).load()
    assert warning is None and [e.cache_id for e in loaded.executions] == ["cache-2", "cache-3", "cache-4"]
    assert [j.query_result_id for j in loaded.jobs] == ["qr-3-0", "qr-3-1", "qr-4-0", "qr-4-1"]  # oldest first
    assert {p.stem for p in tmp_path.glob("graph-*/results/*.json")} == {"cache-2", "cache-3", "cache-4"}
    assert len(list(tmp_path.glob("graph-*/jobs/*.json"))) == 4  # the dropped ones' files are gone too
    monkeypatch.setattr(store_module, "MAX_STORED_TOTAL_ROWS", original.outcome.total)  # room for one result
    loaded, _ = StateStore(tmp_path, identity, ttl=60.0).load()
    assert [e.cache_id for e in loaded.executions] == ["cache-4"]
    assert [p.stem for p in tmp_path.glob("graph-*/results/*")] == ["cache-4"]


def test_other_graphs_are_pruned_by_age_and_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for seed in (1, 2, 3, 4):
        saved(tmp_path, SandboxConfig(seed=seed).graph_identity())
    dirs = {seed: StateStore(tmp_path, SandboxConfig(seed=seed).graph_identity(), ttl=60.0).dir for seed in (1, 2, 3)}
    old = time.time() - 120.0  # unused for longer than the ttl: everything in it has expired
    os.utime(dirs[1], (old, old))
    os.utime(dirs[2], (old + 100, old + 100))
    monkeypatch.setattr(store_module, "MAX_OTHER_GRAPHS", 1)
    loaded, warning = StateStore(tmp_path, SandboxConfig(seed=4).graph_identity(), ttl=60.0).load()
    assert warning is None and [e.cache_id for e in loaded.executions] == ["cache-1"]
    assert not dirs[1].exists() and not dirs[2].exists()  # too old; then beyond the count (3 is the newest other)
    assert dirs[3].exists() and len(list(tmp_path.glob("graph-*"))) == 2
