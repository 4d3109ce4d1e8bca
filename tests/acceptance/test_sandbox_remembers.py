"""The embedded sandbox remembers (`.vqr/sandbox/`): the real `vqr` CLI run twice on one project, real HTTP, real
files. A second run is served from the cache (if_available and context hits, immediate misses, result files reused),
`vqr sandbox reset` forgets, a corrupt store is rebuilt with one warning, entries expire, and two runs at once
leave a store a third run reads without complaint. Also what each cache mode sees after `/_sandbox/advance`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.sandbox.config import SandboxConfig
from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.run_project import (
    REPO,
    by_name,
    check_run_json,
    fixed_sandbox,
    make_project,
    query_yaml,
    remote,
    run_options,
    run_vqr,
)
from tests.support import forked_cli

VQR = [sys.executable, "-m", "runner"]
QUERIES = {
    "users": query_yaml("users", "OktaUser", cache="{mode: if_available, max_staleness: 1h}"),
    "buckets": query_yaml("buckets", "S3Bucket"),  # the project default: if_available, 24h
    "roles-ctx": query_yaml("roles-ctx", "AwsIamRole", cache="{mode: context, cache_id: previous, on_expired: run}"),
    "groups-now": query_yaml("groups-now", "OktaGroup", cache="{mode: immediate}"),
}
IF_AVAILABLE, CONTEXT, IMMEDIATE = ("users", "buckets"), ("roles-ctx",), ("groups-now",)
AUTH = {"authorization": "Bearer test-key"}


def vqr(*args: str, cwd: Path, latency: str = "0.05") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_", "GITHUB_"))}
    env.update(PYTHONPATH=str(REPO), VQR_SANDBOX_NODES="400", VQR_SANDBOX_LATENCY=latency)
    return forked_cli.run(args, cwd=cwd, text=True, env=env, timeout=120)


def run_cli(root: Path, latency: str = "0.05") -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = vqr("run", "--quiet", cwd=root, latency=latency)
    latest = root / "reports" / "latest" / "run.json"
    return done, check_run_json(json.loads(latest.read_text()))


def result_file(root: Path, run: dict[str, Any], name: str) -> Path:
    return root / "reports" / str(run["run_id"]) / str(by_name(run)[name]["results_file"])


def test_a_second_run_is_served_from_the_cache_and_reuses_its_files_until_reset(tmp_path: Path) -> None:
    make_project(tmp_path, QUERIES)
    ran, first = run_cli(tmp_path)
    assert ran.returncode == 0, ran.stderr
    one = by_name(first)
    assert all(one[n]["cache"] == "miss" for n in (*IF_AVAILABLE, *IMMEDIATE))
    assert one["roles-ctx"]["mode"] == "immediate_run"  # no previous run yet: on_expired: run
    assert list((tmp_path / ".vqr" / "sandbox").glob("graph-*/results/*.json"))

    ran, second = run_cli(tmp_path)
    assert ran.returncode == 0 and "warning" not in ran.stderr, ran.stderr
    two = by_name(second)
    for name in IF_AVAILABLE:
        assert (two[name]["mode"], two[name]["cache"]) == ("cached_result_if_available", "hit")
        assert two[name]["cache_id"] == one[name]["cache_id"] and two[name]["rows"] > 0
        # the very file the first run downloaded (a hard link, verified by its sha256), not a new download
        assert result_file(tmp_path, second, name).stat().st_ino == result_file(tmp_path, first, name).stat().st_ino
    ctx = two["roles-ctx"]
    assert (ctx["mode"], ctx["cache"]) == ("cached_result_context", "hit")
    assert ctx["cache_id"] == one["roles-ctx"]["cache_id"]  # attached to the last run's id
    assert ctx["sha256"] == one["roles-ctx"]["sha256"]
    now = two["groups-now"]
    assert (now["mode"], now["cache"]) == ("immediate_run", "miss") and now["cache_id"] != one["groups-now"]["cache_id"]
    assert now["sha256"] == one["groups-now"]["sha256"]  # a restarted sandbox serves the same graph

    reset = vqr("sandbox", "reset", cwd=tmp_path)
    assert reset.returncode == 0 and "1 sandbox graph(s) forgotten" in reset.stdout, reset.stdout + reset.stderr
    assert not (tmp_path / ".vqr" / "sandbox").exists()
    assert (tmp_path / ".vqr" / "state.sqlite").exists()  # the journal is not the sandbox's to forget
    ran, third = run_cli(tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert all(q["cache"] == "miss" for n, q in by_name(third).items() if n != "roles-ctx")
    assert by_name(third)["users"]["cache_id"] not in (one["users"]["cache_id"], two["users"]["cache_id"])


def _truncate_a_result(store: Path) -> None:
    path = next(store.glob("graph-*/results/*.json"))
    path.write_bytes(path.read_bytes()[:40])


def _bad_identity(store: Path) -> None:
    next(store.glob("graph-*/identity.json")).write_text("{not json")


def _wrong_version(store: Path) -> None:
    path = next(store.glob("graph-*/jobs/*.json"))
    path.write_text(json.dumps({**json.loads(path.read_text()), "format": 99}))


def _fewer_rows(store: Path) -> None:
    path = max(store.glob("graph-*/results/*.json"), key=lambda p: p.stat().st_size)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "values": data["values"][:1]}))


def _overflowing_advance(store: Path) -> None:
    (next(store.glob("graph-*")) / "advances.json").write_text('{"format":1,"advances":[[1e400,0.1]]}')


def _nan_fraction(store: Path) -> None:
    (next(store.glob("graph-*")) / "advances.json").write_text('{"format":1,"advances":[[1,"nan"]]}')


def _infinite_total(store: Path) -> None:
    path = next(store.glob("graph-*/results/*.json"))
    path.write_text(path.read_text().replace('"total":', '"total":1e400,"was":', 1))


def _a_directory_for_a_result(store: Path) -> None:
    (next(store.glob("graph-*/results")) / "zz.json").mkdir()


@pytest.mark.parametrize("corrupt", [_truncate_a_result, _bad_identity, _wrong_version, _fewer_rows,
                                     _overflowing_advance, _nan_fraction, _infinite_total, _a_directory_for_a_result],
                         ids=["truncated", "bad-json", "wrong-version", "rows-missing", "seed-1e400", "fraction-nan",
                              "total-1e400", "directory"])
def test_a_corrupt_store_is_rebuilt_with_one_warning_line(tmp_path: Path, corrupt: Any) -> None:
    project = make_project(tmp_path, {"users": QUERIES["users"]})
    first = run_vqr(project, run_options())
    assert first.code == 0, first.err
    corrupt(tmp_path / ".vqr" / "sandbox")
    again = run_vqr(project, run_options())
    assert again.code == 0 and again.run, again.err
    warnings = [line for line in again.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "was unreadable" in warnings[0] and "rebuilt empty" in warnings[0], again.err
    assert "Traceback" not in again.err
    assert by_name(again.run)["users"]["cache"] == "miss"  # nothing of the corrupt store was served
    healed = run_vqr(project, run_options())
    assert healed.code == 0 and healed.run and "warning" not in healed.err
    assert by_name(healed.run)["users"]["cache"] == "hit"


def test_entries_expire_as_the_sandbox_clock_says(tmp_path: Path) -> None:
    project = make_project(tmp_path, {
        "stale": query_yaml("stale", "OktaUser", cache="{mode: if_available, max_staleness: 1s}"),
        "ctx": query_yaml("ctx", "AwsIamRole", cache="{mode: context, cache_id: previous, on_expired: run}"),
    })
    # The ttl leaves the second run room under a loaded machine (a 2 s ttl once expired before it asked); the
    # sleep then goes past it as measured from the end of the first run, which made the entries.
    ttl = 6.0
    options = run_options(sandbox=SandboxConfig(nodes=400, latency=0.05, cache_ttl=ttl))
    first = run_vqr(project, options)
    made_by = time.monotonic()
    soon = run_vqr(project, options)
    assert first.run and soon.run and soon.code == 0, soon.err
    assert by_name(soon.run)["ctx"]["cache"] == "hit"
    # Past max_staleness (1 s) and the cache's ttl, on the wall clock the store keeps.
    time.sleep(max(0.0, made_by + ttl + 0.3 - time.monotonic()))
    late = run_vqr(project, options)
    assert late.code == 0 and late.run, late.err
    stale, ctx = by_name(late.run)["stale"], by_name(late.run)["ctx"]
    assert stale["cache"] == "miss" and stale["cache_id"] != by_name(first.run)["stale"]["cache_id"]
    assert ctx["mode"] == "immediate_run"  # the previous id expired with its entry: on_expired: run
    stored = {p.stem for p in (tmp_path / ".vqr" / "sandbox").glob("graph-*/results/*.json")}
    assert by_name(first.run)["stale"]["cache_id"] not in stored  # the expired file was dropped at start


def test_two_runs_at_once_leave_a_store_that_serves_the_next_run(tmp_path: Path) -> None:
    make_project(tmp_path, QUERIES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_", "GITHUB_"))}
    env.update(PYTHONPATH=str(REPO), VQR_SANDBOX_NODES="400", VQR_SANDBOX_LATENCY="0.3")
    both = [subprocess.Popen([*VQR, "run", "--quiet", "--reports", f"reports-{i}"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for process in both:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0 and "warning" not in err, err
    results = list((tmp_path / ".vqr" / "sandbox").glob("graph-*/results/*.json"))
    assert len(results) >= 6 and all(json.loads(p.read_text())["format"] == 1 for p in results)
    ran, third = run_cli(tmp_path)
    assert ran.returncode == 0 and "warning" not in ran.stderr, ran.stderr
    assert all(by_name(third)[n]["cache"] == "hit" for n in (*IF_AVAILABLE, *CONTEXT))


def test_after_an_advance_only_immediate_sees_the_change(tmp_path: Path) -> None:
    """README: an advanced graph is served from the cache by if_available until max_staleness, context attaches
    to the old result, and immediate runs on the new graph."""
    project = make_project(tmp_path, {
        "u-cached": query_yaml("u-cached", "OktaUser"),
        "u-ctx": query_yaml("u-ctx", "OktaUser", cache="{mode: context, cache_id: previous, on_expired: run}"),
        "u-now": query_yaml("u-now", "OktaUser", cache="{mode: immediate}"),
    })
    options = run_options(env="remote")
    with fixed_sandbox() as box:
        first = run_vqr(project, options, environ=remote(box.url))
        httpx.post(f"{box.url}/_sandbox/advance", json={"seed": 3, "fraction": 0.5}, headers=AUTH,
                   timeout=30).raise_for_status()
        second = run_vqr(project, options, environ=remote(box.url))
    assert first.code == 0 and second.code == 0 and second.run, second.err
    after = by_name(second.run)
    assert after["u-cached"]["cache"] == "hit" and after["u-ctx"]["cache"] == "hit"
    for name in ("u-cached", "u-ctx"):
        drift = after[name]["drift"]
        assert (drift["added"], drift["removed"], drift["changed"]) == (0, 0, 0)
    assert after["u-now"]["cache"] == "miss" and after["u-now"]["drift"]["changed"] > 0


def test_serve_with_state_replays_advances_and_serves_old_results_after_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(nodes=400, latency=0.05, state=str(tmp_path / "store"))
    spec = {"query_type": "SOURCE_TO_DESTINATION", "result_value_type": "SOURCE_NODES",
            "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}
    body = {"cached_result_if_available": {"max_staleness": "3600s", "request": {"body": spec}}}
    create = "/api/v1/assessments/query_spec:nodes_async_create"
    with EmbeddedSandbox(config) as box:
        made = httpx.post(box.url + create, json=body, headers=AUTH, timeout=30).json()
        httpx.post(f"{box.url}/_sandbox/advance", json={}, headers=AUTH, timeout=30).raise_for_status()
    with EmbeddedSandbox(config) as box:
        stats = httpx.get(f"{box.url}/_sandbox/stats", headers=AUTH, timeout=30).json()
        again = httpx.post(box.url + create, json=body, headers=AUTH, timeout=30).json()
        time.sleep(0.1)
        polled = httpx.post(box.url + "/api/v1/assessments/query_spec:nodes_async_get",
                            json={"query_result_id": made["query_result_id"]}, headers=AUTH, timeout=30).json()
        httpx.post(f"{box.url}/_sandbox/reset", headers=AUTH, timeout=30).raise_for_status()
        assert not list((tmp_path / "store").glob("graph-*/results/*.json"))  # reset forgets the store too
    assert stats["graph_version"] == 1  # the advance was replayed
    assert again["cache_id"] == made["cache_id"]  # the old result, computed before the advance
    assert polled["status"] == "DONE" and polled["values"]  # a job of the previous process can still be polled


def test_an_execution_slower_than_the_latency_is_a_miss_on_an_empty_store(tmp_path: Path) -> None:
    """At latency 0 every evaluation outlasts the configured duration: its result is complete when the create
    replies, yet it was not complete when the create arrived, so `last_completed_cache_id` must not name it."""
    make_project(tmp_path, QUERIES)
    ran, first = run_cli(tmp_path, latency="0")
    assert ran.returncode == 0, ran.stderr
    assert all(q["cache"] == "miss" for n, q in by_name(first).items() if n != "roles-ctx"), by_name(first)
    ran, second = run_cli(tmp_path, latency="0")
    assert ran.returncode == 0, ran.stderr
    assert (by_name(second)["groups-now"]["cache"], by_name(second)["users"]["cache"]) == ("miss", "hit")
