"""vqr.yaml's `api:` section on real files: absent means today's assumptions, one line changes one fact, and every
mistake is a finding at its line and column (issue 11, point 7)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runner.errors import ProjectError
from runner.model.protocol import POLL_PATH, ApiProtocol, JobState, Paging
from runner.settings import load_project

REPO = Path(__file__).resolve().parents[2]


def project_with(tmp_path: Path, api: str) -> Path:
    (tmp_path / "queries").mkdir(exist_ok=True)
    file = tmp_path / "vqr.yaml"
    file.write_text("queries: queries/\n" + api)
    return file


def problems(tmp_path: Path, api: str) -> str:
    with pytest.raises(ProjectError) as caught:
        load_project(project_with(tmp_path, api))
    return str(caught.value)


def test_without_an_api_section_the_defaults_are_todays_assumptions(tmp_path: Path) -> None:
    api = load_project(project_with(tmp_path, "")).api
    assert api == ApiProtocol()
    assert api.poll_path == "/api/v1/assessments/query_spec:nodes_async_get"
    assert api.success_statuses == {"DONE"} and api.poll_paging is Paging.BODY
    assert api.failure_statuses == {"FAILED", "FAILURE", "ERROR", "CANCELED", "CANCELLED", "EXPIRED", "TIMED_OUT",
                                    "ABORTED"}


@pytest.mark.parametrize(("line", "expected"), [
    ("api: {poll_paging: query}\n", ApiProtocol(poll_paging=Paging.QUERY)),
    ("api:\n  poll_path: /api/private/assessments/query_spec:nodes_async_get\n",
     ApiProtocol(poll_path="/api/private/assessments/query_spec:nodes_async_get")),
    ("api: {success_statuses: [DONE, SUCCEEDED, COMPLETE]}\n",
     ApiProtocol(success_statuses=frozenset({"DONE", "SUCCEEDED", "COMPLETE"}))),
    ("api: {failure_statuses: [FAILED, KAPUT]}\n", ApiProtocol(failure_statuses=frozenset({"FAILED", "KAPUT"}))),
    ("api: {}\n", ApiProtocol()),
])
def test_one_line_changes_one_fact(tmp_path: Path, line: str, expected: ApiProtocol) -> None:
    assert load_project(project_with(tmp_path, line)).api == expected


@pytest.mark.parametrize(("api", "expected"), [
    ("api:\n  poll_pth: /x\n", "vqr.yaml:3:3: error: unknown key 'poll_pth'; did you mean 'poll_path'? "
                               "[project/unknown-key]"),
    ("api:\n  poll_paging: header\n", "vqr.yaml:3:16: error: 'header' is not one of body, query [project/enum]"),
    ("api:\n  poll_path: https://evil.example/x\n", "vqr.yaml:3:14: error: 'https://evil.example/x' is not valid: "
                                                    "expected a path on the tenant (no host, query or fragment)"),
    ("api:\n  success_statuses: []\n", "vqr.yaml:3:21: error: [] should be non-empty [project/range]"),
    ("api:\n  failure_statuses: [FAILED, FAILED]\n", "vqr.yaml:3:21: error:"),
    ("api:\n  success_statuses: [done!]\n", "vqr.yaml:3:22: error: 'done!' is not valid: expected a job status word"),
    ("api:\n  failure_statuses: [DONE]\n", "vqr.yaml:3:3: error: DONE cannot be both a success and a failure status "
                                           "[project/api]"),
    ("api: [poll_paging]\n", "vqr.yaml:2:6: error:"),
])
def test_every_mistake_is_a_finding_at_its_place(tmp_path: Path, api: str, expected: str) -> None:
    assert expected in problems(tmp_path, api)


def test_a_path_ending_in_a_line_break_is_refused_though_the_schemas_dollar_lets_it_pass(tmp_path: Path) -> None:
    assert "[project/api]" in problems(tmp_path, 'api:\n  poll_path: "/api/x\\n"\n')


def test_the_schema_documents_the_code_defaults_and_the_same_path_rule() -> None:
    for name in ("project.schema.json", "draft-07/project.schema.json"):
        schema = json.loads((REPO / "schemas" / name).read_text())
        section = schema["properties"]["api"]
        assert section["additionalProperties"] is False
        fields = section["properties"]
        default = ApiProtocol()
        assert fields["poll_path"]["default"] == default.poll_path
        assert set(fields["success_statuses"]["default"]) == default.success_statuses
        assert set(fields["failure_statuses"]["default"]) == default.failure_statuses
        assert fields["poll_paging"]["default"] == default.poll_paging.value
        assert fields["poll_paging"]["enum"] == [paging.value for paging in Paging]
        assert fields["poll_path"]["pattern"] == f"^{POLL_PATH.pattern}$"
        # Every protocol fact is marked [assumed]; `budget` is the team's own setting (the submit rate), not one.
        assert "[assumed]" in section["description"]
        assert all("[assumed]" in f["description"] for key, f in fields.items() if key != "budget")
        assert fields["budget"]["required"] == ["rate"]
    assert re.fullmatch(POLL_PATH, ApiProtocol().poll_path)


def test_the_readmes_api_block_is_the_defaults_and_its_one_line_fixes_load(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Protocol settings (`api:`)", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert load_project(project_with(tmp_path, block)).api == ApiProtocol()
    fixes = re.findall(r"`(api: \{[^`]+\})`", section.split("## ", 1)[0])
    assert len(fixes) == 2
    assert {load_project(project_with(tmp_path, fix + "\n")).api for fix in fixes} == {
        ApiProtocol(success_statuses=frozenset({"DONE", "SUCCEEDED"})), ApiProtocol(poll_paging=Paging.QUERY)}


def test_status_words_match_whatever_their_case(tmp_path: Path) -> None:
    api = load_project(project_with(tmp_path, "api: {success_statuses: [done], failure_statuses: [Kaput]}\n")).api
    assert [api.job_state(word) for word in ("DONE", "done", "Done", "KAPUT", "kaput", "RUNNING")] == [
        JobState.DONE, JobState.DONE, JobState.DONE, JobState.FAILED, JobState.FAILED, JobState.RUNNING]
    assert api == ApiProtocol(success_statuses=frozenset({"DONE"}), failure_statuses=frozenset({"KAPUT"}))


def test_a_word_both_success_and_failure_is_caught_whatever_its_case() -> None:
    with pytest.raises(ValueError, match="DONE cannot be both a success and a failure status"):
        ApiProtocol(success_statuses=frozenset({"done"}), failure_statuses=frozenset({"DONE"}))
