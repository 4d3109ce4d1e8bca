"""Report planning: `select` picks published queries (and names the rest), a report is matched by name and its
marker, created with what exists or is being created, extended with what it lacks, and never trimmed; a report of
that name vqr did not create is a clash, left alone."""

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


def test_two_reports_of_one_name_are_refused() -> None:
    twice = PublishSettings(project="a", reports=(PublishReport(name="r", select="x"), PublishReport(name="r",
                                                                                                   select="y")))
    with pytest.raises(UsageError, match="names 'r' more than once"):
        desired_reports(twice, [], {})


def test_create_add_noop_clash_and_what_is_left_alone() -> None:
    wanted = [DesiredReport(name="New", description="about", queries=("a", "b", "clashing")),
              DesiredReport(name="Old", description="", queries=("a", "b")),
              DesiredReport(name="Full", description="", queries=("a",)),
              DesiredReport(name="Theirs", description="", queries=("a",))]
    listed: list[JSONObject] = [
        {"id": "r1", "name": "Old", "description": "vqr:acme/Old",
         "queries": [{"query": "id-a"}, {"query": "id-theirs"}]},
        {"id": "r2", "name": "Full", "description": "kept\n\nvqr:acme/Full ", "queries": [{"query": "id-a"}]},
        {"id": "r3", "name": "Theirs", "description": "vqr:acme/Old", "queries": []},  # another report's marker
        {"id": "r4", "name": "Other", "queries": []}]
    new, old, full, theirs = plan_reports(wanted, listed, {"a": "id-a"}, creating={"b"}, marker=SETTINGS.marker)
    assert new == ReportChange(action=ReportAction.CREATE, name="New", description="about\n\nvqr:acme/New",
                               queries=("a", "b"))  # no clashing one
    assert old.action is ReportAction.ADD and old.report_id == "r1" and old.queries == ("b",)
    assert old.foreign == ("id-theirs",)
    assert full.action is ReportAction.NOOP and full.queries == () and full.foreign == ()
    assert theirs.action is ReportAction.CLASH and theirs.report_id == "r3" and theirs.queries == ()
    assert ReportChange.from_json(old.to_json()) == old
