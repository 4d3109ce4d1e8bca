"""`file_plan_problems`: what a plan file may ask of the tenant it was made from. Every rule is broken once here, by
a change a CI step could have written into the file, and an honest plan (made by `make_plan` itself) breaks none."""

from __future__ import annotations

from dataclasses import replace

import pytest

from runner.model import JSONObject
from runner.model.publish import PublishReport, PublishSettings
from runner.publish import make_plan
from runner.publish.confine import file_plan_problems
from runner.publish.planner import Action, Change, PublishPlan, with_reports
from runner.publish.reports import DesiredReport, ReportAction, ReportChange

SETTINGS = PublishSettings(project="acme", reports=(PublishReport(name="Ours", select="tag:x"),
                                                    PublishReport(name="Theirs", select="tag:x")))
SPEC: JSONObject = {"query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [{"node_type": "T"}]}}


def body(name: str, *markers: str) -> JSONObject:
    return {"name": name, "description": "", "labels": list(markers or (f"vqr:acme/{name}",)), **SPEC}


# The tenant: one managed query, one of another project's, one unmanaged; our report and somebody's.
LISTED: list[JSONObject] = [
    {"id": "id-mine", **body("mine")},
    {"id": "id-other", **body("other", "vqr:beta/other")},
    {"id": "id-theirs", "name": "theirs", "labels": [], **SPEC},
]
REPORTS: list[JSONObject] = [
    {"id": "r-ours", "name": "Ours", "description": "d\n\nvqr:acme/Ours", "queries": [{"query": "id-mine"}]},
    {"id": "r-theirs", "name": "Theirs", "description": "the SDK's", "queries": []},
]


def honest() -> PublishPlan:
    desired = {"mine": {**body("mine"), "description": "changed"}, "new": body("new")}
    plan = make_plan(desired, LISTED, SETTINGS, env="e", prune=True)
    wanted = [DesiredReport(name="Ours", description="d", queries=("mine", "new"))]
    return with_reports(plan, wanted, LISTED, REPORTS, SETTINGS)


def problems(plan: PublishPlan, *, prune: bool = True) -> list[str]:
    return file_plan_problems(plan, LISTED, REPORTS, SETTINGS, prune=prune)


def test_a_plan_vqr_made_breaks_no_rule() -> None:
    plan = honest()
    assert {c.action for c in plan.pending} == {Action.CREATE, Action.DRIFT}  # "mine" has no vqr-sha label
    assert [r.action for r in plan.pending_reports] == [ReportAction.ADD]
    assert problems(plan) == []


QUERY_CHANGES = {
    "delete of an unmanaged query": (Change(action=Action.DELETE, name="mine", saved_id="id-theirs"),
                                     "is not the one this project's marker names mine"),
    "delete of another project's": (Change(action=Action.DELETE, name="other", saved_id="id-other"),
                                    "is not the one this project's marker names other"),
    "update of an unmanaged query": (Change(action=Action.UPDATE, name="theirs", saved_id="id-theirs",
                                            body=body("theirs")), "is not the one"),
    "a body under another name": (Change(action=Action.UPDATE, name="mine", saved_id="id-mine",
                                         body=body("theirs", "vqr:acme/mine")), "does not name the saved query mine"),
    "a second marker": (Change(action=Action.DRIFT, name="mine", saved_id="id-mine",
                               body=body("mine", "vqr:acme/mine", "vqr:acme/new")), "the one marker vqr:acme/mine"),
    "no marker": (Change(action=Action.UPDATE, name="mine", saved_id="id-mine", body=body("mine", "team")),
                  "the one marker"),
    "a create of a taken name": (Change(action=Action.CREATE, name="theirs", body=body("theirs")),
                                 "has a saved query of that name already"),
    "a create without a body": (Change(action=Action.CREATE, name="fresh"), "does not name"),
}


@pytest.mark.parametrize("case", sorted(QUERY_CHANGES))
def test_a_query_change_vqr_would_not_plan_is_named(case: str) -> None:
    change, said = QUERY_CHANGES[case]
    found = problems(replace(honest(), changes=(*honest().changes, change)))
    assert len(found) == 1 and said in found[0], found


def test_a_delete_needs_prune_given_to_apply() -> None:
    plan = replace(honest(), changes=(Change(action=Action.DELETE, name="mine", saved_id="id-mine"),), reports=())
    assert problems(plan, prune=True) == []
    assert problems(plan, prune=False) == ["delete mine: the plan deletes, and apply was not given --prune"]


REPORT_CHANGES = {
    "a foreign query added by name": (ReportChange(action=ReportAction.ADD, name="Ours", report_id="r-ours",
                                                   queries=("theirs",)), "theirs is neither a managed saved query"),
    "somebody's report extended": (ReportChange(action=ReportAction.ADD, name="Theirs", report_id="r-theirs",
                                                queries=("mine",)), "is not the one this project's marker names"),
    "our name, somebody's id": (ReportChange(action=ReportAction.ADD, name="Ours", report_id="r-theirs",
                                             queries=("mine",)), "report r-theirs is not the one"),
    "a create of a taken name": (ReportChange(action=ReportAction.CREATE, name="Theirs",
                                              description="vqr:acme/Theirs", queries=("mine",)),
                                 "has a report of that name already"),
    "a create without its marker": (ReportChange(action=ReportAction.CREATE, name="Ours", description="d",
                                                 queries=("mine",)), "must end with its marker"),
    "a report vqr.yaml does not declare": (ReportChange(action=ReportAction.CREATE, name="Elsewhere",
                                                        description="vqr:acme/Elsewhere"),
                                           "vqr.yaml declares no report of that name"),
}


@pytest.mark.parametrize("case", sorted(REPORT_CHANGES))
def test_a_report_change_vqr_would_not_plan_is_named(case: str) -> None:
    change, said = REPORT_CHANGES[case]
    found = problems(replace(honest(), reports=(change,)))
    assert any(said in line for line in found), found
