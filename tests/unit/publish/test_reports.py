"""Report planning: `select` picks published queries (and names the rest), a report is matched by name, created
with what exists or is being created, extended with what it lacks, and never trimmed."""

from __future__ import annotations

import pytest

from runner.errors import UsageError
from runner.model import JSONObject
from runner.model.publish import PublishReport, PublishSettings
from runner.publish.reports import DesiredReport, ReportAction, ReportChange, desired_reports, plan_reports
from tests.unit.publish.values import query

SETTINGS = PublishSettings(project="acme", reports=(
    PublishReport(name="Nightly", select="tag:nightly", description="d"),
    PublishReport(name="Okta", select="okta-*,tag:nightly")))
QUERIES = [query("okta-users", tags=("nightly",)), query("aws-roles", tags=("nightly", "iam")),
           query("okta-groups", tags=("other",)), query("draft", tags=("nightly",))]
PUBLISHED: dict[str, JSONObject] = {"okta-users": {}, "aws-roles": {}, "okta-groups": {}}


def test_select_picks_published_queries_and_names_those_left_out() -> None:
    nightly, okta = desired_reports(SETTINGS, QUERIES, PUBLISHED)
    assert nightly == DesiredReport(name="Nightly", description="d", queries=("aws-roles", "okta-users"),
                                    unpublished=("draft",))
    assert okta.queries == ("okta-users",) and okta.unpublished == ()  # terms joined by "," intersect


def test_a_state_selector_is_refused_for_a_report() -> None:
    with pytest.raises(UsageError, match="a state: selector needs a base"):
        desired_reports(PublishSettings(project="a", reports=(PublishReport(name="r", select="state:new"),)), [], {})


def test_create_add_and_noop_and_what_is_left_alone() -> None:
    wanted = [DesiredReport(name="New", description="", queries=("a", "b", "clashing")),
              DesiredReport(name="Old", description="", queries=("a", "b")),
              DesiredReport(name="Full", description="", queries=("a",))]
    listed: list[JSONObject] = [{"id": "r1", "name": "Old", "queries": [{"query": "id-a"}, {"query": "id-theirs"}]},
              {"id": "r2", "name": "Full", "queries": [{"query": "id-a"}]},
              {"id": "r3", "name": "Other", "queries": []}]
    new, old, full = plan_reports(wanted, listed, {"a": "id-a"}, creating={"b"})
    assert new == ReportChange(action=ReportAction.CREATE, name="New", queries=("a", "b"))  # no clashing one
    assert old.action is ReportAction.ADD and old.report_id == "r1" and old.queries == ("b",)
    assert old.foreign == ("id-theirs",)
    assert full.action is ReportAction.NOOP and full.queries == () and full.foreign == ()
    assert ReportChange.from_json(old.to_json()) == old
