"""`vqr run` against a rate-limited tenant (the sandbox's --rate-limit): the batch finishes with no failed query and
a bounded number of 429s; with a shared budget in a real redis-server it finishes with next to none, paced by the
budget; with Redis unreachable it warns once and still finishes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runner.client.retry import RetryPolicy
from runner.secret import SecretError
from tests.acceptance.run_project import fixed_sandbox, remote, run_options, run_vqr, stats
from tests.support.redis_server import _free_port

QUERIES = 40
RATE, BURST = "20/s", 5  # the tenant's limit
BUDGET = "rate: 16/s, burst: 4"  # the budget stays under it, as a team would set it


def _project(root: Path, budget: str | None = None) -> Path:
    """`QUERIES` queries with distinct bodies (so each is its own submit), and `api.budget` when given."""
    (root / "queries").mkdir(parents=True)
    text = ("queries: queries/\nreports: reports/\ndefaults: {cache: {mode: immediate}, concurrency: 8, timeout: 60s}\n"
            "environments:\n  remote: {url: \"https://veza.invalid\", api_key_env: VEZA_API_KEY}\n")
    if budget:
        text += f"api:\n  budget: {{{budget}}}\n"
    (root / "vqr.yaml").write_text(text)
    for i in range(QUERIES):
        (root / "queries" / f"q{i:02d}.yaml").write_text(
            f"name: q{i:02d}\nspec:\n  query_type: SOURCE_TO_DESTINATION\n"
            "  source_node_types: {nodes: [{node_type: OktaUser, condition_expression: "
            f"{{specs: [{{fn: EQ, property: name, value: nobody-{i}, not: true}}]}}}}]}}\n"
            "  result_value_type: SOURCE_NODES\n")
    return root / "vqr.yaml"


def _succeeded(run: dict[str, object] | None) -> int:
    assert run is not None
    queries = run["queries"]
    assert isinstance(queries, list)
    return sum(1 for q in queries if q["status"] == "succeeded")


def test_a_rate_limited_tenant_throttles_but_the_batch_finishes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with fixed_sandbox(rate_limit=RATE, burst=BURST) as sandbox:
        ran = run_vqr(project, run_options(env="remote", retry=RetryPolicy()), environ=remote(sandbox.url))
        served = stats(sandbox.url)
    assert ran.code == 0, ran.err
    assert _succeeded(ran.run) == QUERIES
    assert served["creates"] == QUERIES
    # Throttled, and bounded: with the shipped retry policy a refused worker waits out Retry-After (1 s here), so 8
    # workers make at most ~8 refused attempts a second while the submits last (about 10 measured, in ~3.5 s); a
    # client that retried at once would make hundreds.
    assert 0 < served["served_429"] == served["rate_limited"] <= QUERIES, served


def test_a_shared_redis_budget_keeps_the_batch_under_the_limit(tmp_path: Path, redis_url: str) -> None:
    project = _project(tmp_path, f"redis_env: VQR_TEST_REDIS_URL, {BUDGET}")
    password = redis_url.split(":")[2].split("@")[0]
    with fixed_sandbox(rate_limit=RATE, burst=BURST) as sandbox:
        started = time.monotonic()
        ran = run_vqr(project, run_options(env="remote"),
                      environ={**remote(sandbox.url), "VQR_TEST_REDIS_URL": redis_url})
        elapsed = time.monotonic() - started
        served = stats(sandbox.url)
    assert ran.code == 0, ran.err
    assert _succeeded(ran.run) == QUERIES and served["creates"] == QUERIES
    assert served["served_429"] <= 1, served  # ~0: the budget paced the submits under the tenant's limit
    assert elapsed >= (QUERIES - 4) / 16  # and it was the budget that did: 4 at once, then 16 a second
    assert "budget is unavailable" not in ran.err  # no fallback warning
    assert ran.run_dir is not None
    written = [p.read_text(errors="replace") for p in ran.run_dir.rglob("*") if p.is_file()]
    assert not [text for text in (ran.out, ran.err, *written) if password in text or redis_url in text]


def test_an_unreachable_redis_warns_once_and_the_run_still_finishes(tmp_path: Path) -> None:
    project = _project(tmp_path, f"redis_env: VQR_TEST_REDIS_URL, {BUDGET}")
    dead = f"redis://:hunter2-password@127.0.0.1:{_free_port()}/0"
    with fixed_sandbox(rate_limit=RATE, burst=BURST) as sandbox:
        ran = run_vqr(project, run_options(env="remote", select=("q0*",)),
                      environ={**remote(sandbox.url), "VQR_TEST_REDIS_URL": dead})
    assert ran.code == 0, ran.err
    assert _succeeded(ran.run) == 10
    lines = [line for line in ran.err.splitlines() if "shared API budget is unavailable" in line]
    assert len(lines) == 1 and "pacing this process's submits locally at 16/s" in lines[0], ran.err
    assert "hunter2" not in ran.err


def test_a_budget_variable_that_is_not_set_stops_before_anything_is_sent(tmp_path: Path) -> None:
    project = _project(tmp_path, f"redis_env: VQR_TEST_REDIS_URL, {BUDGET}")
    with fixed_sandbox() as sandbox:
        with pytest.raises(SecretError, match="VQR_TEST_REDIS_URL environment variable is not set"):
            run_vqr(project, run_options(env="remote"), environ=remote(sandbox.url))
        assert stats(sandbox.url)["creates"] == 0


@pytest.mark.parametrize(("budget", "message"), [
    ("rate: 5/s, redis: 'redis://:pw@host:6379/0'", "redis"),
    ("rate: 5/s, redis: 'redis://host:6379', redis_env: X", "budget"),
    ("rate: fast", "such as 20/s"),
])
def test_a_bad_budget_section_is_a_project_error(tmp_path: Path, budget: str, message: str) -> None:
    from runner.errors import ProjectError
    from runner.settings import load_project

    with pytest.raises(ProjectError, match=message):
        load_project(_project(tmp_path, budget))


def test_a_budget_rate_of_zero_is_a_finding_at_its_line(tmp_path: Path) -> None:
    from runner.errors import ProjectError
    from runner.settings import load_project

    with pytest.raises(ProjectError, match=r"vqr.yaml:7:\d+: error: api.budget.rate must be more than 0"):
        load_project(_project(tmp_path, "rate: 0/s"))
