"""History keyed by environment and target (issue 12, point 2), end to end: one project, two environments served by
two real sandboxes on 127.0.0.1 (one advanced), runs in turn. Each environment's drift, `new_rows` expectation and
`cache_id: previous` use only its own runs; a schema-1 journal already in `.vqr/` is migrated and never matched."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from runner.app.run_command import JOURNAL
from runner.errors import UsageError
from runner.model import RunStatus
from runner.plan import build_plans
from runner.report import write_reports
from runner.report.history import load_history
from runner.sandbox.config import SandboxConfig
from runner.state import HistoryKey, QueryState, open_journal
from runner.state.journal import SCHEMA_VERSION
from tests.acceptance.run_project import (
    NODES,
    PROJECT_FILE,
    by_name,
    compile_units,
    fixed_sandbox,
    make_project,
    query_yaml,
    run_options,
    run_vqr,
    stats,
)
from tests.acceptance.test_run_cache import INACTIVE
from tests.support.old_journal import OldSuccess, write_schema1_journal

INACTIVE_USERS = query_yaml("inactive", cache="{mode: immediate}", expect=(
    "- {new_rows: {max: 0}, severity: error, message: users were deactivated}")).replace(
    "  source_node_types: {nodes: [{node_type: OktaUser}]}\n", INACTIVE)
CONTEXT = query_yaml("ctx", "S3Bucket", cache="{mode: context, cache_id: previous, on_expired: run}")
KEY_ENV = {"VEZA_API_KEY": "test-key"}


def environments(project: Path, staging: str, prod: str) -> None:
    """vqr.yaml with `staging` and `prod` pointing at the two sandboxes (no VEZA_URL: each environment its own)."""
    extra = (f'  staging: {{url: "{staging}/", api_key_env: VEZA_API_KEY}}\n'
             f'  prod: {{url: "{prod}", api_key_env: VEZA_API_KEY}}\n')
    project.write_text(PROJECT_FILE + extra)


def spec_of(project: Path, name: str) -> str:
    """The spec hash `vqr run` gives query `name` (what a run to resume must have recorded)."""
    loaded, queries = compile_units(project)
    return next(p.spec_hash for p in build_plans(loaded, queries, cache_override=None, snapshot_id=None,
                                                   query_timeout=None) if p.name == name)


def test_each_environment_compares_and_attaches_only_to_its_own_runs(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"inactive": INACTIVE_USERS, "ctx": CONTEXT})
    with fixed_sandbox() as staging_box, fixed_sandbox() as prod_box:
        environments(project, staging_box.url, prod_box.url)
        # Staging's data differs from prod's: its advance deactivated users that prod still has active.
        httpx.post(f"{staging_box.url}/_sandbox/advance", json={"fraction": 0.3},
                   headers={"authorization": "Bearer k"}).raise_for_status()
        staging1 = run_vqr(project, run_options(env="staging"), environ=KEY_ENV)
        assert staging1.run is not None, staging1.err
        prod_creates = stats(prod_box.url)["creates"]
        prod1 = run_vqr(project, run_options(env="prod"), environ=KEY_ENV)
        prod_creates = stats(prod_box.url)["creates"] - prod_creates
        # The case: a staging run after a prod run compares with staging's own last run, not prod's.
        staging2 = run_vqr(project, run_options(env="staging"), environ=KEY_ENV)
        prod2 = run_vqr(project, run_options(env="prod"), environ=KEY_ENV)
    assert staging1.run and prod1.run and staging2.run and prod2.run
    assert [r.code for r in (staging1, prod1, staging2, prod2)] == [0, 0, 0, 0], [staging2.err, prod1.err]
    assert staging1.run["target"] == staging_box.url and prod1.run["target"] == prod_box.url  # no trailing "/"
    s1, p1, s2, p2 = (by_name(r.run) for r in (staging1, prod1, staging2, prod2) if r.run)

    # Drift and new_rows: prod's first run has no history of its own, though staging ran just before it.
    assert p1["inactive"]["drift"] is None
    assert p1["inactive"]["expectations"][0]["outcome"] == "skipped"
    assert s1["inactive"]["rows"] > p1["inactive"]["rows"]  # the rows that would fail new_rows if compared
    for later, earlier, env, box in ((s2, staging1, "staging", staging_box), (p2, prod1, "prod", prod_box)):
        drift = later["inactive"]["drift"]
        assert drift["previous_run"] == earlier.run["run_id"]  # type: ignore[index]
        assert (drift["previous_env"], drift["previous_target"]) == (env, box.url)
        assert (drift["added"], drift["removed"]) == (0, 0)
        assert later["inactive"]["expectations"][0]["outcome"] == "passed"

    # cache_id: previous: prod's first run found no prod cache id, so it ran anew (one create, no context
    # attempt with staging's id); each second run attached to its own environment's id.
    assert p1["ctx"]["mode"] == "immediate_run" and prod_creates == 2
    assert p1["ctx"]["cache_id"] != s1["ctx"]["cache_id"]
    for second, first in ((s2, s1), (p2, p1)):
        assert second["ctx"]["mode"] == "cached_result_context" and second["ctx"]["status"] == "succeeded"
        assert second["ctx"]["cache_id"] == first["ctx"]["cache_id"], (second["ctx"], first["ctx"])

    # Trends and the report: each environment's series holds only its own runs, and the report names them.
    journal = tmp_path / JOURNAL
    for ran, mine in ((staging2, [staging1, staging2]), (prod2, [prod1, prod2])):
        assert ran.run and ran.run_dir
        key = HistoryKey(env=ran.run["env"], target=ran.run["target"])
        series = load_history(journal, ["inactive"], key=key, until_run=ran.run["run_id"]).of("inactive")
        assert [p.run_id for p in series] == [r.run["run_id"] for r in mine if r.run]
        write_reports(ran.run_dir, load_history(journal, ["inactive", "ctx"], key=key, until_run=ran.run["run_id"]))
        previous = mine[0].run["run_id"]  # type: ignore[index]
        markdown = (ran.run_dir / "report.md").read_text()  # zero drift: named in the sentence, not in a table row
        assert f"compared with its previous successful run in environment **{key.env}**" in markdown
        html = (ran.run_dir / "report.html").read_text()
        # Long names may wrap at their separators (`<wbr>`), never mid-word.
        assert f"<code>{previous.replace('-', '-<wbr>')}</code> of environment <strong>{key.env}</strong>" in html


def test_an_old_journal_is_migrated_and_its_runs_are_never_matched(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"inactive": INACTIVE_USERS, "ctx": CONTEXT})
    with fixed_sandbox() as box:
        environments(project, box.url, "https://prod.invalid")
        first = run_vqr(project, run_options(env="staging"), environ=KEY_ENV)
        assert first.code == 0 and first.run and first.run_dir
        queries = by_name(first.run)
        # The same project's journal as the previous vqr left it: a staging success of both queries, with the
        # same specs, result files that still hash right, and cache ids the sandbox knows.
        journal = tmp_path / JOURNAL
        journal.rename(tmp_path / "kept.sqlite")
        old = [OldSuccess(run_id="20250101T000000Z-0ld0", env="staging", name=name, spec_hash=q["spec_hash"],
                          cache_id=q["cache_id"], rows=q["rows"],
                          result_path=str(first.run_dir / q["results_file"]),
                          sha256=hashlib.sha256((first.run_dir / q["results_file"]).read_bytes()).hexdigest())
               for name, q in queries.items()]
        write_schema1_journal(journal, old)
        again = run_vqr(project, run_options(env="staging"), environ=KEY_ENV)
    assert again.code == 0 and again.run, again.err
    after = by_name(again.run)
    assert after["inactive"]["drift"] is None and after["inactive"]["expectations"][0]["outcome"] == "skipped"
    assert after["ctx"]["mode"] == "immediate_run"  # the old cache id was not attached to
    db = sqlite3.connect(tmp_path / JOURNAL)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT COUNT(*) FROM history WHERE env IS NULL").fetchone()[0] == 2  # kept, unmatched
    db.close()


def test_a_run_is_resumed_only_against_the_target_it_started_on(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"inactive": INACTIVE_USERS})
    run_id = "20260101T000000Z-abcd"
    with fixed_sandbox() as box:
        environments(project, box.url, "https://prod.invalid")
        with open_journal(tmp_path / JOURNAL) as journal:  # interrupted while querying another staging URL
            journal.start_run(run_id, env="staging", target="https://old-staging.example.com")
            journal.record(run_id, "inactive", QueryState.PENDING, spec_hash=spec_of(project, "inactive"))
            journal.finish_run(run_id, RunStatus.INTERRUPTED)
        (tmp_path / "reports" / run_id).mkdir(parents=True)
        with pytest.raises(UsageError, match=re.escape(f"queried https://old-staging.example.com, not {box.url}")):
            run_vqr(project, run_options(env="staging", resume=True), environ=KEY_ENV)
        with open_journal(tmp_path / JOURNAL) as journal:
            assert journal.run(run_id).status is RunStatus.INTERRUPTED  # refused before anything was touched


def test_embedded_runs_compare_only_on_the_same_generated_graph(tmp_path: Path) -> None:
    """The embedded target names the graph it served: a run on another node count is another target, so its
    `new_rows` has nothing to compare with; a later run on the first graph compares with the first run."""
    project = make_project(tmp_path, {"inactive": INACTIVE_USERS})
    small, large = (run_options(sandbox=SandboxConfig(nodes=nodes, latency=0.05)) for nodes in (NODES, NODES * 2))
    first = run_vqr(project, small)
    other = run_vqr(project, large)
    again = run_vqr(project, small)
    assert first.run and other.run and again.run
    assert first.run["target"] == again.run["target"] != other.run["target"]
    assert re.fullmatch(r"embedded/graph-[0-9a-f]{16}", other.run["target"])
    assert other.code == 0, other.err  # a different graph: nothing to compare, not 'users were deactivated'
    assert by_name(other.run)["inactive"]["expectations"][0]["message"] == "skipped: no previous run"
    assert by_name(other.run)["inactive"]["drift"] is None
    assert again.code == 0, again.err  # the first graph again: compared with the first run, nothing new
    assert by_name(again.run)["inactive"]["drift"]["previous_run"] == first.run["run_id"]
    assert by_name(again.run)["inactive"]["expectations"][0]["outcome"] == "passed"


@pytest.mark.parametrize(("cache_override", "snapshot_id"), [(None, None), ("immediate", None), (None, "snap-1"),
                                                             ("immediate", "snap-1")])
def test_each_plan_hash_is_the_hash_of_its_own_body_whatever_the_overrides(
        tmp_path: Path, cache_override: str | None, snapshot_id: str | None) -> None:
    # build_plans takes one hash where the bodies are one body: it must still be each body's own hash.
    from runner.plan import body_hash, compared_body

    project = make_project(tmp_path, {"inactive": INACTIVE_USERS, "ctx": CONTEXT})
    loaded, queries = compile_units(project)
    by_name = {q.name: q for q in queries}
    plans = build_plans(loaded, queries, cache_override=cache_override, snapshot_id=snapshot_id, query_timeout=None)
    assert len(plans) == 2
    for plan in plans:
        query = by_name[plan.name]
        assert plan.body_hash == body_hash(compared_body(query.spec, query.cache))
        assert plan.shard_key == body_hash(compared_body(query.spec, plan.cache))
        assert plan.sent_hash == body_hash(compared_body(plan.spec, plan.cache))
        assert (plan.sent_hash == plan.shard_key) is (snapshot_id is None)
        assert (plan.shard_key == plan.body_hash) is (cache_override is None or query.cache == plan.cache)
