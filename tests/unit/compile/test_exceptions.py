"""The linting of exceptions/*.yaml: each error case (schema, unknown query, bad date, duplicate) and each warning
(expiring within `warn_days`, expired, unmatched in the last run) at its file, line and column, through `vqr lint`
on a real project on disk; plus what the loader makes of an entry, and the scope `vqr lint PATHS` gives them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from runner.app.exceptions import lint_exceptions
from runner.cli import cli
from runner.compile.exceptions import load_exceptions
from runner.errors import ProjectError
from runner.settings import load_project
from tests.acceptance.run_project import make_project, query_yaml

TODAY = date(2026, 12, 2)
ENTRY = "  - query: {query}\n    entity: {entity}\n    reason: r\n    owner: o\n    expires: '{expires}'\n"


def entries(*items: tuple[str, str, str]) -> str:
    return "exceptions:\n" + "".join(ENTRY.format(query=q, entity=e, expires=x) for q, e, x in items)


def project(root: Path, text: str, *, extra: str = "") -> Path:
    make_project(root, {"okta-users": query_yaml("okta-users"), "okta-admins": query_yaml("okta-admins"),
                        "roles": query_yaml("roles", "AwsIamRole")})
    if extra:
        with (root / "vqr.yaml").open("a") as handle:
            handle.write(extra)
    (root / "exceptions").mkdir()
    (root / "exceptions" / "a.yaml").write_text(text)
    return root / "vqr.yaml"


def found(file: Path, today: date = TODAY) -> list[tuple[int, int, str, str]]:
    project_ = load_project(file)
    _, findings = lint_exceptions(project_, ["okta-users", "okta-admins", "roles"], today=today)
    return [(f.line, f.column, f.severity.value, f.rule) for f in findings]


def test_every_error_case_is_found_at_its_place(tmp_path: Path) -> None:
    file = project(tmp_path, entries(("okta-userz", "{id: a}", "2027-01-01"),  # unknown query
                                     ("okta-users", "{id: b}", "2027-02-30"),  # not a calendar date
                                     ("okta-*", "{id: c}", "2027-01-01"),
                                     ("okta-*", "{id: c}", "2027-03-01"),  # the same query and entity again
                                     ("roles", "{match: {properties.name: x}}", "2027-01-01")))
    assert found(file) == [(2, 12, "error", "exceptions/unknown-query"), (11, 14, "error", "exceptions/bad-date"),
                           (17, 5, "error", "exceptions/duplicate")]


def test_schema_errors_name_the_missing_field_and_a_malformed_date(tmp_path: Path) -> None:
    file = project(tmp_path, "exceptions:\n  - query: roles\n    entity: {id: a}\n    reason: r\n"
                             "    expires: '31/01/2027'\n")
    result = found(file)
    assert {rule for *_, rule in result} >= {"exceptions/required", "exceptions/pattern"}, result
    assert all(severity == "error" for _, _, severity, _ in result)


def test_an_unquoted_date_is_refused_like_in_a_query_file(tmp_path: Path) -> None:
    file = project(tmp_path, "exceptions:\n  - query: roles\n    entity: {id: a}\n    reason: r\n    owner: o\n"
                             "    expires: 2027-01-31\n")
    assert found(file) == [(6, 14, "error", "yaml/unquoted-date")]


def test_expiring_within_warn_days_and_expired_are_warnings(tmp_path: Path) -> None:
    file = project(tmp_path, entries(("roles", "{id: a}", "2026-12-02"),  # the last day: still active, 0 days
                                     ("roles", "{id: b}", "2026-12-09"),  # within the 7 days set below
                                     ("roles", "{id: c}", "2026-12-10"),  # beyond them
                                     ("roles", "{id: d}", "2026-12-01")),  # expired yesterday
                   extra="exceptions: {warn_days: 7}\n")
    assert found(file) == [(2, 12, "warning", "exceptions/expiring"), (7, 12, "warning", "exceptions/expiring"),
                           (17, 12, "warning", "exceptions/expired")]
    loaded = load_exceptions(load_project(file))
    first = loaded.rules[0]
    assert (first.id, first.entity_id, first.expires, first.line, len(loaded.rules)) == (
        "exceptions/a.yaml#0", "a", date(2026, 12, 2), 2, 4)


def test_a_disable_comment_silences_a_warning_in_its_own_file(tmp_path: Path) -> None:
    file = project(tmp_path, "# vqr: disable=exceptions/expired\n" + entries(("roles", "{id: d}", "2026-12-01")))
    assert found(file) == []


def test_an_exception_unmatched_in_the_last_run_is_a_warning(tmp_path: Path) -> None:
    file = project(tmp_path, entries(("roles", "{id: a}", "2027-06-01"), ("okta-*", "{id: b}", "2027-06-01")))
    reports = tmp_path / "reports"
    (reports / "run-1").mkdir(parents=True)
    unmatched = {"id": "exceptions/a.yaml#1", "query": "okta-*", "reason": "r", "owner": "o",
                 "expires": "2027-06-01", "ticket": None, "file": "exceptions/a.yaml", "line": 7,
                 "entity": {"id": "b"}}
    (reports / "run-1" / "run.json").write_text(json.dumps({"run_id": "run-1", "exceptions_unmatched": [unmatched]}))
    (reports / "latest").symlink_to("run-1")
    project_ = load_project(file)
    _, findings = lint_exceptions(project_, ["okta-users", "roles"], today=TODAY)
    assert [(f.line, f.rule, f.message) for f in findings] == [
        (7, "exceptions/unmatched", "exception exceptions/a.yaml#1 matched no row in the last run (run-1): the "
         "finding may be fixed (remove it) or the entity is misspelt")]
    (reports / "run-1" / "run.json").write_text("{not json")  # advice only: a broken file is no finding
    assert lint_exceptions(project_, ["okta-users", "roles"], today=TODAY)[1] == []


def test_vqr_lint_reports_exception_files_alone_or_with_the_repository(tmp_path: Path) -> None:
    file = project(tmp_path, entries(("okta-userz", "{id: a}", "2099-01-01")))
    everything = CliRunner().invoke(cli, ["--project", str(file), "lint"])
    assert everything.exit_code == 1
    assert "exceptions/a.yaml:2:12: error: query 'okta-userz' matches no query of the repository" in everything.output
    assert "in 4 files" in everything.output  # three queries and one exceptions file
    alone = CliRunner().invoke(cli, ["--project", str(file), "lint", str(tmp_path / "exceptions" / "a.yaml")])
    assert alone.exit_code == 1 and "[exceptions/unknown-query]" in alone.output and "in 1 file" in alone.output
    query_only = CliRunner().invoke(cli, ["--project", str(file), "lint", str(tmp_path / "queries" / "roles.yaml")])
    assert query_only.exit_code == 0 and "exceptions/" not in query_only.output


def test_an_entity_is_an_id_or_a_match_and_a_numeric_id_reads_as_its_text(tmp_path: Path) -> None:
    file = project(tmp_path, entries(("roles", "{id: 123}", "2027-01-01"),
                                     ("roles", "{id: a, match: {properties.name: x}}", "2027-01-01"),
                                     ("roles", "{match: {}}", "2027-01-01")))
    assert found(file) == [(8, 13, "error", "exceptions/range"), (13, 21, "error", "exceptions/range")]
    file = project(tmp_path / "ok", entries(("roles", "{id: 123}", "2027-01-01")))
    assert [r.entity_id for r in load_exceptions(load_project(file)).rules] == ["123"]


def test_a_duplicate_in_another_file_is_found_when_only_one_file_is_linted(tmp_path: Path) -> None:
    file = project(tmp_path, entries(("roles", "{id: a}", "2027-01-01")))
    (tmp_path / "exceptions" / "b.yaml").write_text(entries(("roles", "{id: a}", "2027-02-01")))
    for given in ("a.yaml", "b.yaml"):  # pre-commit passes the staged file, whichever side it is
        result = CliRunner().invoke(cli, ["--project", str(file), "lint", str(tmp_path / "exceptions" / given)])
        assert result.exit_code == 1, result.output
        expected = "exceptions/b.yaml:2:5: error: exception exceptions/b.yaml#0 repeats exceptions/a.yaml#0"
        assert expected in result.output


def test_the_exceptions_dir_must_stay_inside_the_project(tmp_path: Path) -> None:
    file = project(tmp_path, entries(("roles", "{id: a}", "2027-01-01")), extra="exceptions: {dir: ../elsewhere}\n")
    result = CliRunner().invoke(cli, ["--project", str(file), "lint"])  # ProjectError: exit 2 at the CLI's boundary
    assert isinstance(result.exception, ProjectError)
    assert "exceptions dir '../elsewhere' is outside the project directory" in str(result.exception)
