"""`vqr run` exit codes, row by row (design.md §4), against the real sandbox and real misbehaving servers.
130 (interrupted) is proven with a real SIGINT in test_run_crash.py."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runner.client.retry import RetryPolicy
from runner.errors import ExitCode, UsageError
from tests.acceptance.run_project import (
    by_name,
    echo_app,
    fixed_sandbox,
    make_project,
    query_yaml,
    remote,
    run_options,
    run_vqr,
    serve_asgi,
    stats,
)

QUICK = RetryPolicy(base=0.01, cap=0.05, retry_after_cap=0.05, max_attempts=5, attempt_timeout=2.0,
                    request_deadline=5.0)


def two_queries(tmp_path: Path, **second: str) -> Path:
    return make_project(tmp_path, {"ok": query_yaml("ok", "OktaUser"),
                                   "other": query_yaml("other", second.get("node_type", "S3Bucket"),
                                                       cache=second.get("cache"), expect=second.get("expect"))})


def test_0_every_query_succeeded_on_the_embedded_sandbox(tmp_path: Path) -> None:
    ran = run_vqr(two_queries(tmp_path))  # environment `sandbox`: url embedded, no key needed
    assert ran.code == ExitCode.OK and ran.run
    assert ran.run["target"].startswith("embedded/graph-") and ran.run["summary"]["succeeded"] == 2
    assert ran.run["exit_code"] == 0 and "report:" in ran.err  # quiet: only the report path


def test_0_when_only_a_warning_expectation_failed(tmp_path: Path) -> None:
    ran = run_vqr(two_queries(tmp_path, expect="- {rows: {max: 0}, severity: warn}"))
    assert ran.code == ExitCode.OK and ran.run
    assert by_name(ran.run)["other"]["expectations"][0]["outcome"] == "failed"


def test_1_when_an_error_expectation_failed_and_the_report_is_still_written(tmp_path: Path) -> None:
    ran = run_vqr(two_queries(tmp_path, expect="- {rows: {eq: 0}, message: no buckets please}"))
    assert ran.code == ExitCode.FINDINGS and ran.run and ran.run_dir
    outcome = by_name(ran.run)["other"]["expectations"][0]
    assert outcome["severity"] == "error" and outcome["message"].startswith("no buckets please: rows = ")
    assert (ran.run_dir / "results" / "other.jsonl").is_file()


def test_1_when_one_query_failed_and_the_others_results_are_untouched(tmp_path: Path) -> None:
    project = two_queries(tmp_path, cache="{mode: context, cache_id: cache-0123456789abcdef}")
    with fixed_sandbox() as box:
        ran = run_vqr(project, run_options(env="remote"), environ=remote(box.url))
    assert ran.code == ExitCode.FINDINGS and ran.run and ran.run_dir
    queries = by_name(ran.run)
    assert queries["ok"]["status"] == "succeeded" and queries["ok"]["rows"] > 0
    assert queries["other"]["status"] == "failed" and queries["other"]["error"]["category"] == "not_found"
    assert not (ran.run_dir / "results" / "other.jsonl").exists()


def test_1_with_fail_fast_the_rest_is_not_started(tmp_path: Path) -> None:
    project = make_project(tmp_path, {f"q{i}": query_yaml(f"q{i}", "OktaUser", extra=f"  variables: [v{i}]\n")
                                      for i in range(6)})
    with fixed_sandbox(fail_rate_job=1.0) as box:
        ran = run_vqr(project, run_options(env="remote", concurrency=1, fail_fast=True), environ=remote(box.url))
        assert stats(box.url)["creates"] == 1
    assert ran.code == ExitCode.FINDINGS and ran.run
    assert ran.run["stopped_because"] == "fail_fast"
    assert [q["status"] for q in ran.run["queries"]] == ["failed"] + ["not_run"] * 5
    assert ran.run["queries"][0]["error"]["category"] == "job_failed"


@pytest.mark.parametrize("options", [
    {"select": ("no-such-query",)}, {"cache": "sometimes"}, {"snapshot_id": "latest"}, {"concurrency": 0},
    {"resume": True}, {"env": "staging"},
])
def test_2_usage_errors_send_nothing(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(UsageError) as raised:
        run_vqr(two_queries(tmp_path), run_options(**options))
    assert raised.value.exit_code == ExitCode.USAGE and "\n" not in str(raised.value)


def test_2_a_missing_api_key_is_a_one_line_message_and_nothing_is_sent(tmp_path: Path) -> None:
    with fixed_sandbox() as box:
        with pytest.raises(UsageError) as raised:
            run_vqr(two_queries(tmp_path), run_options(env="remote"), environ={"VEZA_URL": box.url})
        assert stats(box.url)["creates"] == 0
    assert raised.value.exit_code == ExitCode.USAGE and "VEZA_API_KEY" in str(raised.value)
    assert not (tmp_path / "reports").exists()


def test_3_when_the_key_is_refused(tmp_path: Path) -> None:
    with fixed_sandbox(api_key="the-right-key") as box:
        ran = run_vqr(two_queries(tmp_path), run_options(env="remote"), environ=remote(box.url, "a-wrong-key"))
        assert stats(box.url, "the-right-key")["creates"] == 0
    assert ran.code == ExitCode.INTERNAL and "401" in ran.err and ran.err.count("\n") == 1
    assert ran.run is None


def test_3_when_the_api_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: connections are refused
        ran = run_vqr(two_queries(tmp_path), run_options(env="remote", retry=QUICK), environ=remote(url))
    assert ran.code == ExitCode.INTERNAL and "could not run" in ran.err and ran.run is None


def test_3_when_the_retry_budget_runs_out_before_anything_succeeded(tmp_path: Path) -> None:
    project = make_project(tmp_path, {f"q{i}": query_yaml(f"q{i}", "OktaUser", extra=f"  variables: [v{i}]\n")
                                      for i in range(8)})
    with serve_asgi(echo_app(503)) as url:
        ran = run_vqr(project, run_options(env="remote", retry=QUICK, retry_budget=6, concurrency=2),
                      environ=remote(url))
    assert ran.code == ExitCode.INTERNAL and ran.run
    assert ran.run["status"] == "aborted" and ran.run["stopped_because"] == "retry_budget_exhausted"
    statuses = [q["status"] for q in ran.run["queries"]]
    assert "not_run" in statuses and "succeeded" not in statuses
