"""Drift end to end: two `vqr run`s against one sandbox with `POST /_sandbox/advance` between them report exactly
the entities the sandbox changed (by id, and by source/destination pair for path rows), honour `drift: {ignore}`,
feed `new_rows`, and land in run.json, report.md and report.html; and `vqr run` itself writes every report and
prunes old runs by `retention:`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx

from runner import app
from runner.app.run_command import JOURNAL
from runner.artifact.retention import run_directories
from runner.assess.rows import entity_key
from runner.report import write_reports
from runner.report.history import load_history
from runner.report.html_query import SAMPLE_SHOWN
from runner.settings import read_env
from runner.state import HistoryKey
from tests.acceptance.run_project import by_name, fixed_sandbox, make_project, remote, run_options, run_vqr

USERS = """\
name: users
description: Every Okta user
cache: {mode: immediate}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser}]}
  result_value_type: SOURCE_NODES
"""
QUIET_USERS = USERS.replace("name: users", "name: users-quiet") + "drift: {ignore: [status, is_active]}\n"
MEMBERSHIPS = """\
name: memberships
owner: identity-team
cache: {mode: immediate}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser}]}
  relates_to_exp: {specs: [{node_types: {nodes: [{node_type: OktaGroup}]}}]}
  node_relationship_type: CONFIGURED
  result_value_type: SOURCE_AND_DESTINATION_NODES
expect:
  - {new_rows: {max: 0}, severity: warn, message: new group memberships}
  - {removed_rows: {max: 1000}}
"""


def rows_by_key(run_dir: Path, query: dict[str, Any]) -> dict[str, Any]:
    lines = (run_dir / query["results_file"]).read_text().splitlines()
    return {entity_key(row): row for row in map(json.loads, lines)}


def sample_keys(drift: dict[str, Any], kind: str) -> set[str]:
    return {entity["id"] for entity in drift[f"{kind}_sample"]}


def test_two_runs_around_an_advance_report_exactly_what_the_sandbox_changed(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"users": USERS, "users-quiet": QUIET_USERS, "memberships": MEMBERSHIPS})
    options = run_options(env="remote")
    with fixed_sandbox() as box:
        first = run_vqr(project, options, environ=remote(box.url))
        assert first.code == 0, first.err
        reply = httpx.post(f"{box.url}/_sandbox/advance", json={"seed": 1, "fraction": 0.1},
                           headers={"authorization": "Bearer test-key"}, timeout=10)
        reply.raise_for_status()
        changes = reply.json()
        second = run_vqr(project, options, environ=remote(box.url))
        assert second.code == 0, second.err
    assert first.run and second.run and first.run_dir and second.run_dir
    before, after = by_name(first.run), by_name(second.run)
    assert all(q["drift"] is None for q in before.values())  # nothing to compare the first run with

    changed_ids = set(changes["changed_ids"])
    old_users, new_users = rows_by_key(first.run_dir, before["users"]), rows_by_key(second.run_dir, after["users"])
    really_changed = {k for k in old_users.keys() & new_users.keys() if old_users[k] != new_users[k]}
    users = after["users"]["drift"]
    assert users["previous_run"] == first.run["run_id"]
    assert (users["added"], users["removed"]) == (0, 0)
    assert really_changed and really_changed <= changed_ids
    assert users["changed"] == len(really_changed) and sample_keys(users, "changed") == really_changed
    assert all(e["fields"] and set(e["fields"]) <= {"properties.status", "properties.is_active"}
               for e in users["changed_sample"])
    quiet = after["users-quiet"]["drift"]
    assert (quiet["changed"], quiet["unchanged"], quiet["ignored"]) == (0, len(new_users), ["status", "is_active"])

    def okta_memberships(edges: list[list[str]]) -> set[str]:
        return {f"{s} -> {d}" for s, d in edges if s.startswith("00u") and d.startswith("00g")}

    added, removed = okta_memberships(changes["added_edges"]), okta_memberships(changes["removed_edges"])
    assert added and removed
    paths = after["memberships"]["drift"]
    old_paths = rows_by_key(first.run_dir, before["memberships"])
    new_paths = rows_by_key(second.run_dir, after["memberships"])
    assert set(new_paths) - set(old_paths) == added and set(old_paths) - set(new_paths) == removed
    assert (paths["added"], paths["removed"]) == (len(added), len(removed))
    assert sample_keys(paths, "added") == added and sample_keys(paths, "removed") == removed
    moved = {k for k in old_paths.keys() & new_paths.keys() if old_paths[k] != new_paths[k]}
    assert paths["changed"] == len(moved)
    assert all(set(k.split(" -> ")) & changed_ids for k in moved)  # only rows touching a changed entity
    new_rows = after["memberships"]["expectations"][0]
    assert (new_rows["metric"], new_rows["outcome"], new_rows["actual"]) == ("new_rows", "failed", len(added))
    assert after["memberships"]["owner"] == "identity-team" and after["users"]["spec"]["result_value_type"]

    key = HistoryKey(env=second.run["env"], target=second.run["target"])
    history = load_history(tmp_path / JOURNAL, after, key=key, until_run=second.run["run_id"])
    assert [p.rows for p in history.of("memberships")] == [before["memberships"]["rows"], after["memberships"]["rows"]]
    write_reports(second.run_dir, history)
    html = (second.run_dir / "report.html").read_text().replace("<wbr>", "")
    markdown = (second.run_dir / "report.md").read_text()
    for kind, total in (("added", len(added)), ("removed", len(removed))):  # the first of each sample are shown
        shown = [entity["id"] for entity in paths[f"{kind}_sample"]][:SAMPLE_SHOWN]
        assert shown and all(entity.replace(">", "&gt;") in html for entity in shown)
        assert total <= SAMPLE_SHOWN or f"…and {total - SAMPLE_SHOWN:,} more" in html
    assert "### Drift since the previous run" in markdown and "new group memberships" in markdown
    assert (second.run_dir / "results" / "memberships.csv").is_file()


def test_vqr_run_writes_every_report_and_prunes_runs_beyond_retention(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"users": USERS, "memberships": MEMBERSHIPS})
    project.write_text(project.read_text() + "retention: 2\n")
    out, err = io.StringIO(), io.StringIO()
    with fixed_sandbox() as box:
        common = app.Common(project_file=project, env="remote", out=out, err=err, process=read_env(remote(box.url)))
        codes = [app.run(common, options=run_options(env="remote")) for _ in range(3)]
    assert codes == [0, 0, 0], err.getvalue()
    runs = run_directories(tmp_path / "reports")
    assert len(runs) == 2 and (tmp_path / "reports" / "latest").resolve() == runs[-1].resolve()
    newest = runs[-1]
    for name in ("run.json", "report.md", "report.html", "junit.xml", "results/users.csv",
                 "results/memberships.csv"):
        assert (newest / name).is_file(), name
    assert "rows over the last 3 runs of memberships" in (newest / "report.html").read_text()
    assert "warning" not in err.getvalue()
