"""Finding lifecycle end to end: three `vqr run`s against one sandbox with `POST /_sandbox/advance` between them
(a fifth of the graph changed, then 1 and 5 simulated days). New, persisting and resolved are exactly what the
three result files say (computed here from the files, keyed by id or source -> destination), ages follow the
sandbox's clock (run.json `as_of`), `max_age_days` passes and then fails as the clock moves, and the reports lead
with what is new, resolved and oldest."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import httpx

from runner.report import write_reports
from runner.sanitize import markdown_inline
from tests.acceptance.run_project import Ran, by_name, fixed_sandbox, make_project, remote, run_options, run_vqr

ACTIVE = """\
name: active-users
cache: {mode: immediate}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types:
    nodes:
      - node_type: OktaUser
        condition_expression: {specs: [{fn: EQ, property: is_active, value: true}]}
  result_value_type: SOURCE_NODES
expect:
  - {max_age_days: 3, message: active users must be reviewed within 3 days}
"""
MEMBERSHIPS = """\
name: memberships
cache: {mode: immediate}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types: {nodes: [{node_type: OktaUser}]}
  relates_to_exp: {specs: [{node_types: {nodes: [{node_type: OktaGroup}]}}]}
  node_relationship_type: CONFIGURED
  result_value_type: SOURCE_AND_DESTINATION_NODES
"""
DAY = timedelta(days=1)


def keys(ran: Ran, name: str) -> dict[str, Any]:
    """The result file's entities by the documented key (id, else `source id -> destination id`), with a row each."""
    assert ran.run is not None and ran.run_dir is not None
    rows = [json.loads(line) for line in (ran.run_dir / by_name(ran.run)[name]["results_file"]).read_text()
            .splitlines() if line.strip()]
    return {(str(r["id"]) if "id" in r else f"{r['source']['id']} -> {r['destination']['id']}"): r for r in rows}


def as_of(ran: Ran) -> datetime:
    assert ran.run is not None
    return datetime.fromisoformat(ran.run["as_of"].replace("Z", "+00:00"))


def advance(url: str, **body: object) -> None:
    httpx.post(f"{url}/_sandbox/advance", json=body, headers={"authorization": "Bearer test-key"},
               timeout=30).raise_for_status()


def test_three_runs_give_exact_new_persisting_resolved_and_ages_on_the_sandbox_clock(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"active-users": ACTIVE, "memberships": MEMBERSHIPS})
    options = run_options(env="remote")
    with fixed_sandbox() as box:
        runs = [run_vqr(project, options, environ=remote(box.url))]
        advance(box.url, seed=1, fraction=0.2, days=1)
        runs.append(run_vqr(project, options, environ=remote(box.url)))
        advance(box.url, seed=2, fraction=0.2, days=5)
        runs.append(run_vqr(project, options, environ=remote(box.url)))
    clocks = [as_of(r) for r in runs]
    assert [round((c - clocks[0]) / DAY) for c in clocks] == [0, 1, 6]  # the sandbox's days, not the seconds taken
    assert [r.code for r in runs] == [0, 0, 1], [r.err for r in runs]  # max_age_days fails on the third run only

    for name in ("active-users", "memberships"):
        sets = [set(keys(r, name)) for r in runs]
        entries = [by_name(r.run or {})[name]["lifecycle"] for r in runs]
        assert entries[0]["previous_run"] is None and entries[0]["new"] == len(sets[0])
        assert (entries[0]["persisting"], entries[0]["resolved"]) == (0, 0)
        for at in (1, 2):
            before, now, entry = sets[at - 1], sets[at], entries[at]
            assert entry["previous_run"] == (runs[at - 1].run or {})["run_id"]
            assert (entry["new"], entry["persisting"], entry["resolved"]) == (
                len(now - before), len(now & before), len(before - now)), name
            assert entry["resolved"], f"the advance resolved nothing in {name}"
            assert entry["new"] or name == "active-users"  # few inactive users turn active: new may be none
            assert [e["id"] for e in entry["new_sample"]] == sorted(now - before)[:50]
            assert [e["id"] for e in entry["resolved_sample"]] == sorted(before - now)[:50]
        # The oldest open at the third run: present in all three runs, first seen at the first run's as_of.
        since_first = sorted(sets[0] & sets[1] & sets[2])
        oldest = entries[2]["oldest"]
        assert [o["id"] for o in oldest] == since_first[:10]
        assert {o["first_seen"] for o in oldest} == {(runs[0].run or {})["as_of"]}
        assert {o["age_days"] for o in oldest} == {(clocks[2] - clocks[0]) // DAY} == {6}
        assert {o["age_days"] for o in entries[1]["oldest"]} == {1}

    outcomes = [by_name(r.run or {})["active-users"]["expectations"][0] for r in runs]
    assert [(o["metric"], o["outcome"], o["actual"]) for o in outcomes] == [
        ("max_age_days", "passed", 0), ("max_age_days", "passed", 1), ("max_age_days", "failed", 6)]
    assert outcomes[2]["message"].startswith("active users must be reviewed within 3 days: max_age_days = 6")

    last = runs[2].run_dir
    assert last is not None
    write_reports(last)  # through load_run: run.json, lifecycle included, validated against its schema
    report = (last / "report.md").read_text()
    third = by_name(runs[2].run or {})
    total_new = sum(third[n]["lifecycle"]["new"] for n in ("active-users", "memberships"))
    assert f"### New since last run: {total_new:,} · resolved:" in report
    assert report.index("New since last run") < report.index("Failed expectations")  # the report leads with it
    resolved = third["memberships"]["lifecycle"]["resolved_sample"][0]
    assert f"- resolved: {markdown_inline(resolved['name'])} ({markdown_inline(resolved['id'])})" in report
    html = (last / "report.html").read_text()
    assert html.index('id="lifecycle"') < html.index('id="drift"')
    assert f"<code>{escape(resolved['id'])}</code>" in html
