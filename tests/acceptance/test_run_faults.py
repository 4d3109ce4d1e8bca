"""`vqr run` through injected faults on the real sandbox: results identical to a fault-free run, exactly one
execution per distinct spec, and a submit whose reply was lost reusing the job it started."""

from __future__ import annotations

from pathlib import Path

from runner.client.retry import RetryPolicy
from tests.acceptance.run_project import (
    batch_queries,
    by_name,
    fixed_sandbox,
    make_project,
    query_yaml,
    remote,
    run_options,
    run_vqr,
    stats,
)

DISTINCT_SPECS = 24  # batch_queries(30): 24 distinct specs, the last 6 repeat the first 6


def test_a_batch_through_429s_5xx_resets_and_empty_pages_matches_a_fault_free_run(tmp_path: Path) -> None:
    clean_project = make_project(tmp_path / "clean", batch_queries(30))
    faulty_project = make_project(tmp_path / "faulty", batch_queries(30))
    with fixed_sandbox() as box:
        clean = run_vqr(clean_project, run_options(env="remote"), environ=remote(box.url))
    with fixed_sandbox(fail_rate_429=0.2, retry_after=1, fail_rate_5xx=0.1, reset_rate=0.05, empty_page_rate=0.05,
                       fault_seed=11) as box:
        faulty = run_vqr(faulty_project, run_options(env="remote", page_size=10), environ=remote(box.url))
        counters = stats(box.url)
    assert clean.code == 0 and faulty.code == 0, faulty.out + faulty.err
    assert clean.run and faulty.run
    expected, got = by_name(clean.run), by_name(faulty.run)
    assert len(got) == 30
    for name, query in got.items():
        assert query["status"] == "succeeded", query
        assert (query["rows"], query["sha256"]) == (expected[name]["rows"], expected[name]["sha256"]), name
    assert sum(q["rows"] for q in got.values()) > 300
    assert counters["executions"] == DISTINCT_SPECS
    for kind in ("429", "reset", "empty_page"):
        assert counters["faults"].get(kind, 0) > 0, counters
    assert sum(counters["faults"].get(code, 0) for code in ("500", "502", "503", "504")) > 0


def test_a_submit_whose_reply_is_lost_reuses_the_finished_job(tmp_path: Path) -> None:
    names = [f"lost-{i}" for i in range(6)]
    types = ("OktaUser", "OktaGroup", "AwsIamUser", "AwsIamRole", "S3Bucket", "SnowflakeUser")
    project = make_project(tmp_path, {n: query_yaml(n, t, cache="{mode: immediate}")
                                      for n, t in zip(names, types, strict=True)})
    # Replies held for 2 s after the work is done; the client gives up on each attempt after 0.8 s (long enough
    # for the server to have created the job even on a loaded machine: otherwise two executions are legitimate).
    impatient = RetryPolicy(base=0.02, cap=0.1, max_attempts=40, attempt_timeout=0.8, request_deadline=60.0)
    with fixed_sandbox(slow_rate=0.3, slow_seconds=2.0, fault_seed=5) as box:
        ran = run_vqr(project, run_options(env="remote", retry=impatient, concurrency=1), environ=remote(box.url))
        counters = stats(box.url)
    assert ran.code == 0, ran.out + ran.err
    assert ran.run
    assert all(q["status"] == "succeeded" and q["rows"] > 0 for q in ran.run["queries"])
    assert counters["faults"]["slow"] > 0
    assert counters["creates"] > len(names), counters  # some submit replies were lost and the submits resent...
    assert counters["executions"] == len(names), counters  # ...without a second execution
    resent = [q for q in by_name(ran.run).values() if q["mode"] == "cached_result_if_available"]
    assert resent, "a resent submit goes out as cached_result_if_available"
