"""`vqr run` end to end against the real sandbox over HTTP: every cache mode (including `previous` and expired
context ids), `--snapshot-id`, shared submits, drift and expectations."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from runner.model.values import JSONObject
from runner.plan.select import spec_hash
from tests.acceptance.run_project import (
    by_name,
    fixed_sandbox,
    make_project,
    query_yaml,
    remote,
    run_options,
    run_vqr,
    stats,
)

INACTIVE = "  source_node_types: {nodes: [{node_type: OktaUser, condition_expression: {specs: [{fn: EQ, property: " \
           "status, value: ACTIVE, not: true}]}}]}\n"


def ids(path: Path) -> set[str]:
    return {json.loads(line)["id"] for line in path.read_text().splitlines()}


def test_if_available_reuses_a_cached_result_and_immediate_always_runs(tmp_path: Path) -> None:
    project = make_project(tmp_path, {
        "cached": query_yaml("cached", "OktaUser", cache="{mode: if_available, max_staleness: 1h}"),
        "fresh": query_yaml("fresh", "S3Bucket", cache="{mode: immediate}"),
    })
    options = run_options(env="remote")
    with fixed_sandbox() as box:
        first = run_vqr(project, options, environ=remote(box.url))
        assert first.code == 0, first.err
        assert stats(box.url)["executions"] == 2
        second = run_vqr(project, options, environ=remote(box.url))
        assert second.code == 0, second.err
        assert stats(box.url)["executions"] == 3  # only the immediate query ran again
    assert first.run and second.run
    one, two = by_name(first.run), by_name(second.run)
    assert one["cached"]["mode"] == "cached_result_if_available" and one["cached"]["cache"] == "miss"
    assert two["cached"]["cache"] == "hit" and two["cached"]["cache_id"] == one["cached"]["cache_id"]
    assert two["cached"]["result_age_seconds"] is not None and two["cached"]["result_age_seconds"] >= 0
    assert two["fresh"]["mode"] == "immediate_run" and two["fresh"]["cache"] == "miss"
    assert two["fresh"]["cache_id"] != one["fresh"]["cache_id"]
    assert two["cached"]["sha256"] == one["cached"]["sha256"] and two["cached"]["rows"] > 0
    for run in (one, two):
        for query in run.values():
            assert query["status"] == "succeeded"
            assert (first.run_dir or Path()).parent.joinpath(first.run["run_id"], query["results_file"]).is_file()


def test_context_previous_attaches_then_fails_or_runs_once_expired(tmp_path: Path) -> None:
    project = make_project(tmp_path, {
        "ctx-fail": query_yaml("ctx-fail", "OktaGroup", cache="{mode: context, cache_id: previous}"),
        "ctx-run": query_yaml("ctx-run", "AwsIamRole", cache="{mode: context, cache_id: previous, on_expired: run}"),
    })
    with fixed_sandbox(cache_ttl=4.0) as box:
        none_yet = run_vqr(project, run_options(env="remote", select=("ctx-fail",)), environ=remote(box.url))
        assert none_yet.code == 1 and none_yet.run
        failed = by_name(none_yet.run)["ctx-fail"]
        assert failed["error"]["category"] == "cache_context" and "previous" in failed["error"]["message"]
        assert stats(box.url)["creates"] == 0  # nothing was sent for it

        seeded = run_vqr(project, run_options(env="remote", cache="if_available"), environ=remote(box.url))
        assert seeded.code == 0 and seeded.run
        attached = run_vqr(project, run_options(env="remote"), environ=remote(box.url))
        assert attached.code == 0, attached.out + attached.err
        assert attached.run
        for name, query in by_name(attached.run).items():
            assert query["mode"] == "cached_result_context" and query["cache"] == "hit"
            assert query["cache_id"] == by_name(seeded.run)[name]["cache_id"]
            assert query["sha256"] == by_name(seeded.run)[name]["sha256"]
        assert stats(box.url)["executions"] == 2

        time.sleep(4.2)  # both cached results expire
        expired = run_vqr(project, run_options(env="remote"), environ=remote(box.url))
    assert expired.code == 1 and expired.run
    gone, rerun = by_name(expired.run)["ctx-fail"], by_name(expired.run)["ctx-run"]
    assert gone["status"] == "failed" and gone["error"]["category"] == "not_found"
    assert "cache_id" in gone["error"]["message"] and gone["error"]["request_id"]
    assert rerun["status"] == "succeeded" and rerun["mode"] == "immediate_run"
    assert rerun["sha256"] == by_name(seeded.run)["ctx-run"]["sha256"]


def test_snapshot_id_pins_every_spec_and_identical_bodies_share_one_submit(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a": query_yaml("a", "SnowflakeUser"), "b": query_yaml("b", "SnowflakeUser"),
                                      "c": query_yaml("c", "AwsIamUser")})
    with fixed_sandbox() as box:
        ran = run_vqr(project, run_options(env="remote", snapshot_id="0"), environ=remote(box.url))
        counters = stats(box.url)
    assert ran.code == 0 and ran.run and ran.run_dir
    queries = by_name(ran.run)
    pinned: JSONObject = {"query_type": "SOURCE_TO_DESTINATION", "result_value_type": "SOURCE_NODES",
                          "source_node_types": {"nodes": [{"node_type": "SnowflakeUser"}]}, "snapshot_id": "0"}
    assert queries["a"]["spec_hash"] == spec_hash(pinned) == queries["b"]["spec_hash"]
    assert ran.run["options"]["snapshot_id"] == "0"
    assert counters["creates"] == 2 and counters["executions"] == 2  # a and b: one submit
    assert queries["a"]["shared_submit"] and queries["b"]["shared_submit"] and not queries["c"]["shared_submit"]
    assert queries["a"]["query_result_id"] == queries["b"]["query_result_id"]
    a, b = (ran.run_dir / queries[n]["results_file"] for n in "ab")
    assert a != b and a.read_bytes() == b.read_bytes() and queries["a"]["rows"] == len(a.read_text().splitlines())


def test_drift_is_counted_against_the_previous_run_and_expectations_decide_the_exit_code(tmp_path: Path) -> None:
    text = query_yaml("inactive", cache="{mode: immediate}", expect=(
        "- {rows: {min: 1}, severity: error}\n"
        "- {new_rows: {max: 0}, severity: error, message: users were deactivated}\n"
        "- {removed_rows: {max: 100000}, severity: warn}"))
    text = text.replace("  source_node_types: {nodes: [{node_type: OktaUser}]}\n", INACTIVE)
    project = make_project(tmp_path, {"inactive": text})
    with fixed_sandbox() as box:
        first = run_vqr(project, run_options(env="remote"), environ=remote(box.url))
        httpx.post(f"{box.url}/_sandbox/advance", json={"fraction": 0.3},
                   headers={"authorization": "Bearer k"}).raise_for_status()
        second = run_vqr(project, run_options(env="remote"), environ=remote(box.url))
    assert first.run and second.run and first.run_dir and second.run_dir
    outcomes = by_name(first.run)["inactive"]["expectations"]
    assert [o["outcome"] for o in outcomes] == ["passed", "skipped", "skipped"]
    assert outcomes[1]["message"] == "skipped: no previous run"
    assert first.code == 0
    before, after = ids(first.run_dir / "results/inactive.jsonl"), ids(second.run_dir / "results/inactive.jsonl")
    assert after - before  # the advance deactivated some users
    query = by_name(second.run)["inactive"]
    drift = query["drift"]
    assert (drift["added"], drift["removed"]) == (len(after - before), len(before - after))
    assert drift["previous_run"] == first.run["run_id"]
    assert {e["id"] for e in drift["added_sample"]} == after - before  # fewer than the sample size
    assert query["spec"]["source_node_types"]["nodes"][0]["condition_expression"]["specs"][0]["not"] is True
    new_rows = query["expectations"][1]
    assert new_rows["actual"] == len(after - before)
    assert new_rows["outcome"] == "failed" and second.code == 1
    assert new_rows["message"].startswith("users were deactivated: new_rows = ")
    assert second.run["summary"]["expectations_failed"] == {"error": 1, "warn": 0}
    assert query["status"] == "succeeded"  # a failed expectation is not a failed query


def test_the_same_cached_result_is_linked_from_the_last_run_not_downloaded_again(tmp_path: Path) -> None:
    project = make_project(tmp_path, {
        "a": query_yaml("a", "OktaUser", cache="{mode: if_available, max_staleness: 1h}"),
        "b": query_yaml("b", "S3Bucket", cache="{mode: if_available, max_staleness: 1h}"),
    })
    options = run_options(env="remote")
    with fixed_sandbox() as box:
        first = run_vqr(project, options, environ=remote(box.url))
        assert first.code == 0 and first.run and first.run_dir
        before = stats(box.url)
        # Damage b's downloaded file: a link is used only when its bytes still hash to what the run recorded.
        b_file = first.run_dir / "results" / "b.jsonl"
        b_file.write_text(b_file.read_text() + "\n")
        second = run_vqr(project, options, environ=remote(box.url))
        assert second.code == 0 and second.run and second.run_dir
        after = stats(box.url)
    one, two = by_name(first.run), by_name(second.run)
    assert two["a"]["cache"] == "hit" and two["a"]["timings"]["polls"] == 0  # linked, not polled or paged
    linked = (second.run_dir / "results" / "a.jsonl").stat().st_ino
    assert linked == (first.run_dir / "results" / "a.jsonl").stat().st_ino
    assert two["a"]["sha256"] == one["a"]["sha256"] and two["a"]["rows"] == one["a"]["rows"]
    assert two["a"]["drift"]["added"] == two["a"]["drift"]["removed"] == two["a"]["drift"]["changed"] == 0
    assert two["b"]["timings"]["polls"] >= 1 and two["b"]["sha256"] == one["b"]["sha256"]  # fetched again, correctly
    assert after["executions"] == before["executions"]  # both served from the sandbox's cache
    assert after["polls"] - before["polls"] == two["b"]["timings"]["polls"]  # only b was polled
