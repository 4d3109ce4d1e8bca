"""`vqr run` paced by its own history, against a real sandbox over HTTP: the second run of the same immediate-mode
batch polls each job about once (its first poll waits the job's typical duration, from the journal), and a
throttling tenant (429 with Retry-After) lowers the concurrency, which run.json shows and the next run starts
under. The sandbox's own counters witness the polls and the 429s."""

from __future__ import annotations

import sqlite3
import statistics
from pathlib import Path

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

LATENCY = 0.3  # long enough for the quick test ladder (0, 0.02, 0.05 ... s) to need several polls
NAMES = ("okta-users", "okta-groups", "roles", "buckets")
TYPES = ("OktaUser", "OktaGroup", "AwsIamRole", "S3Bucket")


def test_the_second_run_of_a_batch_polls_less(tmp_path: Path) -> None:
    project = make_project(tmp_path, {n: query_yaml(n, t, cache="{mode: immediate}")
                                      for n, t in zip(NAMES, TYPES, strict=True)})
    options = run_options(env="remote")
    with fixed_sandbox(latency=LATENCY) as box:
        first = run_vqr(project, options, environ=remote(box.url))
        polled_first = stats(box.url)["polls"]
        second = run_vqr(project, options, environ=remote(box.url))
        polled_second = stats(box.url)["polls"] - polled_first
        executions = stats(box.url)["executions"]

    assert first.code == second.code == 0 and first.run is not None and second.run is not None
    assert executions == 2 * len(NAMES)  # immediate mode: every job ran again, none was a cached answer
    before = {n: q["timings"]["polls"] for n, q in by_name(first.run).items()}
    after = {n: q["timings"]["polls"] for n, q in by_name(second.run).items()}
    assert all(before[n] >= 4 for n in NAMES), before  # the ladder alone: several polls per 0.3 s job
    assert all(after[n] < before[n] for n in NAMES), (before, after)
    assert statistics.median(after.values()) <= 2, after
    assert first.run["polls"] == sum(before.values())
    assert second.run["polls"] == sum(after.values())
    assert polled_second < polled_first  # the server saw fewer reads too (polls and pages)


def test_a_first_run_paces_its_later_waves_by_its_first(tmp_path: Path) -> None:
    """No history yet: the first wave climbs the ladder (without a poll at 0 s, the replies name new executions),
    and the jobs after it wait for the shortest duration that wave saw, so most are polled once."""
    queries = {n: text.replace("tags: [test]\n", "tags: [test]\ncache: {mode: immediate}\n")
               for n, text in batch_queries(12).items()}
    project = make_project(tmp_path, queries)
    with fixed_sandbox(latency=LATENCY) as box:
        ran = run_vqr(project, run_options(env="remote", concurrency=3), environ=remote(box.url))

    assert ran.code == 0 and ran.run is not None
    order = sorted(ran.run["queries"], key=lambda q: q["timings"]["started_at"])
    first_wave = [q["timings"]["polls"] for q in order[:3]]
    assert min(first_wave) >= 3, first_wave  # 0.02, 0.05 ... s: a 0.3 s job takes several polls
    # The run's pace applies once 3 new executions have finished (firstpoll.MIN_SEEN). On a loaded machine the
    # 4th and 5th job can start while the first wave is still finishing: they are judged by what they could see.
    # A job counted here finished (finished_at) before the other's submit, so it was seen before its first poll.
    paced = [q["timings"]["polls"] for q in order[3:]
             if sum(other["timings"]["finished_at"] < q["timings"]["started_at"] for other in order) >= 3]
    assert len(paced) >= 6, order  # of the 9 after the first wave: the run did get its pace
    assert statistics.median(paced) <= 1.5 and max(paced) <= 2, paced


def test_a_throttling_tenant_lowers_the_concurrency_and_the_next_run_starts_under_it(tmp_path: Path) -> None:
    project = make_project(tmp_path, batch_queries(16))
    with fixed_sandbox(fail_rate_429=0.25, retry_after=1) as box:
        ran = run_vqr(project, run_options(env="remote"), environ=remote(box.url))
        refused = stats(box.url)["faults"].get("429", 0)
        again = run_vqr(project, run_options(env="remote", quiet=False), environ=remote(box.url))  # same target

    assert ran.code == 0 and ran.run is not None  # every query got through its 429s
    pacing = ran.run["concurrency"]
    assert pacing["configured"] == pacing["start"] == 8
    assert 0 < pacing["throttled"] <= refused  # the connection check's 429s come before the batch listens
    assert pacing["retry_after_seconds"] > 0  # every injected 429 carries Retry-After (capped at 0.2 s in tests)
    assert min(limit for _, limit in pacing["series"]) < 8 and pacing["converged"] < 8
    journal = sqlite3.connect(tmp_path / ".vqr" / "state.sqlite")
    (cap,) = journal.execute("SELECT cap FROM concurrency WHERE run_id = ?", (ran.run["run_id"],)).fetchone()
    journal.close()
    assert cap == pacing["converged"]
    assert again.code == 0 and again.run is not None
    assert again.run["concurrency"]["configured"] == 8 and again.run["concurrency"]["start"] == max(1, int(cap))
    if again.run["concurrency"]["throttled"]:  # the summary says what the tenant did (faults are drawn per request)
        assert f"throttled: {again.run['concurrency']['throttled']} attempts refused for load" in again.out
    else:
        assert "throttled" not in again.out
